"""Statistics tables (long CSV, BPS WebAPI JSON, BPS "Dalam Angka" XLSX) → canonical
indicator rows plus their audit.

Room: the three statistics layouts of data-contracts §3.3 and the statistics rules of
§3.4. Each layout has an *extractor* that turns the file into **entries** (one value
each, tied to the input row it came from); one shared finishing step applies the rules,
maps age groups to the staging bands, handles totals and builds the staged rows. Which
indicator a BPS table carries is data: ``config/stats_sources.yaml``. Which arrival of a
value wins across files and years is decided downstream, not here.

Formats are detected from the content: a body starting with ``{`` is a WebAPI JSON, a
zip archive (``PK``) a Dalam Angka workbook, anything else a CSV that must carry the long
columns. Everything is column-wise pandas; the only Python loops run over sheets, over
the five age bands and over the distinct rule names.

Row accounting. ``rows_read`` counts what the contract calls a row: a CSV line, a
``datacontent`` entry, a kecamatan row of a Dalam Angka sheet. An input row is either
accepted or rejected as a whole (a Dalam Angka row with one bad cell is rejected with
all its cells). One accepted row may give several staged values (a Dalam Angka row with
three year columns), one share of a band (five-year age groups are summed into bands) or
none (a ``…`` cell). So the staged row count is not the accepted row count:
:class:`StatsParsedFile` carries ``rows_accepted`` (input rows) and the identity is
``rows_read == rows_accepted + rows_rejected``; a population total is an accepted row
like any other, staged whether or not the file also gives its parts.

Choices where the contract is open:
- **Values**: not a number, or a negative number → ``invalid_value``; for a percentage
  indicator (``scale: percent`` in the YAML: ``pct_*`` and ``tpt``) any number outside
  0–100, negative ones included, → ``out_of_scale``. A missing value (empty CSV cell,
  JSON ``null``/``""``) is ``missing_field``; in a Dalam Angka sheet an empty cell is
  "not available" like ``…`` (the publication leaves no other meaning to it). Long CSV
  numbers are plain (``1234.5``); Dalam Angka text is Indonesian (``1.234,5``, ``-`` =
  0) and numeric cells are taken as they are.
- **tahun**: an integer 1900–2099; empty → ``missing_field``, anything else →
  ``invalid_value``.
- **Regions**: long CSV ``kode_wilayah`` through ``Regions.resolve_wilayah_code`` (a
  kecamatan or a kabupaten code); JSON vervar through the BPS→Kemendagri bridge (a code
  absent from the 2020 bridge is ``unknown_region``), then the scope; Dalam Angka names
  through ``Regions.resolve_kecamatan`` within the kabupaten named in the sheet title
  (a sheet about another kabupaten: every row ``out_of_scope``).
- **Duplicates**: the same (kode_wilayah, tahun, indikator, jenis_kelamin,
  kelompok_umur as written) twice in one file: the last row is kept, the others are
  ``duplicate_in_file`` (as for FKDM reports: the later row is the correction).
- **Age groups** (``jumlah_penduduk`` only): any ``a-b`` or ``a+`` group is spread
  evenly over the staging bands of the YAML (15-19 → 2/5 to ``0-16``, 3/5 to
  ``17-24``) and the shares are summed per band; an open group must start in the last
  band. A staged band row keeps the first line that contributed to it. When the groups
  of a (wilayah, tahun, jenis_kelamin) do not tile 0…∞ exactly (gap, overlap, a
  rejected group) a warning says so. Other indicators accept only the band labels.
- **Totals** (``additive`` indicators, i.e. ``jumlah_penduduk``): a value whose
  ``jenis_kelamin`` and/or ``kelompok_umur`` is NULL is a total (NULL = all) and is
  staged as the file states it — also when the file gives parts, complete or not: a
  stated total whose parts are incomplete (adult cells only, sex totals only) is the
  only total there is, and with a complete breakdown the stated total is what scoring
  prefers in the same year (methodology §1.5 as refined 2026-12), so one file or two
  give the same population. Where the file gives the parts *completely* (both sexes ×
  every band, both sexes, or every band) the total is compared with their sum (warning
  above 0.5 %); an incomplete breakdown is not compared. Nothing here sums parts into a
  total; which rows give the margins and the total population is decided by
  :mod:`harmoni_pipeline.scoring.population`.
- **JSON**: keys are matched against every vervar·var·turvar·th·turth combination of
  the body (so variable-length parts are no problem); a key matching none, or several,
  is ``invalid_value``. ``tahun`` = ``th + 1900``. A turvar is mapped by its label
  (YAML ``turvar``; without a table only val 0 "Tidak ada" is a plain value). The annual
  turtahun (val 0, "Tahun"/"Tahunan") is used; otherwise the YAML ``turtahun`` label, or
  the only turtahun of the body; entries of another sub-annual period are
  ``invalid_value`` (stated in the message). An unmapped variable id rejects every
  entry as ``invalid_value``. ``line`` is NULL and the rejected ``column`` is the key.
- **Dalam Angka**: sheets whose title matches no YAML table are skipped with a warning;
  a workbook where no sheet matches is unreadable. The Jumlah/Total row is checked as
  the YAML says (sum for counts, within the kecamatan range for percentages, where it
  is the kabupaten's own rate). The rejected ``column`` is the cell, ``<sheet>!C12``, so
  several sheets of one workbook stay distinguishable; merged header cells are read
  with their merge ranges.
- **Free text** (``satuan``, ``sumber``, whichever format they come from) longer than
  ``limits.text_max_chars`` → ``invalid_value`` naming the column; personal-looking
  text in them is masked by ingestion (:mod:`~harmoni_pipeline.ingest.masking`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from harmoni_pipeline.ingest.common import ParsedFile, Rejections, UnreadableFile, input_row_keys
from harmoni_pipeline.ingest.limits import DEFAULT_LIMITS, InputLimits
from harmoni_pipeline.ingest.readers import read_csv_table, read_xlsx_cells, xlsx_merged_ranges, xlsx_sheet_names
from harmoni_pipeline.ingest.schemas import STATS_PARSED

CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "stats_sources.yaml"

LONG_REQUIRED = ("kode_wilayah", "tahun", "indikator", "nilai")
LONG_OPTIONAL = ("jenis_kelamin", "kelompok_umur", "satuan", "sumber")
MIN_YEAR, MAX_YEAR = 1900, 2099

_JK = {
    "l": "L", "lk": "L", "laki-laki": "L", "laki laki": "L", "lakilaki": "L", "male": "L", "m": "L",
    "p": "P", "pr": "P", "perempuan": "P", "wanita": "P", "female": "P", "f": "P",
}
_JK_TOTAL = {"jumlah", "total", "l+p", "semua", "all"}
_KU_TOTAL = {"jumlah", "total", "semua", "semuaumur", "all"}
_PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_ID_NUMBER = r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"
_NOT_AVAILABLE = {"…", "...", "..", ". . .", "….", "na", "n/a"}
_DASHES = {"-", "–", "—", "- ", "−"}
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


# ----------------------------------------------------------------------------- config


@lru_cache(maxsize=None)
def load_sources(path: str = str(CONFIG_PATH)) -> dict:
    """The statistics source mapping (see ``config/stats_sources.yaml``)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    bands = [(str(label), int(lo), None if hi is None else int(hi)) for label, lo, hi in data["population_bands"]]
    data["_bands"] = bands
    for entry in data.get("dalam_angka", []):
        entry["_regex"] = re.compile(entry["title"], re.IGNORECASE)
    return data


