"""Benchmark: time each stage of one month (ingest, validate, score, publish) against the
floor of reading the same raw bytes once, and record peak memory.

    .venv/bin/python benchmarks/bench.py [--responses 1000000] [--reports 100000] [--scope ALL]

Stages call the same domain functions the Dagster assets and checks call (no Dagster
overhead, which is constant per run): ingest = parse + stage candidates; validate = the GX
suites of the staging candidates and of the marts; score = the three builders; publish =
renaming candidates into place and refreshing the catalog. The floor reads every landing
file once into Parquet with the fastest reader at hand (DuckDB for CSV and JSON,
python-calamine for XLSX). Peak RSS is the process's ``ru_maxrss``.

First version (issue 3/4 session): one month only; the twelve-month run, the format mix
of issue 6 and the rewrite of docs/performance.md come with issue 6.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HARMONI_PII_KEY", "benchmark-key")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Timer:
    def __init__(self):
        self.stages: dict[str, float] = {}

    def run(self, stage: str, fn, *args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.stages[stage] = self.stages.get(stage, 0.0) + time.perf_counter() - started


def floor_seconds(landing: Path, scratch: Path) -> float:
    """Read every landing file once into Parquet with the fastest reader at hand."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    con = duckdb.connect()
    for i, path in enumerate(sorted(p for p in landing.rglob("*") if p.is_file())):
        target = scratch / f"floor_{i}.parquet"
        suffix = path.suffix.lower()
        if suffix == ".csv":
            con.execute("COPY (SELECT * FROM read_csv(?, all_varchar = true, header = true, auto_detect = true, "
                        "ignore_errors = true)) TO ? (FORMAT parquet)", [str(path), str(target)])
        elif suffix == ".json":
            con.execute("COPY (SELECT * FROM read_json_auto(?)) TO ? (FORMAT parquet)", [str(path), str(target)])
        elif suffix == ".xlsx":
            book = CalamineWorkbook.from_path(str(path))
            for n, name in enumerate(book.sheet_names):
                rows = book.get_sheet_by_name(name).to_python()
                if not rows:
                    continue
                width = max(len(r) for r in rows)
                columns = {f"c{j}": [str(r[j]) if j < len(r) else None for r in rows] for j in range(width)}
                pq.write_table(pa.table(columns), scratch / f"floor_{i}_{n}.parquet")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--scope", default="ALL")
    parser.add_argument("--period", default="2025-06")
    parser.add_argument("--workdir", help="keep the generated files here (default: a temporary folder)")
    args = parser.parse_args(argv)

    from harmoni_pipeline import methodology
    from harmoni_pipeline.ingest.runner import ingest_partition
    from harmoni_pipeline.quality.validate import validate_marts, validate_staging
    from harmoni_pipeline.regions import Regions
    from harmoni_pipeline.sample import generate_landing_zone
    from harmoni_pipeline.scoring.marts import IHAI_TABLES, IKN_TABLES, PeriodContext, build_ihai, build_ikn, build_integration
    from harmoni_pipeline.settings import Settings
    from harmoni_pipeline.tables import STAGING_TABLES, catalog_tables
    from harmoni_pipeline.warehouse import Warehouse

    work = Path(args.workdir or tempfile.mkdtemp(prefix="harmoni-bench-"))
    landing, warehouse_dir, scratch = work / "landing", work / "warehouse", work / "floor"
    scratch.mkdir(parents=True, exist_ok=True)
    period, year = args.period, args.period[:4]
    print(f"generating {args.responses:,} responses and {args.reports:,} reports ({args.scope}, {period}) in {work} …")
    generate_landing_zone(landing, start=period, end=period, seed=0, scope=args.scope,
                          responses=args.responses, reports=args.reports)
    raw_bytes = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())

    settings = Settings.from_env(landing_dir=str(landing), warehouse_dir=str(warehouse_dir), scope=args.scope)
    warehouse = Warehouse(warehouse_dir, catalog_tables())
    regions, method = Regions.load(), methodology.load()
    timer, run_id = Timer(), "bench"
    started = time.perf_counter()
    for source, key in (("stats", year), ("survey", period), ("fkdm", period)):
        timer.run("ingest", ingest_partition, source, key, settings=settings, run_id=run_id, warehouse=warehouse,
                  regions=regions, publish=False)
        candidate = warehouse.read_pending(STAGING_TABLES[source], key, run_id)
        report = timer.run("validate", validate_staging, source, key, candidate, warehouse=warehouse, regions=regions,
                           scope=args.scope, methodology=method, run_name=run_id, docs=None)
        if not report.success:
            print(f"  {source}: {report.summary()}")
        timer.run("publish", warehouse.publish_pending, [STAGING_TABLES[source]], key, run_id)
    ctx = PeriodContext(period, warehouse, regions, args.scope, method, run_id)
    for build, tables in ((build_ihai, IHAI_TABLES), (build_ikn, IKN_TABLES)):
        marts = timer.run("score", build, ctx)
        timer.run("validate", validate_marts, marts.tables, period, methodology=method, run_name=run_id, docs=None)
        timer.run("publish", warehouse.publish_all, marts.tables, period, run_id)
    ihai, ikn = warehouse.read_partition(IHAI_TABLES[0], period), warehouse.read_partition(IKN_TABLES[0], period)
    integration = timer.run("score", build_integration, ctx, landing, ihai, ikn)
    timer.run("validate", validate_marts, integration.tables, period, methodology=method, run_name=run_id, docs=None)
    timer.run("publish", warehouse.publish_all, integration.tables, period, run_id)
    total = time.perf_counter() - started
    floor = floor_seconds(landing, scratch)

    print(f"\nOne month, scope {args.scope}: {args.responses:,} responses, {args.reports:,} reports, "
          f"{raw_bytes / 1e6:,.0f} MB of landing files; {os.cpu_count()} CPUs")
    for stage in ("ingest", "validate", "score", "publish"):
        print(f"  {stage:<9}{timer.stages.get(stage, 0.0):8.1f} s")
    print(f"  {'total':<9}{total:8.1f} s")
    print(f"  {'floor':<9}{floor:8.1f} s   (pipeline / floor = {total / floor:.1f}×)")
    print(f"  peak RSS {peak_rss_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
