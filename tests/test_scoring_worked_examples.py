"""The methodology's §6 worked examples, to the decimal (``docs/methodology.md``).

Unit tests called as plain functions on small in-memory inputs — no warehouse, no Dagster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmoni_pipeline.scoring import events as events_mod
from harmoni_pipeline.scoring import survey
from tests.scoring_helpers import (
    IHAI_VARS, K1, M, PERIOD, example_reports, idx, pop_table, total_row, window_frame,
)


EXAMPLE_ROWS = [
    (K1, "L", 30, {"X03_PER": 5, "X03_PAR": 4, "X03_AKS": 2}),   # 100, 75, 75  → 83.33
    (K1, "P", 45, {"X03_PER": 3, "X03_PAR": 3, "X03_AKS": 3}),   # 50, 50, 50   → 50
    (K1, "L", 60, {"X03_PER": 4, "X03_PAR": None, "X03_AKS": 1}),  # PAR missing → V missing
]


def example_population():
    # a total but no sex × age margins → the kecamatan is `unweighted` (equal weights)
    return pop_table([K1], [total_row(K1, 40_000)])


def test_worked_example_single_variable_value_and_counts():
    assert "X03_AKS" in M.reverse_items and "X03_PER" not in M.reverse_items
    scores = survey.score_index(window_frame(EXAMPLE_ROWS), ["X03"], idx([K1]), example_population(), M.with_min_n(2))
    assert scores.weighting[0] == "unweighted"
    np.testing.assert_array_equal(scores.weights, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(scores.respondent_variable[:, 0], [250 / 3, 50.0, np.nan])
    assert scores.variable_score[0, 0] == pytest.approx(66.6666666667, abs=1e-9)
    assert round(scores.variable_score[0, 0], 2) == 66.67
    assert scores.n[0] == 3
    assert scores.variable_n[0, 0] == 2
    assert scores.n_eff[0] == pytest.approx(3.0)
    assert scores.status[0] == "ok"
    # aspects: PER over all 3 (100, 50, 75), PAR over 2, AKS over 3 (75, 50, 100: AKS reversed)
    np.testing.assert_allclose(scores.aspect_score[0, 0], [75.0, 62.5, 75.0])
    np.testing.assert_array_equal(scores.aspect_n[0, 0], [3, 2, 3])


def test_worked_example_with_all_ihai_variables():
    """The same respondents scored against the real ten-variable IHaI: X03 carries the example."""
    scores = survey.score_index(window_frame(EXAMPLE_ROWS), IHAI_VARS, idx([K1]), example_population(), M.with_min_n(2))
    j = IHAI_VARS.index("X03")
    assert scores.variable_score[0, j] == pytest.approx(200 / 3, abs=1e-9)
    assert scores.n[0] == 3 and scores.variable_n[0, j] == 2
    others = [k for k in range(len(IHAI_VARS)) if k != j]
    assert np.isnan(scores.variable_score[0, others]).all() and (scores.variable_n[0, others] == 0).all()
    assert scores.status[0] == "insufficient_sample"  # the other nine variables have no respondent


@pytest.mark.parametrize("min_n", [3, 30])
def test_worked_example_insufficient_sample(min_n):
    m = M.with_min_n(min_n) if min_n != M.min_n else M
    scores = survey.score_index(window_frame(EXAMPLE_ROWS), ["X03"], idx([K1]), example_population(), m)
    assert scores.status[0] == "insufficient_sample"
    assert scores.n[0] == 3 and scores.variable_n[0, 0] == 2
    assert scores.long("variabel").empty  # suppressed variable rows


def test_min_n_default_is_30():
    assert M.min_n == 30 and M.with_min_n(2).min_n == 2 and M.min_n == 30


def test_worked_example_event_pillar():
    out = events_mod.event_pillar(example_reports(), idx([K1]), pd.Series({K1: 40_000.0}), PERIOD, M)
    row = out.loc[K1]
    assert row["n_laporan"] == 3
    assert row["e1"] == pytest.approx(92.5, abs=1e-9)
    assert row["e2"] == pytest.approx(100 / 3, abs=1e-9)
    assert row["e3"] == pytest.approx(100 * (1 - 5 / 60), abs=1e-9)
    assert round(row["e3"], 2) == 91.67
    assert row["pilar_peristiwa"] == pytest.approx(77.5, abs=1e-9)
    assert bool(row["alert_merah"]) is True  # the merah1 happened 2025-05-01, within 89 days