def _flag(mask) -> pd.Series:
    """A nullable boolean mask as plain bool (NA → False)."""
    return pd.Series(mask).astype("boolean").fillna(False).astype(bool)


def _norm_label(text) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


# ----------------------------------------------------------------------------- result


@dataclass
class StatsParsedFile(ParsedFile):
    """A :class:`ParsedFile` whose accepted *input rows* are counted separately from the
    staged rows (see the module docstring): ``rows_read == rows_accepted +
    rows_rejected``."""

    rows_accepted: int = 0

    @property
    def rows_rejected(self) -> int:
        rej = self.rejected
        return 0 if rej.empty else int(input_row_keys(rej).nunique())


# ----------------------------------------------------------------------------- entry point


def parse_stats_file(
    path: Path, *, display_path: str, regions, scope: str, limits: InputLimits = DEFAULT_LIMITS
) -> StatsParsedFile:
    """Parse one statistics landing file; the layout is detected from its content."""
    path = Path(path)
    config = load_sources()
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise UnreadableFile(display_path, f"cannot open: {exc.strerror or exc}") from None
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    ignored: list[str] = []  # columns of a long CSV that are not read (JSON, Dalam Angka: none)
    if stripped.startswith(b"{"):
        fmt = "bps_json"
        entries, rows_read, warnings = _extract_bps_json(path, display_path, regions, scope, config)
    elif head.startswith(b"PK\x03\x04"):
        fmt = "dalam_angka"
        entries, rows_read, warnings = _extract_dalam_angka(path, display_path, regions, scope, config, limits)
    else:
        fmt = "long_csv"
        entries, rows_read, warnings = _extract_long_csv(path, display_path, regions, scope, config, ignored)
    parsed = _finish(entries, fmt, rows_read, warnings, config, limits)
    parsed.ignored_columns = ignored
    return parsed


# ----------------------------------------------------------------------------- entries

ENTRY_COLUMNS = {
    "row": "int64",  # input row id, 0 … rows_read-1
    "line": "Int64",
    "kode_wilayah": "string",
    "region_rule": "string",
    "region_message": "string",
    "region_value": "string",
    "tahun_raw": "string",
    "indikator": "string",
    "jk_raw": "string",
    "ku_raw": "string",
    "nilai": "float64",
    "nilai_state": "string",  # ok | na | missing | invalid
    "nilai_raw": "string",
    "satuan": "string",
    "sumber": "string",
    "pre_rule": "string",  # a rule the extractor already decided (JSON key problems)
    "pre_message": "string",
    "ref_kode": "string",
    "ref_tahun": "string",
    "ref_indikator": "string",
    "ref_jk": "string",
    "ref_ku": "string",
    "ref_nilai": "string",
}


def _entries(n: int, **columns) -> pd.DataFrame:
    """An entry frame of ``n`` rows; missing columns are NA; scalars are broadcast."""
    data = {}
    for name, dtype in ENTRY_COLUMNS.items():
        value = columns.get(name, pd.NA)
        if isinstance(value, (pd.Series, np.ndarray, list)):
            series = pd.Series(value).reset_index(drop=True)
        else:
            series = pd.Series([value] * n)
        if dtype == "float64":
            series = pd.to_numeric(series, errors="coerce").astype("float64")
        else:
            series = series.astype(dtype)
        data[name] = series
    return pd.DataFrame(data, index=range(n))


def _parse_plain_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Plain numbers (``1234.5``): (value, state ok|missing|invalid)."""
    text = raw.astype("string").str.strip()
    plain = text.str.match(_PLAIN_NUMBER).fillna(False).astype(bool)
    value = pd.to_numeric(text.where(plain), errors="coerce").astype("float64")
    state = pd.Series("invalid", index=raw.index, dtype="string")
    state = state.mask(text.isna(), "missing").mask(plain & np.isfinite(value), "ok")
    return value, state


def _parse_indonesian_numbers(raw: pd.Series, is_number: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dalam Angka cells: numeric cells as they are, text ``1.234,5``; ``-`` = 0;
    ``…``/``...``/empty = not available. Returns (value, state ok|na|invalid)."""
    numeric = pd.to_numeric(raw.where(is_number), errors="coerce").astype("float64")
    text = raw.where(~is_number).astype("string").str.strip().str.rstrip("*").str.strip()
    dash = text.isin(_DASHES).fillna(False).astype(bool)
    na = (text.isna() & ~is_number) | text.str.casefold().isin(_NOT_AVAILABLE).fillna(False).astype(bool)
    shaped = text.str.match(_ID_NUMBER).fillna(False).astype(bool)
    converted = text.where(shaped).str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    value = numeric.fillna(pd.to_numeric(converted, errors="coerce").astype("float64"))
    value = value.mask(dash, 0.0)
    state = pd.Series("invalid", index=raw.index, dtype="string")
    ok = (is_number & numeric.notna() & np.isfinite(numeric)) | shaped | dash
    state = state.mask(na, "na").mask(ok, "ok")
    return value, state


# ----------------------------------------------------------------------------- long CSV


def _normalise_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).casefold()).strip("_")


