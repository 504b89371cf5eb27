"""End to end: a generated landing zone ingested through Dagster into real Parquet and a
real DuckDB catalog — accounting, personal data, idempotence, duplicates, failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from harmoni_pipeline.definitions import build_defs
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.sample import generate_landing_zone
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.landing_helpers import rows_across_scope, write_canonical_survey

PERIODS = ["2025-11", "2025-12"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("landing")
    summary = generate_landing_zone(out, start="2025-10", end="2025-12", seed=7, scope="35.13")
    return out, summary


def _materialize(landing: Path, warehouse: Path, instance, months=PERIODS, years=("2025",)):
    defs = build_defs({"harmoni": HarmoniResource(landing_dir=str(landing), warehouse_dir=str(warehouse), scope="35.13")})
    results = []
    for year in years:
        results.append(defs.resolve_job_def("ingest_statistics").execute_in_process(partition_key=year, instance=instance, raise_on_error=False))
    for month in months:
        results.append(defs.resolve_job_def("ingest_monthly").execute_in_process(partition_key=month, instance=instance, raise_on_error=False))
    return results


@pytest.fixture(scope="module")
def ingested(sample, tmp_path_factory):
    landing, summary = sample
    warehouse = tmp_path_factory.mktemp("warehouse")
    with dg.instance_for_test() as instance:
        results = _materialize(landing, warehouse, instance)
        assert all(r.success for r in results)
        events = {
            key: instance.get_latest_materialization_event(dg.AssetKey(["staging", key]))
            for key in ("survey_responses", "fkdm_reports", "statistics")
        }
    return landing, warehouse, summary, events


def _con(warehouse: Path):
    return duckdb.connect(str(Warehouse(warehouse).catalog_path), read_only=True)


def test_every_row_of_every_file_is_accounted_for(ingested):
    landing, warehouse, _, _ = ingested
    con = _con(warehouse)
    files = con.execute(
        "SELECT path, rows_read, rows_accepted, rows_rejected, duplicate_of, error FROM audit.source_files"
    ).fetchall()
    assert files
    for path, read, accepted, rejected, duplicate_of, error in files:
        assert error is None, (path, error)
        assert read == accepted + rejected, path
        if duplicate_of:
            assert read == 0
    # every rejected row count matches the distinct lines listed for the file
    mismatched = con.execute(
        """
        SELECT f.path FROM audit.source_files f
        LEFT JOIN (SELECT path, count(DISTINCT coalesce(CAST(line AS VARCHAR), "column")) AS n
                   FROM audit.rejected_rows GROUP BY path) r USING (path)
        WHERE f.rows_rejected <> coalesce(r.n, 0)
        """
    ).fetchall()
    assert mismatched == []
    # staging holds exactly the accepted rows (statistics: values, see ParsedFile)
    for table, source in (("staging.survey_responses", "survey"), ("staging.fkdm_reports", "fkdm")):
        staged = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        accepted = con.execute("SELECT sum(rows_accepted) FROM audit.source_files WHERE source = ?", [source]).fetchone()[0]
        assert staged == accepted > 0, table
    assert con.execute("SELECT count(DISTINCT format) FROM staging.statistics").fetchone()[0] == 3
    # every landing file of the ingested partitions is in the audit
    expected = {p.relative_to(landing).as_posix() for m in PERIODS for p in (landing / "survey" / m).glob("*")}
    assert expected <= {f[0] for f in files}


def test_every_rule_found_and_rules_come_from_the_vocabulary(ingested):
    from harmoni_pipeline.ingest.common import RULES

    _, warehouse, _, _ = ingested
    rules = {r[0] for r in _con(warehouse).execute("SELECT DISTINCT rule FROM audit.rejected_rows").fetchall()}
    assert rules <= set(RULES)
    assert {"out_of_scale", "invalid_value", "age_out_of_range", "unknown_region", "out_of_scope"} <= rules


def test_no_personal_value_reaches_parquet_or_duckdb(ingested):
    _, warehouse, summary, _ = ingested
    planted = {v for v in summary.planted_pii if len(v) >= 6}
    assert planted
    con = duckdb.connect()
    for file in Path(warehouse).rglob("*.parquet"):
        table = pq.read_table(file)
        for column in table.column_names:
            values = {str(v) for v in table.column(column).to_pylist() if v is not None}
            assert not (values & planted), (file, column)
            text = " ".join(values)
            leaked = [p for p in planted if p in text]
            assert not leaked, (file, column, leaked[:3])
    # and through the catalog (every view)
    cat = _con(warehouse)
    for schema, name in cat.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema <> 'meta'").fetchall():
        rows = cat.execute(f"SELECT * FROM {schema}.{name}").fetchall()
        blob = "\n".join(" ".join(str(v) for v in row) for row in rows)
        assert not [p for p in planted if p in blob], f"{schema}.{name}"
    con.close()


def test_materialisation_metadata_for_auditors(ingested):
    _, _, _, events = ingested
    for key, event in events.items():
        meta = event.asset_materialization.metadata
        for name in ("dagster/row_count", "dagster/column_schema", "candidate", "rows_read", "rows_accepted", "rows_rejected", "source_files"):
            assert name in meta, (key, name)
        assert meta["dagster/row_count"].value == meta["rows_accepted"].value
        records = meta["source_files"].value.records
        assert records and all(len(r.data["sha256"]) == 64 for r in records)
    defs = build_defs()
    for asset in defs.resolve_all_asset_specs():
        if asset.key.path[0] == "staging":
            assert asset.code_version


def test_rerun_is_idempotent_and_identical_bytes_are_ingested_once(sample, tmp_path):
    landing, _ = sample
    warehouse = tmp_path / "wh"
    with dg.instance_for_test() as instance:
        assert all(r.success for r in _materialize(landing, warehouse, instance, months=["2025-11"]))
        wh = Warehouse(warehouse, catalog_tables())
        first = {t: _snapshot(wh, t) for t in ("staging.survey_responses", "audit.source_files", "audit.rejected_rows")}
        analyst = duckdb.connect(str(wh.catalog_path), read_only=True)  # open throughout the re-run
        before = analyst.execute("SELECT count(*) FROM staging.survey_responses").fetchone()[0]
        assert all(r.success for r in _materialize(landing, warehouse, instance, months=["2025-11"]))
        assert analyst.execute("SELECT count(*) FROM staging.survey_responses").fetchone()[0] == before
        analyst.close()
        second = {t: _snapshot(wh, t) for t in first}
    assert first == second


def _snapshot(wh: Warehouse, table: str):
    rows = wh.query(f"SELECT * EXCLUDE (run_id{', ingested_at' if table == 'audit.source_files' else ''}) FROM {{{table}}}").fetchall()
    return sorted(map(repr, rows))


def test_duplicate_bytes_and_unreadable_files(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh"
    a = write_canonical_survey(landing / "survey" / "2025-10" / "a.csv", rows_across_scope("2025-10"))
    (landing / "survey" / "2025-11").mkdir(parents=True)
    (landing / "survey" / "2025-11" / "copy_of_a.csv").write_bytes(a.read_bytes())
    before = {p: p.read_bytes() for p in landing.rglob("*") if p.is_file()}
    with dg.instance_for_test() as instance:
        assert all(r.success for r in _materialize(landing, warehouse, instance, months=["2025-10", "2025-11"], years=()))
        wh = Warehouse(warehouse, catalog_tables())
        dup = wh.query("SELECT rows_read, duplicate_of FROM {audit.source_files} WHERE path LIKE '%copy_of_a.csv'").fetchall()
        assert dup == [(0, "survey/2025-10/a.csv")]
        assert wh.query("SELECT count(*) FROM {staging.survey_responses} WHERE period = '2025-11'").fetchone()[0] == 0

        good = wh.current_file("staging.survey_responses", "2025-10")
        (landing / "survey" / "2025-10" / "broken.csv").write_bytes(b"\x00\x01\x02garbage\xff\xfe" * 50)
        result = _materialize(landing, warehouse, instance, months=["2025-10"], years=())[0]
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        message = failure.step_failure_data.user_failure_data.description
        assert "survey/2025-10/broken.csv" in message and "\n" not in message
        # the last good staging stays current; the audit records the unreadable file
        assert wh.current_file("staging.survey_responses", "2025-10") == good
        err = wh.query("SELECT error FROM {audit.source_files} WHERE path LIKE '%broken.csv'").fetchone()[0]
        assert err
    after = {p: p.read_bytes() for p in landing.rglob("*") if p.is_file()}
    assert after == {**before, landing / "survey" / "2025-10" / "broken.csv": after[landing / "survey" / "2025-10" / "broken.csv"]}


def test_month_without_files_materialises_empty(tmp_path):
    with dg.instance_for_test() as instance:
        results = _materialize(tmp_path / "landing", tmp_path / "wh", instance, months=["2022-01"], years=())
        assert all(r.success for r in results)
    wh = Warehouse(tmp_path / "wh", catalog_tables())
    assert wh.query("SELECT count(*) FROM {staging.survey_responses}").fetchone()[0] == 0
    assert wh.current_file("staging.survey_responses", "2022-01") is not None


def test_cli_run_over_a_foreign_landing_zone(sample, tmp_path):
    """`harmoni run --from --to` on an embedded instance, as a user would call it."""
    landing, _ = sample
    env = {
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
        "DAGSTER_HOME": str(tmp_path / "dh"),
        "HARMONI_LANDING_DIR": str(landing),
        "HARMONI_WAREHOUSE_DIR": str(tmp_path / "wh"),
        "HARMONI_PII_KEY": "cli-test-key",
        "GX_ANALYTICS_ENABLED": "false",
    }
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "harmoni"), "run", "--from", "2025-11", "--to", "2025-12"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ingest_monthly 2025-10: ok" in proc.stdout  # the window's earlier landing month
    assert "harmoni_monthly 2025-11: ok" in proc.stdout and "harmoni_monthly 2025-12: ok" in proc.stdout
    assert "survey" in proc.stdout and "rejected" in proc.stdout
    # the demo table of the latest period: every kecamatan with its quadrant or reason
    assert "Scores 2025-12" in proc.stdout and "35.13.24" in proc.stdout
    assert "not the official Kemendagri IKN" in proc.stdout


def test_two_partitions_through_dg_materialize(sample, tmp_path):
    """The plain Dagster testing path: ``dg.materialize`` of the staging assets."""
    from harmoni_pipeline.assets.ingestion import ingestion_assets, landing_specs
    from harmoni_pipeline.checks.staging import staging_checks

    landing, _ = sample
    resource = HarmoniResource(landing_dir=str(landing), warehouse_dir=str(tmp_path / "wh"), scope="35.13")
    monthly = [a for a in ingestion_assets if a.key.path[1] != "statistics"]
    monthly += [c for c in staging_checks if next(iter(c.check_keys)).asset_key.path[1] != "statistics"]
    with dg.instance_for_test() as instance:
        for month in PERIODS:
            result = dg.materialize([*landing_specs, *monthly], partition_key=month, resources={"harmoni": resource}, instance=instance)
            assert result.success
            counts = {
                m.asset_key.path[1]: m.metadata["rows_accepted"].value
                for node in ("staging__survey_responses", "staging__fkdm_reports")
                for m in result.asset_materializations_for_node(node)
            }
            assert set(counts) == {"survey_responses", "fkdm_reports"} and counts["survey_responses"] > 0
    wh = Warehouse(tmp_path / "wh", catalog_tables())
    periods = wh.query("SELECT DISTINCT period FROM {staging.survey_responses} ORDER BY 1").fetchall()
    assert [p[0] for p in periods] == PERIODS


def test_parallel_parsing_gives_the_same_partition(sample, tmp_path, monkeypatch):
    """Large partitions are parsed by forked worker processes: forced on a small one, the
    unreadable-file error, the staging rows and the audit rows are those of the
    in-process path."""
    from harmoni_pipeline import forking
    from harmoni_pipeline.ingest import runner
    from harmoni_pipeline.settings import Settings

    landing = tmp_path / "landing"
    folder = landing / "survey" / "2025-11"
    folder.mkdir(parents=True)
    for path in (sample[0] / "survey" / "2025-11").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    tables = ("staging.survey_responses", "audit.source_files", "audit.rejected_rows")
    outcomes = {}
    for mode, threshold in (("serial", 2**62), ("parallel", 0)):
        monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", threshold)
        monkeypatch.setattr(forking, "cpus", lambda: 2)
        settings = Settings.from_env(landing_dir=landing, warehouse_dir=tmp_path / mode, scope="35.13", pii_key="k")
        wh = Warehouse(tmp_path / mode, catalog_tables())
        (folder / "broken.csv").write_bytes(b"\x00\x01\x02garbage\xff\xfe" * 50)
        with pytest.raises(runner.IngestError) as failed:
            runner.ingest_partition("survey", "2025-11", settings=settings, run_id=mode, warehouse=wh)
        (folder / "broken.csv").unlink()
        report = runner.ingest_partition("survey", "2025-11", settings=settings, run_id=mode, warehouse=wh)
        outcomes[mode] = (str(failed.value), report.rows_read, report.rows_accepted, {t: _snapshot(wh, t) for t in tables})
    assert "survey/2025-11/broken.csv" in outcomes["serial"][0]
    assert outcomes["serial"][1] > 0
    assert outcomes["serial"] == outcomes["parallel"]


def test_parse_workers_do_not_hold_the_callers_memory(sample, tmp_path, monkeypatch):
    """The parse workers are fresh interpreters, not forks of the caller: a worker forked
    from a large process (``harmoni run`` late in a twelve-month range) counted all of the
    caller's pages in its own resident set. Here the caller holds 600 MB; every worker
    stays far below it while parsing the month's real files."""
    import os
    import threading
    import time

    from harmoni_pipeline import forking
    from harmoni_pipeline.ingest import runner
    from harmoni_pipeline.pii import Pseudonymizer
    from harmoni_pipeline.regions import Regions
    from harmoni_pipeline.settings import Settings

    settings = Settings.from_env(landing_dir=sample[0], warehouse_dir=tmp_path / "wh", scope="35.13", pii_key="k")
    files, _ = runner.plan_partition("survey", "2025-11", settings=settings, warehouse=Warehouse(tmp_path / "wh", catalog_tables()))
    monkeypatch.setattr(forking, "cpus", lambda: 2)
    held = bytearray(600 * 2**20)
    held[:: 4096] = b"\x01" * len(held[:: 4096])  # resident, not only reserved
    peaks: dict[int, int] = {}
    done = threading.Event()

    def watch() -> None:
        me = os.getpid()
        while not done.is_set():
            for task in os.listdir(f"/proc/{me}/task"):
                try:
                    children = open(f"/proc/{me}/task/{task}/children").read().split()
                except OSError:
                    continue
                for pid in map(int, children):
                    try:  # a spawned worker only once it runs its own program: between fork and
                        # exec a child still maps (and counts) the caller's pages for a moment
                        if b"spawn_main" not in open(f"/proc/{pid}/cmdline", "rb").read():
                            continue
                        status = open(f"/proc/{pid}/status").read()
                    except OSError:
                        continue
                    kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
                    peaks[pid] = max(peaks.get(pid, 0), kb)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        outcomes = list(runner.parse_files(files, settings, Regions.load(), Pseudonymizer("k"), min_bytes=0))
    finally:
        done.set()
        watcher.join()
    assert outcomes and all(outcome.rows_read > 0 for outcome in outcomes)
    assert peaks, "no worker process was seen"
    assert max(peaks.values()) < 400 * 1024, f"a worker held {max(peaks.values()) // 1024} MB"
    del held


PARSING = r"""
import multiprocessing, sys, time
from harmoni_pipeline import forking
from harmoni_pipeline.ingest import runner
from harmoni_pipeline.pii import Pseudonymizer
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.settings import Settings
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
forking.cpus = lambda: 2
settings = Settings.from_env(landing_dir=sys.argv[1], warehouse_dir=sys.argv[2], scope="35.13", pii_key="k")
files, _ = runner.plan_partition("survey", "2025-11", settings=settings, warehouse=Warehouse(sys.argv[2], catalog_tables()))
outcomes = runner.parse_files(files, settings, Regions.load(), Pseudonymizer("k"), min_bytes=0)
next(outcomes)
print(" ".join(str(child.pid) for child in multiprocessing.active_children()), flush=True)
time.sleep(600)
"""


def test_parse_workers_die_with_a_killed_step(sample, tmp_path):
    """A ``kill -9`` of the process staging a partition in parse workers leaves no worker
    behind (they used to idle on, ≈ 0.5 GB each, until someone killed them)."""
    from tests.processes import outlive_killed_parent

    left = outlive_killed_parent(PARSING, str(sample[0]), str(tmp_path / "wh"), seconds=20)
    assert left == [], "parse workers outlived their killed parent"
