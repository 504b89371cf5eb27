"""The PII key is part of the data's identity (issue 12): a run under a new key re-stages
every month it reads, so cumulative Google Forms re-exports — whose response ids are
keyed — still de-duplicate and the respondent counts do not move; scoring refuses a
window whose staging mixes two keys; the landing sensor re-stages after a key change."""

from __future__ import annotations

import dagster as dg
import pytest

from harmoni_pipeline.cli import main
from harmoni_pipeline.ingest.runner import staged_key_ids, staging_is_current
from harmoni_pipeline.pii import key_id
from harmoni_pipeline.runplan import plan_runs
from harmoni_pipeline.sample import generate_landing_zone
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse

KEY_A, KEY_B = "rotation-key-A", "rotation-key-B"
MONTHS = ("2025-02", "2025-03")


def _respondents(wh: Warehouse, period: str) -> int:
    return wh.query("SELECT sum(n_responden) FROM {marts.ihai_kecamatan} WHERE period = ?", [period]).fetchone()[0]


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    """Months staged and scored under key A, then the last month run under key B."""
    tmp = tmp_path_factory.mktemp("rotation")
    landing, warehouse = tmp / "landing", tmp / "warehouse"
    generate_landing_zone(landing, start=MONTHS[0], end=MONTHS[-1], seed=4, scope="35.13", responses=800, reports=20)
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
    mp.setenv("HARMONI_LANDING_DIR", str(landing))
    mp.setenv("HARMONI_WAREHOUSE_DIR", str(warehouse))
    mp.setenv("HARMONI_SCOPE", "35.13")
    mp.delenv("HARMONI_ENV", raising=False)
    wh = Warehouse(warehouse, catalog_tables())
    counts = {}
    try:
        mp.setenv("HARMONI_PII_KEY", KEY_A)
        assert main(["run", "--period", MONTHS[-1]]) == 0
        counts[KEY_A] = _respondents(wh, MONTHS[-1])
        key_ids_a = {m: staged_key_ids("survey", m, wh) for m in MONTHS}
        mp.setenv("HARMONI_PII_KEY", KEY_B)
        plan_b = plan_runs([MONTHS[-1]], landing, warehouse, pii_key_id=key_id(KEY_B))
        assert main(["run", "--period", MONTHS[-1]]) == 0
        counts[KEY_B] = _respondents(wh, MONTHS[-1])
        yield {"tmp": tmp, "landing": landing, "wh": wh, "counts": counts, "key_ids_a": key_ids_a, "plan_b": plan_b, "mp": mp}
    finally:
        mp.undo()


def test_a_new_key_restages_every_month_read_and_keeps_the_respondent_counts(rotated):
    counts = rotated["counts"]
    assert counts[KEY_A] > 0
    assert counts[KEY_B] == counts[KEY_A]
    assert rotated["key_ids_a"] == {m: {key_id(KEY_A)} for m in MONTHS}
    # the plan under key B re-staged the earlier month (and the statistics year), not only the period
    assert ("ingest_monthly", MONTHS[0]) in rotated["plan_b"] and ("ingest_statistics", "2025") in rotated["plan_b"]
    wh = rotated["wh"]
    for month in MONTHS:
        assert staged_key_ids("survey", month, wh) == {key_id(KEY_B)}
        assert staged_key_ids("fkdm", month, wh) <= {key_id(KEY_B)}
    ids = wh.query("SELECT DISTINCT pii_key_id FROM {audit.rejected_rows} WHERE pii_key_id IS NOT NULL").fetchall()
    assert ids == [(key_id(KEY_B),)]
    # nothing left to re-stage under B; everything under A again
    assert plan_runs([MONTHS[-1]], rotated["landing"], wh.root, pii_key_id=key_id(KEY_B)) == [("harmoni_monthly", MONTHS[-1])]
    assert not staging_is_current("survey", MONTHS[0], landing=rotated["landing"], warehouse=wh, pii_key_id=key_id(KEY_A))


def test_scoring_refuses_a_window_staged_under_two_keys(rotated):
    """The last line of defence (a scheduled run after a key change, before re-staging):
    the marts are not computed from ids of two keys, and the reason says what to do."""
    from harmoni_pipeline.definitions import build_defs
    from harmoni_pipeline.defs.resources import HarmoniResource
    from harmoni_pipeline.run_outcome import failure_reason

    wh = rotated["wh"]
    before = _respondents(wh, MONTHS[-1])
    rotated["mp"].setenv("HARMONI_PII_KEY", "rotation-key-C")
    defs = build_defs({"harmoni": HarmoniResource()})
    with dg.instance_for_test() as instance:
        staged = defs.resolve_job_def("ingest_monthly").execute_in_process(partition_key=MONTHS[-1], instance=instance)
        assert staged.success
        scored = defs.resolve_job_def("score_monthly").execute_in_process(
            partition_key=MONTHS[-1], instance=instance, raise_on_error=False)
    assert not scored.success
    reason = failure_reason(scored.all_events)
    assert "2 PII keys" in reason and "Rotating the PII key" in reason and "\n" not in reason
    assert _respondents(wh, MONTHS[-1]) == before  # the published marts stay
