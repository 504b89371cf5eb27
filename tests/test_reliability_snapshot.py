"""A month's marts are one snapshot (data contract §4, refined): a ``kill -9`` at any
write or rename of a publication leaves every period showing one run's complete set of
marts — in the catalog and after ``harmoni catalog`` — and a rerun converges; readers in
other processes never see two runs' marts of one period. Real Parquet, real DuckDB
catalogs, real processes killed with SIGKILL."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from harmoni_pipeline.scoring.marts import ALL_TABLES, IHAI_TABLES
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.publication_killer import command as killer

REPO = Path(__file__).resolve().parent.parent

HARMONI = str(Path(sys.executable).parent / "harmoni")
CODES = [f"35.13.{i:02d}" for i in range(1, 9)]
PERIODS = ("2025-01", "2025-02")


def snapshot(period: str, run_id: str, level: float) -> dict[str, pa.Table]:
    """Ten mart tables of one run: every row carries the run id, and the quadrant table's
    ``ihai`` equals ``ihai_kecamatan.ihai`` (``level`` + the kecamatan's position)."""
    out = {}
    for table in ALL_TABLES:
        schema = MART_SCHEMAS[table]
        columns = {f.name: pa.nulls(len(CODES), f.type) for f in schema}
        columns["period"] = pa.array([period] * len(CODES))
        columns["run_id"] = pa.array([run_id] * len(CODES))
        if "kode_kecamatan" in schema.names:
            columns["kode_kecamatan"] = pa.array(CODES)
        if table in ("marts.ihai_kecamatan", "marts.harmoni_kewaspadaan"):
            columns["ihai"] = pa.array([level + i for i in range(len(CODES))], pa.float64())
        out[table] = pa.table(columns, schema=schema)
    return out


CONSISTENCY = """
SELECT p.period, count(DISTINCT p.run_id) AS runs, count(*) AS tables_rows,
       (SELECT count(*) FROM marts.harmoni_kewaspadaan h JOIN marts.ihai_kecamatan i USING (period, kode_kecamatan)
        WHERE h.period = p.period AND h.ihai IS DISTINCT FROM i.ihai) AS disagreeing,
       min(p.run_id) AS run
FROM ({union}) p GROUP BY p.period ORDER BY p.period
""".format(union=" UNION ALL ".join(f"SELECT period, run_id, '{t}' AS t FROM {t}" for t in ALL_TABLES))


def catalog_state(catalog: Path) -> dict[str, tuple]:
    """period → (number of runs among its ten marts, rows, kecamatan disagreeing, run)."""
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute(CONSISTENCY).fetchall()}
    finally:
        con.close()


