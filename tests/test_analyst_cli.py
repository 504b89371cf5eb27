"""The analysts' command of the README, `duckdb -readonly data/warehouse/harmoni.duckdb`:
the DuckDB CLI that `make install` puts in `.venv/bin` opens a catalog built by the
pipeline's own code and queries its views over real Parquet.

The CLI is the registry's 1.5 line while the pipeline writes with the DuckDB 2.0 Python
package; the catalog is readable by it only because `Warehouse` writes it in the 1.5
storage format (`CATALOG_STORAGE_VERSION`). Without that option these tests fail with
"database file with version number 69 … can only read 64–68".
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from harmoni_pipeline.ingest.runner import ingest_partition
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import CATALOG_STORAGE_VERSION, Warehouse

FIXTURE = Path(__file__).parent / "fixtures" / "survey" / "kobo_2025-12.csv"
PERIOD = "2025-12"


def duckdb_cli() -> Path:
    """The CLI installed beside this interpreter (``make install``: ``.venv/bin/duckdb``)."""
    cli = Path(sys.executable).parent / "duckdb"
    assert cli.exists(), f"{cli} is missing: `make install` installs the DuckDB CLI (duckdb-cli in requirements.lock)"
    return cli


def run_cli(catalog: Path, sql: str, cwd: Path) -> list[dict]:
    """``duckdb -readonly CATALOG -csv -c SQL`` as an analyst runs it; rows as dicts."""
    done = subprocess.run(
        [str(duckdb_cli()), "-readonly", str(catalog), "-csv", "-c", sql],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A landing zone with one real Kobo export, ingested by the pipeline's runner into a
    warehouse whose catalog it refreshes."""
    from harmoni_pipeline.settings import Settings

    root = tmp_path_factory.mktemp("analyst")
    landing, warehouse_dir = root / "landing", root / "warehouse"
    (landing / "survey" / PERIOD).mkdir(parents=True)
    shutil.copy(FIXTURE, landing / "survey" / PERIOD / FIXTURE.name)
    settings = Settings.from_env(landing_dir=landing, warehouse_dir=warehouse_dir, scope="35.13", pii_key="analyst-test")
    warehouse = Warehouse(warehouse_dir, catalog_tables())
    report = ingest_partition("survey", PERIOD, settings=settings, run_id="analyst-test", warehouse=warehouse)
    assert report.rows_accepted > 0
    return {"root": root, "warehouse": warehouse, "report": report}


def test_the_installed_cli_is_the_one_pinned():
    out = subprocess.run([str(duckdb_cli()), "-version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("v1.5."), out.stdout


def test_catalog_is_written_in_the_storage_format_of_the_oldest_supported_client(built):
    with duckdb.connect(str(built["warehouse"].catalog_path), read_only=True) as con:
        (tags,) = con.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
    assert tags["storage_version"].startswith(CATALOG_STORAGE_VERSION), tags


def test_cli_reads_staging_rows_over_real_parquet(built):
    """The README's command, from another working directory: the view over the
    published Parquet file answers with exactly the rows ingestion staged."""
    warehouse = built["warehouse"]
    staged = pq.read_table(warehouse.current_file("staging.survey_responses", PERIOD))
    rows = run_cli(
        warehouse.catalog_path,
        "SELECT period, count(*) AS n, count(DISTINCT response_id) AS ids, min(kode_kecamatan) AS first_kec "
        "FROM staging.survey_responses GROUP BY period ORDER BY period",
        cwd=built["root"],
    )
    assert rows == [{
        "period": PERIOD,
        "n": str(staged.num_rows),
        "ids": str(len(set(staged.column("response_id").to_pylist()))),
        "first_kec": min(staged.column("kode_kecamatan").to_pylist()),
    }]
    assert int(rows[0]["n"]) == built["report"].rows_accepted
    audit = run_cli(warehouse.catalog_path, "SELECT path, rows_read, rows_accepted FROM audit.source_files",
                    cwd=built["root"])
    assert audit == [{"path": f"survey/{PERIOD}/{FIXTURE.name}", "rows_read": str(built["report"].rows_read),
                      "rows_accepted": str(built["report"].rows_accepted)}]


def test_cli_binds_every_view_of_the_catalog(built):
    """Every view the 2.0 writer created — marts over their empty placeholders included —
    binds and runs in the 1.5 CLI (the view SQL is re-parsed by the reader)."""
    tables = sorted(catalog_tables())
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in tables)
    rows = run_cli(built["warehouse"].catalog_path, sql + " ORDER BY t", cwd=built["root"])
    assert [r["t"] for r in rows] == tables
    counts = {r["t"]: int(r["n"]) for r in rows}
    assert counts["staging.survey_responses"] == built["report"].rows_accepted
    assert counts["marts.ihai_kecamatan"] == 0