def _extract_long_csv(path, display_path, regions, scope, config, ignored: list[str] | None = None):
    """``ignored``, when given, receives the headers that are not long-CSV columns."""
    table = read_csv_table(path, display_path)
    if ignored is not None:
        ignored.extend(c for c in table.frame.columns if _normalise_header(c) not in (*LONG_REQUIRED, *LONG_OPTIONAL))
    frame = table.frame.rename(columns={c: _normalise_header(c) for c in table.frame.columns})
    if frame.columns.duplicated().any():
        raise UnreadableFile(display_path, "several columns mean the same field: "
                             + ", ".join(sorted(set(frame.columns[frame.columns.duplicated()]))))
    missing = [c for c in LONG_REQUIRED if c not in frame.columns]
    if missing:
        raise UnreadableFile(
            display_path,
            "not a statistics table (long CSV, BPS WebAPI JSON or Dalam Angka XLSX): missing column(s) "
            + ", ".join(missing) + f" (found: {', '.join(frame.columns)})",
        )
    n = len(frame)
    frame = frame.reset_index(drop=True)
    col = {c: (frame[c].astype("string") if c in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string"))
           for c in (*LONG_REQUIRED, *LONG_OPTIONAL)}

    kode_raw = col["kode_wilayah"].str.strip()
    region = _resolve_codes(regions, kode_raw, scope)
    nilai, state = _parse_plain_numbers(col["nilai"])
    indikator = col["indikator"].str.strip().str.casefold()
    entries = _entries(
        n,
        row=np.arange(n),
        line=pd.Series(table.lines).astype("Int64"),
        kode_wilayah=region["kode"],
        region_rule=region["rule"],
        region_message=region["message"],
        region_value=kode_raw,
        tahun_raw=col["tahun"],
        indikator=indikator,
        jk_raw=col["jenis_kelamin"],
        ku_raw=col["kelompok_umur"],
        nilai=nilai,
        nilai_state=state,
        nilai_raw=col["nilai"],
        satuan=col["satuan"].str.strip(),
        sumber=col["sumber"].str.strip(),
        ref_kode="kode_wilayah",
        ref_tahun="tahun",
        ref_indikator="indikator",
        ref_jk="jenis_kelamin",
        ref_ku="kelompok_umur",
        ref_nilai="nilai",
    )
    return entries, n, []


def _resolve_codes(regions, codes: pd.Series, scope: str) -> pd.DataFrame:
    """``resolve_wilayah_code`` on the non-empty codes; empty codes → missing_field."""
    out = pd.DataFrame(
        {
            "kode": pd.Series(pd.NA, index=codes.index, dtype="string"),
            "rule": pd.Series(pd.NA, index=codes.index, dtype="string"),
            "message": pd.Series(pd.NA, index=codes.index, dtype="string"),
        }
    )
    present = codes.notna()
    out.loc[~present, "rule"] = "missing_field"
    out.loc[~present, "message"] = "kode_wilayah is empty"
    if present.any():
        idx = present[present].index
        res = regions.resolve_wilayah_code(codes[idx].reset_index(drop=True), scope)
        for name in ("kode", "rule", "message"):
            out.loc[idx, name] = res[name].astype("string").to_numpy()
    return out


# ----------------------------------------------------------------------------- BPS JSON


def _as_list(body: dict, key: str, display_path: str, required: bool = True) -> list[dict]:
    value = body.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) and "val" in v for v in value):
        raise UnreadableFile(
            display_path, f"not a BPS WebAPI list/model/data body: '{key}' is not a list of {{val, label}}"
        )
    return value


def _object_text(values: pd.Series) -> pd.Series:
    """JSON values as text (``None`` → NA; numbers as Python writes them)."""
    return values.map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v)).astype("string")


