"""Bootstrap replicates of kecamatan variable scores: respondents resampled within their
kecamatan, raking redone on each resample (the sampling part of the uncertainty
analysis, :mod:`.uncertainty`).

Room: resampling and re-weighting only. Each replicate draws, for every kecamatan, as
many respondents as it has, with replacement, from its own respondents; raking
(:func:`harmoni_pipeline.scoring.raking.rake`, the published scores' own function) then
runs on the resample, and the weighted variable means are taken as in
:func:`harmoni_pipeline.scoring.survey.score_index`. Several replicates are stacked into
one raking call (replicate ``r``'s kecamatan ``g`` is group ``r·G + g``), so there is no
loop over kecamatan or respondents — only over chunks of replicates, bounded by
``max_rows`` stacked respondents (memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.scoring.survey import IndexScores, variable_means


@dataclass(frozen=True)
class Replicates:
    """Kecamatan variable scores per replicate: ``raked`` and ``unweighted``, each
    R × G × V. Replicate arrays of R = 1 hold the published sample itself."""

    raked: np.ndarray
    unweighted: np.ndarray

    @property
    def count(self) -> int:
        return self.raked.shape[0]

    def stacked(self) -> np.ndarray:
        """2 × R × G × V: index 0 raked, 1 unweighted."""
        return np.stack([self.raked, self.unweighted])


def published(scores: IndexScores) -> Replicates:
    """The sample as published (raked) and its unweighted counterpart, as one replicate."""
    g = len(scores.codes)
    ones = np.ones(len(scores.group))
    unweighted, _ = variable_means(scores.group, g, ones, scores.respondent_variable)
    return Replicates(scores.variable_score[None].copy(), unweighted[None])


def resample(scores: IndexScores, methodology: Methodology, draws: int, rng: np.random.Generator,
             max_rows: int = 2_000_000) -> Replicates:
    """``draws`` bootstrap replicates (raking redone), in chunks of replicates.

    Raking weights are the same for every respondent of one (kecamatan, sex, age band)
    cell, so each replicate is reduced to its cells — respondent count, per-variable sums
    and answer counts — and raked as cells (``counts``); the weighted means are then
    those of the resampled rows, without raking a million rows per replicate."""
    plan = scores.design
    if plan is None:
        raise ValueError("bootstrap needs the index's design (survey.score_index keeps it)")
    groups = len(scores.codes)
    bands = plan.band_margins.shape[1]
    cells = plan.sex_margins.shape[1] * bands
    order = np.argsort(plan.group, kind="stable")
    group = plan.group[order]
    cell = (plan.sex * bands + plan.band)[order]
    variable = scores.respondent_variable[order]
    # one contiguous row per variable: each gather below reads one array
    values = np.ascontiguousarray(np.nan_to_num(variable, nan=0.0).T)
    missing = np.ascontiguousarray(np.isnan(variable).T)
    incomplete = [j for j in range(variable.shape[1]) if missing[j].any()]
    n = np.bincount(group, minlength=groups)
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    rows, v = variable.shape
    raked = np.full((draws, groups, v), np.nan)
    unweighted = np.full((draws, groups, v), np.nan)
    per_chunk = max(1, min(draws, max_rows // max(rows, 1)))
    for lo in range(0, draws, per_chunk):
        copies = min(per_chunk, draws - lo)
        # each respondent slot draws a respondent of its own kecamatan
        pick = (start[group][None, :] + np.floor(rng.random((copies, rows)) * n[group][None, :]).astype(np.int64)).reshape(-1)
        slot_group = (np.arange(copies)[:, None] * groups + group[None, :]).reshape(-1)
        key = slot_group * cells + cell[pick]
        size = copies * groups * cells
        count = np.bincount(key, minlength=size)
        used = np.flatnonzero(count)
        sums = np.stack([np.bincount(key, weights=values[j][pick], minlength=size)[used] for j in range(v)], axis=1)
        have = np.repeat(count[used][:, None].astype(float), v, axis=1)
        for j in incomplete:  # answers = respondents − those without the variable
            have[:, j] -= np.bincount(key, weights=missing[j][pick], minlength=size)[used]
        cell_group = used // cells
        w = plan.rake(methodology, cell_group, (used % cells) // bands, used % bands, copies=copies,
                      counts=count[used]).weights
        raked[lo:lo + copies] = _means(cell_group, copies * groups, w[:, None] * sums, w[:, None] * have, have).reshape(copies, groups, v)
        unweighted[lo:lo + copies] = _means(cell_group, copies * groups, sums, have, have).reshape(copies, groups, v)
    return Replicates(raked, unweighted)


def _means(group: np.ndarray, groups: int, numerator: np.ndarray, denominator: np.ndarray, answers: np.ndarray) -> np.ndarray:
    """Per group and variable Σ numerator / Σ denominator over cells; NaN without answers."""
    out = np.full((groups, numerator.shape[1]), np.nan)
    for j in range(numerator.shape[1]):  # a loop over the variables
        num = np.bincount(group, weights=numerator[:, j], minlength=groups)
        den = np.bincount(group, weights=denominator[:, j], minlength=groups)
        seen = np.bincount(group, weights=answers[:, j], minlength=groups) > 0
        np.divide(num, den, out=out[:, j], where=seen)
    return out
