"""The population table (``scoring/population.py``): margins, adult and total population, the years chosen.

Unit tests called as plain functions on small in-memory inputs — no warehouse, no Dagster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harmoni_pipeline.scoring import events as events_mod
from tests import reference_scoring as ref
from tests.scoring_helpers import (
    BANDS, K1, K2, K3, KAB, M, PERIOD, PROPERTY, SEXES, even_cells, idx, pop_table, population_rows, report,
    reports_frame, total_row,
)


def test_population_table_margins_adult_and_total():
    """Complete breakdown (both sexes × all five bands) in the latest year: margins and
    P_adult from its adult cells, P_total its sum; an older year is not used."""
    cells = {(s, b): 10.0 * (i + 1) for i, (s, b) in enumerate((s, b) for s in SEXES for b in ["0-16"] + BANDS)}
    rows = population_rows(K1, cells, 2024) + population_rows(K1, even_cells(1.0), 2023) + [total_row(K2, 5000)]
    pop = pop_table([K1, K2, K3], rows)
    assert int(pop.loc[K1, "tahun_margins"]) == 2024 and int(pop.loc[K1, "tahun_total"]) == 2024
    assert bool(pop.loc[K1, "has_margins"]) and not bool(pop.loc[K2, "has_margins"])
    adult = sum(v for (s, b), v in cells.items() if b != "0-16")
    assert pop.loc[K1, "p_adult"] == pytest.approx(adult)
    assert pop.loc[K1, "p_total"] == pytest.approx(sum(cells.values()))
    assert pop.loc[K1, "m_sex_L"] == pytest.approx(sum(v for (s, b), v in cells.items() if s == "L" and b != "0-16"))
    assert pop.loc[K1, "m_band_55+"] == pytest.approx(cells[("L", "55+")] + cells[("P", "55+")])
    assert np.isnan(pop.loc[K2, "p_adult"]) and pop.loc[K2, "p_total"] == 5000
    assert pd.isna(pop.loc[K2, "tahun_margins"]) and int(pop.loc[K2, "tahun_total"]) == 2024
    assert np.isnan(pop.loc[K3, "p_total"]) and pd.isna(pop.loc[K3, "tahun_total"])


def adult_cells(per_cell: float) -> dict[tuple[str, str], float]:
    return {(s, b): per_cell for s in SEXES for b in BANDS}


def test_population_stated_total_and_adult_cells_issue_example():
    """Issue 11 item 6: a stated kecamatan total of 20 000 and eight adult sex × band cells
    of 100. The cells are the margins and P_adult (800), the stated total is P_total —
    never the cells' sum. Two kuning reports (severity 2 → 2^1 each): r = 4 / 20 000 ·
    10 000 = 2, so E1 = 100 · (1 − 2/20) = 90 (with P_total = 800 it would be 0)."""
    pop = pop_table([K1], [total_row(K1, 20_000)] + population_rows(K1, adult_cells(100.0)))
    assert pop.loc[K1, "p_total"] == 20_000 and pop.loc[K1, "p_adult"] == pytest.approx(800)
    assert bool(pop.loc[K1, "has_margins"]) and pop.loc[K1, "m_sex_P"] == pytest.approx(400)
    assert pop.loc[K1, "m_band_17-24"] == pytest.approx(200)
    reps = reports_frame([report("A", K1, "2025-03-01", kualifikasi="kuning"),
                          report("B", K1, "2025-05-10", kualifikasi="kuning")])
    out = events_mod.event_pillar(reps, idx([K1]), pop["p_total"], PERIOD, M)
    assert out.loc[K1, "n_laporan"] == 2
    assert out.loc[K1, "e1"] == pytest.approx(90.0)


def test_population_older_complete_breakdown_and_newer_total():
    """The margins stay with the older year's cells (a newer total does not remove them);
    P_total is the newer year's stated total."""
    rows = population_rows(K1, even_cells(100.0), 2023) + [total_row(K1, 1_500, 2024)]
    pop = pop_table([K1], rows)
    assert bool(pop.loc[K1, "has_margins"]) and pop.loc[K1, "p_adult"] == pytest.approx(800)
    assert pop.loc[K1, "m_sex_L"] == pytest.approx(400) and pop.loc[K1, "m_band_55+"] == pytest.approx(200)
    assert pop.loc[K1, "p_total"] == 1_500
    assert int(pop.loc[K1, "tahun_margins"]) == 2023 and int(pop.loc[K1, "tahun_total"]) == 2024


def test_population_adult_cells_only():
    """Adult cells without the 0-16 band are margins and P_adult, not a total."""
    pop = pop_table([K1], population_rows(K1, adult_cells(100.0)))
    assert bool(pop.loc[K1, "has_margins"]) and pop.loc[K1, "p_adult"] == pytest.approx(800)
    assert np.isnan(pop.loc[K1, "p_total"]) and pd.isna(pop.loc[K1, "tahun_total"])


