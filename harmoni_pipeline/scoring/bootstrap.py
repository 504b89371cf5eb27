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
    """``draws`` bootstrap replicates (raking redone), in chunks of replicates."""
    plan = scores.design
    if plan is None:
        raise ValueError("bootstrap needs the index's design (survey.score_index keeps it)")
    groups = len(scores.codes)
    order = np.argsort(plan.group, kind="stable")
    group = plan.group[order]
    sex, band = plan.sex[order], plan.band[order]
    variable = scores.respondent_variable[order]
    n = np.bincount(group, minlength=groups)
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    rows = len(group)
    v = variable.shape[1]
    raked = np.full((draws, groups, v), np.nan)
    unweighted = np.full((draws, groups, v), np.nan)
    per_chunk = max(1, min(draws, max_rows // max(rows, 1)))
    for lo in range(0, draws, per_chunk):
        copies = min(per_chunk, draws - lo)
        # each respondent slot draws a respondent of its own kecamatan
        pick = start[group][None, :] + np.floor(rng.random((copies, rows)) * n[group][None, :]).astype(np.int64)
        pick = pick.reshape(-1)
        stacked_group = (np.arange(copies)[:, None] * groups + group[None, :]).reshape(-1)
        weights = plan.rake(methodology, stacked_group, sex[pick], band[pick], copies=copies).weights
        cells = copies * groups
        values = variable[pick]
        means, _ = variable_means(stacked_group, cells, weights, values)
        plain, _ = variable_means(stacked_group, cells, np.ones(len(pick)), values)
        raked[lo:lo + copies] = means.reshape(copies, groups, v)
        unweighted[lo:lo + copies] = plain.reshape(copies, groups, v)
    return Replicates(raked, unweighted)
