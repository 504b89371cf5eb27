"""Population-weighted roll-ups of kecamatan indices to kabupaten/kota and province
(methodology §2 and §3 roll-ups).

Room: one generic weighted mean with coverage, used by IHaI (adult population, kecamatan
with ``status = ok``) and IKN (total population, kecamatan with an IKN). A kabupaten
scope still yields its province's row, over the kecamatan in scope.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def weighted_rollup(frame: pd.DataFrame, by: str, value: str, weight: str, counted: pd.Series) -> pd.DataFrame:
    """Per ``by``: ``value`` = Σ weight·value / Σ weight over rows that are ``counted``
    with a known weight; ``coverage`` = that Σ weight / Σ weight over all rows with a known
    weight (NULL when no row has one). ``frame`` has one row per kecamatan."""
    known = frame[weight].notna() & (frame[weight] > 0)
    use = counted.astype(bool) & known & frame[value].notna()
    w_all = frame[weight].where(known, 0.0)
    w_use = w_all.where(use, 0.0)
    parts = pd.DataFrame(
        {
            by: frame[by],
            "num": (w_use * frame[value].where(use, 0.0)).astype(float),
            "w_use": w_use.astype(float),
            "w_all": w_all.astype(float),
        }
    )
    sums = parts.groupby(by, sort=True)[["num", "w_use", "w_all"]].sum()
    out = pd.DataFrame(index=sums.index)
    out[value] = np.where(sums["w_use"] > 0, sums["num"] / sums["w_use"].where(sums["w_use"] > 0), np.nan)
    out["coverage"] = np.where(sums["w_all"] > 0, sums["w_use"] / sums["w_all"].where(sums["w_all"] > 0), np.nan)
    return out.reset_index()
