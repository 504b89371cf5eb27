"""A pilot month of low coverage and a blocked earlier month do not stop later months:
coverage is a warning; a run for M reads the last published staging of the earlier months,
says which one is blocked, and carries on; only M's own blocked checks fail M. The
terminal shows progress and one-line reasons, never Dagster's stack traces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harmoni_pipeline.scoring.marts import ALL_TABLES
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.landing_helpers import rows_across_scope, write_canonical_survey
from tests.test_quality_e2e import _bad_survey

HARMONI = str(Path(sys.executable).parent / "harmoni")
NO_TRACE = ("Traceback", "Stack Trace", "DagsterAssetCheckFailedError")


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    from harmoni_pipeline.sample import generate_landing_zone

    tmp = tmp_path_factory.mktemp("blocked")
    landing = tmp / "landing"
    generate_landing_zone(landing, start="2025-10", end="2025-12", seed=11, scope="35.13")
    # a pilot export: 5 of the 24 kecamatan answered (20.8 % coverage)
    pilot = rows_across_scope("2024-11")[:5]
    write_canonical_survey(landing / "survey" / "2024-11" / "pilot.csv", [dict(r, response_id=f"P-{i}") for i, r in enumerate(pilot)])
    # a real problem in an earlier month: 40 % of the rows break a rule
    bad = _bad_survey(landing / "survey" / "2025-03" / "kiriman_rusak.csv")
    bad.write_text(bad.read_text(encoding="utf-8").replace("2025-06-10", "2025-03-10"), encoding="utf-8")
    env = {
        "PATH": str(Path(sys.executable).parent), "HOME": str(tmp), "DAGSTER_HOME": str(tmp / "dh"),
        "HARMONI_LANDING_DIR": str(landing), "HARMONI_WAREHOUSE_DIR": str(tmp / "wh"),
        "HARMONI_PII_KEY": "blocked-months-test-key-0123456789", "GX_ANALYTICS_ENABLED": "false",
        "HARMONI_SCOPE": "35.13",
    }
    proc = subprocess.run([HARMONI, "run", "--from", "2025-11", "--to", "2025-12"], capture_output=True, text=True,
                          env=env, timeout=1800)
    return tmp, env, proc, Warehouse(tmp / "wh", catalog_tables())


def test_a_pilot_month_and_a_blocked_month_do_not_stop_later_months(zone):
    _, _, proc, wh = zone
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    for period in ("2025-11", "2025-12"):
        assert all(wh.current_file(t, period) is not None for t in ALL_TABLES), period
    # the pilot is staged (its valid rows count) and its low coverage is a warning
    assert wh.current_file("staging.survey_responses", "2024-11") is not None
    assert "ingest_monthly 2024-11: ok" in out
    assert "survey coverage (warning)" in out
    # the bad month is blocked, named, and the run went on
    assert "ingest_monthly 2025-03: BLOCKED" in out
    assert "staging.survey_responses 2025-03 is blocked" in out
    assert wh.current_file("staging.survey_responses", "2025-03") is None
    assert not any(marker in out for marker in NO_TRACE), out[-3000:]
    log = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Dagster log of these runs: "))
    assert "DagsterAssetCheckFailedError" in Path(log).read_text(encoding="utf-8")  # the full story is in the file


def test_coverage_is_recorded_as_a_non_blocking_warning(zone):
    _, _, _, wh = zone
    rows = wh.query(
        "SELECT partition, success, blocking FROM {audit.validation_results} "
        "WHERE asset = 'staging/survey_responses' AND \"column\" = 'coverage' ORDER BY partition"
    ).fetchall()
    assert ("2024-11", False, False) in rows
    assert all(not blocking for _, _, blocking in rows)


def test_status_names_the_blocked_month_and_the_warning(zone):
    _, env, _, _ = zone
    proc = subprocess.run([HARMONI, "status"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any("2025-03" in line and "blocked" in line and "rejected share" in line for line in lines), proc.stdout
    assert any("2024-11" in line and "warning" in line and "coverage" in line for line in lines), proc.stdout


def test_the_month_itself_blocked_fails_that_month_only(zone):
    tmp, env, _, wh = zone
    landing = Path(env["HARMONI_LANDING_DIR"])
    bad = _bad_survey(landing / "survey" / "2025-12" / "zz_rusak.csv")
    try:
        before = {t: wh.current_file(t, "2025-12") for t in ALL_TABLES}
        proc = subprocess.run([HARMONI, "run", "--from", "2025-11", "--to", "2025-12"], capture_output=True,
                              text=True, env=env, timeout=1800)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 1, out[-3000:]
        reason = proc.stderr.strip().splitlines()[-1]
        assert reason.startswith("harmoni: harmoni_monthly 2025-12 failed: blocking check 'expectations' on "
                                 "staging/survey_responses failed"), reason
        assert "zz_rusak.csv" in reason and "rows rejected" in reason and "cronbach" not in reason
        assert "harmoni_monthly 2025-11: ok" in out  # the other month still ran
        assert {t: wh.current_file(t, "2025-12") for t in ALL_TABLES} == before  # the snapshot stays
        assert not any(marker in out for marker in NO_TRACE), out[-3000:]
    finally:
        bad.unlink()
