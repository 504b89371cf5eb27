"""Array helpers shared by the scoring modules.

Room: small, hot, vectorised primitives over whole columns that pandas does slowly (its
Arrow-string ``isin`` walks the value set in Python). No methodology here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def member(values, allowed) -> np.ndarray:
    """Boolean array: whether each of ``values`` is in ``allowed`` (NULL is never in)."""
    left = pa.array(pd.Series(values, dtype="string"), type=pa.string(), from_pandas=True)
    right = pa.array(pd.Series(pd.unique(pd.Series(allowed, dtype="string").dropna()), dtype="string"), type=pa.string())
    return pc.is_in(left, value_set=right, skip_nulls=True).fill_null(False).to_numpy(zero_copy_only=False)
