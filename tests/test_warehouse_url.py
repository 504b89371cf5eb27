"""The warehouse location as a URL: a ``file://`` URL behaves as the local folder it names;
``memory://`` (fsspec's in-process filesystem) exercises the object-store code path —
uploads to final names, no lock, the catalog uploaded and read back — without a network."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import fsspec
import pyarrow as pa
import pytest

from harmoni_pipeline.settings import DEFAULT_LOCAL_DIR, Settings
from harmoni_pipeline.warehouse import PUBLICATIONS_SCHEMA, Warehouse

from .landing_helpers import rows_across_scope, write_canonical_survey

SCHEMA = pa.schema([("period", pa.string()), ("kode", pa.string()), ("x", pa.int64()), ("run_id", pa.string())])
TABLES = {"staging.t": SCHEMA, "marts.m": SCHEMA, "audit.publications": PUBLICATIONS_SCHEMA}


def _table(n: int, period: str = "2025-01", run: str = "r1") -> pa.Table:
    return pa.table(
        {"period": [period] * n, "kode": [f"35.13.{i:02d}" for i in range(n)], "x": list(range(n)), "run_id": [run] * n},
        schema=SCHEMA,
    )


@pytest.fixture
def memory_url():
    """A fresh ``memory://`` warehouse (the store is global to the process: one name per
    test, removed afterwards)."""
    url = f"memory://harmoni-test-{uuid.uuid4().hex[:8]}/warehouse"
    yield url
    fs, root = fsspec.core.url_to_fs(url)
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_settings_accept_a_path_or_a_url(tmp_path):
    local = Settings.from_env(environ={"HARMONI_PII_KEY": "k", "HARMONI_WAREHOUSE_DIR": str(tmp_path / "a" / ".." / "wh")})
    assert local.warehouse_dir == tmp_path / "wh" and local.local_dir == tmp_path / "wh"  # as before URLs
    assert local.catalog_path == tmp_path / "wh" / "harmoni.duckdb"
    as_url = Settings.from_env(environ={"HARMONI_PII_KEY": "k", "HARMONI_WAREHOUSE_DIR": (tmp_path / "wh").as_uri()})
    assert as_url.warehouse_dir == tmp_path / "wh" and as_url.local_dir == tmp_path / "wh"
    s3 = Settings.from_env(environ={"HARMONI_PII_KEY": "k", "HARMONI_WAREHOUSE_DIR": "s3://bucket/harmoni/"})
    assert s3.warehouse_dir == "s3://bucket/harmoni" and s3.catalog_path == "s3://bucket/harmoni/harmoni.duckdb"
    assert s3.local_dir == Path(DEFAULT_LOCAL_DIR).resolve()
    chosen = Settings.from_env(environ={"HARMONI_PII_KEY": "k", "HARMONI_WAREHOUSE_DIR": "s3://bucket/harmoni",
                                        "HARMONI_LOCAL_DIR": str(tmp_path / "work")})
    assert chosen.local_dir == tmp_path / "work"


def test_alerts_of_a_url_warehouse_stay_local(tmp_path, monkeypatch):
    from harmoni_pipeline.alerts import make_alert, record_alert

    alert = make_alert("run-1", "ingest_monthly", "2025-11", "blocked")
    assert record_alert(alert, (tmp_path / "wh").as_uri()) == tmp_path / "wh" / "alerts" / "alerts.jsonl"
    monkeypatch.setenv("HARMONI_LOCAL_DIR", str(tmp_path / "local"))
    assert record_alert(alert, "s3://bucket/harmoni") == tmp_path / "local" / "alerts" / "alerts.jsonl"
    assert (tmp_path / "local" / "alerts" / "alerts.jsonl").read_text().count("run-1") == 1


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_ingestion_publishes_to_a_url_warehouse(kind, env, monkeypatch, memory_url):
    """A real ingestion (landing CSV → staging, audit, publication log) into a warehouse
    named by URL; the catalog opens read-only with the right rows."""
    from harmoni_pipeline.ingest.runner import ingest_partition

    url = (env["tmp"] / "wh").as_uri() if kind == "file" else memory_url
    monkeypatch.setenv("HARMONI_WAREHOUSE_DIR", url)
    monkeypatch.setenv("HARMONI_LOCAL_DIR", str(env["tmp"] / "local"))
    rows = rows_across_scope("2025-11")
    write_canonical_survey(env["landing"] / "survey" / "2025-11" / "export.csv", rows)
    settings = Settings.from_env()

    report = ingest_partition("survey", "2025-11", settings=settings, run_id="run-url")

    assert report.rows_accepted == len(rows) and report.staging.uri.startswith(f"{kind}://")
    wh = Warehouse(settings.warehouse_dir, local_dir=settings.local_dir)
    con = wh.connect_readonly()
    try:
        assert con.execute("SELECT count(*) FROM staging.survey_responses").fetchone()[0] == len(rows)
        assert con.execute("SELECT run_id, rows FROM audit.publications").fetchall() == [("run-url", len(rows))]
        assert con.execute("SELECT count(*) FROM audit.source_files").fetchone()[0] == 1
    finally:
        con.close()
    assert (settings.local_dir / ".cache" / "landing_sha256.json").exists()  # the hash cache stays local
    if kind == "memory":
        assert not list(settings.local_dir.rglob("*.parquet"))  # every Parquet file went to the URL


def test_memory_warehouse_versions_pending_log_and_catalog(memory_url, tmp_path):
    local = tmp_path / "local"
    wh = Warehouse(memory_url, TABLES, local_dir=local)
    fs = wh.storage.fs

    first = wh.write_partition("staging.t", "2025-01", _table(3))
    assert wh.log_publication(first, "run-1") is True
    again = wh.write_partition("staging.t", "2025-01", _table(3, run="r2"))
    assert wh.log_publication(again, "run-2") is False  # identical content adds no row
    latest = wh.write_partition("staging.t", "2025-01", _table(5))
    assert wh.log_publication(latest, "run-3") is True
    assert wh.versions("staging.t", "2025-01") == [first.path, again.path, latest.path]
    assert wh.current_file("staging.t", "2025-01") == latest.path and wh.read_partition("staging.t", "2025-01").num_rows == 5
    assert latest.uri.startswith("memory://") and latest.uri.endswith(f"/staging/t/period=2025-01/{latest.path.name}")
    assert fs.exists(str(latest.path)) and not Path(latest.path).exists()
    assert wh.query("SELECT count(*), max(x) FROM {staging.t}").fetchone() == (5, 4)
    assert "memory://" in wh.select_sql("staging.t")

    # write-audit-publish: a candidate is invisible until published, then gone
    candidate = wh.write_pending("marts.m", "2025-01", _table(2), "run-4")
    assert fs.exists(str(candidate)) and wh.current_file("marts.m", "2025-01") is None
    assert wh.read_pending("marts.m", "2025-01", "run-4").num_rows == 2
    from harmoni_pipeline.quality.gate import Candidates

    gated = Candidates(wh, ["marts.m"], "2025-01", "run-4")  # read in the gate's own process, not by forked workers
    assert gated.rows("marts.m") == 2 and not gated.forkable
    with pytest.raises(FileNotFoundError, match="staging.t"):
        wh.publish_pending(["marts.m", "staging.t"], "2025-01", "run-4")
    published = wh.publish_pending(["marts.m"], "2025-01", "run-4")
    assert published["marts.m"].rows == 2 and wh.read_pending("marts.m", "2025-01", "run-4") is None
    assert wh.query("SELECT count(*) FROM {marts.m}").fetchone()[0] == 2
    logged = wh.query("SELECT \"table\", run_id, rows FROM {audit.publications} ORDER BY published_at").fetchall()
    assert logged == [("staging.t", "run-1", 3), ("staging.t", "run-3", 5), ("marts.m", "run-4", 2)]

    # the catalog is uploaded; a local copy opens read-only once the filesystem is registered
    assert fs.exists(str(wh.catalog_path))
    copy = tmp_path / "downloaded.duckdb"
    fs.get_file(str(wh.catalog_path), str(copy))
    con = duckdb.connect(str(copy), read_only=True)
    try:
        with pytest.raises(duckdb.Error):  # the views name memory:// URLs: not readable without fsspec
            con.execute("SELECT count(*) FROM staging.t").fetchone()
        con.register_filesystem(fs)
        assert con.execute("SELECT count(*) FROM staging.t").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM marts.m").fetchone()[0] == 2
        assert con.execute("SELECT value FROM meta.catalog WHERE key = 'root'").fetchone()[0].endswith(
            memory_url.split("://", 1)[1])
    finally:
        con.close()
    reader = wh.connect_readonly()  # the same, done by the warehouse: a copy in local_dir
    try:
        assert reader.execute("SELECT count(*) FROM staging.t").fetchone()[0] == 5
    finally:
        reader.close()
    assert (local / "harmoni.duckdb").exists() and not list((local / ".tmp").iterdir())  # no temp file left

    # superseded versions are pruned after the grace period; old candidates too
    wh.prune("staging.t", "2025-01", "data", grace=-1)
    assert wh.versions("staging.t", "2025-01") == [latest.path]
    wh.write_pending("marts.m", "2025-02", _table(1, "2025-02"), "run-5")
    wh.prune_pending(keep=-1)
    assert wh.read_pending("marts.m", "2025-02", "run-5") is None and not fs.exists(str(wh.pending_dir("run-5")))


class RacingWarehouse(Warehouse):
    """A warehouse during whose first catalog write another publisher puts a new file in
    place and writes its own catalog first — the interleaving a lock-free refresh must
    survive: this catalog, written last, must still list that file."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalog_writes = 0

    def _write_catalog(self, listing):
        self.catalog_writes += 1
        if self.catalog_writes == 1:
            other = Warehouse(self.url(self.root), TABLES, local_dir=self.local_dir)
            other.write_partition("staging.t", "2025-02", _table(4, "2025-02"))
        super()._write_catalog(listing)


