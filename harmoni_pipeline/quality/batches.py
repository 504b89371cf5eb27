"""The frames each suite validates, and the values its ``$PARAMETER`` placeholders take.

Room: shaping a candidate partition (and the audit rows of its delivery) into the
batches named in the suite files — ``rows`` (the candidate with a few derived columns a
rule needs), ``files`` (one row per landing file), ``partition`` (one row for the
partition), ``population`` (kabupaten totals against the reference) — and the run-time
parameters (period, scope, scale, bands from the methodology). No GX here.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np
import pandas as pd
import pyarrow as pa

from harmoni_pipeline.ingest.common import input_row_keys
from harmoni_pipeline.methodology import Methodology, all_items
from harmoni_pipeline.periods import last_instant
from harmoni_pipeline.regions import POPULATION_YEAR, Regions
from harmoni_pipeline.scoring import population

PERCENT_INDICATORS = ("pct_", "tpt")


def as_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with nullable string columns (what the suites' conditions expect);
    a dictionary column (:func:`compact`) becomes a pandas category."""
    frame = table.to_pandas()
    for name in frame.columns:
        if pa.types.is_string(table.schema.field(name).type) or pa.types.is_large_string(table.schema.field(name).type):
            frame[name] = frame[name].astype("string")
    return frame


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def text_columns(schema: pa.Schema, plain: Collection[str] = ()) -> list[str]:
    """The string columns of ``schema`` a validation may read as dictionaries: all but
    ``plain`` (:func:`compact`)."""
    return [f.name for f in schema if _is_text(f.type) and f.name not in plain]


def compact(table: pa.Table, plain: Collection[str] = ()) -> pa.Table:
    """``table`` with its repetitive string columns as Arrow dictionaries (pandas
    categories in :func:`as_frame`): those with at most one distinct value for every two
    rows. A column read as a dictionary that is not repetitive, or is named in ``plain``,
    is decoded back to strings.

    What it is for: a mart gate's frame. The auditor's trail repeats a few values on
    every row (period, run, staging run, methodology version, the source file's path and
    hash, the kecamatan), and as strings those are most of its memory: a national month's
    ``audit.score_respondents`` (1.9 M rows) is 685 MB in Arrow, 310 MB compacted, and
    validating it took 1.3 GB on top of a process's imports, 0.75 GB compacted (issue 19).
    The suites' outcomes are the same on a category as on the strings it stands for, except
    where GX turns the column into Python strings first — ``expect_column_values_to_match_regex``
    (``astype(str)``, ≈ 0.6 GB on that trail): the columns a pattern is matched on belong in
    ``plain``."""
    for i, field in enumerate(table.schema):
        dictionary = pa.types.is_dictionary(field.type) and _is_text(field.type.value_type)
        if not (dictionary or _is_text(field.type)):
            continue
        column = table.column(i)
        if field.name not in plain:
            encoded = (column if dictionary else column.dictionary_encode()).unify_dictionaries()
            distinct = len(encoded.chunk(0).dictionary) if encoded.num_chunks else 0
            if len(column) and distinct * 2 <= len(column):
                table = table.set_column(i, field.name, encoded)
                continue
        if dictionary:
            table = table.set_column(i, field.name, column.cast(field.type.value_type))
    return table


def _scope_regex(scope: str, parts: int) -> str:
    """Codes with ``parts`` dotted parts (3 = kecamatan, 2 = kabupaten) inside ``scope``."""
    given = [] if scope == "ALL" else scope.split(".")
    pieces = [re.escape(p) for p in given] + [r"\d{2}"] * (parts - len(given))
    return "^" + r"\.".join(pieces) + "$"


def _wilayah_regex(scope: str) -> str:
    return f"(?:{_scope_regex(scope, 3)})|(?:{_scope_regex(scope, 2)})"


