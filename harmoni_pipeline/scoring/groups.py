"""Scores by respondent group: IHaI and the IKN survey pillar per kecamatan × group of
sex, age band, education and profession, with small-cell suppression.

Room: cell means with the published raking weights (the respondents' own, so a kecamatan
whose respondents are all of one group gets its published score back), the ``min_n``
rule of the methodology per cell, and complementary suppression. Table shape is
:mod:`.uncertainty_marts`'.

Suppression (``alasan_null``): a group with fewer than ``min_n`` respondents, or fewer
than ``min_n`` answers to any variable, is ``insufficient_sample``; where a kecamatan's
own score is not published every group carries the kecamatan's status. Complementary:
when exactly one group of a (kecamatan, dimension) is suppressed for its size and the
kecamatan's score is published, the smallest published group of the dimension is
suppressed too (``complementary_suppression``) — otherwise the overall score and the
other groups would reveal it. Only groups with at least one respondent have a row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.scoring.survey import INSUFFICIENT, OK, IndexScores, variable_means

COMPLEMENTARY = "complementary_suppression"


def group_labels(scores: IndexScores, methodology: Methodology) -> dict[str, np.ndarray]:
    """Per dimension of ``groups.dimensions`` present in the survey window, the label of
    each of the index's respondents (object array; missing → ``missing_label``). A coded
    column absent from the window, or empty, leaves its dimension out."""
    plan = scores.design
    spec = methodology.raw["groups"]
    missing = str(spec["missing_label"])
    bands = np.array([b[0] for b in methodology.raking["age_bands"]], dtype=object)
    out: dict[str, np.ndarray] = {}
    for dim in spec["dimensions"]:
        if dim == "kelompok_umur":
            out[dim] = bands[plan.band]
        elif dim in plan.window.columns and (column := plan.column(dim)).notna().any():
            values = column.astype("string").str.strip()
            out[dim] = values.where(values.notna() & (values != ""), missing).to_numpy(dtype=object)
    return out


def group_scores(scores: IndexScores, labels: dict[str, np.ndarray], weights: np.ndarray, min_n: int) -> pd.DataFrame:
    """Long frame ``kode_kecamatan, dimensi_kelompok, kelompok, n, skor, alasan_null``:
    ``skor = Σ W·V / Σ W`` over the cell's weighted variable means (``weights`` per
    variable; equal weights give the IKN survey pillar)."""
    plan, codes = scores.design, scores.codes
    G = len(codes)
    frames = []
    for dim, label in labels.items():
        kinds, code = np.unique(label.astype(str), return_inverse=True)
        K = len(kinds)
        cell = plan.group * K + code
        means, counts = variable_means(cell, G * K, scores.weights, scores.respondent_variable)
        n = np.bincount(cell, minlength=G * K)
        skor = (means * weights).sum(axis=1) / weights.sum()
        present = np.flatnonzero(n > 0)
        g = present // K
        frame = pd.DataFrame({
            "kode_kecamatan": codes.to_numpy()[g], "dimensi_kelompok": dim, "kelompok": kinds[present % K],
            "n": n[present].astype(np.int64), "skor": skor[present],
        })
        small = (n[present] < min_n) | (counts[present] < min_n).any(axis=1)
        status = np.asarray(scores.status, dtype=object)[g]
        reason = np.where(status != OK, status, np.where(small, INSUFFICIENT, None))
        frame["alasan_null"] = _complement(frame, reason, status == OK)
        frame.loc[frame["alasan_null"].notna(), "skor"] = np.nan
        frames.append(frame)
    columns = ["kode_kecamatan", "dimensi_kelompok", "kelompok", "n", "skor", "alasan_null"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "skor" else object) for c in columns})
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["kode_kecamatan", "dimensi_kelompok", "kelompok"], kind="stable").reset_index(drop=True)[columns]


def _complement(frame: pd.DataFrame, reason: np.ndarray, published: np.ndarray) -> np.ndarray:
    """Add complementary suppression: in each (kecamatan, dimension) of a published
    kecamatan with exactly one suppressed group, also the smallest unsuppressed group."""
    reason = reason.copy()
    key = frame["kode_kecamatan"].astype(str) + "\x00" + frame["dimensi_kelompok"].astype(str)
    suppressed = pd.Series(pd.notna(reason) & published, index=frame.index)
    lonely = suppressed.groupby(key).transform("sum") == 1
    candidates = frame[lonely & ~pd.Series(pd.notna(reason), index=frame.index)]
    if len(candidates):
        ordered = candidates.sort_values(["n", "kelompok"], kind="stable")
        pick = ordered.groupby(key[ordered.index], sort=False).head(1).index
        reason[pick.to_numpy()] = COMPLEMENTARY
    return reason
