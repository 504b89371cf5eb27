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

Row accounting and the choices made where the contract is open: ``docs/ingestion.md``
(*Statistics: row accounting and choices*).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harmoni_pipeline.ingest.common import ParsedFile, Rejections, UnreadableFile, input_row_keys
from harmoni_pipeline.ingest.limits import DEFAULT_LIMITS, InputLimits
from harmoni_pipeline.ingest.schemas import STATS_PARSED
from harmoni_pipeline.ingest.stats_bps import _extract_bps_json
from harmoni_pipeline.ingest.stats_common import _JK, _JK_TOTAL, _KU_TOTAL, MAX_YEAR, MIN_YEAR, load_sources
from harmoni_pipeline.ingest.stats_dalam_angka import _extract_dalam_angka
from harmoni_pipeline.ingest.stats_long import _extract_long_csv

# ----------------------------------------------------------------------------- result


@dataclass
class StatsParsedFile(ParsedFile):
    """A :class:`ParsedFile` whose accepted *input rows* are counted separately from the
    staged rows (docs/ingestion.md, row accounting): ``rows_read == rows_accepted +
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
