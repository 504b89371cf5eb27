"""The IKN context pillar C from statistics, methodology §3 C.

Room: for each context indicator of the YAML, the kecamatan's own latest value (year ≤
the period's year) or — only when it has none at all — its kabupaten's latest value
(inherited), normalised with the fixed goalposts and clipped to [0, 100]; C = the mean
of the available indicators when at least ``min_indicators`` are available.

Context indicators are levels, not counts: only rows without a sex or age breakdown are
used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmoni_pipeline.methodology import Methodology


def _latest(stats: pd.DataFrame) -> pd.DataFrame:
    """The latest year's value per (kode_wilayah, indikator)."""
    latest = stats.sort_values("tahun", kind="stable").drop_duplicates(["kode_wilayah", "indikator"], keep="last")
    return latest[["kode_wilayah", "indikator", "tahun", "nilai", "source_path"]]


def context_values(stats: pd.DataFrame, kecamatan: pd.DataFrame, methodology: Methodology) -> pd.DataFrame:
    """Long table, one row per (kecamatan with a value, indicator): ``kode_kecamatan,
    indikator, tahun, nilai, skor, kode_wilayah_sumber, diwarisi``.
    ``kecamatan``: columns ``kode`` and ``kode_kabupaten``."""
    spec = methodology.ikn["context"]["indicators"]
    levels = stats[
        stats["indikator"].isin(list(spec)) & stats["jenis_kelamin"].isna() & stats["kelompok_umur"].isna()
    ]
    latest = _latest(levels)
    pairs = pd.DataFrame(
        {
            "kode_kecamatan": np.repeat(kecamatan["kode"].to_numpy(dtype=object), len(spec)),
            "kode_kabupaten": np.repeat(kecamatan["kode_kabupaten"].to_numpy(dtype=object), len(spec)),
            "indikator": np.tile(np.array(list(spec), dtype=object), len(kecamatan)),
        }
    )
    own = pairs.merge(latest, left_on=["kode_kecamatan", "indikator"], right_on=["kode_wilayah", "indikator"], how="left")
    parent = pairs.merge(latest, left_on=["kode_kabupaten", "indikator"], right_on=["kode_wilayah", "indikator"], how="left")
    inherit = own["nilai"].isna() & parent["nilai"].notna()
    chosen = own.copy()
    for col in ("kode_wilayah", "tahun", "nilai", "source_path"):
        chosen[col] = own[col].where(~inherit, parent[col])
    chosen["diwarisi"] = inherit
    chosen = chosen[chosen["nilai"].notna()].copy()

    direction = chosen["indikator"].map({k: v[0] for k, v in spec.items()})
    lo = chosen["indikator"].map({k: float(v[1]) for k, v in spec.items()}).astype("float64")
    hi = chosen["indikator"].map({k: float(v[2]) for k, v in spec.items()}).astype("float64")
    up = 100.0 * (chosen["nilai"].astype("float64") - lo) / (hi - lo)
    chosen["skor"] = up.where(direction == "+", 100.0 - up).clip(0.0, 100.0)
    chosen = chosen.rename(columns={"kode_wilayah": "kode_wilayah_sumber"})
    return chosen[["kode_kecamatan", "indikator", "tahun", "nilai", "skor", "kode_wilayah_sumber", "diwarisi", "source_path"]].reset_index(drop=True)


def context_pillar(values: pd.DataFrame, codes: pd.Index, methodology: Methodology) -> pd.DataFrame:
    """Per kecamatan: ``n_konteks`` (indicators available) and ``pilar_konteks``."""
    by = values.groupby("kode_kecamatan")["skor"]
    out = pd.DataFrame(index=codes)
    out["n_konteks"] = by.size().reindex(codes).fillna(0).astype("int64")
    mean = by.mean().reindex(codes)
    out["pilar_konteks"] = mean.where(out["n_konteks"] >= int(methodology.ikn["context"]["min_indicators"]))
    out.index.name = "kode_kecamatan"
    return out
