"""Survey scoring shared by IHaI and the IKN survey pillar, methodology §1.1–§1.7.

Room: item → aspect → variable scores per respondent, the per-index respondent set and
its raking, weighted kecamatan variable and aspect scores with their ``n``, ``n_eff``
and the ``min_n`` status. Arrays over respondents (N) × variables (V) × aspects (A);
kecamatan sums by ``np.bincount`` — no loop over respondents or kecamatan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.scoring import raking
from harmoni_pipeline.scoring.population import band_of_age, sex_labels
from harmoni_pipeline.scoring.arrays import member

OK, INSUFFICIENT, NO_DATA = "ok", "insufficient_sample", "no_data"
ALL_ASPECTS = "ALL"


def item_scores(values: np.ndarray, items: list[str], methodology: Methodology) -> np.ndarray:
    """``100·(x − min)/(max − min)``, reversed items ``100 − that``; missing stays NaN."""
    lo, hi = methodology.scale
    s = 100.0 * (np.asarray(values, dtype=float) - lo) / (hi - lo)
    reverse = np.array([item in methodology.reverse_items for item in items])
    return np.where(reverse[None, :], 100.0 - s, s)


def respondent_scores(frame: pd.DataFrame, variables: list[str], methodology: Methodology) -> tuple[np.ndarray, np.ndarray]:
    """Aspect scores (N×V×A; one item per variable and aspect in the current methodology, so the mean
    of the present items is that item) and variable scores (N×V: the mean of the
    aspects, NaN when any aspect is missing)."""
    aspects = methodology.aspects
    items = [f"{v}_{a}" for v in variables for a in aspects]
    values = frame[items].to_numpy(dtype=float, na_value=np.nan)
    aspect = item_scores(values, items, methodology).reshape(len(frame), len(variables), len(aspects))
    variable = aspect.mean(axis=2)  # NaN propagates: a missing aspect leaves V missing
    return aspect, variable


@dataclass
class IndexScores:
    """Kecamatan-level survey results of one index (IHaI or IKN survey pillar)."""

    codes: pd.Index                 # kecamatan codes (G)
    variables: list[str]            # V
    aspects: list[str]              # A
    n: np.ndarray                   # G: respondents of the index
    n_eff: np.ndarray               # G
    weighting: np.ndarray           # G: raked | sex_only | unweighted | None
    status: np.ndarray              # G: ok | insufficient_sample | no_data
    variable_score: np.ndarray      # G×V (NaN where no respondent has V)
    variable_n: np.ndarray          # G×V
    aspect_score: np.ndarray        # G×V×A
    aspect_n: np.ndarray            # G×V×A
    # per respondent of the index (for the IHaI confidence interval)
    group: np.ndarray               # N_index
    weights: np.ndarray             # N_index
    respondent_variable: np.ndarray  # N_index×V
    raking: raking.RakingResult

    @property
    def ok(self) -> np.ndarray:
        return self.status == OK

    def long(self, variable_label: str) -> pd.DataFrame:
        """Rows ``kode_kecamatan, <variable_label>, aspek, skor, n`` for ok kecamatan:
        every variable × (each aspect, and ``ALL`` = the variable score)."""
        g, v, a = self.aspect_score.shape
        keep = np.flatnonzero(self.ok)
        labels = self.aspects + [ALL_ASPECTS]
        score = np.concatenate([self.aspect_score, self.variable_score[:, :, None]], axis=2)[keep]
        count = np.concatenate([self.aspect_n, self.variable_n[:, :, None]], axis=2)[keep]
        k = len(keep)
        return pd.DataFrame(
            {
                "kode_kecamatan": np.repeat(self.codes.to_numpy()[keep], v * (a + 1)),
                variable_label: np.tile(np.repeat(np.array(self.variables, dtype=object), a + 1), k),
                "aspek": np.tile(np.array(labels, dtype=object), k * v),
                "skor": score.reshape(-1),
                "n": count.reshape(-1).astype(np.int64),
            }
        )


def _group_mean(group: np.ndarray, groups: int, weights: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and count per group over the rows where ``values`` is present."""
    present = ~np.isnan(values)
    w = np.where(present, weights, 0.0)
    num = np.bincount(group, weights=w * np.where(present, values, 0.0), minlength=groups)
    den = np.bincount(group, weights=w, minlength=groups)
    count = np.bincount(group, weights=present.astype(float), minlength=groups)
    mean = np.divide(num, den, out=np.full(groups, np.nan), where=count > 0)
    return mean, count.astype(np.int64)


