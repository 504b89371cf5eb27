"""FKDM early-warning reports (CSV or XLSX) → canonical report rows plus their audit.

Room: the FKDM layout of data-contracts §3.2 and the FKDM rules of §3.4 — header
recognition, value normalisation (dates, coded fields, regions), the row rules and the
in-file duplicate rule. Reading bytes is :mod:`~harmoni_pipeline.ingest.readers`' job,
resolving region names :mod:`~harmoni_pipeline.regions`', pseudonyms
:mod:`~harmoni_pipeline.pii`'s; which version of a report wins across files and periods
is decided downstream (the event pillar), not here.

Everything is column-wise pandas: no Python loop runs over the rows. Rules that read one
value at a time (dates, coded fields, ``kode_desa``) run on a column's distinct values
and are spread back to the rows: a file's values repeat, and the fixed cost of each
pandas call, not the rows, is most of the work on files of a few thousand rows.

Choices where the contract is open (kept deliberately small and strict):
- **Headers** are matched after normalisation (case, surrounding spaces, punctuation and
  inner spaces → ``_``: ``No. Laporan`` = ``no_laporan``) plus a few spelled-out aliases
  (``tanggal_lapor``, ``desa_kelurahan``, ``nama_pelapor``, ``hp_pelapor`` …). Required:
  ``no_laporan, tgl_lapor, tgl_kejadian, bidang, jenis_athg, kualifikasi, status`` and
  either ``kode_desa`` or both ``kecamatan`` and ``desa``; a file lacking them is
  unreadable and the error names the missing columns. ``ringkasan`` is optional for
  the pipeline (it is never read: not stored, not echoed); other unknown columns are
  ignored.
- **Region**: a row's ``kode_desa`` is used when present (``35.13.19.2001``, or another
  form ``Regions`` reads: ``3513192001``, ``35_13_19_2001``); otherwise the ``kecamatan``
  and ``desa`` names (both required) are resolved within the scope, the desa within its
  kecamatan. A value that
  is not code-like (digits, ``.``, ``_``) is ``invalid_value``; an unknown or malformed
  code ``unknown_region``; a code outside the scope ``out_of_scope``. The kecamatan is
  the desa's parent.
- **Empty coded fields** (bidang, jenis_athg, kualifikasi, status) are ``missing_field``;
  unknown values ``invalid_value``. Coded values are compared after case folding;
  ``bidang`` also after turning spaces/``&``/``_`` into ``-`` (``Sosial Budaya`` =
  ``sosial-budaya``); ``kualifikasi`` after removing spaces, ``-`` and ``_``
  (``Merah 1`` = ``merah1``); ``jenis_athg`` accepts the letter or the word.
- **Dates**: ``YYYY-MM-DD`` (a time part, as a native Excel datetime renders, is
  ignored) or ``DD/MM/YYYY`` (day and month may have one digit). A date that does not
  exist (``31/02/2025``) or lies outside the years 2000–2099 is ``invalid_date``.
  Optional dates that are present but invalid are ``invalid_date`` too.
- **Date order** is checked only between dates that are both valid.
- **Format** is ``fkdm_csv`` or ``fkdm_xlsx`` (first sheet of the workbook).
- **Duplicates**: among the rows that pass every other rule, a repeated ``no_laporan``
  (compared after stripping spaces, case kept) keeps its last row (highest line).
- ``period`` (the arrival month) rejects nothing: the contract lists no rule for FKDM
  dates after the arrival month. Reports dated after its end are counted in a warning.
- ``pelapor_key`` is the pseudonym of ``pelapor_hp``, else of ``pelapor_nama``; no rule
  looks at these columns, so their raw values can never reach ``rejected``.
- ``no_laporan`` is stored as given: longer than ``limits.text_max_chars`` →
  ``invalid_value``.
"""

from __future__ import annotations

import re
import weakref
from pathlib import Path

import numpy as np
import pandas as pd

