"""Write-audit-publish end to end: suites pass on clean sample data; a bad delivery is
blocked by a named check, its month's marts stay byte-identical and queryable, and a new
month made of it publishes no marts. Real Parquet, real DuckDB, real GX, real Dagster."""

from __future__ import annotations

import functools
import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.landing_helpers import write_canonical_survey

HARMONI = str(Path(sys.executable).parent / "harmoni")


def _env(tmp: Path, landing: Path) -> dict:
    return {
        "PATH": str(Path(sys.executable).parent), "HOME": str(tmp), "DAGSTER_HOME": str(tmp / "dh"),
        "HARMONI_LANDING_DIR": str(landing), "HARMONI_WAREHOUSE_DIR": str(tmp / "wh"),
        "HARMONI_PII_KEY": "quality-test-key", "GX_ANALYTICS_ENABLED": "false", "HARMONI_SCOPE": "35.13",
    }


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([HARMONI, *args], capture_output=True, text=True, env=env, timeout=900)


def _mart_files(wh: Warehouse, period: str) -> dict[str, tuple[str, str]]:
    out = {}
    for table in MART_SCHEMAS:
        f = wh.current_file(table, period)
        out[table] = (f.name, hashlib.sha256(f.read_bytes()).hexdigest()) if f else None
    return out


def _bad_survey(path: Path, n: int = 400) -> Path:
    """n rows, 40 % of them breaking a row rule (age, sex, scale, kecamatan)."""
    rows = []
    for i in range(n):
        row = {"response_id": f"BAD-{i:05d}", "submitted_at": "2025-06-10T09:00:00+07:00", "kode_kecamatan": "35.13.19"}
        kind = i % 10
        if kind == 0:
            row["umur"] = "7"
        elif kind == 1:
            row["jenis_kelamin"] = "X"
        elif kind == 2:
            row["X01_PER"] = "9"
        elif kind == 3:
            row["kode_kecamatan"] = "99.99.99"
        rows.append(row)
    return write_canonical_survey(path, rows)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from harmoni_pipeline.sample import generate_landing_zone

    tmp = tmp_path_factory.mktemp("quality")
    landing = tmp / "landing"
    generate_landing_zone(landing, start="2025-05", end="2025-06", seed=5, scope="35.13")
    env = _env(tmp, landing)
    proc = _run(env, "run", "--from", "2025-05", "--to", "2025-06")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return tmp, landing, env, Warehouse(tmp / "wh", catalog_tables())


def test_every_suite_passes_on_clean_sample_data_and_is_recorded(published):
    tmp, _, _, wh = published
    rows = wh.query(
        "SELECT asset, partition, bool_and(success) AS ok, count(*) AS n, count(DISTINCT suite) AS suites "
        "FROM {audit.validation_results} GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assets = {r[0] for r in rows}
    assert assets == {"staging/survey_responses", "staging/fkdm_reports", "staging/statistics",
                      *(t.replace(".", "/") for t in MART_SCHEMAS)}  # every mart's own check
    assert all(r[2] for r in rows), rows
    docs = wh.query("SELECT DISTINCT data_docs FROM {audit.validation_results} WHERE asset = 'marts/ikn_kecamatan'").fetchall()
    assert docs and all(Path(d[0].removeprefix("file://")).exists() for d in docs)
    assert list((wh.root / "data_docs").rglob("index.html"))
    for period in ("2025-05", "2025-06"):
        assert all(_mart_files(wh, period).values())


def test_run_restages_only_what_changed_in_the_landing_zone(published):
    from harmoni_pipeline.cli import plan_runs
    from harmoni_pipeline.pii import key_id

    tmp, landing, env, wh = published
    plan_runs = functools.partial(plan_runs, pii_key_id=key_id(env["HARMONI_PII_KEY"]))
    assert plan_runs(["2025-06"], landing, wh.root) == [("harmoni_monthly", "2025-06")]
    assert plan_runs(["2025-07"], landing, wh.root) == [("harmoni_monthly", "2025-07")]
    extra = write_canonical_survey(landing / "survey" / "2025-05" / "zz_extra.csv", [{"submitted_at": "2025-05-10T09:00:00+07:00"}])
    try:
        assert plan_runs(["2025-06"], landing, wh.root) == [("ingest_monthly", "2025-05"), ("harmoni_monthly", "2025-06")]
    finally:
        extra.unlink()
    assert plan_runs(["2025-06"], landing, wh.root) == [("harmoni_monthly", "2025-06")]


def test_a_bad_file_added_to_a_published_month_is_blocked_and_the_marts_stay(published):
    tmp, landing, env, wh = published
    before = _mart_files(wh, "2025-06")
    con = duckdb.connect(str(wh.catalog_path), read_only=True)  # an analyst's session, open throughout
    ihai_before = con.execute("SELECT * FROM marts.ihai_kecamatan WHERE period = '2025-06' ORDER BY ALL").fetchall()

    bad = _bad_survey(landing / "survey" / "2025-06" / "zz_kiriman_susulan.csv")
    bad_bytes = bad.read_bytes()
    proc = _run(env, "run", "--period", "2025-06")
    assert proc.returncode != 0
    message = proc.stderr.strip().splitlines()[-1]
    assert "blocking check 'expectations'" in message and "staging/survey_responses" in message
    assert "rejected share" in message

    assert _mart_files(wh, "2025-06") == before  # byte-identical
    assert con.execute("SELECT * FROM marts.ihai_kecamatan WHERE period = '2025-06' ORDER BY ALL").fetchall() == ihai_before
    # (a second connection in this process would share the analyst's snapshot: read the files)
    assert wh.query("SELECT count(*) FROM {marts.harmoni_kewaspadaan} WHERE period = '2025-06'").fetchone()[0] == 24
    staged = wh.query("SELECT count(*) FROM {staging.survey_responses} WHERE source_path LIKE '%zz_kiriman%'").fetchone()[0]
    assert staged == 0  # the candidate was never published
    failed = wh.query(
        "SELECT guards, unexpected_count FROM {audit.validation_results} "
        "WHERE NOT success AND asset = 'staging/survey_responses' AND partition = '2025-06'"
    ).fetchall()
    assert any("rejected share" in g for g, _ in failed)
    assert bad.read_bytes() == bad_bytes  # the landing file is untouched

    # the same file as a new month: no marts for it
    new_month = landing / "survey" / "2025-07"
    new_month.mkdir()
    (new_month / bad.name).write_bytes(bad_bytes.replace(b"2025-06-10", b"2025-07-10"))
    bad.unlink()
    proc = _run(env, "run", "--period", "2025-07")
    assert proc.returncode != 0 and "staging/survey_responses" in proc.stderr
    for table in MART_SCHEMAS:
        assert wh.current_file(table, "2025-07") is None, table


def test_status_shows_runs_and_partitions_on_the_instance(published):
    """`harmoni status` on the instance DAGSTER_HOME points at, after the blocked runs above."""
    _, _, env, _ = published
    proc = _run(env, "status", "--limit", "20")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "harmoni_monthly" in out and "FAILURE" in out and "SUCCESS" in out
    cells = next(l for l in out.splitlines() if l.startswith("marts/harmoni_kewaspadaan")).split("  ")
    cells = [c.strip() for c in cells if c.strip()]
    # 2025-06 and 2025-07: their latest runs were blocked upstream (2025-06's last good marts stay published)
    assert cells[1] == "2025-05" and cells[2] == "2025-06, 2025-07"