def _extract_bps_json(path, display_path, regions, scope, config):
    try:
        body = json.loads(Path(path).read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, or an integer of > 4,300 digits
        raise UnreadableFile(display_path, f"invalid JSON: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise UnreadableFile(display_path, "invalid JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise UnreadableFile(display_path, "not a BPS WebAPI body: the JSON is not an object")
    status = str(body.get("status", "")).upper()
    if status and status != "OK":
        raise UnreadableFile(display_path, f"BPS WebAPI error body: status {body.get('status')!r}")
    availability = str(body.get("data-availability", "available"))
    if availability != "available" and not body.get("datacontent"):
        return _entries(0), 0, [f"BPS WebAPI body without data (data-availability: {availability})"]
    if "datacontent" not in body or not isinstance(body["datacontent"], dict):
        raise UnreadableFile(display_path, "not a BPS WebAPI list/model/data body: no 'datacontent' object")
    variables = _as_list(body, "var", display_path)
    vervar = _as_list(body, "vervar", display_path)
    tahun = _as_list(body, "tahun", display_path)
    turvar = _as_list(body, "turvar", display_path, required=False) or [{"val": 0, "label": "Tidak ada"}]
    turtahun = _as_list(body, "turtahun", display_path, required=False) or [{"val": 0, "label": "Tahun"}]
    if not variables:
        raise UnreadableFile(display_path, "not a BPS WebAPI list/model/data body: 'var' is empty")

    content = body["datacontent"]
    keys = pd.Series(list(content.keys()), dtype="string")
    values = pd.Series(list(content.values()), dtype=object)
    n = len(keys)

    # every combination of the body's dimensions and the key it would have
    def frame_of(items, prefix):
        return pd.DataFrame(
            {
                f"{prefix}_val": [str(i["val"]) for i in items],
                f"{prefix}_label": [str(i.get("label", "")) for i in items],
                **({f"{prefix}_unit": [str(i.get("unit") or "") for i in items]} if prefix == "var" else {}),
            }
        )

    combos = frame_of(vervar, "vervar")
    for items, prefix in ((variables, "var"), (turvar, "turvar"), (tahun, "tahun"), (turtahun, "turtahun")):
        combos = combos.merge(frame_of(items, prefix), how="cross")
    combos["key"] = (
        combos["vervar_val"] + combos["var_val"] + combos["turvar_val"] + combos["tahun_val"] + combos["turtahun_val"]
    )
    ambiguous_keys = set(combos.loc[combos["key"].duplicated(keep=False), "key"])
    combos = combos.drop_duplicates("key", keep="first")
    matched = pd.DataFrame({"key": keys}).merge(combos, on="key", how="left")
    found = matched["vervar_val"].notna()

    pre_rule = pd.Series(pd.NA, index=range(n), dtype="string")
    pre_message = pd.Series(pd.NA, index=range(n), dtype="string")
    unmatched = ~found
    pre_rule[unmatched] = "invalid_value"
    pre_message[unmatched] = "datacontent key matches no vervar·var·turvar·tahun·turtahun combination of the body"
    amb = keys.isin(ambiguous_keys).fillna(False).astype(bool)
    pre_rule[amb] = "invalid_value"
    pre_message[amb] = "datacontent key matches several vervar·var·turvar·tahun·turtahun combinations"

    # the variable → indicator
    vervar_codes = matched["vervar_val"].astype("string")
    domains = {str(v["val"])[:4] for v in vervar if len(str(v["val"])) == 7}
    domain = domains.pop() if len(domains) == 1 else None
    var_entries = {}
    for entry in config.get("bps_webapi", []):
        if entry.get("domain") not in (None, domain):
            continue
        var_entries.setdefault(str(entry["var"]), entry)
    var_ids = matched["var_val"].astype("string")
    mapped_var = var_ids.isin(list(var_entries)).fillna(False).astype(bool)
    unmapped = found & ~mapped_var & pre_rule.isna()
    pre_rule[unmapped] = "invalid_value"
    where = f"domain {domain}" if domain else "vervar codes of several BPS domains"
    pre_message[unmapped] = (
        "BPS variable " + var_ids[unmapped].fillna("") + f" ({where}) is not mapped to an indicator "
        "in stats_sources.yaml"
    )
    indikator = var_ids.map({k: e["indikator"] for k, e in var_entries.items()}).astype("string")
    satuan = var_ids.map({k: e.get("satuan") for k, e in var_entries.items()}).astype("string")
    default_unit = {k: v.get("satuan") for k, v in config["indicators"].items()}
    satuan = satuan.fillna(indikator.map(default_unit).astype("string"))

    # turvar → dimensions
    jk = pd.Series(pd.NA, index=range(n), dtype="string")
    ku = pd.Series(pd.NA, index=range(n), dtype="string")
    turvar_label = matched["turvar_label"].map(_norm_label, na_action="ignore").astype("string")
    turvar_ok = pd.Series(False, index=range(n))
    for var_id, entry in var_entries.items():
        rows = (var_ids == var_id).fillna(False).astype(bool)
        table = entry.get("turvar")
        if not table:
            turvar_ok |= rows & _flag((matched["turvar_val"] == "0") | (turvar_label == "tidak ada"))
            continue
        table = {_norm_label(k): v for k, v in table.items()}
        for label, dims in table.items():
            hit = rows & (turvar_label == label).fillna(False).astype(bool)
            turvar_ok |= hit
            if isinstance(dims, dict):
                jk[hit] = dims.get("jenis_kelamin", pd.NA)
                ku[hit] = dims.get("kelompok_umur", pd.NA)
    bad_turvar = found & mapped_var & ~turvar_ok & pre_rule.isna()
    pre_rule[bad_turvar] = "invalid_value"
    pre_message[bad_turvar] = (
        "turvar '" + matched["turvar_label"].astype("string").fillna("")[bad_turvar]
        + "' of this variable is not mapped in stats_sources.yaml"
    )

    # turtahun: the annual value, else the configured sub-annual period, else the only one
    tt_label = matched["turtahun_label"].map(_norm_label, na_action="ignore").astype("string")
    annual = ((matched["turtahun_val"] == "0") | tt_label.isin(["tahun", "tahunan"])).fillna(False).astype(bool)
    chosen = annual.copy()
    for var_id, entry in var_entries.items():
        wanted = {_norm_label(t) for t in entry.get("turtahun", []) or []}
        if wanted:
            chosen |= ((var_ids == var_id) & tt_label.isin(wanted)).fillna(False).astype(bool)
    if len(turtahun) == 1:
        chosen |= found
    bad_tt = found & ~chosen & pre_rule.isna()
    pre_rule[bad_tt] = "invalid_value"
    pre_message[bad_tt] = (
        "turtahun '" + matched["turtahun_label"].astype("string").fillna("")[bad_tt]
        + "' is not the period used for this variable (the annual one, else the `turtahun` "
        "named in stats_sources.yaml)"
    )

    # region: BPS 7-digit kecamatan code → Kemendagri (2020 bridge), then the scope
    kode = pd.Series(pd.NA, index=range(n), dtype="string")
    region_rule = pd.Series(pd.NA, index=range(n), dtype="string")
    region_message = pd.Series(pd.NA, index=range(n), dtype="string")
    seven = vervar_codes.str.fullmatch(r"\d{7}").fillna(False).astype(bool)
    region_rule[found & ~seven] = "unknown_region"
    region_message[found & ~seven] = (
        "vervar " + vervar_codes[found & ~seven].fillna("") + " is not a 7-digit BPS kecamatan code"
    )
    if seven.any():
        idx = seven[seven].index
        res = regions.resolve_wilayah_code(vervar_codes[idx].reset_index(drop=True), scope)
        kode[idx] = res["kode"].astype("string").to_numpy()
        region_rule[idx] = res["rule"].astype("string").to_numpy()
        region_message[idx] = res["message"].astype("string").to_numpy()

    # values (numbers, or numbers as strings)
    is_number = values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
    as_text = _object_text(values.where(~is_number, None)).str.strip()
    nilai = pd.to_numeric(values.where(is_number), errors="coerce").astype("float64")
    text_value, text_state = _parse_plain_numbers(as_text)
    nilai = nilai.fillna(text_value)
    state = text_state.mask(is_number & np.isfinite(nilai), "ok")
    state = state.mask(as_text.str.casefold().isin(_NOT_AVAILABLE).fillna(False).astype(bool), "na")
    state = state.mask((values.isna() | (as_text == "")).fillna(False).astype(bool) & ~is_number, "missing")
    nilai_raw = _object_text(values)

    th = pd.to_numeric(matched["tahun_val"], errors="coerce")
    tahun_raw = (th + 1900).astype("Int64").astype("string")
    label_year = pd.to_numeric(matched["tahun_label"].str.extract(r"^\s*(\d{4})\s*$", expand=False), errors="coerce")
    warnings = []
    disagree = (label_year.notna() & th.notna() & (label_year != th + 1900)).fillna(False).astype(bool)
    if disagree.any():
        warnings.append(f"{int(disagree.sum())} entries: the tahun label differs from th + 1900; th + 1900 is used")
    var_label = matched["var_label"].astype("string").fillna("")
    sumber = "BPS WebAPI var " + var_ids.fillna("?") + (" (" + var_label + ")").where(var_label != "", "")

    entries = _entries(
        n,
        row=np.arange(n),
        line=pd.NA,
        kode_wilayah=kode,
        region_rule=region_rule,
        region_message=region_message,
        region_value=vervar_codes,
        tahun_raw=tahun_raw,
        indikator=indikator,
        jk_raw=jk,
        ku_raw=ku,
        nilai=nilai,
        nilai_state=state,
        nilai_raw=nilai_raw,
        satuan=satuan,
        sumber=sumber,
        pre_rule=pre_rule,
        pre_message=pre_message,
        **{f"ref_{f}": keys for f in ("kode", "tahun", "indikator", "jk", "ku", "nilai")},
    )
    return entries, n, warnings


# ----------------------------------------------------------------------------- Dalam Angka


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell_text(grid: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(text, is_number) of every cell: strings stripped with inner whitespace collapsed,
    integral numbers without ``.0``, dates ISO; empty → NA."""
    text = {}
    numeric = {}
    for j in grid.columns:  # a sheet has a handful of columns
        col = grid[j]
        is_num = col.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).astype(bool)
        nums = pd.to_numeric(col.where(is_num), errors="coerce")
        integral = is_num & (nums == np.round(nums))
        rendered = col.map(
            lambda v: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else (None if v is None else str(v))
        ).astype("string")
        rendered = rendered.mask(integral, nums.where(integral).astype("Int64").astype("string"))
        rendered = rendered.str.replace(r"\s+", " ", regex=True).str.strip()
        text[j] = rendered.mask(rendered == "")
        numeric[j] = is_num
    return pd.DataFrame(text), pd.DataFrame(numeric)


_HEADER_NAME = re.compile(r"^(kecamatan|subdistrict|sub-district|district)\b", re.IGNORECASE)
_COLUMN_NUMBER = re.compile(r"^\(\d+\)$")
_FOOTNOTE = re.compile(r"^(sumber|source|catatan|note|notes|keterangan)\b", re.IGNORECASE)
_TOTAL = re.compile(r"^(jumlah|total|kabupaten|kab\.)(?=\W|$)", re.IGNORECASE)
_KABUPATEN_IN_TITLE = re.compile(
    r"\bdi\s+((?:kabupaten|kab\.?|kota)\s+[^,()\d]+?)\s*(?:[,(]|\b(?:19|20)\d{2}\b|$)", re.IGNORECASE
)


def _extract_dalam_angka(path, display_path, regions, scope, config, limits):
    sheets = xlsx_sheet_names(path, display_path, limits=limits)
    parts: list[pd.DataFrame] = []
    warnings: list[str] = []
    rows_read = 0
    matched_any = False
    for sheet in sheets:  # a workbook has a few sheets
        cells = read_xlsx_cells(path, display_path, sheet, limits=limits)
        if not cells or not any(any(v is not None for v in row) for row in cells):
            continue
        width = max(len(r) for r in cells)
        grid = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in cells], dtype=object)
        result = _read_sheet(path, display_path, sheet, grid, regions, scope, config, row_offset=rows_read,
                             limits=limits)
        if result is None:
            continue
        entries, n_rows, sheet_warnings, matched = result
        warnings.extend(sheet_warnings)
        matched_any |= matched
        if entries is not None:
            parts.append(entries)
            rows_read += n_rows
    if not matched_any:
        raise UnreadableFile(
            display_path,
            "no sheet of this workbook is a Dalam Angka table listed in stats_sources.yaml "
            f"(sheets: {', '.join(sheets)})",
        )
    entries = pd.concat(parts, ignore_index=True) if parts else _entries(0)
    return entries, rows_read, warnings


def _read_sheet(path, display_path, sheet, grid, regions, scope, config, row_offset, limits):
    text, is_num = _cell_text(grid)
    n_rows, n_cols = text.shape
    lines = np.arange(1, n_rows + 1)

    # the header: the first cell that says "Kecamatan"
    header_hits = text.apply(lambda c: c.str.match(_HEADER_NAME).fillna(False).astype(bool))
    hit_rows = np.flatnonzero(header_hits.any(axis=1).to_numpy())
    above = text.iloc[: hit_rows[0] if hit_rows.size else min(n_rows, 6)]
    title = " ".join(above.stack().dropna().astype(str).tolist())
    mapping = next((m for m in config.get("dalam_angka", []) if m["_regex"].search(title)), None)
    if mapping is None:
        return None if not title else (None, 0, [f"sheet {sheet!r} skipped: its title matches no Dalam Angka table in "
                                                 f"stats_sources.yaml ({title[:100]!r})"], False)
    if not hit_rows.size:  # e.g. a table of contents naming the table
        return (None, 0, [f"sheet {sheet!r} skipped: its text mentions {mapping['indikator']} but it has no "
                          "'Kecamatan' header (not a table by kecamatan)"], False)
    header_row = int(hit_rows[0])
    name_col = int(np.flatnonzero(header_hits.iloc[header_row].to_numpy())[0])
    indikator = mapping["indikator"]
    indicator = config["indicators"][indikator]
    satuan = mapping.get("satuan") or indicator.get("satuan")

    # rows below the header: header continuation until the first named row
    names = text[name_col]
    below = pd.Series(np.arange(n_rows) > header_row)
    header_like = _flag(names.str.match(_HEADER_NAME)) | _flag(names.str.match(_COLUMN_NUMBER))
    named = below & names.notna() & ~header_like
    if not named.any():
        return (None, 0, [f"sheet {sheet!r}: no kecamatan row below the header"], True)
    first_data = int(np.flatnonzero(named.to_numpy())[0])
    header_rows = list(range(header_row, first_data))

    # header labels per column, merged cells spread over their range
    header = text.iloc[header_rows].copy()
    try:
        merges = xlsx_merged_ranges(path, display_path, sheet, limits=limits)
    except UnreadableFile:  # merges are a help for labels, never a reason to fail
        merges = []
    for (r0, c0), (r1, c1) in merges:
        if r0 in header.index and text.iat[r0, c0] is not pd.NA:
            for r in range(r0, r1 + 1):
                if r in header.index:
                    header.loc[r, c0:c1] = text.iat[r0, c0]
    numbering = header.apply(lambda c: c.str.match(_COLUMN_NUMBER)).fillna(True).astype(bool).all(axis=1)
    header = header[~numbering.to_numpy()]
    value_cols = [j for j in range(name_col + 1, n_cols) if header[j].notna().any()]

    # which value columns to read, with their year and dimensions
    title_years = _YEAR.findall(title)
    title_year = title_years[-1] if title_years else None
    columns_map = {_norm_label(k): v for k, v in (mapping.get("columns") or {}).items()}
    specs = []  # (col, year, jk, ku, label)
    for j in value_cols:
        labels = [_norm_label(v) for v in header[j].dropna().tolist()]
        years = [y for lab in labels for y in _YEAR.findall(lab)]
        year = years[-1] if years else title_year
        label = " / ".join(header[j].dropna().astype(str).tolist())
        if columns_map:
            dims = next(
                (columns_map[k] for lab in reversed(labels) for k in columns_map if lab.startswith(k)), None
            )
            if dims is None:
                continue
            dims = {} if dims == "total" else dims
            specs.append((j, year, dims.get("jenis_kelamin"), dims.get("kelompok_umur"), label))
        elif mapping.get("value_column"):
            if any(re.search(mapping["value_column"], lab, re.IGNORECASE) for lab in labels):
                specs.append((j, year, None, None, label))
        else:
            specs.append((j, year, None, None, label))
    if not specs:
        raise UnreadableFile(display_path, f"sheet {sheet!r}: no value column for {indikator} in the header")
    if not columns_map and len(specs) > 1:
        own_years = [s[1] for s in specs]
        col_years = [bool(_YEAR.search(s[4])) for s in specs]
        if not all(col_years) or len(set(own_years)) != len(own_years):
            raise UnreadableFile(
                display_path,
                f"sheet {sheet!r}: several value columns ({'; '.join(s[4] for s in specs)}) without distinct years; "
                "name the one to read with `value_column` in stats_sources.yaml",
            )

    # classify the rows below the header
    body = pd.Series(np.arange(n_rows) >= first_data)
    first_text = text.bfill(axis=1).iloc[:, 0] if n_cols else pd.Series(pd.NA, index=range(n_rows))
    footnote_start = body & first_text.str.match(_FOOTNOTE).fillna(False).astype(bool)
    in_footnote = footnote_start.cumsum() > 0
    blank = text.isna().all(axis=1)
    total_row = body & ~in_footnote & names.str.match(_TOTAL).fillna(False).astype(bool)
    kec_row = body & ~in_footnote & ~blank & ~total_row
    footnotes = first_text[in_footnote & body].dropna()
    sumber_lines = footnotes[footnotes.str.match(r"^(sumber|source)", case=False)]
    sumber = (
        sumber_lines.iloc[0].split(":", 1)[-1].strip() if len(sumber_lines) and ":" in sumber_lines.iloc[0]
        else (sumber_lines.iloc[0] if len(sumber_lines) else None)
    )
    sumber = sumber or f"BPS, Dalam Angka: {title[:200]}"

    kec_idx = np.flatnonzero(kec_row.to_numpy())
    n_kec = kec_idx.size
    kec_names = names.iloc[kec_idx].reset_index(drop=True)

    # the kabupaten of the sheet, then the kecamatan names within it
    region = _resolve_sheet_kecamatan(regions, scope, title, kec_names, sheet)

    warnings: list[str] = []
    pieces = []
    for j, year, jk, ku, label in specs:
        raw = grid[j]
        value, state = _parse_indonesian_numbers(raw, is_num[j])
        v = value.iloc[kec_idx].reset_index(drop=True)
        s = state.iloc[kec_idx].reset_index(drop=True)
        shown = text[j].iloc[kec_idx].reset_index(drop=True)
        cell_refs = pd.Series([f"{sheet}!{_col_letter(j)}{r + 1}" for r in kec_idx], dtype="string")
        name_refs = pd.Series([f"{sheet}!{_col_letter(name_col)}{r + 1}" for r in kec_idx], dtype="string")
        pieces.append(
            _entries(
                n_kec,
                row=row_offset + np.arange(n_kec),
                line=lines[kec_idx],
                kode_wilayah=region["kode"],
                region_rule=region["rule"],
                region_message=region["message"],
                region_value=kec_names,
                tahun_raw=year,
                indikator=indikator,
                jk_raw=jk,
                ku_raw=ku,
                nilai=v,
                nilai_state=s,
                nilai_raw=shown,
                satuan=satuan,
                sumber=sumber,
                ref_kode=name_refs,
                ref_tahun=cell_refs,
                ref_indikator=cell_refs,
                ref_jk=cell_refs,
                ref_ku=cell_refs,
                ref_nilai=cell_refs,
            )
        )
        # the Jumlah/Total row: not data, a check
        totals = value[total_row & (state == "ok")]
        kec_ok = v[s == "ok"]
        if len(totals) and len(kec_ok):
            total = float(totals.iloc[0])
            how = mapping.get("total_check") or ("range" if indicator.get("scale") == "percent" else "sum")
            where = f"sheet {sheet!r}, column {label!r}"
            if how == "sum":
                summed = float(kec_ok.sum())
                if abs(summed - total) > config["total_tolerance"] * abs(total) or (total == 0 and summed != 0):
                    gap = abs(summed - total) / abs(total) * 100 if total else float("inf")
                    warnings.append(
                        f"{where}: the Jumlah row ({total:g}) differs from the sum of the kecamatan rows "
                        f"({summed:g}) by {gap:.2f} %"
                    )
            elif how == "range":
                lo, hi = float(kec_ok.min()), float(kec_ok.max())
                if not (lo - 1e-9 <= total <= hi + 1e-9):
                    warnings.append(
                        f"{where}: the Jumlah row ({total:g}) lies outside the range of the kecamatan rows "
                        f"({lo:g}–{hi:g})"
                    )
    entries = pd.concat(pieces, ignore_index=True)
    return entries, n_kec, warnings, True


def _resolve_sheet_kecamatan(regions, scope, title, names: pd.Series, sheet) -> pd.DataFrame:
    n = len(names)
    out = pd.DataFrame(
        {
            "kode": pd.Series(pd.NA, index=range(n), dtype="string"),
            "rule": pd.Series(pd.NA, index=range(n), dtype="string"),
            "message": pd.Series(pd.NA, index=range(n), dtype="string"),
        }
    )
    kab_match = _KABUPATEN_IN_TITLE.search(title)
    kabupaten = None
    if kab_match:
        kab = regions.resolve_kabupaten(pd.Series([kab_match.group(1).strip()], dtype="string"))
        kab_rule = kab["rule"].iloc[0]
        if pd.notna(kab_rule):
            out["rule"] = str(kab_rule)
            out["message"] = f"sheet {sheet!r} is about {kab_match.group(1).strip()!r}: {kab['message'].iloc[0]}"
            return out
        kabupaten = str(kab["kode"].iloc[0])
        inside = bool(pd.Series(regions.in_scope(pd.Series([kabupaten], dtype="string"), scope)).fillna(False).iloc[0])
        if not inside:
            out["rule"] = "out_of_scope"
            out["message"] = (
                f"sheet {sheet!r} is about {kab_match.group(1).strip()} ({kabupaten}), outside the scope {scope}"
            )
            return out
    missing = names.isna()
    out.loc[missing, "rule"] = "missing_field"
    out.loc[missing, "message"] = "kecamatan name is empty"
    if (~missing).any():
        idx = missing[~missing].index
        kab_series = None if kabupaten is None else pd.Series([kabupaten] * len(idx), dtype="string")
        res = regions.resolve_kecamatan(names[idx].reset_index(drop=True), scope, kabupaten=kab_series)
        for name in ("kode", "rule", "message"):
            out.loc[idx, name] = res[name].astype("string").to_numpy()
    return out


# ----------------------------------------------------------------------------- rules


def _normalise_jk(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    key = raw.astype("string").str.strip().str.casefold()
    value = key.map(_JK).astype("string")
    total = key.isin(_JK_TOTAL).fillna(False).astype(bool)
    invalid = key.notna() & value.isna() & ~total
    return value, invalid.fillna(False).astype(bool)


def _age_groups(raw: pd.Series) -> pd.DataFrame:
    """``lo``, ``hi`` (NaN = open) of ``a-b`` / ``a+`` groups; ``label`` normalised."""
    key = raw.astype("string").str.strip().str.casefold()
    key = key.str.replace(r"[\u2013\u2014\u2212]", "-", regex=True).str.replace(r"\s+", "", regex=True)
    key = key.str.replace(r"(tahun|thn|th)$", "", regex=True)
    closed = key.str.extract(r"^(\d{1,3})-(\d{1,3})$")
    open_ = key.str.extract(r"^(\d{1,3})(?:\+|>|keatas|lebih)$")
    lo = pd.to_numeric(closed[0].fillna(open_[0]), errors="coerce").astype("float64")
    hi = pd.to_numeric(closed[1], errors="coerce").astype("float64")
    label = (
        lo.astype("Int64").astype("string") + "-" + hi.astype("Int64").astype("string")
    ).fillna(lo.astype("Int64").astype("string") + "+")
    total = key.isin(_KU_TOTAL).fillna(False).astype(bool)
    return pd.DataFrame({"key": key, "lo": lo, "hi": hi, "label": label, "total": total})


def _finish(entries: pd.DataFrame, fmt: str, rows_read: int, warnings: list[str], config: dict,
            limits: InputLimits = DEFAULT_LIMITS) -> StatsParsedFile:
    entries = entries.reset_index(drop=True)
    indicators = config["indicators"]
    bands = config["_bands"]
    band_labels = [b[0] for b in bands]
    last_band_start = bands[-1][1]
    rej = Rejections(entries["line"])
    first_of_row = ~entries["row"].duplicated()

    # rules decided by the extractor (JSON keys)
    for rule in entries["pre_rule"].dropna().unique():
        mask = entries["pre_rule"] == rule
        rej.add(mask, str(rule), entries["ref_nilai"], entries["nilai_raw"], message=entries["pre_message"])

    # an entry whose key is broken (JSON) carries no trustworthy field: only its key rule
    clean = entries["pre_rule"].isna()

    def add(mask, *args, **kwargs):
        rej.add(pd.Series(mask).astype("boolean").fillna(False).astype(bool) & clean, *args, **kwargs)

    # region (once per input row)
    for rule in entries["region_rule"].dropna().unique():
        mask = (entries["region_rule"] == rule).fillna(False).astype(bool) & first_of_row
        add(mask, str(rule), entries["ref_kode"], entries["region_value"],
                message=entries["region_message"].fillna(str(rule)))

    # free text stored as given (one audit row per entry: satuan, else sumber)
    long_satuan = (entries["satuan"].str.len() > limits.text_max_chars).fillna(False).astype(bool)
    long_sumber = (entries["sumber"].str.len() > limits.text_max_chars).fillna(False).astype(bool) & ~long_satuan
    for name, mask in (("satuan", long_satuan), ("sumber", long_sumber)):
        add(mask, "invalid_value", name, entries[name], message=f"{name} longer than {limits.text_max_chars:,} characters")

    # tahun
    tahun_text = entries["tahun_raw"].astype("string").str.strip()
    tahun_num = pd.to_numeric(tahun_text.where(tahun_text.str.fullmatch(r"\d{4}(\.0+)?").fillna(False).astype(bool)),
                              errors="coerce")
    tahun_ok = tahun_num.between(MIN_YEAR, MAX_YEAR).fillna(False).astype(bool)
    add(tahun_text.isna(), "missing_field", entries["ref_tahun"], message="tahun is missing")
    add(tahun_text.notna() & ~tahun_ok, "invalid_value", entries["ref_tahun"], tahun_text,
            message=f"tahun is not a year {MIN_YEAR}-{MAX_YEAR}")
    tahun = tahun_num.where(tahun_ok).astype("Int16")

    # indikator
    indikator = entries["indikator"].astype("string")
    known = indikator.isin(list(indicators)).fillna(False).astype(bool)
    add(indikator.isna(), "missing_field", entries["ref_indikator"], message="indikator is missing")
    add(indikator.notna() & ~known, "invalid_value", entries["ref_indikator"], indikator,
            message="unknown indikator; expected one of " + ", ".join(indicators))
    scale = indikator.map({k: v.get("scale", "count") for k, v in indicators.items()}).astype("string")
    additive = indikator.map({k: bool(v.get("additive")) for k, v in indicators.items()}).astype("boolean")
    additive = additive.fillna(False).astype(bool)

    # jenis_kelamin, kelompok_umur
    jk, jk_invalid = _normalise_jk(entries["jk_raw"])
    add(jk_invalid, "invalid_value", entries["ref_jk"], entries["jk_raw"],
            message="jenis_kelamin must be L or P (or empty for both)")
    ages = _age_groups(entries["ku_raw"])
    ku_given = ages["key"].notna() & ~ages["total"]
    parsed_group = ages["lo"].notna() & (ages["hi"].isna() | (ages["hi"] >= ages["lo"]))
    group_ok = parsed_group & (ages["hi"].notna() | (ages["lo"] >= last_band_start))
    is_band = ages["label"].isin(band_labels).fillna(False).astype(bool)
    ku_invalid = ku_given & ((additive & ~group_ok) | (~additive & ~is_band))
    add(ku_invalid, "invalid_value", entries["ref_ku"], entries["ku_raw"],
            message="kelompok_umur must be an age group 'a-b' or 'a+' (open groups from "
            f"{last_band_start}); other indicators take only the bands " + ", ".join(band_labels))

    # nilai
    nilai = entries["nilai"]
    state = entries["nilai_state"]
    ok_value = (state == "ok").fillna(False).astype(bool)
    percent = (scale == "percent").fillna(False).astype(bool)
    add((state == "missing").fillna(False).astype(bool), "missing_field", entries["ref_nilai"],
            message="nilai is missing")
    add((state == "invalid").fillna(False).astype(bool), "invalid_value", entries["ref_nilai"], entries["nilai_raw"],
            message="nilai is not a number")
    add(ok_value & ~percent & (nilai < 0), "invalid_value", entries["ref_nilai"], entries["nilai_raw"],
            message="nilai must be a number >= 0")
    add(ok_value & percent & ((nilai < 0) | (nilai > 100)), "out_of_scale", entries["ref_nilai"],
            entries["nilai_raw"], message="a percentage must lie between 0 and 100")

    # duplicates among the rows that pass every other rule: the last one is kept
    row_bad = rej.bad.groupby(entries["row"]).transform("any").astype(bool)
    ku_key = ages["label"].where(ku_given)
    key = pd.DataFrame(
        {"kode": entries["kode_wilayah"], "tahun": tahun, "indikator": indikator, "jk": jk, "ku": ku_key}
    )
    candidate = ~row_bad & (state != "na").fillna(False).astype(bool)
    dup = candidate & key.where(candidate).duplicated(keep="last") & key.where(candidate).notna()["kode"]
    if dup.any():
        kept = key.where(candidate).assign(line=entries["line"]).groupby(
            ["kode", "tahun", "indikator", "jk", "ku"], dropna=False)["line"].transform("last")
        if entries["line"].notna().any():
            message = "same kode_wilayah/tahun/indikator/jenis_kelamin/kelompok_umur as line " + \
                kept.astype("Int64").astype("string").fillna("?") + "; the last row is kept"
        else:
            message = pd.Series("same kode_wilayah/tahun/indikator/jenis_kelamin/kelompok_umur as a later "
                                "datacontent entry; the last is kept", index=entries.index)
        add(dup, "duplicate_in_file", entries["ref_kode"], entries["region_value"], message=message)
        row_bad = rej.bad.groupby(entries["row"]).transform("any").astype(bool)

    rows_rejected_ids = entries.loc[row_bad, "row"].nunique()
    rows_accepted = rows_read - int(rows_rejected_ids)

    # staged values: accepted rows, values that exist
    take = (~row_bad & ok_value).to_numpy()
    values = pd.DataFrame(
        {
            "kode_wilayah": entries["kode_wilayah"],
            "tahun": tahun,
            "indikator": indikator,
            "jenis_kelamin": jk,
            "lo": ages["lo"].where(ku_given),
            "hi": ages["hi"].where(ku_given),
            "group": ku_key,
            "nilai": nilai,
            "satuan": entries["satuan"].fillna(indikator.map({k: v.get("satuan") for k, v in indicators.items()})),
            "sumber": entries["sumber"],
            "line": entries["line"],
            "additive": additive,
        }
    )[take].reset_index(drop=True)
    staged, more_warnings = _to_bands(values, bands, config["total_tolerance"])
    warnings = list(warnings) + more_warnings
    staged = staged[[name for name, _ in STATS_PARSED] + ["line"]]
    staged = staged.sort_values("line", kind="stable", na_position="last", ignore_index=True)
    return StatsParsedFile(
        format=fmt,
        rows_read=rows_read,
        accepted=staged,
        rejected=rej.frame(),
        warnings=warnings,
        rows_accepted=rows_accepted,
    )


def _to_bands(values: pd.DataFrame, bands, tolerance: float) -> tuple[pd.DataFrame, list[str]]:
    """Spread age groups of additive indicators over the bands, sum the shares, and
    check totals against their parts."""
    warnings: list[str] = []
    dims = ["kode_wilayah", "tahun", "indikator", "jenis_kelamin"]
    spread = values["additive"] & values["lo"].notna()
    plain = values[~spread].copy()
    plain["kelompok_umur"] = plain["group"]
    grouped = values[spread]

    if len(grouped):
        warnings.extend(_coverage_warnings(grouped, dims))
        shares = []
        width = grouped["hi"] - grouped["lo"] + 1
        for label, b_lo, b_hi in bands:  # five bands
            top = grouped["hi"].fillna(np.inf)
            b_top = np.inf if b_hi is None else b_hi
            overlap = (np.minimum(top, b_top) - np.maximum(grouped["lo"], b_lo) + 1).clip(lower=0)
            fraction = (overlap / width).where(grouped["hi"].notna(), (overlap > 0).astype(float))
            part = grouped[fraction > 0].copy()
            part["nilai"] = part["nilai"] * fraction[fraction > 0]
            part["kelompok_umur"] = label
            shares.append(part)
        pieces = pd.concat(shares, ignore_index=True)
        summed = pieces.groupby(dims + ["kelompok_umur"], dropna=False, sort=False).agg(
            nilai=("nilai", "sum"), line=("line", "min"), satuan=("satuan", "first"), sumber=("sumber", "first"),
            additive=("additive", "first"),
        ).reset_index()
        plain = pd.concat([plain, summed], ignore_index=True)

    staged = plain.drop(columns=["lo", "hi", "group"], errors="ignore")
    warnings.extend(_check_totals(staged, tolerance, [b[0] for b in bands]))
    staged = staged.drop(columns=["additive"])
    staged = staged.astype(
        {
            "kode_wilayah": "string",
            "tahun": "Int16",
            "indikator": "string",
            "jenis_kelamin": "string",
            "kelompok_umur": "string",
            "nilai": "float64",
            "satuan": "string",
            "sumber": "string",
            "line": "Int64",
        }
    )
    return staged.reset_index(drop=True), warnings


def _coverage_warnings(grouped: pd.DataFrame, dims: list[str]) -> list[str]:
    """Age groups of one (wilayah, tahun, indikator, jenis_kelamin) should tile 0…∞."""
    g = grouped.sort_values(dims + ["lo"], kind="stable")
    keys = g.groupby(dims, dropna=False, sort=False).ngroup()
    prev_hi = g["hi"].groupby(keys).shift()
    first = ~keys.duplicated()
    starts_at_zero = (g["lo"] == 0) | ~first
    contiguous = first | (g["lo"] == prev_hi + 1)
    last = ~keys.duplicated(keep="last")
    ends_open = ~last | g["hi"].isna()
    bad = ~(starts_at_zero & contiguous & ends_open)
    bad_keys = keys[bad].unique()
    if len(bad_keys):
        example = " ".join("∅" if pd.isna(v) else str(v) for v in g.loc[bad, dims].iloc[0])
        return [
            f"{len(bad_keys)} population breakdown(s) have age groups that do not cover all ages exactly once "
            f"(gap, overlap or a rejected group), so their bands are incomplete; e.g. {example}"
        ]
    return []


def _check_totals(staged: pd.DataFrame, tolerance: float, bands: list[str]) -> list[str]:
    """Additive totals (jenis_kelamin and/or kelompok_umur NULL) are staged as stated.
    Each is compared with the sum of its parts where the file gives the parts completely
    (a grand total: the cells of both sexes × every band, else both sex totals, else every
    band total; a sex total: its cells of every band; a band total: its cells of both
    sexes); an incomplete breakdown says nothing about the total and is not compared."""
    if staged.empty:
        return []
    add = staged["additive"].astype(bool)
    jk_na = staged["jenis_kelamin"].isna()
    ku_na = staged["kelompok_umur"].isna()
    base = ["kode_wilayah", "tahun", "indikator"]
    cells = staged[add & ~jk_na & ~ku_na]
    by_sex = staged[add & ~jk_na & ku_na]
    by_band = staged[add & jk_na & ~ku_na]
    grand = staged[add & jk_na & ku_na]
    check = pd.Series(np.nan, index=staged.index)

    def fill(totals: pd.DataFrame, parts: pd.DataFrame, by: list[str], n_parts: int) -> None:
        """check[totals] ← sum of ``parts`` with the same ``by`` when all ``n_parts`` are there."""
        if totals.empty or parts.empty:
            return
        grouped = parts.groupby(by, dropna=False)
        summed = grouped["nilai"].sum().rename("parts")[grouped.size() == n_parts].reset_index()
        merged = totals[by].merge(summed, on=by, how="left")
        merged.index = totals.index
        check[totals.index] = check[totals.index].fillna(merged["parts"])

    fill(grand, cells, base, 2 * len(bands))
    fill(grand, by_sex, base, 2)
    fill(grand, by_band, base, len(bands))
    fill(by_sex, cells, base + ["jenis_kelamin"], len(bands))
    fill(by_band, cells, base + ["kelompok_umur"], 2)
    covered = check.notna()
    total = staged.loc[covered, "nilai"]
    parts = check[covered]
    off = (parts - total).abs() > tolerance * total.abs()
    if not off.any():
        return []
    first = staged.loc[covered][off.to_numpy()].iloc[0]
    return [
        f"{int(off.sum())} total(s) differ from the sum of their complete parts by more than {tolerance:.1%} "
        f"(both are staged as given), e.g. {first['kode_wilayah']} {first['tahun']} "
        f"{first['indikator']}: total {first['nilai']:g}, parts {parts[off].iloc[0]:g}"
    ]
