"""Survey diagnostics (harmoni_pipeline/quality/diagnostics.py) on planted data: each
warns when its sign is planted and stays quiet on careful answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmoni_pipeline import methodology
from harmoni_pipeline.methodology import all_items
from harmoni_pipeline.quality import diagnostics

M = methodology.load()


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Coherent answers: each respondent has a latent level; items near it (reversed
    items mirrored), so every PPA block has a high alpha."""
    rng = np.random.default_rng(seed)
    level = rng.integers(1, 6, size=n)
    data = {}
    for item in all_items():
        x = np.clip(level + rng.integers(-1, 2, size=n), 1, 5)
        data[item] = (6 - x) if item in M.reverse_items else x
    frame = pd.DataFrame(data).astype("float64")
    frame["response_id"] = [f"r{i}" for i in range(n)]
    frame["respondent_key"] = [f"pii:{i:04d}" for i in range(n)]
    start = pd.Timestamp("2025-06-01T08:00:00Z") + pd.to_timedelta(np.arange(n), unit="h")
    frame["started_at"] = start
    frame["ended_at"] = start + pd.Timedelta(minutes=9)
    return frame


def test_careful_answers_raise_no_warning():
    result = diagnostics.run_diagnostics(_frame(), M)
    assert all(d.passed for d in result.values()), {k: d.summary for k, d in result.items()}
    assert all(a > 0.6 for a in result["cronbach_alpha"].measures["alpha"].values())


def test_straight_lining_warns_above_its_share():
    f = _frame()
    f.loc[:19, all_items()] = 3.0  # 10 % answer "3" everywhere
    d = diagnostics.run_diagnostics(f, M)["straight_lining"]
    assert not d.passed and d.measures["straight_lined"] == 20 and "r0" in d.samples


def test_fast_completion_only_where_times_exist():
    f = _frame()
    f.loc[:29, "ended_at"] = f.loc[:29, "started_at"] + pd.Timedelta(seconds=50)
    d = diagnostics.run_diagnostics(f, M)["fast_completion"]
    assert not d.passed and d.measures["fast"] == 30
    f[["started_at", "ended_at"]] = pd.NaT
    assert diagnostics.run_diagnostics(f, M)["fast_completion"].passed


def test_cronbach_alpha_warns_for_an_incoherent_block():
    f = _frame()
    rng = np.random.default_rng(9)
    for aspect in ("PER", "PAR", "AKS"):
        f[f"X05_{aspect}"] = rng.integers(1, 6, size=len(f)).astype(float)  # independent noise
    d = diagnostics.run_diagnostics(f, M)["cronbach_alpha"]
    assert not d.passed and "X05" in d.summary
    assert d.measures["alpha"]["X05"] < 0.6 <= d.measures["alpha"]["X01"]


def test_repeated_respondent_keys_warn():
    f = _frame()
    f.loc[:19, "respondent_key"] = [f"pii:dup{i // 4}" for i in range(20)]  # 5 keys, 4 responses each
    d = diagnostics.run_diagnostics(f, M)["repeated_respondents"]
    assert not d.passed and d.measures["repeated"] == 5 and d.measures["responses_behind_repeated_keys"] == 20


def test_each_diagnostic_needs_only_its_columns():
    """A diagnostic check reads only ``diagnostics.columns(name)`` of the partition: on
    those columns alone each gives what it gives on the whole frame, signs planted."""
    f = _frame(300, seed=3)
    f.loc[:40, all_items()] = 3.0  # straight-liners
    f.loc[50:80, "ended_at"] = f.loc[50:80, "started_at"] + pd.Timedelta(seconds=20)  # too fast
    f.loc[100:160, "respondent_key"] = [f"pii:{i % 20}" for i in range(61)]  # 20 keys, several responses each
    whole = diagnostics.run_diagnostics(f, M)
    assert not whole["straight_lining"].passed and whole["repeated_respondents"].measures["repeated"] == 20
    for name in diagnostics.NAMES:
        alone = diagnostics.run_diagnostic(name, f[diagnostics.columns(name, M)], M)
        assert alone == whole[name]
