"""Uncertainty and sensitivity of IHaI and IKN scores and ranks: a Monte Carlo over the
methodology's own choices, with Sobol indices of each kecamatan's rank (docs/uncertainty.md).

Room: each index as a vectorised function of uniform inputs (draws × kecamatan arrays,
the published formulas of :mod:`.ihai`, :mod:`.ikn` and :mod:`.context` restated over a
leading draw axis), ranks within a unit per draw, and the per-kecamatan summaries. The
sampling part (bootstrap, raking redone) is :mod:`.bootstrap`'s; the estimators are
:mod:`.sobol`'s; table shapes are :mod:`.uncertainty_marts`'.

Inputs (a factor is left out when its setting makes it constant):

- ``sampel`` — which bootstrap replicate of the respondents (raking redone);
- ``bobot`` — IHaI variable weights × U(1 − w, 1 + w), renormalised;
- ``eksponen`` — IKN pillar exponents × U(1 − w, 1 + w), renormalised to their sum;
- ``agregasi`` — the other aggregation with probability ``aggregation_switch``
  (IHaI: weighted geometric mean; IKN: weighted arithmetic mean);
- ``batas_konteks`` — each context goalpost moved by up to ± ``goalpost_noise`` of its
  range;
- ``raking`` — unweighted kecamatan means with probability ``raking_off``.

The Monte Carlo draws are the rows of the Saltelli matrices A and B (2N); the Sobol
indices use those and the N·d rows of the AB matrices.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from harmoni_pipeline.methodology import Bands, Methodology
from harmoni_pipeline.scoring import sobol
from harmoni_pipeline.scoring.bootstrap import Replicates


@dataclass(frozen=True)
class Settings:
    """The ``uncertainty`` section of the methodology YAML."""

    seed: int
    draws: int
    bootstrap_draws: int
    weight_noise: float
    exponent_noise: float
    goalpost_noise: float
    aggregation_switch: float
    raking_off: float
    chunk: int
    quantiles: tuple[float, float]

    @classmethod
    def of(cls, methodology: Methodology, **overrides) -> "Settings":
        raw = {**methodology.raw["uncertainty"], **overrides}
        return cls(
            seed=int(raw["seed"]), draws=int(raw["draws"]), bootstrap_draws=int(raw["bootstrap_draws"]),
            weight_noise=float(raw["weight_noise"]), exponent_noise=float(raw["exponent_noise"]),
            goalpost_noise=float(raw["goalpost_noise"]), aggregation_switch=float(raw["aggregation_switch"]),
            raking_off=float(raw["raking_off"]), chunk=max(1, int(raw["chunk"])),
            quantiles=(float(raw["quantiles"][0]), float(raw["quantiles"][1])),
        )

    @property
    def n_draws(self) -> int:
        """Monte Carlo draws summarised per kecamatan (the rows of A and B)."""
        return 2 * self.draws


@dataclass
class Model:
    """An index as a function of uniforms: ``evaluate(u)`` maps m × k uniforms to m × G
    scores (NaN where the index is not published)."""

    inputs: list[tuple[str, int]]
    evaluate: Callable[[np.ndarray], np.ndarray]

    @property
    def slices(self) -> dict[str, slice]:
        edges = np.concatenate([[0], np.cumsum([w for _, w in self.inputs])]).astype(int)
        return {name: slice(int(lo), int(hi)) for (name, _), lo, hi in zip(self.inputs, edges[:-1], edges[1:])}


def _factors(settings: Settings, replicates: Replicates, extra: list[tuple[str, int, float]]) -> list[tuple[str, int]]:
    active = [("sampel", 1, replicates.count > 1), *((n, w, s > 0) for n, w, s in extra),
              ("raking", 1, settings.raking_off > 0)]
    return [(name, width) for name, width, on in active if on]


class _Draw:
    """Column access to a chunk of uniforms, with the published value where a factor is off."""

    def __init__(self, u: np.ndarray, slices: dict[str, slice]):
        self.u, self.slices, self.m = u, slices, len(u)

    def get(self, name: str, width: int) -> np.ndarray | None:
        return self.u[:, self.slices[name]] if name in self.slices else None

    def replicate(self, count: int) -> np.ndarray:
        u = self.get("sampel", 1)
        return np.zeros(self.m, dtype=np.int64) if u is None else np.minimum((u[:, 0] * count).astype(np.int64), count - 1)

    def switch(self, name: str, share: float) -> np.ndarray:
        u = self.get(name, 1)
        return np.zeros(self.m, dtype=bool) if u is None else u[:, 0] < share

    def scaled(self, name: str, base: np.ndarray, noise: float) -> np.ndarray:
        u = self.get(name, len(base))
        return np.broadcast_to(base, (self.m, len(base))) if u is None else base * (1.0 + noise * (2.0 * u - 1.0))


def ihai_model(replicates: Replicates, weights: np.ndarray, published: np.ndarray, settings: Settings,
               floor: float) -> Model:
    """IHaI = Σ W·V / Σ W (published) or Π V^(W/ΣW) (geometric, V floored), over the
    replicate's raked or unweighted variable scores; NaN where ``published`` is NaN."""
    stacked = replicates.stacked()  # 2 × R × G × V
    count = replicates.count  # the closure keeps only the count: the replicates, as large as the stack, go on return
    keep = ~np.isnan(published)
    inputs = _factors(settings, replicates, [("bobot", len(weights), settings.weight_noise),
                                             ("agregasi", 1, settings.aggregation_switch)])
    model = Model(inputs, lambda u: None)

    def evaluate(u: np.ndarray) -> np.ndarray:
        d = _Draw(u, model.slices)
        V = stacked[d.switch("raking", settings.raking_off).astype(np.int64), d.replicate(count)]
        W = d.scaled("bobot", weights, settings.weight_noise)
        total = W.sum(axis=-1)[:, None]
        arithmetic = (V * W[:, None, :]).sum(axis=-1) / total
        with np.errstate(divide="ignore", invalid="ignore"):
            geometric = np.exp((np.log(np.maximum(V, floor)) * W[:, None, :]).sum(axis=-1) / total)
        score = np.where(d.switch("agregasi", settings.aggregation_switch)[:, None], geometric, arithmetic)
        return np.where(keep[None, :], score, np.nan)

    model.evaluate = evaluate
    return model


