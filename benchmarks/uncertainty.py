"""Benchmark of the uncertainty, sensitivity and group marts of one month: generate a
landing zone, ingest it and score the month with the domain functions (as
``benchmarks/bench.py`` does, no Dagster), then time
:func:`harmoni_pipeline.scoring.uncertainty_marts.build_uncertainty` with the settings of
the methodology YAML and with the bootstrap off (the difference is the bootstrap's cost), wall-clock and CPU
time (on a shared machine the CPU time is the steadier figure), and print the peak RSS
of the preparation and of each analysis (the process's peak reset before it, Linux; the
analysis's peak includes the month's inputs it holds, as in the Dagster step).

    .venv/bin/python benchmarks/uncertainty.py --scope 35.13 --responses 20000 --reports 2000 [--draws N] [--bootstrap B]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline.ingest.runner import ingest_partition
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.sample import generate_landing_zone
from harmoni_pipeline.scoring import marts, uncertainty as unc
from harmoni_pipeline.scoring.uncertainty_marts import build_uncertainty
from harmoni_pipeline.settings import Settings
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux: ``clear_refs`` 5), so the next reading is the
    peak of what runs after it; False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak RSS since the last reset (``VmHWM``), else since the process started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scope", default="35.13")
    parser.add_argument("--period", default="2025-06")
    parser.add_argument("--responses", type=int, default=None)
    parser.add_argument("--reports", type=int, default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--bootstrap", type=int, default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="harmoni-uncertainty-bench-"))
    landing = tmp / "landing"
    generate_landing_zone(landing, start=args.period, end=args.period, seed=5, scope=args.scope,
                          responses=args.responses, reports=args.reports)
    settings = Settings.from_env(landing_dir=landing, warehouse_dir=tmp / "wh", scope=args.scope,
                                 pii_key="bench-key", environ={})
    warehouse, regions, m = Warehouse(settings.warehouse_dir, catalog_tables()), Regions.load(), methodology_mod.load()
    for source, period in (("stats", args.period[:4]), ("survey", args.period), ("fkdm", args.period)):
        ingest_partition(source, period, settings=settings, run_id="bench", warehouse=warehouse, regions=regions)
    ctx = marts.PeriodContext(args.period, warehouse, regions, args.scope, m, "bench")
    read = marts.read_inputs(ctx)
    published = {"marts.ihai_kecamatan": marts.build_ihai(ctx, read).tables["marts.ihai_kecamatan"].to_pandas(),
                 "marts.ikn_kecamatan": marts.build_ikn(ctx, read).tables["marts.ikn_kecamatan"].to_pandas()}
    overrides = {k: v for k, v in (("draws", args.draws), ("bootstrap_draws", args.bootstrap)) if v is not None}
    full = unc.Settings.of(m, **overrides)
    print(f"scope {args.scope}: {len(ctx.codes())} kecamatan, {len(read.window)} responses in the window; "
          f"draws N={full.draws} (2N={full.n_draws}), bootstrap {full.bootstrap_draws}")
    print(f"peak RSS of generating, ingesting and scoring: {peak_rss_mib():.0f} MiB")
    for label, s in (("full", full), ("bootstrap off", unc.Settings.of(m, **{**overrides, "bootstrap_draws": 0}))):
        reset = reset_peak_rss()
        started, cpu = time.perf_counter(), time.process_time()
        result = build_uncertainty(ctx, read, published, s)
        print(f"{label}: {time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU; rows "
              + ", ".join(f"{t.split('.')[1]} {v.num_rows}" for t, v in result.tables.items()))
        print(f"  peak RSS {'of this analysis' if reset else 'so far'}: {peak_rss_mib():.0f} MiB")
        print(f"  inside interval: ihai {result.facts['ihai_inside_interval']}, ikn {result.facts['ikn_inside_interval']}")
        del result
    shutil.rmtree(tmp, ignore_errors=True)  # the generated landing zone and warehouse


if __name__ == "__main__":
    main()