def assert_one_snapshot_per_period(catalog: Path, allowed: dict[str, set[str]]) -> None:
    state = catalog_state(catalog)
    assert set(state) == set(allowed), state
    for period, (runs, rows, disagreeing, run) in state.items():
        assert runs == 1 and disagreeing == 0 and rows == len(ALL_TABLES) * len(CODES), (period, state[period])
        assert run in allowed[period], (period, run)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A warehouse with the old snapshot of two months published."""
    root = tmp_path_factory.mktemp("snapshots") / "wh"
    wh = Warehouse(root, catalog_tables())
    for period in PERIODS:
        wh.publish_all(snapshot(period, "old", 10.0), period, "old")
    return root


def test_a_kill_at_every_write_or_rename_of_a_publication_leaves_one_snapshot_per_period(published, tmp_path):
    killed_at = []
    for k in range(1, 200):
        root = tmp_path / f"wh{k}"
        shutil.copytree(published, root)
        wh = Warehouse(root, catalog_tables())
        wh.build_catalog()  # the copy's own catalog (the copied one names the original's files)
        for table, data in snapshot("2025-02", "new", 50.0).items():
            wh.write_pending(table, "2025-02", data, "new")
        proc = subprocess.run(killer(root, k, "2025-02", "new", "marts"), capture_output=True, text=True, timeout=120,
                              cwd=REPO)
        if proc.returncode == 0:  # the publication needed fewer than k steps: every step has been killed once
            operations = int(proc.stdout.split()[-1])
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        killed_at.append(k)
        allowed = {"2025-01": {"old"}, "2025-02": {"old", "new"}}
        assert_one_snapshot_per_period(root / "harmoni.duckdb", allowed)  # the catalog as the kill left it
        Warehouse(root, catalog_tables()).build_catalog()  # what `harmoni catalog` does (its CLI: the next test)
        assert_one_snapshot_per_period(root / "harmoni.duckdb", allowed)  # and as a fresh rebuild shows it
        # a rerun converges: the next run's snapshot is published whole, leftovers are pruned
        again = Warehouse(root, catalog_tables())
        for table, data in snapshot("2025-02", "rerun", 70.0).items():
            again.write_pending(table, "2025-02", data, "rerun")
        again.publish_pending(ALL_TABLES, "2025-02", "rerun")
        assert_one_snapshot_per_period(root / "harmoni.duckdb", {"2025-01": {"old"}, "2025-02": {"rerun"}})
        logged = again.query("SELECT DISTINCT run_id FROM {audit.publications} WHERE period = '2025-02'").fetchall()
        assert ("rerun",) in logged
        for table in ALL_TABLES:
            again.prune(table, "2025-02", "data", grace=-1)
            assert again.versions(table, "2025-02") == [again.current_file(table, "2025-02")], table
    else:
        pytest.fail("the publication never completed")
    assert killed_at == list(range(1, operations + 1)) and operations >= len(ALL_TABLES) + 1


def test_the_manifest_decides_what_is_current_not_the_newest_file(published, tmp_path):
    """A leftover file of a killed run, newer than the current one, is never taken."""
    root = tmp_path / "wh"
    shutil.copytree(published, root)
    wh = Warehouse(root, catalog_tables())
    current = wh.current_file(IHAI_TABLES[0], "2025-02")
    tmp, leftover = wh.stage(IHAI_TABLES[0], "2025-02", snapshot("2025-02", "killed", 99.0)[IHAI_TABLES[0]])
    wh.storage.place(tmp, leftover.path)  # in place, but no manifest names it
    assert wh.current_file(IHAI_TABLES[0], "2025-02") == current
    assert wh.read_partition(IHAI_TABLES[0], "2025-02").column("run_id")[0].as_py() == "old"
    wh.build_catalog()
    assert_one_snapshot_per_period(root / "harmoni.duckdb", {"2025-01": {"old"}, "2025-02": {"old"}})


def test_a_moved_warehouse_resolves_its_manifests(published, tmp_path):
    moved = tmp_path / "elsewhere" / "wh"
    shutil.copytree(published, moved)
    proc = subprocess.run([HARMONI, "catalog", "--warehouse", str(moved)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert_one_snapshot_per_period(moved / "harmoni.duckdb", {"2025-01": {"old"}, "2025-02": {"old"}})


READER = r"""
import sys, time, duckdb
catalog, seconds = sys.argv[1], float(sys.argv[2])
query = sys.argv[3]
end = time.time() + seconds
queries = inconsistent = 0
while time.time() < end:
    con = duckdb.connect(catalog, read_only=True)
    for period, runs, rows, disagreeing, run in con.execute(query).fetchall():
        if runs != 1 or disagreeing:
            inconsistent += 1
    con.close()
    queries += 1
print(queries, inconsistent)
"""


def test_readers_in_other_processes_never_see_two_runs_of_one_period(published, tmp_path):
    root = tmp_path / "wh"
    shutil.copytree(published, root)
    wh = Warehouse(root, catalog_tables())
    wh.build_catalog()
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(wh.catalog_path), "25", CONSISTENCY],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    publications = 0
    deadline = time.time() + 20
    while time.time() < deadline:
        publications += 1
        period = PERIODS[publications % 2]
        wh.publish_all(snapshot(period, f"run-{publications}", float(publications)), period, f"run-{publications}")
    results = []
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, err
        results.append(tuple(map(int, out.split())))
    assert publications > 10
    assert all(queries > 20 and inconsistent == 0 for queries, inconsistent in results), results


def test_temporary_files_of_dead_processes_are_removed(tmp_path):
    import os

    wh = Warehouse(tmp_path / "wh", catalog_tables())
    old, young = wh._scratch("killed.tmp"), wh._scratch("in-use.tmp")
    old.write_bytes(b"x")
    young.write_bytes(b"y")
    past = time.time() - 2 * 24 * 3600
    os.utime(old, (past, past))
    assert wh.prune_scratch() == 1
    assert not old.exists() and young.exists()
