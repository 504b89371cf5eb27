"""Variance-based sensitivity (Sobol indices) from a Saltelli design, in numpy.

Room: the sampling design and the estimators, nothing about harmoni's indices. Inputs
may be *groups* of columns (an input "weights" is ten columns that move together); an
input's index is then the index of its group.

Design (Saltelli 2010): two independent matrices ``A`` and ``B`` of ``n`` rows of
uniforms, and for each input ``i`` the matrix ``AB_i`` = ``A`` with the columns of ``i``
taken from ``B`` — ``n·(d + 2)`` model evaluations for ``d`` inputs.

Estimators, for model outputs ``fA``, ``fB``, ``fAB_i`` (any trailing shape, e.g. one
value per kecamatan), with ``V`` the variance of the outputs over ``A`` and ``B``:

- first order (Saltelli 2010): ``S1_i = mean(fB · (fAB_i − fA)) / V``
- total (Jansen 1999): ``ST_i = mean((fA − fAB_i)²) / (2 V)``

Both are accumulated over chunks of rows (:class:`SobolSums`), so the evaluations never
need to be held at once. Where ``V = 0`` (the output never moves) both are NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Design:
    """Uniform samples of one Saltelli design: ``a``, ``b`` (n × k) and the column
    slices of each input (``slices[i]`` = the columns of input ``i``)."""

    a: np.ndarray
    b: np.ndarray
    slices: tuple[slice, ...]

    @property
    def n(self) -> int:
        return self.a.shape[0]

    def ab(self, i: int, rows: slice = slice(None)) -> np.ndarray:
        """``AB_i`` over ``rows``: ``A`` with input ``i``'s columns from ``B``."""
        out = self.a[rows].copy()
        out[:, self.slices[i]] = self.b[rows, self.slices[i]]
        return out


def design(n: int, widths: list[int], rng: np.random.Generator) -> Design:
    """A Saltelli design of ``n`` base rows for inputs of ``widths`` columns each."""
    k = int(sum(widths))
    edges = np.concatenate([[0], np.cumsum(widths)]).astype(int)
    slices = tuple(slice(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]))
    ab = rng.random((2, n, k))
    return Design(a=ab[0], b=ab[1], slices=slices)


class SobolSums:
    """Running sums of the estimators over chunks of base rows; ``shape`` is the shape
    of one evaluation's output (e.g. ``(G,)``), ``d`` the number of inputs."""

    def __init__(self, d: int, shape: tuple[int, ...]):
        self.count = np.zeros(shape)
        self.total = np.zeros(shape)
        self.total_sq = np.zeros(shape)
        self.first = np.zeros((d, *shape))
        self.jansen = np.zeros((d, *shape))
        self.rows = np.zeros(shape)

    def add(self, fa: np.ndarray, fb: np.ndarray, fab: list[np.ndarray]) -> None:
        """Add a chunk: ``fa``, ``fb`` (m × shape) and ``fab[i]`` (m × shape). Rows where
        any of the outputs is NaN are left out (per output element)."""
        valid = ~np.isnan(fa) & ~np.isnan(fb)
        for f in fab:
            valid &= ~np.isnan(f)
        a, b = np.where(valid, fa, 0.0), np.where(valid, fb, 0.0)
        self.rows += valid.sum(axis=0)
        self.count += 2 * valid.sum(axis=0)
        self.total += (a + b).sum(axis=0)
        self.total_sq += (a * a + b * b).sum(axis=0)
        for i, f in enumerate(fab):
            f = np.where(valid, f, 0.0)
            self.first[i] += (b * (f - a)).sum(axis=0)
            self.jansen[i] += ((a - f) ** 2).sum(axis=0)

    def indices(self, min_variance: float = 1e-12, min_absolute: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """``(S1, ST)``, each ``d × shape``; NaN where the output's variance is ≈ 0
        (relative to its mean²) or below ``min_absolute``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.total / self.count
            variance = self.total_sq / self.count - mean * mean
            moving = (variance > min_variance * np.maximum(1.0, mean * mean)) & (variance >= min_absolute)
            s1 = np.where(moving, self.first / self.rows / variance, np.nan)
            st = np.where(moving, self.jansen / self.rows / (2.0 * variance), np.nan)
        return s1, st


def sobol_indices(model, n: int, widths: list[int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(S1, ST)`` of ``model`` (uniform rows m × k → outputs m × shape) in one pass;
    for small models and tests — harmoni's indices evaluate the design in chunks."""
    plan = design(n, widths, rng)
    fa, fb = model(plan.a), model(plan.b)
    sums = SobolSums(len(widths), np.shape(fa)[1:])
    sums.add(fa, fb, [model(plan.ab(i)) for i in range(len(widths))])
    return sums.indices()
