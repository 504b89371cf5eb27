"""Survey exports → canonical survey rows (``schemas.SURVEY_PARSED`` + ``line``).

Room: recognising the three survey layouts of data-contracts §3.1 (``canonical``,
``google_forms``, ``kobo``) from their header, turning their cells into typed canonical
columns, and applying the survey rules of §3.4 — column-wise, never row by row. Reading
bytes is :mod:`~harmoni_pipeline.ingest.readers`' job; region names and codes are
resolved by :class:`harmoni_pipeline.regions.Regions`; pseudonyms come from
:class:`harmoni_pipeline.pii.Pseudonymizer`. Windows, deduplication across files and
scoring are not here.

Choices made where the contract leaves room
- **Timestamp after the arrival month** (later than the last instant of ``period`` in
  Asia/Jakarta) is rejected as ``invalid_date``: the value parses, but it is not a
  possible date for that delivery. (``date_order`` is kept for comparisons between two
  dates of one row, as in FKDM.) An unparseable or impossible timestamp (``31/02``) is
  ``invalid_date`` too; a missing one is ``missing_field``.
- **One audit row per (row, rule)**, as §3.4 says: when several items of a row are out of
  scale, the single ``out_of_scale`` row names the first such item in ``column``/``value``
  and lists all of them in ``message``; likewise for ``invalid_value`` (items, age, sex).
- **Item answers**: numbers (``3``, ``3.0``, ``3,0``) or the Likert labels (any case) are
  accepted in every format; an integral number outside the scale is ``out_of_scale``;
  a non-integral number, a label not in the catalog or any other text is
  ``invalid_value``. An answer that is present but invalid counts as answered, so such a
  row is never ``empty_response``.
- **Age** must be an integer (``35``, ``35.0``); anything else (``35 tahun``) is
  ``invalid_value``; outside the methodology's ``survey.age`` bounds (17–100) it is
  ``age_out_of_range``. **Sex**: ``L``/``P``, ``Laki-laki``/``Perempuan`` (also
  ``Laki laki``, ``Pria``, ``Wanita``), any case, in every format.
- **Regions** are resolved by ``Regions.resolve_*`` (codes in any form, names).
  Google Forms' optional ``Kabupaten/Kota`` (name or code) is passed as the kecamatan
  names' context; it is not a rule of its own (the contract names none): where it does
  not resolve, the names are looked up within the scope. The desa is checked only when
  its kecamatan resolved (a desa name needs its kecamatan). A missing kecamatan is
  ``missing_field``; a missing desa is allowed.
- **Header matching** is case-insensitive with runs of spaces collapsed. Required to
  recognise a layout: canonical ``response_id, submitted_at, kode_kecamatan,
  jenis_kelamin, umur`` + ≥ 1 item column; Google Forms a ``Timestamp``/``Stempel
  waktu``, ``Kecamatan``, ``Jenis Kelamin``, ``Usia`` + ≥ 1 ``[ITEM]`` column; Kobo
  ``_uuid, _submission_time, identitas/kecamatan, identitas/jk, identitas/umur`` + ≥ 1
  ``group/ITEM`` column. ``start``/``end``, ``_id``, ``_index``, ``Desa/Kelurahan`` are
  optional (they are not needed to build a row). Two columns carrying the same item make
  the file unreadable. An XLSX is scanned sheet by sheet; the first sheet whose header
  is a survey layout is read (Kobo puts its data sheet first, repeat groups after).
- **Kobo** ``start``/``end`` that do not parse become NULL with a warning (they are
  informative, not rules); ``_submission_time`` without an offset is UTC, ``start``/``end``
  without one are Asia/Jakarta. Canonical and Google Forms timestamps without an offset
  are Asia/Jakarta; Google Forms also accepts ISO 8601 (an XLSX date cell).
- **Google Forms id**: ``gf-`` + sha256 of ``"|"``-joined normalised values: the
  timestamp as a UTC instant (to the second), kecamatan and desa codes (or the
  normalised raw text where unresolved), sex, age, the 45 item values as integers, and
  the pseudonyms of the e-mail and phone. Formatting changes between re-exports (date
  style, label case, ``Pejarakan``/``Pajarakan``, e-mail case) do not change it; two
  submissions identical in all of these within the same second share an id (the later
  is ``duplicate_in_file``). Because pseudonyms are keyed, rotating ``HARMONI_PII_KEY``
  changes the ids of Google Forms responses that carry an e-mail or phone.
- ``pendidikan``/``pekerjaan`` exist only in the canonical layout; elsewhere they are
  NULL (columns not named in the contract are ignored).
- Personal columns (``email``, ``no_hp``, ``nik``, Google's e-mail and ``Nomor HP``) are
  read only to compute pseudonyms; no rule echoes them.

Speed: the only per-row Python step is the sha256 of Google Forms ids (hashlib has no
vectorised form); everything else is pandas/pyarrow column operations, with per-column
classification done over the distinct values (``pd.factorize``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harmoni_pipeline.ingest.common import ParsedFile, Rejections, UnreadableFile
from harmoni_pipeline.ingest.readers import RawTable, read_csv_table, read_xlsx_table, xlsx_sheet_names
from harmoni_pipeline.ingest.schemas import SURVEY_PARSED
from harmoni_pipeline.items import all_items, likert_labels, load_methodology, scale

STRING = "string"
JAKARTA = "Asia/Jakarta"
FORMATS = ("canonical", "google_forms", "kobo")

ITEMS = all_items()
_ITEM_SET = {code.upper() for code in ITEMS}
_ITEM_CODE = r"[A-Za-z]{1,3}\d{1,2}_[A-Za-z]{3}"
_GF_ITEM_START = re.compile(rf"^\[\s*({_ITEM_CODE})\b[^\]]*\]")
_GF_ITEM_END = re.compile(rf"\[\s*({_ITEM_CODE})\b[^\]]*\]$")
_KOBO_ITEM = re.compile(rf"^(?:[^/]+/)+({_ITEM_CODE})$")

SEX_VALUES = {
    "l": "L", "laki-laki": "L", "laki laki": "L", "lakilaki": "L", "pria": "L",
    "p": "P", "perempuan": "P", "wanita": "P",
}  # fmt: skip

# logical field → accepted header spellings (normalised: casefold, single spaces)
_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "canonical": {
        "id": ("response_id",),
        "ts": ("submitted_at",),
        "kec": ("kode_kecamatan",),
        "desa": ("kode_desa",),
        "sex": ("jenis_kelamin",),
        "age": ("umur",),
        "pendidikan": ("pendidikan",),
        "pekerjaan": ("pekerjaan",),
        "email": ("email",),
        "phone": ("no_hp",),
        "nik": ("nik",),
    },
    "google_forms": {
        "ts": ("timestamp", "stempel waktu"),
        "email": ("email address", "alamat email"),
        "kab": ("kabupaten/kota",),
        "kec": ("kecamatan",),
        "desa": ("desa/kelurahan",),
        "sex": ("jenis kelamin",),
        "age": ("usia",),
        "phone": ("nomor hp",),
    },
    "kobo": {
        "start": ("start",),
        "end": ("end",),
        "ts": ("_submission_time",),
        "id": ("_uuid",),
        "kec": ("identitas/kecamatan",),
        "desa": ("identitas/desa",),
        "sex": ("identitas/jk",),
        "age": ("identitas/umur",),
    },
}
_REQUIRED = {
    "canonical": ("id", "ts", "kec", "sex", "age"),
    "google_forms": ("ts", "kec", "sex", "age"),
    "kobo": ("id", "ts", "kec", "sex", "age"),
}
_ITEMS_DESCRIPTION = {
    "canonical": "item columns (X01_PER …)",
    "google_forms": "item columns ([X01_PER] …)",
    "kobo": "item columns (ihai/X01_PER, ikn/KN1_PER …)",
}
_PERSONAL = {"email": "email", "phone": "phone", "nik": "nik"}


def _norm_header(name: str) -> str:
    return re.sub(r"\s+", " ", str(name).strip()).casefold()


def _item_code(header: str, fmt: str) -> str | None:
    text = str(header).strip()
    if fmt == "canonical":
        code = text.upper()
        return code if code in _ITEM_SET else None
    if fmt == "google_forms":
        m = _GF_ITEM_START.search(text) or _GF_ITEM_END.search(text)
    else:
        m = _KOBO_ITEM.match(text)
    if m and m.group(1).upper() in _ITEM_SET:
        return m.group(1).upper()
    return None


@dataclass
class _Layout:
    fmt: str
    fields: dict[str, str] = field(default_factory=dict)  # logical field → header
    items: dict[str, str] = field(default_factory=dict)  # item code → header
    missing: list[str] = field(default_factory=list)


def _match_layout(columns: list[str], fmt: str) -> _Layout:
    layout = _Layout(fmt)
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(_norm_header(col), col)
    for logical, spellings in _FIELDS[fmt].items():
        header = next((by_norm[s] for s in spellings if s in by_norm), None)
        if header is not None:
            layout.fields[logical] = header
        elif logical in _REQUIRED[fmt]:
            layout.missing.append(" or ".join(spellings) if len(spellings) > 1 else spellings[0])
    for col in columns:
        code = _item_code(col, fmt)
        if code is not None:
            layout.items.setdefault(code, col)
    if not layout.items:
        layout.missing.append(_ITEMS_DESCRIPTION[fmt])
    return layout


def _detect(columns: list[str]) -> _Layout:
    layouts = [_match_layout(columns, fmt) for fmt in FORMATS]
    for layout in layouts:
        if not layout.missing:
            return layout
    closest = min(layouts, key=lambda lay: len(lay.missing))
    raise ValueError(f"unknown survey layout: lacks columns {', '.join(closest.missing)} (closest layout: {closest.fmt})")


def detect_survey_format(columns: list[str]) -> str:
    """The survey layout of a header: ``canonical``, ``google_forms`` or ``kobo``.

    Raises ``ValueError("unknown survey layout: lacks columns …")`` naming what the
    closest layout lacks."""
    return _detect(list(columns)).fmt


# --------------------------------------------------------------------------- values


def _classify_uniques(values: pd.Series, classify) -> tuple[np.ndarray, ...]:
    """Apply ``classify(text) -> tuple`` to the distinct non-missing values of a column
    and broadcast the results back (one array per tuple element; missing rows get the
    result of ``classify(None)``)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [classify(u) for u in uniques] + [classify(None)]
    out = []
    for k in range(len(results[0])):
        table = np.array([r[k] for r in results], dtype=object)
        out.append(table[codes])  # code -1 (missing) takes the last entry
    return tuple(out)