from harmoni_pipeline.ingest.common import ParsedFile, Rejections, UnreadableFile
from harmoni_pipeline.ingest.limits import DEFAULT_LIMITS, InputLimits
from harmoni_pipeline.ingest.readers import read_table
from harmoni_pipeline.ingest.schemas import FKDM_PARSED

REQUIRED = ("no_laporan", "tgl_lapor", "tgl_kejadian", "bidang", "jenis_athg", "kualifikasi", "status")
OPTIONAL_DATES = ("tgl_tindak_lanjut", "tgl_selesai")
DATE_COLUMNS = ("tgl_lapor", "tgl_kejadian", *OPTIONAL_DATES)
# every column a rule reads; the others (``ringkasan`` included) are ignored, never stored
READ_COLUMNS = (*REQUIRED, *OPTIONAL_DATES, "kode_desa", "kecamatan", "desa", "pelapor_nama", "pelapor_hp")

HEADER_ALIASES = {
    "nomor_laporan": "no_laporan",
    "no_lap": "no_laporan",
    "tanggal_lapor": "tgl_lapor",
    "tanggal_laporan": "tgl_lapor",
    "tgl_laporan": "tgl_lapor",
    "tanggal_kejadian": "tgl_kejadian",
    "tanggal_tindak_lanjut": "tgl_tindak_lanjut",
    "tanggal_selesai": "tgl_selesai",
    "desa_kelurahan": "desa",
    "kelurahan_desa": "desa",
    "kode_desa_kelurahan": "kode_desa",
    "athg": "jenis_athg",
    "nama_pelapor": "pelapor_nama",
    "hp_pelapor": "pelapor_hp",
    "no_hp_pelapor": "pelapor_hp",
    "nomor_hp_pelapor": "pelapor_hp",
}

BIDANG = (
    "ideologi",
    "politik",
    "ekonomi",
    "sosial-budaya",
    "pertahanan-keamanan",
    "sara",
    "lingkungan",
)
JENIS_ATHG = {
    "a": "A",
    "t": "T",
    "h": "H",
    "g": "G",
    "ancaman": "A",
    "tantangan": "T",
    "hambatan": "H",
    "gangguan": "G",
}
KUALIFIKASI = ("hijau", "kuning", "merah1", "merah2")
STATUS = ("baru", "terverifikasi", "ditangani", "selesai", "eskalasi", "ditolak")

MIN_YEAR, MAX_YEAR = 2000, 2099

_ISO_DATE = r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_DMY_DATE = r"^(\d{1,2})/(\d{1,2})/(\d{4})$"


def normalise_header(name: str) -> str:
    """``No. Laporan`` → ``no_laporan``; then the alias table."""
    key = re.sub(r"[^0-9a-z]+", "_", str(name).casefold()).strip("_")
    return HEADER_ALIASES.get(key, key)