def test_population_sex_totals_and_total():
    """Sex totals are no cells: no margins, P_adult unknown; P_total is the stated total."""
    rows = population_rows(K1, {("L", None): 9_000.0, ("P", None): 9_500.0}) + [total_row(K1, 20_000)]
    pop = pop_table([K1], rows)
    assert not bool(pop.loc[K1, "has_margins"]) and np.isnan(pop.loc[K1, "p_adult"])
    assert pop.loc[K1, "p_total"] == 20_000


def test_population_partial_totals_alone_give_nothing():
    """Sex totals alone, or adult band rows without sex, are an incomplete breakdown: never
    summed into P_total or P_adult."""
    rows = population_rows(K1, {("L", None): 9_000.0, ("P", None): 9_500.0})
    rows += population_rows(K2, {(None, b): 1_000.0 for b in ["0-16"] + BANDS})
    pop = pop_table([K1, K2], rows)
    assert np.isnan(pop["p_total"]).all() and np.isnan(pop["p_adult"]).all() and not pop["has_margins"].any()


def test_population_total_year_and_margin_year_are_chosen_apart():
    """Newer adult cells give the margins; the total comes from the latest year with a
    stated total or a complete breakdown: an older total beats a newer incomplete one, a
    newer complete breakdown beats an older total, and within a year the stated total wins."""
    older_total = [total_row(K1, 30_000, 2022)] + population_rows(K1, adult_cells(50.0), 2024)
    one_cell_short = {k: v for k, v in even_cells(10.0).items() if k != ("P", "0-16")}
    incomplete = population_rows(K2, even_cells(100.0), 2022) + population_rows(K2, one_cell_short, 2024)
    newer_complete = [total_row(K3, 30_000, 2022)] + population_rows(K3, even_cells(100.0), 2023)
    k4 = f"{KAB}.04"
    same_year = [total_row(k4, 1_234, 2024)] + population_rows(k4, even_cells(100.0), 2024)
    pop = pop_table([K1, K2, K3, k4], older_total + incomplete + newer_complete + same_year)
    assert pop.loc[K1, "p_total"] == 30_000 and int(pop.loc[K1, "tahun_total"]) == 2022
    assert pop.loc[K1, "p_adult"] == pytest.approx(400) and int(pop.loc[K1, "tahun_margins"]) == 2024
    assert pop.loc[K2, "p_total"] == pytest.approx(1_000) and int(pop.loc[K2, "tahun_total"]) == 2022
    assert pop.loc[K2, "p_adult"] == pytest.approx(80) and int(pop.loc[K2, "tahun_margins"]) == 2024
    assert pop.loc[K3, "p_total"] == pytest.approx(1_000) and int(pop.loc[K3, "tahun_total"]) == 2023
    assert pop.loc[k4, "p_total"] == 1_234 and pop.loc[k4, "p_adult"] == pytest.approx(800)


ALL_CELLS = [(s, b) for s in SEXES for b in ["0-16"] + BANDS]


@st.composite
def population_years(draw):
    """Population rows of three kecamatan over 2022–2024: per kecamatan and year any
    subset of the ten cells (often all, the adult eight or none), a stated total, sex
    totals and band totals, each maybe."""
    rows = []
    for kode in (K1, K2, K3):
        for tahun in (2022, 2023, 2024):
            pick = draw(st.sampled_from(["none", "all", "adult", "some"]))
            cells = {"none": [], "all": ALL_CELLS, "adult": [c for c in ALL_CELLS if c[1] != "0-16"],
                     "some": draw(st.lists(st.sampled_from(ALL_CELLS), unique=True))}[pick]
            keys = list(cells)
            if draw(st.booleans()):
                keys.append((None, None))
            if draw(st.booleans()):
                keys += [(s, None) for s in SEXES]
            if draw(st.booleans()):
                keys += [(None, b) for b in ["0-16"] + BANDS]
            values = draw(st.lists(st.integers(1, 5000), min_size=len(keys), max_size=len(keys)))
            rows += population_rows(kode, dict(zip(keys, map(float, values))), tahun)
    return rows


@PROPERTY
@given(rows=population_years())
def test_population_table_agrees_with_the_reference(rows):
    """Production and the independent reference (tests/reference_scoring.py) read the
    same rows the same way: margins, P_adult, P_total."""
    pop = pop_table([K1, K2, K3], rows)
    for kode in (K1, K2, K3):
        want = ref.population(rows, kode, M.raw)
        got = pop.loc[kode]
        for name, value in (("p_total", want["p_total"]), ("p_adult", want["p_adult"])):
            assert (value is None) == bool(np.isnan(got[name])), (kode, name)
            assert value is None or got[name] == pytest.approx(value)
        assert bool(got["has_margins"]) == (want["sex_margin"] is not None)
        for s in SEXES:
            assert got[f"m_sex_{s}"] == pytest.approx((want["sex_margin"] or {}).get(s, 0.0))
        for b in BANDS:
            assert got[f"m_band_{b}"] == pytest.approx((want["band_margin"] or {}).get(b, 0.0))
