"""Raking (methodology §1.5): margins, fallbacks, trimming, group independence (``scoring/raking.py``).

Unit tests called as plain functions on small in-memory inputs — no warehouse, no Dagster.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harmoni_pipeline.scoring import raking
from tests.scoring_helpers import (
    PROPERTY, RAKE_KW,
)


def cells_to_rows(counts: dict[tuple[int, int], int], group: int = 0):
    """Respondent codes (group, sex, band) from a count per (sex, band) cell."""
    g, s, b = [], [], []
    for (sex, band), k in counts.items():
        g += [group] * k
        s += [sex] * k
        b += [band] * k
    return np.array(g), np.array(s), np.array(b)


def margin_totals(group, cell, cells, groups, w):
    return np.bincount(group * cells + cell, weights=w, minlength=groups * cells).reshape(groups, cells)


# several rounds: sex and age strongly associated in the sample, not in the population
MULTI_COUNTS = {(0, 0): 6, (0, 1): 3, (0, 2): 1, (0, 3): 2, (1, 0): 1, (1, 1): 3, (1, 2): 5, (1, 3): 4}
MULTI_SEX, MULTI_BAND = np.array([480.0, 520.0]), np.array([150.0, 300.0, 300.0, 250.0])
# trim binds: one respondent alone in a band holding 60 % of the population
TRIM_COUNTS = {(0, 0): 5, (0, 1): 4, (0, 2): 1, (1, 0): 4, (1, 1): 4, (1, 2): 1, (1, 3): 1}
TRIM_SEX, TRIM_BAND = np.array([300.0, 700.0]), np.array([100.0, 150.0, 150.0, 600.0])
# sex_only: band 55+ has population but no respondent
SEXONLY_COUNTS = {(0, 0): 3, (0, 1): 2, (0, 2): 2, (1, 0): 1, (1, 1): 4, (1, 2): 3}
SEXONLY_SEX, SEXONLY_BAND = np.array([400.0, 600.0]), np.array([200.0, 300.0, 300.0, 200.0])


def rake_one(counts, sex_m, band_m, has=True):
    g, s, b = cells_to_rows(counts)
    return g, s, b, raking.rake(g, s, b, np.array([sex_m]), np.array([band_m]), np.array([has]), **RAKE_KW)


def test_raking_reproduces_margins_before_trimming_after_several_rounds():
    g, s, b, res = rake_one(MULTI_COUNTS, MULTI_SEX, MULTI_BAND)
    assert res.weighting[0] == "raked"
    assert res.rounds[0] > 1
    assert bool(res.converged[0])
    np.testing.assert_allclose(margin_totals(g, s, 2, 1, res.untrimmed)[0], MULTI_SEX, rtol=1e-6)
    np.testing.assert_allclose(margin_totals(g, b, 4, 1, res.untrimmed)[0], MULTI_BAND, rtol=1e-6)
    # this case needs no trimming: final weights equal the untrimmed ones and sum to the adult population
    mean = res.untrimmed.mean()
    assert res.untrimmed.max() <= 5 * mean and res.untrimmed.min() >= 0.2 * mean
    np.testing.assert_allclose(res.weights, res.untrimmed, rtol=1e-12)
    assert res.weights.sum() == pytest.approx(1000.0, rel=1e-12)


def test_raking_stops_after_max_rounds_without_convergence():
    # infeasible: band 55+ (one P respondent) holds 600 but P only 500 → cannot converge
    g, s, b = cells_to_rows(TRIM_COUNTS)
    res = raking.rake(g, s, b, np.array([[500.0, 500.0]]), np.array([TRIM_BAND]), np.array([True]), **RAKE_KW)
    assert res.weighting[0] == "raked"
    assert res.rounds[0] == RAKE_KW["max_rounds"]
    assert not bool(res.converged[0])
    assert res.weights.sum() == pytest.approx(1000.0)


def test_raking_sex_only_when_a_populated_band_has_no_respondent():
    g, s, b, res = rake_one(SEXONLY_COUNTS, SEXONLY_SEX, SEXONLY_BAND)
    assert res.weighting[0] == "sex_only"
    assert res.rounds[0] == 0
    assert bool(res.converged[0])
    np.testing.assert_allclose(margin_totals(g, s, 2, 1, res.untrimmed)[0], SEXONLY_SEX, rtol=1e-12)
    # within a sex all weights are equal (one sex step only)
    for sex in (0, 1):
        assert np.ptp(res.untrimmed[s == sex]) == pytest.approx(0.0, abs=1e-9)
    assert res.weights.sum() == pytest.approx(1000.0, rel=1e-12)


def test_raking_band_without_population_and_without_respondent_is_still_raked():
    counts = {k: v for k, v in SEXONLY_COUNTS.items()}
    band_m = np.array([300.0, 400.0, 300.0, 0.0])
    g, s, b, res = rake_one(counts, SEXONLY_SEX, band_m)
    assert res.weighting[0] == "raked"
    np.testing.assert_allclose(margin_totals(g, b, 4, 1, res.untrimmed)[0][:3], band_m[:3], rtol=1e-6)


def test_raking_unweighted_when_a_sex_has_no_respondent():
    counts = {(0, 0): 3, (0, 1): 3, (0, 2): 3, (0, 3): 3}  # men only
    g, s, b, res = rake_one(counts, MULTI_SEX, MULTI_BAND)
    assert res.weighting[0] == "unweighted"
    assert res.rounds[0] == 0
    np.testing.assert_array_equal(res.weights, np.ones(12))
    np.testing.assert_array_equal(res.untrimmed, np.ones(12))


def test_raking_unweighted_without_margins():
    g, s, b, res = rake_one(MULTI_COUNTS, np.zeros(2), np.zeros(4), has=False)
    assert res.weighting[0] == "unweighted"
    np.testing.assert_array_equal(res.weights, np.ones(len(g)))
    assert res.weights.sum() == len(g)


def test_raking_trim_binds_then_rescales_to_the_adult_population():
    g, s, b, res = rake_one(TRIM_COUNTS, TRIM_SEX, TRIM_BAND)
    assert res.weighting[0] == "raked" and bool(res.converged[0])
    np.testing.assert_allclose(margin_totals(g, b, 4, 1, res.untrimmed)[0], TRIM_BAND, rtol=1e-6)
    np.testing.assert_allclose(margin_totals(g, s, 2, 1, res.untrimmed)[0], TRIM_SEX, rtol=1e-6)
    mean = res.untrimmed.mean()
    assert res.untrimmed.max() > 5 * mean  # the trim binds
    clipped = np.clip(res.untrimmed, 0.2 * mean, 5 * mean)
    expected = clipped * 1000.0 / clipped.sum()
    np.testing.assert_allclose(res.weights, expected, rtol=1e-12)
    assert res.weights.sum() == pytest.approx(1000.0, rel=1e-12)
    # after the rescale the clipped weight may exceed 5× the mean (intended); margins now only approximate
    lone = np.flatnonzero(b == 3)[0]
    assert res.weights[lone] == pytest.approx(5 * mean * 1000.0 / clipped.sum())
    assert res.weights[lone] > 5 * res.weights.mean()
    assert margin_totals(g, b, 4, 1, res.weights)[0][3] < TRIM_BAND[3]


def test_raking_groups_are_processed_independently():
    specs = [
        (MULTI_COUNTS, MULTI_SEX, MULTI_BAND, True),
        (TRIM_COUNTS, TRIM_SEX, TRIM_BAND, True),
        (SEXONLY_COUNTS, SEXONLY_SEX, SEXONLY_BAND, True),
        (MULTI_COUNTS, np.zeros(2), np.zeros(4), False),
        ({(0, 0): 2, (0, 1): 2}, MULTI_SEX, MULTI_BAND, True),   # one sex only
        ({}, MULTI_SEX, MULTI_BAND, True),                      # no respondent
    ]
    # the empty group cannot be raked alone (see test_rake_without_any_respondent)
    alone = [rake_one(c, sm, bm, h) for c, sm, bm, h in specs[:-1]]
    g = np.concatenate([cells_to_rows(c, i)[0] for i, (c, *_r) in enumerate(specs)])
    s = np.concatenate([cells_to_rows(c, i)[1] for i, (c, *_r) in enumerate(specs)])
    b = np.concatenate([cells_to_rows(c, i)[2] for i, (c, *_r) in enumerate(specs)])
    order = np.random.default_rng(7).permutation(len(g))  # interleave the groups' rows
    res = raking.rake(
        g[order], s[order], b[order], np.array([sp[1] for sp in specs]), np.array([sp[2] for sp in specs]),
        np.array([sp[3] for sp in specs]), **RAKE_KW,
    )
    weights, untrimmed = np.empty(len(g)), np.empty(len(g))
    weights[order], untrimmed[order] = res.weights, res.untrimmed  # back to the unshuffled rows
    for i, (_g, _s, _b, one) in enumerate(alone):
        mine = g == i
        np.testing.assert_allclose(weights[mine], one.weights, rtol=1e-10)
        np.testing.assert_allclose(untrimmed[mine], one.untrimmed, rtol=1e-10)
        assert res.weighting[i] == one.weighting[0]
        assert res.rounds[i] == one.rounds[0]
        assert res.converged[i] == one.converged[0]
    assert list(res.weighting) == ["raked", "raked", "sex_only", "unweighted", "unweighted", None]
    assert res.rounds[5] == 0 and (g != 5).all()


def test_rake_without_any_respondent():
    empty = np.array([], dtype=np.int64)
    res = raking.rake(empty, empty, empty, np.array([MULTI_SEX]), np.array([MULTI_BAND]), np.array([True]), **RAKE_KW)
    assert list(res.weighting) == [None] and len(res.weights) == 0


@PROPERTY
@given(
    counts=hnp.arrays(np.int64, (2, 4), elements=st.integers(1, 6)),
    sex_m=hnp.arrays(float, 2, elements=st.floats(50, 5000)),
    band_share=hnp.arrays(float, 4, elements=st.floats(0.05, 1.0)),
)
def test_raking_property_margins_met_when_converged(counts, sex_m, band_share):
    cells = {(i, j): int(counts[i, j]) for i in range(2) for j in range(4)}
    band_m = band_share / band_share.sum() * sex_m.sum()
    g, s, b, res = rake_one(cells, sex_m, band_m)
    assert res.weighting[0] == "raked"
    if res.converged[0]:
        np.testing.assert_allclose(margin_totals(g, s, 2, 1, res.untrimmed)[0], sex_m, rtol=1.01e-6)
        np.testing.assert_allclose(margin_totals(g, b, 4, 1, res.untrimmed)[0], band_m, rtol=1.01e-6)
    assert res.weights.sum() == pytest.approx(sex_m.sum(), rel=1e-9)
    assert (res.weights > 0).all()


def _rake_whole_arrays(group, sex, band, sex_m, band_m, has, *, tolerance, max_rounds, trim_low, trim_high, counts=None):
    """The raking rounds as first written: every step and check over every row, the
    weights of groups no longer active left as they are by ``np.where``."""
    groups, n_sex = sex_m.shape
    n_band = band_m.shape[1]
    copies = np.ones(len(group)) if counts is None else np.asarray(counts, dtype=float)
    n = np.bincount(group, weights=copies, minlength=groups) if counts is not None else np.bincount(group, minlength=groups)
    sex_count = raking._totals(group, sex, n_sex, groups, copies)
    band_count = raking._totals(group, band, n_band, groups, copies)
    unweighted = ~has | (sex_count == 0).any(axis=1)
    sex_only = ~unweighted & ((band_m > 0) & (band_count == 0)).any(axis=1)
    raked = ~unweighted & ~sex_only
    w = np.ones(len(group))
    rounds = np.zeros(groups, dtype=np.int64)
    converged = np.zeros(groups, dtype=bool)

    def step(active_groups, cell, cells, margins):
        nonlocal w
        totals = raking._totals(group, cell, cells, groups, w * copies)
        factor = np.divide(margins, totals, out=np.ones_like(totals), where=totals > 0)
        w = np.where(active_groups[group], w * factor[group, cell], w)

    step(sex_only, sex, n_sex, sex_m)
    active = raked.copy()
    for r in range(1, max_rounds + 1):
        if not active.any():
            break
        step(active, sex, n_sex, sex_m)
        step(active, band, n_band, band_m)
        rounds[active] = r
        met = raking._within(raking._totals(group, sex, n_sex, groups, w * copies), sex_m, tolerance) & raking._within(
            raking._totals(group, band, n_band, groups, w * copies), band_m, tolerance)
        converged |= active & met
        active &= ~met
    converged |= sex_only & raking._within(raking._totals(group, sex, n_sex, groups, w * copies), sex_m, tolerance)
    return w, rounds, converged | unweighted


@pytest.mark.parametrize("counts", [False, True])
def test_raking_only_the_active_groups_gives_the_whole_array_weights_bit_for_bit(counts):
    """Rounds touch only the rows of groups still active (a speed-up for national scope,
    where a few groups never converge and run max_rounds): the weights before trimming,
    rounds and convergence are exactly — bit for bit — those of steps over every row,
    for groups that converge at once, after several rounds, never, sex_only, unweighted,
    and for cell counts (the bootstrap's rows)."""
    rng = np.random.default_rng(7)
    groups, n = 400, 30_000
    group = np.sort(rng.integers(0, groups, n))
    sex = rng.integers(0, 2, n)
    band = np.minimum(rng.integers(0, 4, n), np.where(group % 5 == 0, 2, 3))  # every 5th: no 55+ respondent
    sex[(group % 17 == 0)] = 0  # a sex without respondent: unweighted
    sex_m = rng.uniform(100, 900, (groups, 2))
    band_m = rng.dirichlet(np.ones(4), groups) * sex_m.sum(axis=1)[:, None]
    band_m[::7] *= 1.05  # every 7th group's margins disagree: never met, max_rounds
    has = np.arange(groups) % 23 != 0
    weights = rng.integers(1, 9, n).astype(float) if counts else None
    kw = dict(tolerance=1e-6, max_rounds=50, trim_low=0.2, trim_high=5.0)
    fast = raking.rake(group, sex, band, sex_m, band_m, has, counts=weights, **kw)
    w, rounds, converged = _rake_whole_arrays(group, sex, band, sex_m, band_m, has, counts=weights, **kw)
    assert np.array_equal(fast.untrimmed, w)
    assert np.array_equal(fast.rounds, rounds) and np.array_equal(fast.converged, converged)
    assert rounds.max() == 50 and 1 < np.median(rounds[rounds > 0]) < 50  # stragglers and early convergers both present
    assert converged.sum() > groups / 2 and (~converged).sum() > groups / 10
