"""Population per kecamatan for one period: raking margins, adult and total population.

Room: methodology §1.5 and §1.8 applied to ``jumlah_penduduk`` (as refined 2026-12) — the
sex × age-band margins of the adult population, the adult total ``P_adult`` (IHaI weights
and roll-ups) and the total population ``P_total`` (IKN E1 and roll-ups), each from its
own year. Population is never inherited from the kabupaten.

The input holds the current statistics rows (``tahun`` ≤ the period's year, one row per
key). Staged population rows are *cells* (one sex × one band), *partial totals* (a sex
without band, a band without sex) or *stated totals* (neither sex nor band). Per
kecamatan and per purpose:
- **margins and P_adult**: the cells of the adult bands from the latest year that has
  any such cell (a newer year with only a total, or with only partial totals, does not
  remove them); margins are their sums per sex and per band, ``P_adult`` their sum.
  Without any: no margins (the kecamatan is ``unweighted``) and ``P_adult`` unknown.
- **P_total**: from the latest year that has a stated total or a *complete* breakdown —
  cells of both sexes × all five bands, the under-17 band included, whose sum is the
  total. In the same year a stated total wins. An incomplete breakdown (adult cells
  only, a missing cell, sex or band totals) is never summed into a total. None: unknown.
Partial totals are used for nothing. The year of each choice is returned
(``tahun_margins``, ``tahun_total``): they can differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.scoring.arrays import member

POPULATION = "jumlah_penduduk"
KEY = "kode_wilayah"


def band_labels(methodology: Methodology) -> list[str]:
    """The adult age bands of the raking margins (``17-24`` … ``55+``)."""
    return [str(b[0]) for b in methodology.raking["age_bands"]]


def sex_labels(methodology: Methodology) -> list[str]:
    return [str(s) for s in methodology.raking["sex"]]


def total_band_labels(methodology: Methodology) -> list[str]:
    """All five bands of a complete breakdown: the band below the first adult band
    (ages 0 … its first age − 1, ``0-16``, the staging contract's label) and the adult bands."""
    first_adult = min(int(b[1]) for b in methodology.raking["age_bands"])
    return [f"0-{first_adult - 1}"] + band_labels(methodology)


def _latest_year_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` from each kecamatan's latest ``tahun`` in ``frame``."""
    return frame[frame["tahun"] == frame.groupby(KEY)["tahun"].transform("max")]


def _margins(cells: pd.DataFrame, column: str, labels: list[str], codes: pd.Index) -> dict[str, pd.Series]:
    sums = cells.pivot_table(index=KEY, columns=column, values="nilai", aggfunc="sum")
    return {label: sums.get(label, pd.Series(dtype=float)).reindex(codes).fillna(0.0) for label in labels}


def _total(pop: pd.DataFrame, cells: pd.DataFrame, n_cells: int, codes: pd.Index) -> tuple[pd.Series, pd.Series]:
    """``P_total`` and its year per code: candidates are a year's stated total and a
    year's complete breakdown; the latest year wins, then the stated total."""
    stated = pop[pop["jenis_kelamin"].isna() & pop["kelompok_umur"].isna()]
    stated = stated.groupby([KEY, "tahun"])["nilai"].sum().to_frame().assign(rank=1)
    per_year = cells.groupby([KEY, "tahun"])
    complete = per_year["nilai"].sum().to_frame().assign(rank=0)
    complete = complete[per_year.size() == n_cells]  # one row per (sex, band) cell: all of them present
    candidates = pd.concat([stated, complete]).reset_index().sort_values([KEY, "tahun", "rank"], kind="stable")
    best = candidates.groupby(KEY).tail(1).set_index(KEY)
    return best["nilai"].reindex(codes), best["tahun"].reindex(codes)


def population_table(stats: pd.DataFrame, kecamatan: pd.Series, methodology: Methodology) -> pd.DataFrame:
    """One row per code of ``kecamatan``: ``tahun_margins``, ``tahun_total``, ``p_adult``,
    ``p_total``, ``has_margins``, ``m_sex_<L|P>`` and ``m_band_<label>`` (see the module
    docstring for which rows give what)."""
    adult, sexes, bands = band_labels(methodology), sex_labels(methodology), total_band_labels(methodology)
    codes = pd.Index(pd.Series(kecamatan, dtype="string").unique(), name="kode_kecamatan")
    out = pd.DataFrame(index=codes)
    pop = stats[(stats["indikator"] == POPULATION) & member(stats[KEY], codes) & stats["nilai"].notna().to_numpy()]
    cells = pop[member(pop["jenis_kelamin"], sexes) & member(pop["kelompok_umur"], bands)]

    margin_cells = _latest_year_rows(cells[member(cells["kelompok_umur"], adult)])
    out["tahun_margins"] = margin_cells.groupby(KEY)["tahun"].max().reindex(codes).astype("Int16")
    for sex, margin in _margins(margin_cells, "jenis_kelamin", sexes, codes).items():
        out[f"m_sex_{sex}"] = margin
    for band, margin in _margins(margin_cells, "kelompok_umur", adult, codes).items():
        out[f"m_band_{band}"] = margin
    p_adult = margin_cells.groupby(KEY)["nilai"].sum().reindex(codes)
    out["has_margins"] = (p_adult.fillna(0.0) > 0).to_numpy()
    out["p_adult"] = p_adult

    p_total, tahun_total = _total(pop, cells, len(sexes) * len(bands), codes)
    out["tahun_total"] = tahun_total.astype("Int16")
    out["p_total"] = p_total.astype("float64")
    return out


def band_of_age(age: pd.Series, methodology: Methodology) -> np.ndarray:
    """Index into :func:`band_labels` per age (−1 when no band holds it)."""
    a = pd.to_numeric(age, errors="coerce").to_numpy(dtype=float)
    out = np.full(len(a), -1, dtype=np.int64)
    for i, (_, lo, hi) in enumerate(methodology.raking["age_bands"]):
        upper = np.inf if hi is None else float(hi)
        out[(a >= float(lo)) & (a <= upper)] = i
    return out
