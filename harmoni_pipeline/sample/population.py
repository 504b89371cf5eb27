"""Synthetic kecamatan population by sex and age, spread from real kabupaten totals.

Room: the population table of a sample. Kecamatan-level population is not published in
the project's reference data, so it is SYNTHESISED: each kabupaten/kota's 2025 totals by
sex (Kemendagri, ``penduduk_kabkota_2025.csv``) are split over its kecamatan with
Dirichlet shares, then over five-year age groups with a perturbed Indonesian age pyramid
(approximating the shape of the 2020 census). The split of a kabupaten depends only on the seed
and the kabupaten code, so a kabupaten gets the same kecamatan populations whatever the
scope. Every file that carries these numbers says they are synthetic (:data:`SOURCE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmoni_pipeline.sample.context import SampleContext

SOURCE = "sintetis dari total kabupaten (Kemendagri 2025) — bukan data BPS"
BASE_YEAR = 2025
GROWTH_PER_YEAR = 0.011

FIVE_YEAR_GROUPS = [
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39",
    "40-44", "45-49", "50-54", "55-59", "60-64", "65-69", "70-74", "75+",
]  # fmt: skip
BANDS = ["0-16", "17-24", "25-39", "40-54", "55+"]
SEXES = ["L", "P"]

# Shares (%) of the five-year groups, men and women (shape of the 2020 census pyramid).
_PYRAMID = np.array(
    [
        [8.6, 8.8, 8.7, 8.4, 8.3, 8.0, 7.7, 7.5, 7.2, 6.5, 5.7, 4.7, 3.7, 2.7, 1.7, 1.6],
        [8.2, 8.4, 8.3, 8.0, 8.0, 7.9, 7.7, 7.6, 7.3, 6.7, 5.9, 4.9, 3.9, 3.0, 2.0, 2.3],
    ]
)
_PYRAMID = _PYRAMID / _PYRAMID.sum(axis=1, keepdims=True)
_KECAMATAN_CONCENTRATION = 5.0   # Dirichlet concentration of kecamatan shares (per kecamatan)
_PYRAMID_CONCENTRATION = 300.0   # how closely a kecamatan follows the national pyramid


@dataclass
class Population:
    """Synthetic population of the scope's kecamatan for :data:`BASE_YEAR`.

    ``groups[k, s, g]``: persons of kecamatan ``k`` (context order), sex ``s`` (L, P),
    five-year group ``g``; ``bands[k, s, b]`` the methodology's bands derived from them
    with the contract's even-spread rule (15–19 is 2/5 in 0–16 and 3/5 in 17–24)."""

    ctx: SampleContext
    groups: np.ndarray
    bands: np.ndarray

    def scaled(self, year: int, what: str = "bands") -> np.ndarray:
        values = self.bands if what == "bands" else self.groups
        factor = (1.0 + GROWTH_PER_YEAR) ** (year - BASE_YEAR)
        return np.rint(values * factor).astype(np.int64)

    @property
    def total(self) -> np.ndarray:
        return self.bands.sum(axis=(1, 2))

    def frame(self, year: int = BASE_YEAR) -> pd.DataFrame:
        ctx = self.ctx
        values = self.scaled(year)
        k, s, b = np.meshgrid(np.arange(ctx.n_kec), np.arange(2), np.arange(len(BANDS)), indexing="ij")
        return pd.DataFrame(
            {
                "kode_kecamatan": ctx.kec_code[k.ravel()],
                "nama_kecamatan": ctx.kec_name[k.ravel()],
                "kode_kabupaten": ctx.kec_kab[k.ravel()],
                "jenis_kelamin": np.array(SEXES, dtype=object)[s.ravel()],
                "kelompok_umur": np.array(BANDS, dtype=object)[b.ravel()],
                "jumlah": values.ravel(),
            }
        ).astype({"kode_kecamatan": "string", "nama_kecamatan": "string", "kode_kabupaten": "string",
                  "jenis_kelamin": "string", "kelompok_umur": "string"})  # fmt: skip


def bands_from_groups(groups: np.ndarray) -> np.ndarray:
    """Five-year groups (…, 16) → methodology bands (…, 5), integers, totals preserved."""
    g = groups.astype(np.int64)
    part = np.rint(g[..., 3] * 0.4).astype(np.int64)  # ages 15–16 of the 15–19 group
    return np.stack(
        [
            g[..., 0:3].sum(axis=-1) + part,
            g[..., 3] - part + g[..., 4],
            g[..., 5:8].sum(axis=-1),
            g[..., 8:11].sum(axis=-1),
            g[..., 11:].sum(axis=-1),
        ],
        axis=-1,
    )


def synthesise(ctx: SampleContext) -> Population:
    regions = ctx.regions
    totals = regions.population.set_index("kode")
    all_kec = regions.kecamatan
    groups = np.zeros((ctx.n_kec, 2, len(FIVE_YEAR_GROUPS)), dtype=np.int64)
    index = {c: i for i, c in enumerate(ctx.kec_code)}
    for kab in sorted(ctx.kab_names):
        if kab not in totals.index:
            continue  # no population known: the pipeline reports `no_population`
        rng = ctx.rng("population", kab)
        members = all_kec.loc[all_kec["kode_kabupaten"] == kab, "kode"].sort_values().to_numpy(dtype=object)
        n = len(members)
        shares = rng.dirichlet(np.full(n, _KECAMATAN_CONCENTRATION))
        shares_f = rng.dirichlet(200.0 * n * shares + 1e-9)
        men = rng.multinomial(int(totals.at[kab, "pria"]), shares)
        women = rng.multinomial(int(totals.at[kab, "wanita"]), shares_f)
        alpha = _PYRAMID_CONCENTRATION * _PYRAMID  # (2, 16)
        pyramid = rng.gamma(np.broadcast_to(alpha, (n, 2, len(FIVE_YEAR_GROUPS))))
        pyramid /= pyramid.sum(axis=-1, keepdims=True)
        counts = rng.multinomial(np.stack([men, women], axis=1), pyramid)
        for j, code in enumerate(members):
            i = index.get(code)
            if i is not None:
                groups[i] = counts[j]
    return Population(ctx, groups, bands_from_groups(groups))
