"""Design weights by raking (iterative proportional fitting), methodology §1.5.

Room: the weights of respondents grouped by kecamatan, given each group's sex and
age-band margins — the fallbacks (``sex_only``, ``unweighted``), the rounds, and the one
trim. Vectorised over all groups at once (``np.bincount`` per step): national scope is
~7,000 groups and ~1 M respondents, and no Python loop runs over either.

Cases, checked in this order per group:
1. no margins → ``unweighted``;
2. a sex without respondent → ``unweighted``;
3. an age band with positive population and no respondent → ``sex_only`` (one sex step);
4. otherwise ``raked``: rounds of a sex step then an age step, until every margin ``m``
   is met with ``|t − m| ≤ tolerance · m`` (checked after each round) or ``max_rounds``.
A step leaves a cell with zero weighted total as it is. Then every group is trimmed once
— weights clipped to [low, high] × the group's mean weight — and rescaled to sum to the
group's adult population (``unweighted``: to its ``n``, so all weights stay 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RAKED, SEX_ONLY, UNWEIGHTED = "raked", "sex_only", "unweighted"
CASES = np.array([RAKED, SEX_ONLY, UNWEIGHTED], dtype=object)


@dataclass
class RakingResult:
    weights: np.ndarray        # final (trimmed, rescaled) weight per respondent
    untrimmed: np.ndarray      # weights after the rounds, before trimming
    weighting: np.ndarray      # per group: raked | sex_only | unweighted | None (no respondent)
    rounds: np.ndarray         # per group: rounds run (0 unless raked)
    converged: np.ndarray      # per group: margins met within tolerance before trimming


def _totals(group: np.ndarray, cell: np.ndarray, cells: int, groups: int, weights: np.ndarray) -> np.ndarray:
    return _totals_of(group * cells + cell, cells, groups, weights)


def _totals_of(key: np.ndarray, cells: int, groups: int, weights: np.ndarray) -> np.ndarray:
    """Weighted totals per (group, cell), ``key`` = group · cells + cell, as a G × cells array."""
    # float even when there is no respondent at all (bincount of nothing is int64)
    totals = np.bincount(key, weights=weights, minlength=groups * cells).astype(float)
    return totals.reshape(groups, cells)


def _within(totals: np.ndarray, margins: np.ndarray, tolerance: float) -> np.ndarray:
    return (np.abs(totals - margins) <= tolerance * margins).all(axis=1)


def rake(
    group: np.ndarray,
    sex: np.ndarray,
    band: np.ndarray,
    sex_margins: np.ndarray,
    band_margins: np.ndarray,
    has_margins: np.ndarray,
    *,
    tolerance: float,
    max_rounds: int,
    trim_low: float,
    trim_high: float,
    counts: np.ndarray | None = None,
) -> RakingResult:
    """``group``/``sex``/``band``: integer codes per respondent (0-based); margins: one row
    per group (``sex_margins`` G×S, ``band_margins`` G×B); ``has_margins``: G booleans.
    ``counts``: how many identical respondents each row stands for (default 1 each) —
    the weights are then those of each of them (the bootstrap rakes cells, not rows)."""
    group = np.asarray(group, dtype=np.int64)
    sex = np.asarray(sex, dtype=np.int64)
    band = np.asarray(band, dtype=np.int64)
    groups, n_sex = sex_margins.shape
    n_band = band_margins.shape[1]
    sex_m = np.asarray(sex_margins, dtype=float)
    band_m = np.asarray(band_margins, dtype=float)

    copies = np.ones(len(group)) if counts is None else np.asarray(counts, dtype=float)
    n = np.bincount(group, weights=copies, minlength=groups) if counts is not None else np.bincount(group, minlength=groups)
    sex_count = _totals(group, sex, n_sex, groups, copies)
    band_count = _totals(group, band, n_band, groups, copies)
    unweighted = ~np.asarray(has_margins, dtype=bool) | (sex_count == 0).any(axis=1)
    sex_only = ~unweighted & ((band_m > 0) & (band_count == 0)).any(axis=1)
    raked = ~unweighted & ~sex_only
    case = np.where(unweighted, 2, np.where(sex_only, 1, 0))

    w = np.ones(len(group))
    rounds = np.zeros(groups, dtype=np.int64)
    converged = np.zeros(groups, dtype=bool)
    sex_key, band_key = group * n_sex + sex, group * n_band + band

    # Each step and check works on the rows of the groups still active only: a group that
    # met its margins is never touched again, and most groups meet them in a few rounds
    # while some never do (max_rounds). A bin's total adds the same values in the same
    # order as over every row, so the weights are bit for bit those of whole-array steps.
    def totals(rows: np.ndarray, key: np.ndarray, cells: int) -> np.ndarray:
        return _totals_of(key[rows], cells, groups, w[rows] * copies[rows])

    def step(rows: np.ndarray, key: np.ndarray, cells: int, margins: np.ndarray) -> None:
        t = totals(rows, key, cells)
        factor = np.divide(margins, t, out=np.ones_like(t), where=t > 0).reshape(-1)
        w[rows] = w[rows] * factor[key[rows]]

    step(np.flatnonzero(sex_only[group]), sex_key, n_sex, sex_m)
    active = raked.copy()
    rows = np.flatnonzero(active[group])
    for r in range(1, max_rounds + 1):
        if not active.any():
            break
        step(rows, sex_key, n_sex, sex_m)
        step(rows, band_key, n_band, band_m)
        rounds[active] = r
        met = _within(totals(rows, sex_key, n_sex), sex_m, tolerance) & _within(
            totals(rows, band_key, n_band), band_m, tolerance
        )
        converged |= active & met
        active &= ~met
        rows = rows[active[group[rows]]]
    converged |= sex_only & _within(_totals(group, sex, n_sex, groups, w * copies), sex_m, tolerance)
    converged |= unweighted

    untrimmed = w.copy()
    sums = np.bincount(group, weights=w * copies, minlength=groups).astype(float)
    mean = np.divide(sums, n, out=np.zeros(groups), where=n > 0)
    clipped = np.clip(w, trim_low * mean[group], trim_high * mean[group])
    target = np.where(unweighted, n, sex_m.sum(axis=1))
    clipped_sums = np.bincount(group, weights=clipped * copies, minlength=groups).astype(float)
    scale = np.divide(target, clipped_sums, out=np.ones(groups), where=clipped_sums > 0)
    weights = clipped * scale[group]

    weighting = np.where(n > 0, CASES[case], None)
    return RakingResult(weights=weights, untrimmed=untrimmed, weighting=weighting, rounds=rounds, converged=converged)