def score_index(
    window: pd.DataFrame,
    variables: list[str],
    codes: pd.Index,
    population: pd.DataFrame,
    methodology: Methodology,
) -> IndexScores:
    """Rake and score one index over the window's respondents who answered at least one
    of its items, per kecamatan of ``codes`` (responses of other kecamatan are ignored)."""
    aspects = methodology.aspects
    items = [f"{v}_{a}" for v in variables for a in aspects]
    in_scope = member(window["kode_kecamatan"], codes)
    answered = window[items].notna().any(axis=1).to_numpy()
    frame = window[in_scope & answered]
    groups = len(codes)
    group = codes.get_indexer(frame["kode_kecamatan"])

    sexes = sex_labels(methodology)
    sex = pd.Categorical(frame["jenis_kelamin"], categories=sexes).codes.astype(np.int64)
    band = band_of_age(frame["umur"], methodology)
    if (sex < 0).any() or (band < 0).any():
        raise ValueError("survey window holds a respondent without a valid sex or age band")
    pop = population.reindex(codes)
    sex_m = pop[[f"m_sex_{s}" for s in sexes]].to_numpy(dtype=float, na_value=0.0)
    band_m = pop[[f"m_band_{b[0]}" for b in methodology.raking["age_bands"]]].to_numpy(dtype=float, na_value=0.0)
    has_margins = pop["has_margins"].fillna(False).to_numpy(dtype=bool)
    params = methodology.raking
    raked = raking.rake(
        group, sex, band, sex_m, band_m, has_margins,
        tolerance=float(params["tolerance"]), max_rounds=int(params["max_rounds"]),
        trim_low=float(params["trim"]["low"]), trim_high=float(params["trim"]["high"]),
    )
    w = raked.weights

    aspect, variable = respondent_scores(frame, variables, methodology)
    v, a = len(variables), len(aspects)
    variable_score = np.full((groups, v), np.nan)
    variable_n = np.zeros((groups, v), dtype=np.int64)
    aspect_score = np.full((groups, v, a), np.nan)
    aspect_n = np.zeros((groups, v, a), dtype=np.int64)
    for j in range(v):  # loops over the 10 variables and 3 aspects, not over rows
        variable_score[:, j], variable_n[:, j] = _group_mean(group, groups, w, variable[:, j])
        for k in range(a):
            aspect_score[:, j, k], aspect_n[:, j, k] = _group_mean(group, groups, w, aspect[:, j, k])

    n = np.bincount(group, minlength=groups)
    sw = np.bincount(group, weights=w, minlength=groups)
    sw2 = np.bincount(group, weights=w * w, minlength=groups)
    n_eff = np.divide(sw * sw, sw2, out=np.zeros(groups), where=sw2 > 0)
    min_n = methodology.min_n
    enough = (n >= min_n) & (variable_n >= min_n).all(axis=1)
    status = np.where(n == 0, NO_DATA, np.where(enough, OK, INSUFFICIENT)).astype(object)
    return IndexScores(
        codes=codes, variables=list(variables), aspects=list(aspects), n=n, n_eff=n_eff,
        weighting=raked.weighting, status=status, variable_score=variable_score, variable_n=variable_n,
        aspect_score=aspect_score, aspect_n=aspect_n, group=group, weights=w,
        respondent_variable=variable, raking=raked,
    )
