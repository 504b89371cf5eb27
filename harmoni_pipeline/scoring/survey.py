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


def item_scores(values: np.ndarray, items: list[str], methodology: Methodology, overwrite: bool = False) -> np.ndarray:
    """``100·(x − min)/(max − min)``, reversed items ``100 − that``; missing stays NaN.
    ``overwrite``: compute in ``values`` itself (a float array the caller gives up), the
    same operations in the same order, without an N×I temporary per step (issue 19)."""
    lo, hi = methodology.scale
    s = values if overwrite else np.array(values, dtype=float)
    s -= lo
    s *= 100.0
    s /= hi - lo
    reverse = np.flatnonzero([item in methodology.reverse_items for item in items])
    if len(reverse):
        s[:, reverse] = 100.0 - s[:, reverse]
    return s


def item_values(frame: pd.DataFrame, items: list[str], rows: np.ndarray | None = None) -> np.ndarray:
    """The answers to ``items`` (N×I floats, missing → NaN) of the frame's rows at
    positions ``rows`` (default all), taken column by column: the window's nullable
    integer columns as one ``to_numpy`` over the frame go through Python objects, and
    ``frame.iloc[rows]`` would copy every column of the window (issue 19)."""
    n = len(frame) if rows is None else len(rows)
    values = np.empty((n, len(items)))
    for j, item in enumerate(items):  # a loop over the items, not over rows
        column = frame[item].to_numpy(dtype=float, na_value=np.nan)
        values[:, j] = column if rows is None else column[rows]
    return values


def respondent_scores(frame: pd.DataFrame, variables: list[str], methodology: Methodology,
                      rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Aspect scores (N×V×A; one item per variable and aspect in the current methodology, so the mean
    of the present items is that item) and variable scores (N×V: the mean of the
    aspects, NaN when any aspect is missing), of the frame's rows at ``rows`` (default all)."""
    aspects = methodology.aspects
    items = [f"{v}_{a}" for v in variables for a in aspects]
    values = item_values(frame, items, rows)
    aspect = item_scores(values, items, methodology, overwrite=True).reshape(len(values), len(variables), len(aspects))
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
    # per respondent of the index (for the IHaI confidence interval and the auditor's trail)
    rows: np.ndarray                # N_index: positions in the window frame
    group: np.ndarray               # N_index
    weights: np.ndarray             # N_index
    respondent_variable: np.ndarray  # N_index×V
    raking: raking.RakingResult
    design: "Design | None" = None  # the respondents and their raking codes (bootstrap, groups)

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


@dataclass
class Design:
    """The respondents of one index and what raking needs: their positions in the
    survey window (``rows``: each respondent who answered at least one of the index's
    items, in scope), their kecamatan (``group``), sex and age-band codes, and the
    kecamatan margins. ``window`` is the window itself, not a copy: :meth:`column`
    takes one of its columns for the respondents."""

    window: pd.DataFrame
    rows: np.ndarray  # positions of the respondents in the window
    group: np.ndarray
    sex: np.ndarray
    band: np.ndarray
    sex_margins: np.ndarray
    band_margins: np.ndarray
    has_margins: np.ndarray

    def column(self, name: str) -> pd.Series:
        """The window's column ``name`` for the respondents, in their order."""
        return self.window[name].iloc[self.rows]

    def rake(self, methodology: Methodology, group=None, sex=None, band=None, copies: int = 1,
             counts=None) -> raking.RakingResult:
        """Raking weights of these respondents, or of a resample of them (``group``,
        ``sex``, ``band`` given, ``copies`` stacked resamples with groups ``r·G + g``;
        ``counts``: respondents per row when rows are cells, see :func:`raking.rake`)."""
        params = methodology.raking
        tile = (lambda m: np.tile(m, (copies, 1))) if copies > 1 else (lambda m: m)
        return raking.rake(
            self.group if group is None else group, self.sex if sex is None else sex, self.band if band is None else band,
            tile(self.sex_margins), tile(self.band_margins), np.tile(self.has_margins, copies),
            tolerance=float(params["tolerance"]), max_rounds=int(params["max_rounds"]),
            trim_low=float(params["trim"]["low"]), trim_high=float(params["trim"]["high"]), counts=counts,
        )


def design(window: pd.DataFrame, variables: list[str], codes: pd.Index, population: pd.DataFrame,
           methodology: Methodology) -> Design:
    """The index's respondents among the window's (those who answered at least one of its
    items, in a kecamatan of ``codes``) with their raking codes and margins."""
    aspects = methodology.aspects
    items = [f"{v}_{a}" for v in variables for a in aspects]
    in_scope = np.asarray(member(window["kode_kecamatan"], codes))
    answered = np.zeros(len(window), dtype=bool)
    for item in items:  # column by column: no copy of the window's item columns
        answered |= window[item].notna().to_numpy()
    rows = np.flatnonzero(in_scope & answered)
    kecamatan = window["kode_kecamatan"].iloc[rows]
    group = codes.get_indexer(kecamatan)

    sexes = sex_labels(methodology)
    sex = pd.Categorical(window["jenis_kelamin"].iloc[rows], categories=sexes).codes.astype(np.int64)
    band = band_of_age(window["umur"].iloc[rows], methodology)
    if (sex < 0).any() or (band < 0).any():
        raise ValueError("survey window holds a respondent without a valid sex or age band")
    pop = population.reindex(codes)
    sex_m = pop[[f"m_sex_{s}" for s in sexes]].to_numpy(dtype=float, na_value=0.0)
    band_m = pop[[f"m_band_{b[0]}" for b in methodology.raking["age_bands"]]].to_numpy(dtype=float, na_value=0.0)
    has_margins = pop["has_margins"].fillna(False).to_numpy(dtype=bool)
    return Design(window, rows, np.asarray(group, dtype=np.int64), sex, np.asarray(band, dtype=np.int64), sex_m, band_m, has_margins)


def variable_means(cell: np.ndarray, cells: int, weights: np.ndarray, variable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and count of each variable (columns of ``variable``, N×V) per cell
    (``cell``: 0 … cells−1 per respondent): two cells × V arrays."""
    v = variable.shape[1]
    means, counts = np.full((cells, v), np.nan), np.zeros((cells, v), dtype=np.int64)
    for j in range(v):  # a loop over the variables, not over rows
        means[:, j], counts[:, j] = _group_mean(cell, cells, weights, variable[:, j])
    return means, counts


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
    plan = design(window, variables, codes, population, methodology)
    group, groups = plan.group, len(codes)
    raked = plan.rake(methodology)
    w = raked.weights

    aspect, variable = respondent_scores(window, variables, methodology, plan.rows)
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
        aspect_score=aspect_score, aspect_n=aspect_n, rows=plan.rows, group=group, weights=w,
        respondent_variable=variable, raking=raked, design=plan,
    )
