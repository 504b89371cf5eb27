"""IHaI per kecamatan, methodology §2: weighted index, dimensions, PPA aspects, the
confidence interval, the PER–PAR gap flag, the category, and the NULLs of §5.

Room: formulas over :class:`~harmoni_pipeline.scoring.survey.IndexScores` of the ten
IHaI variables. Roll-ups are :mod:`.rollup`'s; table shapes are :mod:`.marts`'.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.scoring.survey import IndexScores

ASPECT_COLUMNS = {"PER": "aspek_persepsi", "PAR": "aspek_partisipasi", "AKS": "aspek_akseptabilitas"}


def _weighted(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ W·s / Σ W along the last axis (NaN where any score is NaN)."""
    return (scores * weights).sum(axis=-1) / weights.sum()


def ihai_kecamatan(scores: IndexScores, methodology: Methodology) -> pd.DataFrame:
    """One row per kecamatan: ``n_responden, n_efektif, weighting, status, ihai,
    ihai_skala10, kategori, ci_low, ci_high, dim_*, aspek_*, gap_persepsi_partisipasi``."""
    weights_by_var = methodology.ihai_weights
    W = np.array([weights_by_var[v] for v in scores.variables])
    out = pd.DataFrame(index=scores.codes)
    out["n_responden"] = scores.n.astype(np.int64)
    out["n_efektif"] = scores.n_eff
    out["weighting"] = pd.array(scores.weighting, dtype="string")
    out["status"] = pd.array(scores.status, dtype="string")
    ok = scores.ok

    ihai = np.where(ok, _weighted(scores.variable_score, W), np.nan)
    out["ihai"] = ihai
    out["ihai_skala10"] = ihai / 10.0
    out["kategori"] = methodology.ihai_bands.classify(pd.Series(ihai, index=scores.codes))

    # Uncertainty: respondent composites H_i over respondents with all ten variables.
    complete = ~np.isnan(scores.respondent_variable).any(axis=1)
    g, w = scores.group[complete], scores.weights[complete]
    H = _weighted(scores.respondent_variable[complete], W)
    groups = len(scores.codes)
    count = np.bincount(g, minlength=groups)
    sw = np.bincount(g, weights=w, minlength=groups)
    sw2 = np.bincount(g, weights=w * w, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        h_bar = np.bincount(g, weights=w * H, minlength=groups) / sw
        variance = np.bincount(g, weights=w * (H - h_bar[g]) ** 2, minlength=groups) / sw
        n_eff_h = sw * sw / sw2
        se = np.sqrt(variance) / np.sqrt(n_eff_h)
    half = float(methodology.ihai["ci_z"]) * se
    has_ci = ok & (count >= 2)
    out["ci_low"] = np.where(has_ci, ihai - half, np.nan)
    out["ci_high"] = np.where(has_ci, ihai + half, np.nan)

    dimension_of = methodology.ihai_dimension_of
    for dim in methodology.ihai["dimensions"]:
        sel = np.array([dimension_of[v] == dim for v in scores.variables])
        out[f"dim_{dim}"] = np.where(ok, _weighted(scores.variable_score[:, sel], W[sel]), np.nan)
    for k, aspect in enumerate(scores.aspects):
        out[ASPECT_COLUMNS[aspect]] = np.where(ok, _weighted(scores.aspect_score[:, :, k], W), np.nan)
    gap = out["aspek_persepsi"] - out["aspek_partisipasi"] >= float(methodology.ihai["gap_threshold"])
    out["gap_persepsi_partisipasi"] = pd.array(np.where(ok, gap, None), dtype="boolean")
    out.index.name = "kode_kecamatan"
    return out.reset_index()
