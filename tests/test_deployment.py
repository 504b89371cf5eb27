"""Issue 5's "done when", as a user runs it: the repo's ``dagster.yaml`` on the local
PostgreSQL, a real ``dagster-daemon`` and ``dagster-webserver`` started as processes; a
delivery dropped into the landing zone triggers runs that complete and are visible in the
UI (GraphQL) and in ``harmoni status``; then ``harmoni backfill`` scores two months in
concurrent runs while an analyst's read-only DuckDB session stays open and consistent."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from harmoni_pipeline import backfill
from tests.conftest import TEST_PII_KEY
from tests.landing_helpers import rows_across_scope, write_canonical_survey

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MONTHS = ("2025-01", "2025-02")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, predicate, timeout: float, logs: list[Path]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1.0)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def _webserver_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def deployment(tmp_path, postgres_db):
    """DAGSTER_HOME with the repo's dagster.yaml on a fresh Postgres database, the
    HARMONI_* settings, and a running daemon and webserver (stopped afterwards)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": postgres_db["host"], "DAGSTER_PG_PORT": postgres_db["port"],
        "DAGSTER_PG_USER": postgres_db["user"], "DAGSTER_PG_PASSWORD": postgres_db["password"],
        "DAGSTER_PG_DB": postgres_db["db"],
        "HARMONI_LANDING_DIR": str(tmp_path / "landing"), "HARMONI_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "HARMONI_SCOPE": "35.13", "HARMONI_PII_KEY": TEST_PII_KEY,
        # one process per run (2-core CI); the landing sensor every 5 s instead of 60 s
        "HARMONI_EXECUTOR": "in_process", "HARMONI_LANDING_SENSOR_SECONDS": "5",
    }
    (tmp_path / "landing").mkdir()
    port = _free_port()
    logs = [tmp_path / "daemon.log", tmp_path / "webserver.log"]
    commands = [
        [str(BIN / "dagster-daemon"), "run", "-m", "harmoni_pipeline.definitions"],
        [str(BIN / "dagster-webserver"), "-m", "harmoni_pipeline.definitions", "-h", "127.0.0.1", "-p", str(port)],
    ]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        for cmd, log in zip(commands, logs)
    ]
    old_home = os.environ.get("DAGSTER_HOME")
    for key in ("DAGSTER_HOME", "DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
        os.environ[key] = env[key]
    instance = dg.DagsterInstance.get()
    try:
        yield {"env": env, "port": port, "logs": logs, "instance": instance, "tmp": tmp_path}
    finally:
        instance.dispose()
        for proc in procs:
            try:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, 9)
        for key in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
            os.environ.pop(key, None)
        if old_home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = old_home


def _runs(instance, **tags):
    return instance.get_runs(filters=dg.RunsFilter(tags=tags))


