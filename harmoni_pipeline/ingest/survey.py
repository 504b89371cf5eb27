"""Survey exports → canonical survey rows (``schemas.SURVEY_PARSED`` + ``line``).

Room: recognising the three survey layouts of data-contracts §3.1 (``canonical``,
``google_forms``, ``kobo``) from their header, turning their cells into typed canonical
columns, and applying the survey rules of §3.4 — column-wise, never row by row. Reading
bytes is :mod:`~harmoni_pipeline.ingest.readers`' job; region names and codes are
resolved by :class:`harmoni_pipeline.regions.Regions`; pseudonyms come from
:class:`harmoni_pipeline.pii.Pseudonymizer`. Windows, deduplication across files and
scoring are not here.

The choices made where the contract leaves room (timestamps, one audit row per rule,
answers, age and sex, regions, header matching, Kobo and Google Forms specifics, free
text, personal columns): ``docs/ingestion.md`` (*Survey exports: choices*).

Speed: no Python loop over rows except the sha256 of Google Forms ids (hashlib has no
vectorised form) and the HMAC of each *distinct* personal value, computed only where
used (respondent key: NIK, else e-mail, else phone; Google Forms ids: e-mail and phone).
Timestamps are one pyarrow regex per pattern plus numpy datetime arithmetic; items,
age and sex are classified over their distinct values (``pd.factorize``), the ≈ 45
item columns of a file together (one factorize, one classification per file).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from harmoni_pipeline.ingest.common import ParsedFile, Rejections, UnreadableFile
from harmoni_pipeline.ingest.limits import DEFAULT_LIMITS, InputLimits
from harmoni_pipeline.ingest.readers import RawTable, read_csv_table, read_xlsx_table, xlsx_sheet_names
from harmoni_pipeline.ingest.schemas import SURVEY_PARSED
from harmoni_pipeline.ingest.survey_timestamps import STRING, _parse_timestamps
from harmoni_pipeline.instrument.codes import label_to_code
from harmoni_pipeline.periods import TIMEZONE, month_end_utc
from harmoni_pipeline import methodology
from harmoni_pipeline.methodology import all_items, answer_scale, likert_labels

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
        "pendidikan": ("pendidikan",),
        "pekerjaan": ("pekerjaan",),
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
        "pendidikan": ("identitas/pendidikan",),
        "pekerjaan": ("identitas/pekerjaan",),
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
    repeated_items: dict[str, list[str]] = field(default_factory=dict)  # item code → all its headers


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
            if code in layout.items:
                layout.repeated_items.setdefault(code, [layout.items[code]]).append(col)
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


# classification status of one cell
OK, OUT_OF_SCALE, INVALID = 0, 1, 2
_STATUS_RULE = {OUT_OF_SCALE: "out_of_scale", INVALID: "invalid_value"}


@dataclass
class _Classified:
    """A column classified over its distinct values: ``value`` (float with NaN, or
    object), ``status`` (int8: OK / OUT_OF_SCALE / INVALID) and ``present`` (bool: the
    cell is not missing) per row."""

    value: np.ndarray
    status: np.ndarray
    present: np.ndarray

    def as_integers(self, dtype: str, index: pd.Index) -> pd.Series:
        missing = np.isnan(self.value)
        data = np.where(missing, 0, self.value).astype(dtype.lower())
        return pd.Series(pd.arrays.IntegerArray(data, missing), index=index, dtype=dtype)


def _classify_uniques(values: pd.Series, classify, numeric: bool = True) -> _Classified:
    """Apply ``classify(text) -> (value, status)`` to the distinct non-missing values of
    a column and broadcast the results back (a missing cell is ``(None, OK)``)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [classify(u) for u in uniques] + [(None, OK)]  # code -1 takes the last entry
    if numeric:
        table = np.array([np.nan if v is None else float(v) for v, _ in results], dtype=np.float64)
    else:
        table = np.array([v for v, _ in results], dtype=object)
    status = np.array([st for _, st in results], dtype=np.int8)
    return _Classified(table[codes], status[codes], codes >= 0)


_NUMBER = re.compile(r"^[+-]?\d{1,15}(?:[.,]\d+)?$")  # longer: not a plausible answer