def parse_dates(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a column of ``YYYY-MM-DD`` / ``DD/MM/YYYY`` strings, column-wise.

    Returns ``(dates, invalid)``: ``dates`` is ``datetime64[s]`` (NaT where missing or
    invalid), ``invalid`` is True where a value is present but not a valid date. Each
    distinct value is parsed once (a report's dates repeat: a month has ~30 days)."""
    codes, distinct = _distinct(raw.astype("string"))
    dates, invalid = _parse_distinct_dates(distinct)
    return _spread_to_rows(dates, codes, raw.index), _spread_flags(invalid, codes, raw.index)


def _parse_date_columns(col: dict[str, pd.Series], names) -> dict[str, tuple[pd.Series, pd.Series]]:
    """:func:`parse_dates` of several columns of one file at once: the columns share their
    values (one month's days), so their distinct values are parsed in one pass; the
    fixed cost of the pandas calls, not the rows, is most of a file's date parsing."""
    stacked = pd.concat([col[name].astype("string") for name in names], ignore_index=True)
    codes, distinct = _distinct(stacked)
    dates, invalid = _parse_distinct_dates(distinct)
    out = {}
    for i, name in enumerate(names):
        index = col[name].index
        part = codes[i * len(index) : (i + 1) * len(index)]
        out[name] = (_spread_to_rows(dates, part, index), _spread_flags(invalid, part, index))
    return out


def _parse_distinct_dates(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_dates` of a few (distinct) values, row by row of ``text``."""
    text = text.str.strip()
    dates = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[s]")
    iso = text.str.match(_ISO_DATE).to_numpy(dtype=bool, na_value=False)
    if iso.any():
        parsed = pd.to_datetime(text[iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        dates[iso] = parsed.to_numpy(dtype="datetime64[s]")
    dmy = ~iso & text.str.match(_DMY_DATE).to_numpy(dtype=bool, na_value=False)
    if dmy.any():  # the minority form: extracted only where it occurs
        parts = text[dmy].str.extract(_DMY_DATE)
        canonical = parts[2] + "-" + parts[1].str.zfill(2) + "-" + parts[0].str.zfill(2)
        dates[dmy] = pd.to_datetime(canonical, format="%Y-%m-%d", errors="coerce").to_numpy(dtype="datetime64[s]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970  # NaT: far below MIN_YEAR
    dates[(year < MIN_YEAR) | (year > MAX_YEAR)] = np.datetime64("NaT")
    invalid = text.notna().to_numpy(dtype=bool) & np.isnat(dates)
    return pd.Series(dates, index=text.index), pd.Series(invalid, index=text.index)


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``values`` as codes (``-1`` = NA) into its distinct values (a Series, same dtype,
    in order of first appearance): rules that look at one value at a time run on these
    and are spread back to the rows with :func:`_spread_to_rows`."""
    codes, uniques = pd.factorize(values.array, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), pd.Series(uniques, dtype=values.dtype)


def _spread_to_rows(per_distinct: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A value per distinct value → a value per row (NA/NaT where the row's value is NA)."""
    return pd.Series(per_distinct.array.take(codes, allow_fill=True), index=index, copy=False)


def _spread_flags(per_distinct: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A flag per distinct value → a ``bool`` flag per row (False where the row is NA)."""
    flags = np.append(per_distinct.to_numpy(dtype=bool), False)  # code -1 → the appended False
    return pd.Series(flags[codes], index=index, copy=False)


def _bidang(raw: pd.Series) -> pd.Series:
    key = raw.str.strip().str.casefold().str.replace(r"[\s_&/+]+|-+", "-", regex=True)
    key = key.str.replace(r"-+", "-", regex=True).str.strip("-")
    return key.where(key.isin(BIDANG))


def _jenis_athg(raw: pd.Series) -> pd.Series:
    return raw.str.strip().str.casefold().map(JENIS_ATHG).astype("string")


def _kualifikasi(raw: pd.Series) -> pd.Series:
    key = raw.str.strip().str.casefold().str.replace(r"[\s_\-]+", "", regex=True)
    return key.where(key.isin(KUALIFIKASI))


def _status(raw: pd.Series) -> pd.Series:
    key = raw.str.strip().str.casefold()
    return key.where(key.isin(STATUS))


# each coded field's canonical value of a raw value (NA when unknown)
_CODED_KEY = {"bidang": _bidang, "jenis_athg": _jenis_athg, "kualifikasi": _kualifikasi, "status": _status}


def _spread_coded(raw: pd.Series, canonical) -> pd.Series:
    """``canonical`` of each row's value, computed once per distinct value (a coded
    column has a handful)."""
    codes, distinct = _distinct(raw)
    return _spread_to_rows(canonical(distinct), codes, raw.index)


def _require_columns(columns: list[str], display_path: str) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if "kode_desa" not in columns and not {"kecamatan", "desa"} <= set(columns):
        missing.append("kode_desa (or kecamatan and desa)")
    if missing:
        raise UnreadableFile(
            display_path,
            "not an FKDM report table: missing column(s) " + ", ".join(missing)
            + f" (found: {', '.join(columns) or 'none'})",
        )


def _empty_string(n: int) -> pd.Series:
    return pd.Series(pd.NA, index=range(n), dtype="string")


def parse_fkdm_file(
    path: Path,
    *,
    display_path: str,
    regions,
    scope: str,
    period: str,
    pseudonymizer,
    limits: InputLimits = DEFAULT_LIMITS,
) -> ParsedFile:
    """Parse one FKDM landing file (CSV or XLSX, first sheet) into a :class:`ParsedFile`
    whose ``accepted`` has the ``FKDM_PARSED`` columns plus ``line``."""
    table = read_table(Path(path), display_path, limits=limits)
    fmt = "fkdm_xlsx" if table.kind == "xlsx" else "fkdm_csv"

    renamed = {c: normalise_header(c) for c in table.frame.columns}
    targets = list(renamed.values())
    clashes = sorted({t for t in targets if targets.count(t) > 1 and t in (*REQUIRED, *OPTIONAL_DATES,
                      "kode_desa", "kecamatan", "desa", "pelapor_nama", "pelapor_hp")})
    if clashes:
        raise UnreadableFile(display_path, "several columns mean the same field: " + ", ".join(clashes))
    frame = table.frame.rename(columns=renamed)
    _require_columns(list(frame.columns), display_path)

    n = len(frame)
    frame = frame.reset_index(drop=True)
    lines = pd.Series(table.lines, dtype="int64").reset_index(drop=True)
    col = {c: (frame[c].astype("string") if c in frame.columns else _empty_string(n)) for c in READ_COLUMNS}
    rej = Rejections(lines)

    # --- report number
    no_laporan = col["no_laporan"].str.strip()
    rej.add(no_laporan.isna(), "missing_field", "no_laporan", message="no_laporan is empty")
    rej.add((no_laporan.str.len() > limits.text_max_chars).fillna(False), "invalid_value", "no_laporan", no_laporan,
            message=f"no_laporan longer than {limits.text_max_chars:,} characters")

    # --- dates
    dates: dict[str, pd.Series] = {}
    for name, (parsed, invalid) in _parse_date_columns(col, DATE_COLUMNS).items():
        dates[name] = parsed
        if name in ("tgl_lapor", "tgl_kejadian"):
            rej.add(col[name].isna(), "missing_field", name, message=f"{name} is empty")
        rej.add(invalid, "invalid_date", name, col[name],
                message=f"{name} is not a valid date (YYYY-MM-DD or DD/MM/YYYY, years {MIN_YEAR}-{MAX_YEAR})")
    lapor = dates["tgl_lapor"]
    rej.add(dates["tgl_kejadian"] > lapor, "date_order", "tgl_kejadian", col["tgl_kejadian"],
            message="tgl_kejadian is later than tgl_lapor")
    for name in OPTIONAL_DATES:
        rej.add(dates[name] < lapor, "date_order", name, col[name], message=f"{name} is earlier than tgl_lapor")

    # --- coded fields: normalised and checked on each column's distinct values
    coded = {name: _spread_coded(col[name], _CODED_KEY[name]) for name in _CODED_KEY}
    allowed = {
        "bidang": " | ".join(BIDANG),
        "jenis_athg": "A | T | H | G or ancaman | tantangan | hambatan | gangguan",
        "kualifikasi": " | ".join(KUALIFIKASI),
        "status": " | ".join(STATUS),
    }
    for name, value in coded.items():
        raw = col[name]
        rej.add(raw.isna(), "missing_field", name, message=f"{name} is empty")
        rej.add(raw.notna() & value.isna(), "invalid_value", name, raw,
                message=f"unknown {name}; expected {allowed[name]}")

    # --- region
    kode_kecamatan, kode_desa = _resolve_region(col, regions, scope, rej, has_code="kode_desa" in frame.columns,
                                                has_names={"kecamatan", "desa"} <= set(frame.columns))

    # --- reporter pseudonym (phone, else name); raw values are dropped here
    pelapor_key = pseudonymizer.series(col["pelapor_hp"], "phone")
    by_name = pelapor_key.isna() & col["pelapor_nama"].notna()
    if by_name.any():  # names are pseudonymised only where no phone number is given
        pelapor_key = pelapor_key.mask(by_name, pseudonymizer.series(col["pelapor_nama"].where(by_name), "name"))
    pelapor_key = pelapor_key.astype("string")

    # --- duplicates among otherwise valid rows: the last row of a no_laporan wins
    valid = ~rej.bad
    candidate = no_laporan.where(valid)
    repeated = candidate.notna() & candidate.duplicated(keep="last")
    if repeated.any():
        # the highest line of each no_laporan among the valid rows (candidate is NA elsewhere)
        group, _ = pd.factorize(candidate.array, use_na_sentinel=True)
        counted = group >= 0
        highest = np.zeros(int(group.max()) + 1, dtype=np.int64)
        np.maximum.at(highest, group[counted], lines.to_numpy(dtype=np.int64)[counted])
        kept = pd.Series(highest[group], index=lines.index).astype("string")  # read only where repeated
        message = "no_laporan repeated in the file; the last row (line " + kept + ") is kept"
        rej.add(repeated, "duplicate_in_file", "no_laporan", no_laporan, message=message)

    # --- warnings
    warnings: list[str] = []
    period_end = pd.Period(period, freq="M").end_time.normalize() if period else None
    if period_end is not None:
        late = int(((lapor > period_end) & ~rej.bad).sum())
        if late:
            warnings.append(f"{late} accepted report(s) have tgl_lapor after the end of the arrival month {period}")

    keep = ~rej.bad
    accepted = pd.DataFrame(
        {
            "no_laporan": no_laporan,
            "tgl_lapor": dates["tgl_lapor"],
            "tgl_kejadian": dates["tgl_kejadian"],
            "kode_kecamatan": kode_kecamatan,
            "kode_desa": kode_desa,
            "bidang": coded["bidang"],
            "jenis_athg": coded["jenis_athg"],
            "kualifikasi": coded["kualifikasi"],
            "status": coded["status"],
            "tgl_tindak_lanjut": dates["tgl_tindak_lanjut"],
            "tgl_selesai": dates["tgl_selesai"],
            "pelapor_key": pelapor_key,
            "line": lines.astype("Int64"),
        }
    )[keep.to_numpy()].reset_index(drop=True)
    accepted = accepted[[name for name, _ in FKDM_PARSED] + ["line"]]
    return ParsedFile(format=fmt, rows_read=n, accepted=accepted, rejected=rej.frame(), warnings=warnings,
                      ignored_columns=[c for c, name in renamed.items() if name not in READ_COLUMNS])


def _resolve_region(col, regions, scope, rej: Rejections, *, has_code: bool, has_names: bool):
    """Kecamatan and desa codes per row, recording the region rules in ``rej``."""
    n = len(col["no_laporan"])
    kode_kecamatan = _empty_string(n)
    kode_desa = _empty_string(n)

    index = col["kode_desa"].index
    # the code rules look at one value at a time: they run on the distinct codes
    codes, distinct = _distinct(col["kode_desa"])
    distinct_code = distinct.str.strip()
    raw_code = _spread_to_rows(distinct_code, codes, index)
    by_code = raw_code.notna() if has_code else pd.Series(False, index=index)
    if has_code and not has_names:
        rej.add(raw_code.isna(), "missing_field", "kode_desa", message="kode_desa is empty")
    if by_code.any():
        distinct_like = distinct_code.str.fullmatch(r"[\d._]+").fillna(False).astype(bool)
        code_like = _spread_flags(distinct_like, codes, index)
        rej.add(by_code & ~code_like, "invalid_value", "kode_desa", raw_code,
                message="kode_desa is not a Kemendagri desa code (PP.KK.CC.DDDD)")
        distinct_ask = (distinct_code.notna() & distinct_like).to_numpy(dtype=bool)
        text = distinct_code.to_numpy(dtype=object, na_value=None)
        # a canonical code of a desa in scope resolves to itself, without a rule: only the
        # other codes go to the resolver
        known = distinct_ask & (_desa_codes_in_scope(regions, scope).get_indexer(text) >= 0)
        slow = distinct_ask & ~known
        kode = np.where(known, text, None)
        rule = np.full(len(text), None, dtype=object)
        message = np.full(len(text), None, dtype=object)
        if slow.any():
            asked = distinct_code[slow].reset_index(drop=True)
            res = regions.resolve_desa(asked, pd.Series(pd.NA, index=asked.index, dtype="string"), scope,
                                       required=True)
            kode[slow], rule[slow], message[slow] = (
                res[name].to_numpy(dtype=object, na_value=None) for name in ("kode", "rule", "message")
            )
        ok = distinct_ask & pd.isna(rule) & pd.notna(kode)
        per_row = {
            name: _spread_to_rows(pd.Series(values, dtype="string"), codes, index)
            for name, values in (("kode", np.where(ok, kode, None)), ("rule", rule), ("message", message))
        }
        _add_resolver_rules(rej, per_row["rule"], per_row["message"], "kode_desa", raw_code)
        kode_desa = per_row["kode"]
        kode_kecamatan = kode_desa.str.slice(0, 8)

    if has_names:
        by_name = ~by_code
        kec_raw = col["kecamatan"].str.strip()
        desa_raw = col["desa"].str.strip()
        rej.add(by_name & kec_raw.isna(), "missing_field", "kecamatan", message="kecamatan is empty (and no kode_desa)")
        rej.add(by_name & desa_raw.isna(), "missing_field", "desa", message="desa is empty (and no kode_desa)")
        ask_kec = by_name & kec_raw.notna()
        if ask_kec.any():
            idx = ask_kec[ask_kec].index
            res = regions.resolve_kecamatan(kec_raw[idx].reset_index(drop=True), scope)
            kec_code, kec_rule, kec_msg = _spread(res, idx, kec_raw.index)
            _add_resolver_rules(rej, kec_rule, kec_msg, "kecamatan", kec_raw)
            kec_ok = ask_kec & kec_rule.isna() & kec_code.notna()
            ask_desa = kec_ok & desa_raw.notna()
            if ask_desa.any():
                idx = ask_desa[ask_desa].index
                res = regions.resolve_desa(
                    desa_raw[idx].reset_index(drop=True), kec_code[idx].reset_index(drop=True), scope
                )
                desa_code, desa_rule, desa_msg = _spread(res, idx, desa_raw.index)
                _add_resolver_rules(rej, desa_rule, desa_msg, "desa", desa_raw)
                desa_ok = ask_desa & desa_rule.isna() & desa_code.notna()
                kode_desa = kode_desa.mask(desa_ok, desa_code)
                kode_kecamatan = kode_kecamatan.mask(desa_ok, kec_code)
    return kode_kecamatan, kode_desa


_DESA_CODES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Regions → {scope: Index}


def _desa_codes_in_scope(regions, scope: str) -> pd.Index:
    """The Kemendagri desa codes of ``regions`` inside ``scope``, as an Index (its hash
    table is built on the first look-up), kept per ``Regions`` object and scope."""
    by_scope = _DESA_CODES.setdefault(regions, {})
    if scope not in by_scope:
        codes = regions.desa["kode"]
        by_scope[scope] = pd.Index(codes[regions.in_scope(codes, scope).to_numpy()].to_numpy(dtype=object))
    return by_scope[scope]


def _spread(res: pd.DataFrame, idx: pd.Index, index: pd.Index) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A resolver's ``kode``/``rule``/``message`` for the rows ``idx``, as Series over the
    whole file's ``index`` (NA elsewhere)."""
    out = []
    for name in ("kode", "rule", "message"):
        full = pd.Series(pd.NA, index=index, dtype="string")
        full[idx] = res[name].astype("string").to_numpy()
        out.append(full)
    return out[0], out[1], out[2]


def _add_resolver_rules(rej: Rejections, rule: pd.Series, message: pd.Series, column: str, raw: pd.Series) -> None:
    """Record the rules a ``Regions.resolve_*`` call returned (one ``add`` per rule)."""
    for name in rule.dropna().unique():
        mask = (rule == name).fillna(False).astype(bool)
        rej.add(mask, str(name), column, raw, message=message.fillna(f"{column}: {name}"))