def staging_parameters(source: str, period: str, scope: str, methodology: Methodology) -> dict:
    lo, hi = methodology.scale
    age = methodology.raw["survey"]["age"]
    bands = [b[0] for b in methodology.raking["age_bands"]]
    year = int(period[:4])
    return {
        "period": [period],
        "scope_kecamatan_regex": _scope_regex(scope, 3),
        "scope_wilayah_regex": _wilayah_regex(scope),
        "scale_min": lo,
        "scale_max": hi,
        "age_min": age["min"],
        "age_max": age["max"],
        "age_groups": ["0-16", *bands],
        "indicators": [population.POPULATION, *methodology.ikn["context"]["indicators"]],
        "year": year,
    }


def mart_parameters(table: str, period: str, methodology: Methodology) -> dict:
    """Run-time values of a mart suite: period, version, ``min_n``, codes, and the band
    bounds of the table's index (``kategori_<i>_min``) and of kerawanan."""
    bands = methodology.ihai_bands if ".ihai" in table else methodology.ikn_bands
    params = {
        "period": [period],
        "methodology_version": [methodology.version],
        "min_n": methodology.min_n,
        "year": int(period[:4]),
        "variabel_codes": list(methodology.ihai["variables"]),
        "dimensi_codes": methodology.ikn_dimensions,
        "harmonis_threshold": float(methodology.integration["harmonis_threshold"]),
    }
    params.update({f"kategori_{i}_min": lo for i, lo in enumerate(bands.lower)})
    params.update({f"tingkat_kerawanan_{i}_min": lo for i, lo in enumerate(methodology.risk_bands.lower)})
    return params


# ---------------------------------------------------------------------- staging batches

def survey_rows(frame: pd.DataFrame, period: str, methodology: Methodology) -> pd.DataFrame:
    end = last_instant(period)
    out = frame.copy()
    out["after_period_end"] = (out["submitted_at"] > end).to_numpy(dtype=bool)
    items = all_items()
    values = out[items].to_numpy(dtype=float, na_value=np.nan)
    out["items_answered"] = (~np.isnan(values)).sum(axis=1).astype("int64")
    lo, hi = methodology.scale
    outside = (values < lo) | (values > hi)
    first = np.where(outside.any(axis=1), np.array(items, dtype=object)[outside.argmax(axis=1)], None)
    out["item_out_of_scale"] = pd.array(first, dtype="string")
    return out