_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def _answer_classifier(labels: dict[str, int], lo: int, hi: int):
    """text → (value or None, status) with status '', 'out_of_scale' or 'invalid_value'."""

    def classify(text):
        if text is None:
            return (None, "")
        key = re.sub(r"\s+", " ", str(text).strip()).casefold()
        if key in labels:
            return (labels[key], "")
        if _NUMBER.match(key):
            number = float(key.replace(",", "."))
            if number != int(number):
                return (None, "invalid_value")
            if not lo <= int(number) <= hi:
                return (None, "out_of_scale")
            return (int(number), "")
        return (None, "invalid_value")

    return classify


def _classify_age(text):
    if text is None:
        return (None, "")
    key = str(text).strip()
    if _NUMBER.match(key):
        number = float(key.replace(",", "."))
        if number == int(number):
            return (int(number), "")
    return (None, "invalid_value")


def _classify_sex(text):
    if text is None:
        return (None, "")
    key = re.sub(r"\s+", " ", str(text).strip()).casefold()
    return (SEX_VALUES[key], "") if key in SEX_VALUES else (None, "invalid_value")


# --------------------------------------------------------------------------- timestamps

_OFFSET = r"(?:\s*(?:(?P<z>Z)|(?:GMT|UTC)?\s*(?P<osign>[+-])(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?))?"
_TIME = r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?"
_TS_PATTERNS = {
    "iso": re.compile(
        rf"^(?P<Y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})(?:(?:T|\s+){_TIME})?{_OFFSET}$"
    ),
    "ymd": re.compile(rf"^(?P<Y>\d{{4}})/(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}})\s+{_TIME}{_OFFSET}$"),
    "aby": re.compile(
        rf"^(?P<a>\d{{1,2}})[/-](?P<b>\d{{1,2}})[/-](?P<Y>\d{{4}})\s+{_TIME}(?:\s*(?P<ampm>[AaPp][Mm]))?{_OFFSET}$"
    ),
}