def test_catalog_refresh_converges_without_a_lock(memory_url, tmp_path):
    wh = RacingWarehouse(memory_url, TABLES, local_dir=tmp_path / "local")
    wh.write_partition("staging.t", "2025-01", _table(3))
    assert wh.catalog_writes == 2  # the listing changed under the first write: rebuilt once
    con = wh.connect_readonly()
    try:
        assert con.execute("SELECT period, count(*) FROM staging.t GROUP BY period ORDER BY period").fetchall() == [
            ("2025-01", 3), ("2025-02", 4)]
    finally:
        con.close()


def test_write_audit_publish_through_dagster_on_a_memory_warehouse(env, monkeypatch, memory_url):
    """The staging asset writes its candidate to the URL, the blocking GX check validates
    and publishes it there; Data Docs and the hash cache stay in the local folder."""
    import dagster as dg

    from harmoni_pipeline.assets.ingestion import ingestion_assets, landing_specs
    from harmoni_pipeline.checks.staging import staging_checks
    from harmoni_pipeline.defs.resources import HarmoniResource
    from harmoni_pipeline.registry import catalog_tables

    local = env["tmp"] / "local"
    monkeypatch.setenv("HARMONI_LOCAL_DIR", str(local))
    rows = rows_across_scope("2025-11")
    write_canonical_survey(env["landing"] / "survey" / "2025-11" / "export.csv", rows)
    resource = HarmoniResource(landing_dir=str(env["landing"]), warehouse_dir=memory_url, scope="35.13")
    survey = [a for a in ingestion_assets if a.key.path[1] == "survey_responses"]
    survey += [c for c in staging_checks if next(iter(c.check_keys)).asset_key.path[1] == "survey_responses"]
    with dg.instance_for_test() as instance:
        result = dg.materialize([*landing_specs, *survey], partition_key="2025-11", resources={"harmoni": resource},
                                instance=instance)
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    wh = Warehouse(memory_url, catalog_tables(), local_dir=local)
    assert wh.query("SELECT count(*) FROM {staging.survey_responses}").fetchone()[0] == len(rows)
    docs = wh.query("SELECT DISTINCT data_docs FROM {audit.validation_results}").fetchall()
    assert docs and all(Path(d[0].removeprefix("file://")).is_relative_to(local / "data_docs") for d in docs)
    assert list((local / "data_docs").rglob("index.html")) and not list(local.rglob("*.parquet"))
    assert not wh.storage.listdir(wh.pending_dir(result.run_id))  # the published candidate is gone