def fkdm_rows(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    lapor = pd.to_datetime(out["tgl_lapor"])
    ok = pd.to_datetime(out["tgl_kejadian"]) <= lapor
    for col in ("tgl_tindak_lanjut", "tgl_selesai"):
        d = pd.to_datetime(out[col])
        ok &= d.isna() | (d >= lapor)
    out["dates_in_order"] = ok.fillna(False).to_numpy(dtype=bool)
    return out


def stats_rows(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    ind = out["indikator"].astype("string")
    out["is_percentage"] = (ind.str.startswith("pct_") | (ind == "tpt")).fillna(False).to_numpy(dtype=bool)
    return out


def files_frame(source_files: pd.DataFrame, rejected: pd.DataFrame) -> pd.DataFrame:
    """One row per landing file of the partition: counts, out-of-scope rows and the share
    of rejected rows among rows in scope (``rows_counted``)."""
    files = source_files[source_files["duplicate_of"].isna()].copy()
    rows = pd.DataFrame({"sha256": rejected["sha256"], "row": input_row_keys(rejected), "rule": rejected["rule"]})
    out_of_scope = rows[rows["rule"] == "out_of_scope"][["sha256", "row"]].drop_duplicates()
    oos = out_of_scope.groupby("sha256").size()
    other = rows[rows["rule"] != "out_of_scope"][["sha256", "row"]].drop_duplicates()
    in_scope_rejected = other.merge(out_of_scope, on=["sha256", "row"], how="left", indicator=True)
    in_scope_rejected = in_scope_rejected[in_scope_rejected["_merge"] == "left_only"].groupby("sha256").size()
    files["rows_out_of_scope"] = files["sha256"].map(oos).fillna(0).astype("int64")
    files["rows_rejected_in_scope"] = files["sha256"].map(in_scope_rejected).fillna(0).astype("int64")
    read = files["rows_read"].fillna(0).astype("int64")
    files["rows_counted"] = read - files["rows_out_of_scope"]
    files["rejected_share"] = np.where(files["rows_counted"] > 0, files["rows_rejected_in_scope"] / files["rows_counted"].where(files["rows_counted"] > 0), np.nan)
    files["balanced"] = files["error"].notna() | (read == files["rows_accepted"].fillna(0) + files["rows_rejected"].fillna(0))
    keep = ["path", "sha256", "format", "rows_read", "rows_accepted", "rows_rejected", "rows_out_of_scope",
            "rows_rejected_in_scope", "rows_counted", "rejected_share", "balanced", "error"]
    out = files[keep].reset_index(drop=True)
    for c in ("path", "sha256", "format", "error"):
        out[c] = out[c].astype("string")
    return out


def partition_frame(files: pd.DataFrame, accepted: pd.DataFrame | None, kecamatan_in_scope: pd.Series | None) -> pd.DataFrame:
    """One row: totals, the rejected share, and (surveys) the kecamatan coverage — NULL
    when the month has no accepted survey row (an empty month is valid)."""
    counted = int(files["rows_counted"].sum())
    rejected = int(files["rows_rejected_in_scope"].sum())
    row = {
        "files": len(files),
        "rows_read": int(files["rows_read"].fillna(0).sum()),
        "rows_counted": counted,
        "rows_rejected_in_scope": rejected,
        "rejected_share": rejected / counted if counted else np.nan,
        "kecamatan_in_scope": np.nan,
        "kecamatan_with_rows": np.nan,
        "coverage": np.nan,
    }
    if accepted is not None and kecamatan_in_scope is not None:
        scope = set(kecamatan_in_scope)
        with_rows = len(scope & set(accepted["kode_kecamatan"].dropna().unique()))  # distinct first: 1 M rows
        row.update(kecamatan_in_scope=len(scope), kecamatan_with_rows=with_rows)
        if len(accepted) and scope:
            row["coverage"] = with_rows / len(scope)
    return pd.DataFrame([row])


def population_frame(stats: pd.DataFrame, regions: Regions, scope: str, methodology: Methodology) -> pd.DataFrame | None:
    """Kabupaten population totals of the reference's year against the reference: the
    kabupaten's own total population, else — when every kecamatan of it has one — their
    sum. A total population is read as scoring reads ``P_total``
    (:func:`population.population_table`): a stated total, else a complete sex × band
    breakdown; an incomplete breakdown (adult bands only, sex totals) is no total, so a
    kabupaten delivered that way is not compared. A key given by several files of the
    partition counts once, the later file's (as scoring reads it). ``None`` when nothing
    can be compared."""
    rows = stats[(stats["indikator"] == population.POPULATION) & (stats["tahun"] == POPULATION_YEAR)]
    if rows.empty:
        return None
    key = ["kode_wilayah", "tahun", "indikator", "jenis_kelamin", "kelompok_umur"]
    rows = rows.sort_values(["file_order", "line"], kind="stable", na_position="first").drop_duplicates(key, keep="last")
    kec = regions.kecamatan_in_scope(scope)
    reference = regions.population.set_index("kode")["total"]
    kab_codes = sorted(set(kec["kode_kabupaten"]))
    out = []
    own = population.population_table(rows, pd.Series(kab_codes, dtype="string"), methodology)["p_total"]
    per_kec = population.population_table(rows, kec["kode"], methodology)["p_total"]
    for kab in kab_codes:
        members = kec.loc[kec["kode_kabupaten"] == kab, "kode"]
        staged, how = own.get(kab), "kabupaten rows"
        if pd.isna(staged):
            values = per_kec.reindex(members)
            if values.isna().any():
                continue  # only part of the kabupaten delivered: nothing to compare
            staged, how = float(values.sum()), "sum of kecamatan rows"
        ref = reference.get(kab)
        if ref is None or pd.isna(ref) or not ref:
            continue
        out.append({"kode_kabupaten": kab, "tahun": POPULATION_YEAR, "staged_total": float(staged), "reference_total": float(ref),
                    "relative_difference": float(staged) / float(ref) - 1.0, "from": how})
    if not out:
        return None
    frame = pd.DataFrame(out)
    for c in ("kode_kabupaten", "from"):
        frame[c] = frame[c].astype("string")
    return frame