def _answer_classifier(labels: dict[str, int], lo: int, hi: int):
    """text → (value or None, status)."""

    def classify(text):
        key = re.sub(r"\s+", " ", str(text).strip()).casefold()
        if key in labels:
            return (labels[key], OK)
        if _NUMBER.match(key):
            number = float(key.replace(",", "."))
            if number != int(number):
                return (None, INVALID)
            if not lo <= int(number) <= hi:
                return (None, OUT_OF_SCALE)
            return (int(number), OK)
        return (None, INVALID)

    return classify


def _classify_age(text):
    key = str(text).strip()
    if _NUMBER.match(key):
        number = float(key.replace(",", "."))
        if number == int(number) and abs(number) < 10_000:
            return (int(number), OK)
    return (None, INVALID)


def _classify_sex(text):
    key = re.sub(r"\s+", " ", str(text).strip()).casefold()
    return (SEX_VALUES[key], OK) if key in SEX_VALUES else (None, INVALID)


# --------------------------------------------------------------------------- parse


def _read_survey_table(path: Path, display_path: str, limits: InputLimits) -> tuple[RawTable, _Layout]:
    table, layout = _find_survey_table(path, display_path, limits)
    if layout.repeated_items:
        code, headers = next(iter(layout.repeated_items.items()))
        shown = ", ".join(repr(h) for h in headers)
        raise UnreadableFile(display_path, f"several columns carry item {code}: {shown}")
    return table, layout


def _find_survey_table(path: Path, display_path: str, limits: InputLimits) -> tuple[RawTable, _Layout]:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        table = read_csv_table(path, display_path)
        try:
            return table, _detect(list(table.frame.columns))
        except ValueError as exc:
            raise UnreadableFile(display_path, str(exc)) from None
    if suffix in (".xlsx", ".xlsm"):
        first_error: str | None = None
        for sheet in xlsx_sheet_names(path, display_path, limits=limits):
            try:
                table = read_xlsx_table(path, display_path, sheet, limits=limits)
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
    path: Path, *, display_path: str, regions, scope: str, period: str, pseudonymizer,
    limits: InputLimits = DEFAULT_LIMITS,
) -> ParsedFile:
    """Parse one survey export into canonical rows and rejected (row, rule) pairs."""
    month_end = month_end_utc(period)
    table, layout = _read_survey_table(Path(path), display_path, limits)
    fmt, frame = layout.fmt, table.frame
    n = len(frame)
    warnings: list[str] = []
    rej = Rejections(table.lines)

    def col(logical: str) -> pd.Series:
        header = layout.fields.get(logical)
        if header is None:
            return pd.Series(pd.NA, index=frame.index, dtype=STRING)
        return frame[header]

    def header(logical: str) -> str:
        return layout.fields.get(logical, logical)

    # --- personal data → pseudonyms (raw values go no further than this block)
    # HMAC has no vectorised form, so a pseudonym is computed only where it is used: the
    # respondent key takes NIK, else e-mail, else phone; Google Forms ids use e-mail and
    # phone on every row.
    pseudonyms: dict[str, pd.Series] = {}
    respondent_key = pd.Series(pd.NA, index=frame.index, dtype=STRING)
    for logical in ("nik", "email", "phone"):
        values = col(logical)
        needed = values.notna() if fmt == "google_forms" else values.notna() & respondent_key.isna()
        pseudonyms[logical] = pd.Series(pd.NA, index=frame.index, dtype=STRING)
        if needed.any():
            pseudonyms[logical][needed] = pseudonymizer.series(values[needed], _PERSONAL[logical])
        respondent_key = respondent_key.fillna(pseudonyms[logical])

    # --- text stored as given: at most limits.text_max_chars characters (one audit row
    # per row: the first such column, all of them in the message)
    long_column = pd.Series(pd.NA, index=frame.index, dtype=STRING)
    long_value = long_column.copy()
    long_names = pd.Series("", index=frame.index, dtype=STRING)
    for logical in reversed([f for f in ("id", "pendidikan", "pekerjaan") if f in layout.fields]):
        too_long = (col(logical).str.len() > limits.text_max_chars).fillna(False)
        long_column, long_value = long_column.mask(too_long, header(logical)), long_value.mask(too_long, col(logical))
        long_names = long_names.mask(too_long, header(logical) + ", " + long_names)
    rej.add(long_column.notna(), "invalid_value", long_column, long_value,
            long_names.str.rstrip(", ") + f" longer than {limits.text_max_chars:,} characters")  # fmt: skip

    # --- required fields
    for logical in _REQUIRED[fmt]:
        missing = col(logical).isna()
        rej.add(missing, "missing_field", header(logical), message=f"{header(logical)} is empty")

    # --- timestamps
    ts_raw = col("ts")
    date_order: list[str] = []
    if fmt == "kobo":
        submitted = _parse_timestamps(ts_raw, ("iso",), "UTC")
    elif fmt == "canonical":
        submitted = _parse_timestamps(ts_raw, ("iso",), TIMEZONE)
    else:
        submitted = _parse_timestamps(ts_raw, ("ymd", "aby", "iso"), TIMEZONE, date_order=date_order)
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
            parsed = _parse_timestamps(raw, ("iso",), TIMEZONE)
            bad = int((raw.notna() & parsed.isna()).sum())
            if bad:
                warnings.append(f"{bad} row(s) with an unreadable Kobo {header(logical)!r}: stored as NULL")
            if logical == "start":
                started = parsed
            else:
                ended = parsed

    # --- sex and age
    sex_cells = _classify_uniques(col("sex"), _classify_sex, numeric=False)
    sex = pd.Series(sex_cells.value, index=frame.index, dtype=STRING)
    rej.add(sex_cells.status == INVALID, "invalid_value", header("sex"), col("sex"),
            f"{header('sex')} must be L/P (Laki-laki/Perempuan)")  # fmt: skip
    age_cells = _classify_uniques(col("age"), _classify_age)
    age = age_cells.as_integers("Int64", frame.index)
    rej.add(age_cells.status == INVALID, "invalid_value", header("age"), col("age"),
            f"{header('age')} is not a whole number of years")  # fmt: skip
    bounds = methodology.load().raw["survey"]["age"]
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
    lo, hi = answer_scale()
    item_values, status_by_item, answered = _classify_items(frame, layout, _answer_classifier(likert_labels(), lo, hi))
    for status, what in (
        (OUT_OF_SCALE, f"item answer outside the scale {lo}–{hi}"),
        (INVALID, "item answer that is neither a whole number nor a Likert label"),
    ):
        _add_item_rule(rej, frame, layout, status_by_item, status, what)
    rej.add(~answered, "empty_response", "items", message="no item is answered")

    # --- response id
    if fmt == "google_forms":
        response_id = _google_forms_ids(submitted, kec_code, desa_code, sex, age, item_values, pseudonyms)
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
            "jenis_kelamin": sex,
            "umur": age.astype("Int16"),
            "pendidikan": label_to_code(col("pendidikan"), "pendidikan") if fmt == "google_forms" else col("pendidikan"),
            "pekerjaan": label_to_code(col("pekerjaan"), "pekerjaan") if fmt == "google_forms" else col("pekerjaan"),
            "respondent_key": respondent_key,
        },
        index=frame.index,
    )
    out = pd.concat([out, item_values], axis=1)
    out["line"] = table.lines.to_numpy()
    accepted = out.loc[keep].reset_index(drop=True)
    accepted = accepted[[name for name, _ in SURVEY_PARSED] + ["line"]]
    read = {*layout.fields.values(), *layout.items.values()}
    return ParsedFile(format=fmt, rows_read=n, accepted=accepted, rejected=rej.frame(), warnings=warnings,
                      ignored_columns=[c for c in frame.columns if c not in read],
                      date_order=date_order[0] if date_order else None)