@pytest.mark.postgres
def test_a_dropped_file_runs_under_the_daemon_and_a_backfill_scores_months_concurrently(deployment):
    instance, env, port, logs = deployment["instance"], deployment["env"], deployment["port"], deployment["logs"]
    _wait("the daemon's heartbeat", lambda: "SENSOR" in instance.get_daemon_heartbeats(), 120, logs)
    _wait("the webserver", lambda: _webserver_up(port), 120, logs)

    # A delivery lands: two months of survey exports.
    landing = Path(env["HARMONI_LANDING_DIR"])
    for month in MONTHS:
        write_canonical_survey(landing / "survey" / month / "export.csv", rows_across_scope(month))

    def landing_runs_done():
        runs = _runs(instance, **{"harmoni/trigger": "landing"})
        done = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
        return runs if len(runs) == len(MONTHS) and all(r.status in done for r in runs) else None

    runs = _wait("the landing sensor's runs", landing_runs_done, 300, logs)
    assert sorted(r.tags["dagster/partition"] for r in runs) == list(MONTHS)
    assert all(r.job_name == "ingest_monthly" and r.status == dg.DagsterRunStatus.SUCCESS for r in runs), [
        (r.run_id, r.status) for r in runs]

    # ... visible in the UI (the webserver's GraphQL, read from Postgres) ...
    data = _graphql(port, "{ runsOrError { ... on Runs { results { runId jobName status } } } }")
    seen = {r["runId"]: r for r in data["runsOrError"]["results"]}
    for run in runs:
        assert seen[run.run_id]["status"] == "SUCCESS" and seen[run.run_id]["jobName"] == "ingest_monthly"
    # ... and in `harmoni status`.
    status = subprocess.run([str(BIN / "harmoni"), "status"], env=env, cwd=deployment["tmp"],
                            capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    assert all(r.run_id[:8] in status.stdout for r in runs)
    survey_line = next(line for line in status.stdout.splitlines() if line.strip().startswith("staging/survey_responses"))
    assert "2025-01, 2025-02" in survey_line

    # An analyst opens the catalog read-only and keeps querying during the backfill.
    catalog = Path(env["HARMONI_WAREHOUSE_DIR"]) / "harmoni.duckdb"
    analyst = duckdb.connect(str(catalog), read_only=True)
    staged = analyst.execute("SELECT count(*) FROM staging.survey_responses").fetchone()[0]
    observed, errors, stop = set(), [], threading.Event()

    def analyst_queries():
        while not stop.is_set():
            try:
                observed.add(analyst.execute(
                    "SELECT (SELECT count(*) FROM staging.survey_responses), (SELECT count(*) FROM marts.ihai_kecamatan)"
                ).fetchone())
            except Exception as exc:  # noqa: BLE001 — any error is the failure being tested
                errors.append(repr(exc))
            time.sleep(0.2)

    reader = threading.Thread(target=analyst_queries, daemon=True)
    reader.start()
    try:
        proc = subprocess.run(
            [str(BIN / "harmoni"), "backfill", "--from", MONTHS[0], "--to", MONTHS[-1], "--wait", "--timeout", "400"],
            env=env, cwd=deployment["tmp"], capture_output=True, text=True, timeout=480,
        )
    finally:
        stop.set()
        reader.join(timeout=30)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[marts]" in proc.stdout and "[staging]" not in proc.stdout  # staging is current: the marts layer,
    assert "[uncertainty]" in proc.stdout and "[audit/marts]" not in proc.stdout  # named by layer, not key prefix
    assert "[notifications]" in proc.stdout and "[report]" in proc.stdout  # then notifications, then the reports
    assert not errors, errors[:3]
    assert observed == {(staged, 0)}  # the analyst's snapshot: stable, never torn
    analyst.close()

    # The marts backfill's two month runs overlapped in time, and both succeeded; then one report run per month.
    backfill_runs = [r for r in instance.get_runs() if r.tags.get("dagster/backfill")]
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in backfill_runs)
    layer = {r.run_id: {backfill.layer_of(tuple(k.path)) for k in r.asset_selection or ()} for r in backfill_runs}
    mart_runs = [r for r in backfill_runs if layer[r.run_id] == {"marts"}]
    uncertainty_runs = [r for r in backfill_runs if layer[r.run_id] == {"uncertainty"}]
    report_runs = [r for r in backfill_runs if layer[r.run_id] == {"report"}]
    notification_runs = [r for r in backfill_runs if layer[r.run_id] == {"notifications"}]
    assert len(mart_runs) + len(uncertainty_runs) + len(notification_runs) + len(report_runs) == len(backfill_runs)
    assert sorted(r.tags["dagster/partition"] for r in uncertainty_runs) == list(MONTHS)
    assert sorted({r.tags["dagster/partition"] for r in notification_runs}) == list(MONTHS)
    assert sorted(r.tags["dagster/partition"] for r in mart_runs) == list(MONTHS)
    assert sorted(r.tags["dagster/partition"] for r in report_runs) == list(MONTHS)
    for month in MONTHS:
        assert (Path(env["HARMONI_WAREHOUSE_DIR"]) / "reports" / f"period={month}" / "manifest.json").is_file(), month
    first, second = (instance.get_run_record_by_id(r.run_id) for r in mart_runs)
    assert first.start_time < second.end_time and second.start_time < first.end_time, "the two runs did not overlap"

    # A new session sees both months scored, one row per kecamatan each, from intact files.
    with duckdb.connect(str(catalog), read_only=True) as fresh:
        per_month = dict(fresh.execute("SELECT period, count(*) FROM marts.ihai_kecamatan GROUP BY 1").fetchall())
        kecamatan = fresh.execute("SELECT count(*) FROM staging.survey_responses WHERE period = '2025-01'").fetchone()[0]
        assert per_month == {m: kecamatan for m in MONTHS}
        dupes = fresh.execute(
            "SELECT count(*) FROM (SELECT period, kode_kecamatan FROM marts.harmoni_kewaspadaan GROUP BY 1, 2 HAVING count(*) > 1)"
        ).fetchone()[0]
        assert dupes == 0
        published = fresh.execute("SELECT count(DISTINCT \"table\" || period) FROM audit.publications WHERE \"table\" LIKE 'marts.%'").fetchone()[0]
        assert published == (10 + 6) * len(MONTHS)  # the ten marts and the six uncertainty tables (the trail is not in this log)