def _parse_timestamps(raw: pd.Series, patterns: tuple[str, ...], default_tz: str) -> pd.Series:
    """Vectorised parse of timestamp text into tz-aware UTC (NaT where invalid).

    ``aby`` (``a/b/yyyy``) is day- or month-first for the whole column: a first field
    > 12 anywhere means day-first, else a second field > 12 means month-first, else
    day-first (contract §3.1)."""
    text = raw.astype(STRING).str.strip()
    n = len(text)
    parts = {k: pd.Series(pd.NA, index=text.index, dtype=STRING) for k in
             ("Y", "m", "d", "H", "M", "S", "F", "z", "osign", "oh", "om", "ampm")}  # fmt: skip
    unmatched = text.notna()
    for name in patterns:
        if not unmatched.any():
            break
        pattern = _TS_PATTERNS[name]
        found = text[unmatched].str.extract(pattern.pattern)
        hit = found["Y"].notna()
        if not hit.any():
            continue
        found = found[hit]
        if name == "aby":
            a = pd.to_numeric(found["a"]).astype("int64")
            b = pd.to_numeric(found["b"]).astype("int64")
            day_first = bool((a > 12).any()) or not bool((b > 12).any())
            found = found.assign(d=found["a"] if day_first else found["b"], m=found["b"] if day_first else found["a"])
        for key in parts:
            if key in found.columns:
                parts[key].loc[found.index] = found[key]
        unmatched.loc[found.index] = False
    if n == 0:
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")

    def num(key, default=0):
        return pd.to_numeric(parts[key], errors="coerce").fillna(default).astype("int64")

    hour = num("H")
    ampm = parts["ampm"].str.upper()
    has_ampm = ampm.notna()
    bad = has_ampm & ((hour < 1) | (hour > 12))
    is_pm = (ampm == "PM").fillna(False).to_numpy(dtype=bool)
    hour = hour.where(~has_ampm, (hour % 12) + np.where(is_pm, 12, 0))
    fraction = parts["F"].fillna("0").str.slice(0, 6).str.pad(6, side="right", fillchar="0")
    components = pd.DataFrame(
        {
            "year": pd.to_numeric(parts["Y"], errors="coerce"),
            "month": pd.to_numeric(parts["m"], errors="coerce"),
            "day": pd.to_numeric(parts["d"], errors="coerce"),
            "hour": hour,
            "minute": num("M"),
            "second": num("S"),
            "us": pd.to_numeric(fraction, errors="coerce").fillna(0).astype("int64"),
        }
    )
    bad |= (components["hour"] > 23) | (components["minute"] > 59) | (components["second"] > 59)
    valid = components["year"].notna() & ~bad
    naive = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if valid.any():
        assembled = pd.to_datetime(components[valid].astype("int64"), errors="coerce")
        naive.loc[valid] = assembled.astype("datetime64[us]")
    has_offset = parts["z"].notna() | parts["osign"].notna()
    negative = (parts["osign"] == "-").fillna(False).to_numpy(dtype=bool)
    offset_minutes = (num("oh") * 60 + num("om")) * np.where(negative, -1, 1)
    offset_ok = offset_minutes.abs() <= 14 * 60
    fixed = (naive - pd.to_timedelta(offset_minutes, unit="m")).dt.tz_localize("UTC")
    local = naive.dt.tz_localize(default_tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    result = fixed.where(has_offset.to_numpy(), local)
    result = result.where(~(has_offset & ~offset_ok).to_numpy())
    return result.astype("datetime64[us, UTC]")


def _month_end_utc(period: str) -> pd.Timestamp:
    """First instant after the arrival month ``YYYY-MM`` (Asia/Jakarta), in UTC."""
    if not re.fullmatch(r"\d{4}-\d{2}", str(period)):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    start = pd.Timestamp(f"{period}-01", tz=JAKARTA)
    return (start + pd.DateOffset(months=1)).tz_convert("UTC")


# --------------------------------------------------------------------------- parse


def _read_survey_table(path: Path, display_path: str) -> tuple[RawTable, _Layout]:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        table = read_csv_table(path, display_path)
        try:
            return table, _detect(list(table.frame.columns))
        except ValueError as exc:
            raise UnreadableFile(display_path, str(exc)) from None
    if suffix in (".xlsx", ".xlsm"):
        first_error: str | None = None
        for sheet in xlsx_sheet_names(path, display_path):
            try:
                table = read_xlsx_table(path, display_path, sheet)
            except UnreadableFile as exc:
                first_error = first_error or exc.reason
                continue
            try:
                return table, _detect(list(table.frame.columns))
            except ValueError as exc:
                first_error = first_error or f"{exc} (sheet {sheet!r})"
        raise UnreadableFile(display_path, first_error or "the workbook has no sheet")
    raise UnreadableFile(display_path, f"unsupported file type {suffix or '(none)'!r}: expected .csv or .xlsx")


def parse_survey_file(
    path: Path, *, display_path: str, regions, scope: str, period: str, pseudonymizer
) -> ParsedFile:
    """Parse one survey export into canonical rows and rejected (row, rule) pairs."""
    month_end = _month_end_utc(period)
    table, layout = _read_survey_table(Path(path), display_path)
    fmt, frame = layout.fmt, table.frame
    n = len(frame)
    warnings: list[str] = []
    rej = _Rejections(table.lines)

    def col(logical: str) -> pd.Series:
        header = layout.fields.get(logical)
        if header is None:
            return pd.Series(pd.NA, index=frame.index, dtype=STRING)
        return frame[header]

    def header(logical: str) -> str:
        return layout.fields.get(logical, logical)

    # --- personal data → pseudonyms (raw values go no further than this block)
    pseudonyms = {
        logical: pseudonymizer.series(col(logical), kind) if logical in layout.fields else
        pd.Series(pd.NA, index=frame.index, dtype=STRING)
        for logical, kind in _PERSONAL.items()
    }  # fmt: skip
    respondent_key = pseudonyms["nik"].fillna(pseudonyms["email"]).fillna(pseudonyms["phone"]).astype(STRING)

    # --- required fields
    for logical in _REQUIRED[fmt]:
        missing = col(logical).isna()
        rej.add(missing, "missing_field", header(logical), message=f"{header(logical)} is empty")

    # --- timestamps
    ts_raw = col("ts")
    if fmt == "kobo":
        submitted = _parse_timestamps(ts_raw, ("iso",), "UTC")
    elif fmt == "canonical":
        submitted = _parse_timestamps(ts_raw, ("iso",), JAKARTA)
    else:
        submitted = _parse_timestamps(ts_raw, ("ymd", "aby", "iso"), JAKARTA)
    unparsed = ts_raw.notna() & submitted.isna()
    rej.add(unparsed, "invalid_date", header("ts"), ts_raw, f"{header('ts')} is not a valid timestamp")
    late = (submitted >= month_end).fillna(False)
    rej.add(
        late, "invalid_date", header("ts"), ts_raw,
        f"{header('ts')} is later than the end of the arrival month {period} (Asia/Jakarta)",
    )  # fmt: skip
    started = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
    ended = started.copy()
    if fmt == "kobo":
        for logical in ("start", "end"):
            raw = col(logical)
            parsed = _parse_timestamps(raw, ("iso",), JAKARTA)
            bad = int((raw.notna() & parsed.isna()).sum())
            if bad:
                warnings.append(f"{bad} row(s) with an unreadable Kobo {header(logical)!r}: stored as NULL")
            if logical == "start":
                started = parsed
            else:
                ended = parsed

    # --- sex and age
    sex, sex_status = _classify_uniques(col("sex"), _classify_sex)
    rej.add(sex_status == "invalid_value", "invalid_value", header("sex"), col("sex"),
            f"{header('sex')} must be L/P (Laki-laki/Perempuan)")  # fmt: skip
    age, age_status = _classify_uniques(col("age"), _classify_age)
    age = pd.array(age, dtype="Int64") if n else pd.array([], dtype="Int64")
    age = pd.Series(age, index=frame.index)
    rej.add(age_status == "invalid_value", "invalid_value", header("age"), col("age"),
            f"{header('age')} is not a whole number of years")  # fmt: skip
    bounds = load_methodology()["survey"]["age"]
    age_lo, age_hi = int(bounds["min"]), int(bounds["max"])
    rej.add(((age < age_lo) | (age > age_hi)).fillna(False), "age_out_of_range", header("age"), col("age"),
            f"{header('age')} outside {age_lo}–{age_hi}")  # fmt: skip

    # --- regions (the resolvers work over distinct values themselves)
    kec_raw = col("kec")
    if fmt == "google_forms" and "kab" in layout.fields:
        kec = regions.resolve_kecamatan(kec_raw, scope, kabupaten=col("kab"))
    else:
        kec = regions.resolve_kecamatan(kec_raw, scope)
    kec_failed = kec_raw.notna() & kec["rule"].notna()
    for rule in kec.loc[kec_failed, "rule"].unique():
        rej.add(kec_failed & (kec["rule"] == rule), rule, header("kec"), kec_raw, kec["message"])
    kec_code = kec["kode"].where(kec_raw.notna() & kec["rule"].isna()).astype(STRING)

    desa_raw = col("desa")
    desa_code = pd.Series(pd.NA, index=frame.index, dtype=STRING)
    check_desa = desa_raw.notna() & kec_code.notna()
    if check_desa.any():
        desa = regions.resolve_desa(desa_raw[check_desa], kec_code[check_desa], scope)
        desa_failed = desa["rule"].notna()
        for rule in desa.loc[desa_failed, "rule"].unique():
            mask = (desa_failed & (desa["rule"] == rule)).reindex(frame.index, fill_value=False)
            rej.add(mask, rule, header("desa"), desa_raw, desa["message"].reindex(frame.index))
        desa_code.loc[check_desa] = desa["kode"].where(~desa_failed)

    # --- items
    lo, hi = scale()
    classify_answer = _answer_classifier(likert_labels(), lo, hi)
    item_values: dict[str, pd.Series] = {}
    answered = pd.Series(False, index=frame.index)
    status_by_item: dict[str, np.ndarray] = {}
    for code in ITEMS:
        header_name = layout.items.get(code)
        if header_name is None:
            item_values[code] = pd.Series(pd.NA, index=frame.index, dtype="Int8")
            continue
        raw = frame[header_name]
        values, status = _classify_uniques(raw, classify_answer)
        item_values[code] = pd.Series(pd.array(values, dtype="Int8"), index=frame.index) if n else pd.Series(
            [], dtype="Int8"
        )
        status_by_item[code] = status
        answered |= raw.notna()
    for rule, what in (
        ("out_of_scale", f"item answer outside the scale {lo}–{hi}"),
        ("invalid_value", "item answer that is neither a whole number nor a Likert label"),
    ):
        _add_item_rule(rej, frame, layout, status_by_item, rule, what)
    rej.add(~answered, "empty_response", "items", message="no item is answered")

    # --- response id
    if fmt == "google_forms":
        response_id = _google_forms_ids(
            submitted, kec_code, kec_raw, desa_code, desa_raw, sex, age, item_values, frame, layout, pseudonyms
        )
        id_header = "response_id"
    else:
        response_id = col("id")
        id_header = header("id")
    passing = ~rej.bad.to_numpy()
    duplicated = pd.Series(False, index=frame.index)
    if passing.any():
        duplicated.loc[passing] = response_id[passing].duplicated(keep="first").to_numpy()
    rej.add(duplicated, "duplicate_in_file", id_header, response_id, "response id already seen earlier in this file")

    # --- assemble accepted rows
    keep = ~rej.bad.to_numpy()
    out = pd.DataFrame(
        {
            "response_id": response_id.astype(STRING),
            "submitted_at": submitted,
            "started_at": started,
            "ended_at": ended,
            "kode_kecamatan": kec_code,
            "kode_desa": desa_code,
            "jenis_kelamin": pd.Series(sex, index=frame.index, dtype=STRING),
            "umur": age.astype("Int16"),
            "pendidikan": col("pendidikan") if fmt == "canonical" else pd.Series(pd.NA, index=frame.index, dtype=STRING),
            "pekerjaan": col("pekerjaan") if fmt == "canonical" else pd.Series(pd.NA, index=frame.index, dtype=STRING),
            "respondent_key": respondent_key,
        },
        index=frame.index,
    )
    items_frame = pd.DataFrame(item_values, index=frame.index)
    out = pd.concat([out, items_frame], axis=1)
    out["line"] = table.lines.to_numpy()
    accepted = out.loc[keep].reset_index(drop=True)
    accepted = accepted[[name for name, _ in SURVEY_PARSED] + ["line"]]
    return ParsedFile(format=fmt, rows_read=n, accepted=accepted, rejected=rej.frame(), warnings=warnings)


class _Rejections(Rejections):
    """``Rejections`` whose ``message`` may also be a Series (one message per row):
    region messages come from the resolver, item messages list the offending items."""

    def add(self, mask, rule, column, values=None, message="") -> None:
        if not isinstance(message, pd.Series):
            return super().add(mask, rule, column, values, message)
        before = len(self._parts)
        super().add(mask, rule, column, values, "")
        if len(self._parts) > before:
            part = self._parts[-1]
            per_row = message.reset_index(drop=True).astype(STRING)
            part["message"] = per_row.loc[part.index].fillna(rule).to_numpy()


def _add_item_rule(rej, frame, layout, status_by_item, rule: str, what: str) -> None:
    """One audit row per row breaking ``rule`` on any item: first offending item in
    ``column``/``value``, all of them in the message."""
    offending = {code: status == rule for code, status in status_by_item.items() if (status == rule).any()}
    if not offending:
        return
    any_row = np.zeros(len(frame), dtype=bool)
    first_column = pd.Series(pd.NA, index=frame.index, dtype=STRING)
    first_value = pd.Series(pd.NA, index=frame.index, dtype=STRING)
    listing = pd.Series("", index=frame.index, dtype=STRING)
    for code, mask in offending.items():
        header = layout.items[code]
        raw = frame[header]
        new = mask & ~any_row
        first_column[new] = header
        first_value[new] = raw[new]
        listing = listing.where(~mask, listing + ", " + code + "=" + raw.fillna(""))
        any_row |= mask
    full = (f"{what}: " + listing.str.slice(2)).astype(STRING)
    rej.add(any_row, rule, first_column, first_value, full)


def _google_forms_ids(
    submitted, kec_code, kec_raw, desa_code, desa_raw, sex, age, item_values, frame, layout, pseudonyms
) -> pd.Series:
    """Stable id of a Google Forms response from its normalised values (module docstring)."""

    def norm_text(s: pd.Series) -> pd.Series:
        return s.astype(STRING).str.casefold().str.replace(r"\s+", " ", regex=True).fillna("")

    parts = [
        submitted.dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(STRING).fillna(""),
        kec_code.fillna("?" + norm_text(kec_raw)),
        desa_code.fillna("?" + norm_text(desa_raw)),
        pd.Series(sex, index=submitted.index, dtype=STRING).fillna(""),
        age.astype(STRING).fillna(""),
    ]
    for code in ITEMS:
        value = item_values[code].astype(STRING)
        if code in layout.items:  # an invalid answer keeps its (normalised) text
            raw = norm_text(frame[layout.items[code]])
            value = value.fillna(raw.where(raw == "", "?" + raw))
        parts.append(value.fillna(""))
    parts.append(pseudonyms["email"].fillna(""))
    parts.append(pseudonyms["phone"].fillna(""))
    keys = parts[0].str.cat(parts[1:], sep="|")
    digests = [hashlib.sha256(k.encode("utf-8")).hexdigest() for k in keys.tolist()]
    return pd.Series(["gf-" + d for d in digests], index=submitted.index, dtype=STRING)
