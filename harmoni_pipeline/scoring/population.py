"""Population per kecamatan for one period: raking margins, adult and total population.

Room: methodology §1.5 and §1.8 applied to ``jumlah_penduduk`` — the latest year ≤ the
period's year per kecamatan, the sex × age-band margins of the adult population, the
adult total (IHaI weights and roll-ups) and the total population (IKN E1 and roll-ups).
Population is never inherited from the kabupaten.

Which rows give what (the staging table holds parts, or totals a file gave without
parts), from that latest year only:
- margins: the sex × band rows ("cross" rows) of the adult bands; without any, the
  kecamatan has no margins (and is weighted ``unweighted``);
- adult population: the sum of the adult cross rows; without cross rows, the sum of the
  age-band rows without sex; else unknown;
- total population: the finest breakdown present — cross rows (all bands, ``0-16``
  included), else age-band rows, else sex rows, else the grand total; else unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.scoring.arrays import member

POPULATION = "jumlah_penduduk"


def band_labels(methodology: Methodology) -> list[str]:
    return [str(b[0]) for b in methodology.raking["age_bands"]]


def sex_labels(methodology: Methodology) -> list[str]:
    return [str(s) for s in methodology.raking["sex"]]


def population_table(stats: pd.DataFrame, kecamatan: pd.Series, methodology: Methodology) -> pd.DataFrame:
    """One row per code of ``kecamatan``: ``tahun_penduduk``, ``p_adult``, ``p_total``,
    ``has_margins``, ``m_sex_<L|P>`` and ``m_band_<label>``."""
    bands, sexes = band_labels(methodology), sex_labels(methodology)
    codes = pd.Index(pd.Series(kecamatan, dtype="string").unique(), name="kode_kecamatan")
    out = pd.DataFrame(index=codes)
    pop = stats[(stats["indikator"] == POPULATION) & member(stats["kode_wilayah"], codes)]
    latest = pop.groupby("kode_wilayah")["tahun"].transform("max")
    pop = pop[pop["tahun"] == latest]
    out["tahun_penduduk"] = pop.groupby("kode_wilayah")["tahun"].max().reindex(codes).astype("Int16")

    has_sex = pop["jenis_kelamin"].notna()
    has_band = pop["kelompok_umur"].notna()
    cross = pop[has_sex & has_band]
    adult_cross = cross[cross["kelompok_umur"].isin(bands)]
    by_age = pop[~has_sex & has_band]
    by_sex = pop[has_sex & ~has_band]
    grand = pop[~has_sex & ~has_band]

    def total(frame: pd.DataFrame) -> pd.Series:
        return frame.groupby("kode_wilayah")["nilai"].sum().reindex(codes)

    cells = adult_cross.pivot_table(index="kode_wilayah", columns="jenis_kelamin", values="nilai", aggfunc="sum")
    for sex in sexes:
        out[f"m_sex_{sex}"] = cells.get(sex, pd.Series(dtype=float)).reindex(codes).fillna(0.0)
    cells = adult_cross.pivot_table(index="kode_wilayah", columns="kelompok_umur", values="nilai", aggfunc="sum")
    for band in bands:
        out[f"m_band_{band}"] = cells.get(band, pd.Series(dtype=float)).reindex(codes).fillna(0.0)

    adult_from_cross = total(adult_cross)
    has_cross = pd.Series(member(codes, cross["kode_wilayah"]), index=codes)
    out["has_margins"] = (adult_from_cross.fillna(0.0) > 0).to_numpy()
    out["p_adult"] = adult_from_cross.where(has_cross, total(by_age[by_age["kelompok_umur"].isin(bands)]))

    p_total = total(cross)
    for finer in (by_age, by_sex, grand):
        p_total = p_total.fillna(total(finer))
    out["p_total"] = p_total
    return out


def band_of_age(age: pd.Series, methodology: Methodology) -> np.ndarray:
    """Index into :func:`band_labels` per age (−1 when no band holds it)."""
    a = pd.to_numeric(age, errors="coerce").to_numpy(dtype=float)
    out = np.full(len(a), -1, dtype=np.int64)
    for i, (_, lo, hi) in enumerate(methodology.raking["age_bands"]):
        upper = np.inf if hi is None else float(hi)
        out[(a >= float(lo)) & (a <= upper)] = i
    return out
