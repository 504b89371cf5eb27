"""Survey timestamps as the exports write them, parsed column-wise: ``yyyy/mm/dd``,
``a/b/yyyy`` with the day/month order decided once per file, ``:`` or ``.`` between time
fields, AM/PM, ``GMT+7`` offsets and ISO 8601; a value without an offset is in the
given zone. One pyarrow regex per pattern plus numpy datetime arithmetic.

Room: the timestamp rules of :mod:`harmoni_pipeline.ingest.survey`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STRING = "string"


_OFFSET = r"(?:\s*(?:(?P<z>Z)|(?:GMT|UTC)?\s*(?P<osign>[+-])(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?))?"
_TIME = r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?"
_AMPM = r"(?:\s*(?P<ampm>[AaPp][Mm]))?"
# Every pattern has the same named groups (RE2 syntax, run by pyarrow), so their
# results can be coalesced field by field.
_TS_PATTERNS = {
    "iso": rf"^(?P<Y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})(?:(?:T|\s+){_TIME})?(?P<a>)(?P<b>){_AMPM}{_OFFSET}$",
    "ymd": rf"^(?P<Y>\d{{4}})/(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}})\s+{_TIME}(?P<a>)(?P<b>){_AMPM}{_OFFSET}$",
    "aby": rf"^(?P<a>\d{{1,2}})[/-](?P<b>\d{{1,2}})[/-](?P<Y>\d{{4}})\s+{_TIME}(?P<m>)(?P<d>){_AMPM}{_OFFSET}$",
}
_TS_FIELDS = ("Y", "m", "d", "a", "b", "H", "M", "S", "F", "ampm", "z", "osign", "oh", "om")


def _as_arrow(values: pd.Series) -> pa.Array:
    arr = pa.array(values.astype(STRING).array, type=pa.large_string())
    return pc.utf8_trim_whitespace(arr)


def _int_field(field: pa.Array) -> np.ndarray:
    """Digits of an extracted field as int64; -1 where empty or null."""
    field = pc.if_else(pc.equal(field, ""), pa.scalar(None, field.type), field)
    return pc.fill_null(pc.cast(field, pa.int64()), -1).to_numpy(zero_copy_only=False)


def aby_order(a: np.ndarray, b: np.ndarray) -> tuple[bool, str]:
    """Whether a column of ``a/b/yyyy`` values is day-first, decided over the whole
    column (contract §3.1): a first field > 12 anywhere means day-first, else a second
    field > 12 means month-first, else day-first. Returns the decision and one sentence
    saying what was read and why (counts only, never a value)."""
    n, first, second = len(a), int((a > 12).sum()), int((b > 12).sum())
    if first:
        why = f"a first field above 12 in {first} of {n} values"
        if second:
            why += f" (invalid dates: {second} with a second field above 12)"
        day_first = True
    elif second:
        why, day_first = f"a second field above 12 in {second} of {n} values, and no first field above 12", False
    else:
        why, day_first = f"no field above 12 in any of the {n} values: day-first by default", True
    order = "day-first (dd/mm/yyyy)" if day_first else "month-first (mm/dd/yyyy)"
    return day_first, f"a/b/yyyy timestamps read {order}, decided over the whole column: {why}"


def _parse_timestamps(raw: pd.Series, patterns: tuple[str, ...], default_tz: str,
                      date_order: list[str] | None = None) -> pd.Series:
    """Vectorised parse of timestamp text into tz-aware UTC (NaT where invalid).

    Each pattern is one regex run by pyarrow over the whole column; fields are then
    assembled with numpy datetime arithmetic (no per-row Python, no format inference).
    ``aby`` (``a/b/yyyy``) is day- or month-first for the whole column
    (:func:`aby_order`); its sentence is appended to ``date_order`` when given."""
    n = len(raw)
    out_index = raw.index
    if n == 0:
        return pd.Series([], index=out_index, dtype="datetime64[us, UTC]")
    text = _as_arrow(raw)
    fields: dict[str, pa.Array] = {}
    matched_by: dict[str, np.ndarray] = {}
    for name in patterns:
        found = pc.extract_regex(text, _TS_PATTERNS[name])  # null where no match
        matched_by[name] = found.is_valid().to_numpy(zero_copy_only=False)
        for key in _TS_FIELDS:
            part = pc.struct_field(found, key)
            fields[key] = part if key not in fields else pc.coalesce(fields[key], part)
    ints = {key: _int_field(fields[key]) for key in ("Y", "m", "d", "a", "b", "H", "M", "S", "oh", "om")}
    matched = np.zeros(n, dtype=bool)
    for hits in matched_by.values():
        matched |= hits
    year, month, day = ints["Y"], ints["m"], ints["d"]
    if "aby" in matched_by and matched_by["aby"].any():
        aby = matched_by["aby"] & ~np.any([matched_by[p] for p in patterns if p != "aby"] or [False], axis=0)
        a, b = ints["a"], ints["b"]
        day_first, why = aby_order(a[aby], b[aby])
        if date_order is not None:
            date_order.append(why)
        month = np.where(aby, b if day_first else a, month)
        day = np.where(aby, a if day_first else b, day)
    hour, minute = np.maximum(ints["H"], 0), np.maximum(ints["M"], 0)
    second = np.maximum(ints["S"], 0)
    fraction = pc.utf8_slice_codeunits(pc.fill_null(fields["F"], ""), 0, 6)
    micro = _int_field(pc.utf8_rpad(fraction, 6, "0"))
    micro = np.where(pc.equal(fraction, "").to_numpy(zero_copy_only=False), 0, micro)
    ampm = pc.utf8_upper(pc.fill_null(fields["ampm"], "")).to_numpy(zero_copy_only=False).astype(str)
    has_ampm = ampm != ""
    ok = matched & (month >= 1) & (month <= 12) & (day >= 1)
    ok &= ~has_ampm | ((hour >= 1) & (hour <= 12))
    hour = np.where(has_ampm, hour % 12 + np.where(ampm == "PM", 12, 0), hour)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    month_start = ((np.where(ok, year, 1970) - 1970) * 12 + np.where(ok, month, 1) - 1).astype("datetime64[M]")
    days_in_month = ((month_start + 1).astype("datetime64[D]") - month_start.astype("datetime64[D]")).astype(int)
    ok &= day <= days_in_month
    local = (
        month_start.astype("datetime64[D]").astype("datetime64[us]")
        + (np.where(ok, day, 1) - 1).astype("timedelta64[D]")
        + hour.astype("timedelta64[h]")
        + minute.astype("timedelta64[m]")
        + second.astype("timedelta64[s]")
        + micro.astype("timedelta64[us]")
    )
    has_zone = pc.is_valid(pc.if_else(pc.equal(fields["z"], ""), pa.scalar(None, pa.large_string()), fields["z"]))
    sign = np.where(pc.equal(pc.fill_null(fields["osign"], ""), "-").to_numpy(zero_copy_only=False), -1, 1)
    has_offset = (ints["oh"] >= 0) | has_zone.to_numpy(zero_copy_only=False)
    offset = sign * (np.maximum(ints["oh"], 0) * 60 + np.maximum(ints["om"], 0))
    ok &= ~has_offset | ((np.abs(offset) <= 14 * 60) & (np.maximum(ints["om"], 0) <= 59))
    local = np.where(ok, local, np.datetime64("NaT"))
    fixed = pd.Series(local - offset.astype("timedelta64[m]")).dt.tz_localize("UTC")
    zoned = pd.Series(local).dt.tz_localize(default_tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    result = fixed.where(has_offset, zoned).astype("datetime64[us, UTC]")
    result.index = out_index
    return result
