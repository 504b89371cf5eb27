"""The repository's production dagster.yaml against the local PostgreSQL: it loads, and a
materialisation of the ingestion assets is recorded there and read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from harmoni_pipeline.definitions import build_defs
from tests.landing_helpers import rows_across_scope, write_canonical_survey

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pg_instance(tmp_path, postgres_db, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_HOST", postgres_db["host"])
    monkeypatch.setenv("DAGSTER_PG_PORT", postgres_db["port"])
    monkeypatch.setenv("DAGSTER_PG_USER", postgres_db["user"])
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", postgres_db["password"])
    monkeypatch.setenv("DAGSTER_PG_DB", postgres_db["db"])
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        yield instance, postgres_db
    finally:
        instance.dispose()


@pytest.mark.postgres
def test_production_config_uses_postgres_for_every_storage(pg_instance):
    instance, _ = pg_instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"


@pytest.mark.postgres
def test_materialisation_is_recorded_in_postgres(pg_instance, env):
    instance, db = pg_instance
    rows = rows_across_scope("2025-11") + [{"response_id": "R-too-young", "submitted_at": "2025-11-10T09:00:00+07:00", "umur": "15"}]
    write_canonical_survey(env["landing"] / "survey" / "2025-11" / "export.csv", rows)
    defs = build_defs()
    result = defs.resolve_job_def("ingest_monthly").execute_in_process(partition_key="2025-11", instance=instance)
    assert result.success

    event = instance.get_latest_materialization_event(dg.AssetKey(["staging", "survey_responses"]))
    meta = event.asset_materialization.metadata
    assert event.asset_materialization.partition == "2025-11"
    assert meta["rows_read"].value == 25 and meta["rows_accepted"].value == 24 and meta["rows_rejected"].value == 1

    with psycopg2.connect(host=db["host"], port=db["port"], user=db["user"], dbname=db["db"]) as con:
        with con.cursor() as cur:
            cur.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,))
            assert cur.fetchone()[0] == "SUCCESS"
            cur.execute(
                "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
                (result.run_id,),
            )
            assert cur.fetchone()[0] == 3  # survey and FKDM staging, and the red-report notifications
            cur.execute(
                "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_CHECK_EVALUATION'",
                (result.run_id,),
            )
            # 2 blocking expectation checks, the survey's non-blocking warnings check, 4 survey diagnostics
            assert cur.fetchone()[0] == 7