def _classify_items(
    frame: pd.DataFrame, layout: _Layout, classify
) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray]:
    """The item answers as one ``Int8`` column per item of ``ITEMS`` (all missing where
    the layout lacks the item), each present item's status per row, and whether a row
    answers any item. The item columns are classified together: their text is stacked
    into one Arrow array and classified over its distinct values once
    (:func:`_classify_uniques`; the same answers recur in every item), not once per item."""
    n = len(frame)
    present = [code for code in ITEMS if code in layout.items]
    values = np.zeros((len(ITEMS), n), dtype=np.int8)
    missing = np.ones((len(ITEMS), n), dtype=bool)
    status_by_item: dict[str, np.ndarray] = {}
    answered = np.zeros(n, dtype=bool)
    if present and n:
        # the columns' Arrow chunks side by side (``__arrow_array__``: no text copied)
        columns = [frame[layout.items[code]].array.__arrow_array__() for code in present]
        stacked = pa.chunked_array([chunk for column in columns for chunk in column.chunks])
        cells = _classify_uniques(pd.arrays.ArrowStringArray(stacked), classify)
        shape = (len(present), n)
        rows = np.array([ITEMS.index(code) for code in present])
        missing[rows] = np.isnan(cells.value).reshape(shape)
        values[rows] = np.where(missing[rows], 0, cells.value.reshape(shape))
        status = cells.status.reshape(shape)
        status_by_item = {code: status[i] for i, code in enumerate(present)}
        answered = cells.present.reshape(shape).any(axis=0)  # the factorize's missing cells: no second pass
    answers = {code: pd.arrays.IntegerArray(values[i], missing[i]) for i, code in enumerate(ITEMS)}
    return pd.DataFrame(answers, index=frame.index, copy=False), status_by_item, answered