@dataclass(frozen=True)
class IknParts:
    """What the IKN model holds fixed or recomputes: the survey pillar per replicate
    (2 × R × G), the event pillar (G), the context values (G × I, NaN where absent)
    with each indicator's direction (+1/−1) and goalposts, the exponents (S, E, C)."""

    survey: np.ndarray
    events: np.ndarray
    context: np.ndarray
    direction: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    min_indicators: int
    exponents: np.ndarray
    floor: float
    replicates: int


def context_pillar(values: np.ndarray, direction: np.ndarray, lo: np.ndarray, hi: np.ndarray, min_indicators: int) -> np.ndarray:
    """C per draw × kecamatan from G × I values and m × I goalposts (methodology §3 C)."""
    up = 100.0 * (values[None, :, :] - lo[:, None, :]) / (hi - lo)[:, None, :]
    score = np.clip(np.where(direction[None, None, :] > 0, up, 100.0 - up), 0.0, 100.0)
    count = (~np.isnan(values)).sum(axis=1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a kecamatan without any value: NaN, as published
        mean = np.nanmean(np.where(np.isnan(values)[None], np.nan, score), axis=2) if values.shape[1] else np.full((len(lo), values.shape[0]), np.nan)
    return np.where(count[None, :] >= min_indicators, mean, np.nan)


def ikn_model(parts: IknParts, published: np.ndarray, settings: Settings) -> Model:
    """IKN = S^eS · E^eE · C^eC (published; pillars floored) or (eS·S + eE·E + eC·C)/Σe."""
    keep = ~np.isnan(published)
    width = np.maximum(parts.hi - parts.lo, 0.0)
    replicates = Replicates(parts.survey[0][..., None], parts.survey[1][..., None])
    inputs = _factors(settings, replicates, [("eksponen", 3, settings.exponent_noise),
                                             ("agregasi", 1, settings.aggregation_switch),
                                             ("batas_konteks", 2 * len(parts.lo), settings.goalpost_noise)])
    model = Model(inputs, lambda u: None)

    def evaluate(u: np.ndarray) -> np.ndarray:
        d = _Draw(u, model.slices)
        S = parts.survey[d.switch("raking", settings.raking_off).astype(np.int64), d.replicate(parts.replicates)]
        e = d.scaled("eksponen", parts.exponents, settings.exponent_noise)
        e = e * (parts.exponents.sum() / e.sum(axis=1))[:, None]
        shift = d.get("batas_konteks", 2 * len(parts.lo))
        lo = np.broadcast_to(parts.lo, (d.m, len(parts.lo)))
        hi = np.broadcast_to(parts.hi, (d.m, len(parts.hi)))
        if shift is not None:
            k = len(parts.lo)
            lo = lo + settings.goalpost_noise * width * (2.0 * shift[:, :k] - 1.0)
            hi = hi + settings.goalpost_noise * width * (2.0 * shift[:, k:] - 1.0)
        C = context_pillar(parts.context, parts.direction, lo, hi, parts.min_indicators)
        S, E, C = (np.maximum(p, parts.floor) for p in (S, np.broadcast_to(parts.events, S.shape), C))
        geometric = S ** e[:, 0:1] * E ** e[:, 1:2] * C ** e[:, 2:3]
        arithmetic = (e[:, 0:1] * S + e[:, 1:2] * E + e[:, 2:3] * C) / e.sum(axis=1)[:, None]
        score = np.where(d.switch("agregasi", settings.aggregation_switch)[:, None], arithmetic, geometric)
        return np.where(keep[None, :], score, np.nan)

    model.evaluate = evaluate
    return model


def ranks(scores: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Rank of each kecamatan within its unit per draw (m × G; 1 = the highest score;
    ties by position; NaN scores are unranked)."""
    scores = np.atleast_2d(scores)
    m, g = scores.shape
    key = np.where(np.isnan(scores), np.inf, -scores)
    order = np.lexsort((key, np.broadcast_to(unit, (m, g))), axis=-1)
    counts = np.bincount(unit, minlength=int(unit.max()) + 1 if g else 0)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sorted_unit = np.sort(unit, kind="stable")
    position = np.arange(g) - start[sorted_unit] + 1
    out = np.empty((m, g))
    np.put_along_axis(out, order, np.broadcast_to(position.astype(float), (m, g)), axis=-1)
    return np.where(np.isnan(scores), np.nan, out)


def band_index(scores: np.ndarray, bands: Bands) -> np.ndarray:
    """Index of each score's band (0 = the first, highest band); −1 for NaN."""
    out = np.zeros(scores.shape, dtype=np.int64)
    for lo in bands.lower:
        if lo is not None:
            out += scores < lo
    return np.where(np.isnan(scores), -1, out)


# Sobol indices of a rank are reported where the rank moves enough for them to mean
# something: a variance of 0.05 is a rank that differs by one in about 5 % of the draws.
MIN_RANK_VARIANCE = 0.05


@dataclass
class Outcome:
    """One index's analysis: draws (2N × G) of scores and of ranks per level, Sobol
    indices of the kabupaten rank per input (d × G)."""

    inputs: list[str]
    scores: np.ndarray
    ranks: dict[str, np.ndarray]
    s1: np.ndarray
    st: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def analyse(model: Model, units: dict[str, np.ndarray], settings: Settings, rng: np.random.Generator,
            sobol_level: str = "") -> Outcome:
    """Evaluate the Saltelli design of ``model`` in chunks of base rows: keep the A and B
    rows' scores and ranks (the Monte Carlo draws) and the Sobol sums of the rank within
    ``units[sobol_level]`` (the key "" is the kabupaten)."""
    names = [n for n, _ in model.inputs]
    widths = [w for _, w in model.inputs]
    n = settings.draws
    plan = sobol.design(n, widths, rng)
    probe = model.evaluate(plan.a[:1])
    g = probe.shape[1]
    scores = np.empty((2 * n, g))
    rank_draws = {level: np.empty((2 * n, g), dtype=np.float32) for level in units}
    sums = sobol.SobolSums(len(names), (g,))
    unit = units[sobol_level]
    for lo in range(0, n, settings.chunk):
        rows = slice(lo, min(n, lo + settings.chunk))
        fa, fb = model.evaluate(plan.a[rows]), model.evaluate(plan.b[rows])
        scores[rows], scores[n + rows.start:n + rows.stop] = fa, fb
        for level, codes in units.items():
            rank_draws[level][rows] = ranks(fa, codes)
            rank_draws[level][n + rows.start:n + rows.stop] = ranks(fb, codes)
        if names:
            ra, rb = rank_draws[sobol_level][rows].astype(float), rank_draws[sobol_level][n + rows.start:n + rows.stop].astype(float)
            sums.add(ra, rb, [ranks(model.evaluate(plan.ab(i, rows)), unit) for i in range(len(names))])
    s1, st = sums.indices(min_absolute=MIN_RANK_VARIANCE) if names else (np.empty((0, g)), np.empty((0, g)))
    return Outcome(names, scores, rank_draws, s1, st)