def _add_item_rule(rej, frame, layout, status_by_item, status: int, what: str) -> None:
    """One audit row per row breaking the rule of ``status`` on any item: the first
    offending item in ``column``/``value``, all of them in the message."""
    offending = {code: st == status for code, st in status_by_item.items()}
    offending = {code: mask for code, mask in offending.items() if mask.any()}
    if not offending:
        return
    any_row = np.zeros(len(frame), dtype=bool)
    first_column = np.full(len(frame), None, dtype=object)
    first_value = np.full(len(frame), None, dtype=object)
    listing = np.full(len(frame), "", dtype=object)
    for code, mask in offending.items():
        header = layout.items[code]
        rows = np.flatnonzero(mask)
        # only the offending cells become Python strings (the whole column: ≈ 1 s CPU a national month)
        raw = frame[header].iloc[rows].to_numpy(dtype=object, na_value="")
        new = ~any_row[rows]
        first_column[rows[new]] = header
        first_value[rows[new]] = raw[new]
        listing[rows] = listing[rows] + ", " + code + "=" + raw
        any_row[rows] = True
    message = pd.Series(listing, index=frame.index, dtype=STRING).str.slice(2)
    rej.add(
        any_row,
        _STATUS_RULE[status],
        pd.Series(first_column, index=frame.index, dtype=STRING),
        pd.Series(first_value, index=frame.index, dtype=STRING),
        f"{what}: " + message,
    )


def _google_forms_ids(submitted, kec_code, desa_code, sex, age, item_values, pseudonyms) -> pd.Series:
    """Stable id of a Google Forms response from its normalised values (module docstring).

    Only rows that pass every other rule keep their id, so the parts of a rejected row
    (unresolved region, invalid answer) may be blank."""
    n = len(submitted)
    if n == 0:
        return pd.Series([], index=submitted.index, dtype=STRING)
    answers = np.column_stack([item_values[code].to_numpy(dtype=np.uint8, na_value=0) for code in ITEMS])
    answers = np.ascontiguousarray(answers + ord("0"), dtype=np.uint8).view(f"S{len(ITEMS)}").ravel()

    def text(values) -> pa.Array:
        arr = pa.array(pd.Series(values).astype(STRING).array, type=pa.large_string())
        return pc.fill_null(arr, "")

    parts = [
        _utc_instants(submitted),
        text(kec_code),
        text(desa_code),
        text(sex),
        text(age.astype(STRING)),
        pc.cast(pa.array(answers, type=pa.binary()), pa.large_string()),
        text(pseudonyms["email"]),
        text(pseudonyms["phone"]),
    ]
    keys = pc.binary_join_element_wise(*parts, pa.scalar("|", pa.large_string()))
    sha = hashlib.sha256  # no vectorised form: one call per row, on the UTF-8 bytes Arrow already holds
    ids = ["gf-" + sha(k).hexdigest() for k in pc.cast(keys, pa.large_binary()).to_pylist()]
    return pd.Series(ids, index=submitted.index, dtype=STRING)


def _utc_instants(submitted: pd.Series) -> pa.Array:
    """The UTC instants of the ids, ``''`` where missing: what ``strftime("%Y-%m-%dT%H:%M:%SZ")``
    writes for the column's unit (``%S`` carries the fraction: ``…T03:04:05.000000Z`` for
    microseconds), by Arrow's cast to text (``2025-12-01 03:04:05.000000``, ≈ 25 × faster)
    with the ``T`` and the ``Z`` put in."""
    naive = pa.array(submitted.dt.tz_convert("UTC").dt.tz_localize(None))
    text = pc.replace_substring(pc.cast(naive, pa.large_string()), " ", "T", max_replacements=1)
    text = pc.binary_join_element_wise(text, pa.scalar("Z", pa.large_string()), pa.scalar("", pa.large_string()))
    return pc.fill_null(text, pa.scalar("", pa.large_string()))
