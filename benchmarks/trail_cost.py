"""What the auditor's trail (``audit.score_*``) costs a month's scoring: build, validate
and write the five trail tables beside the ten marts, on a generated landing zone.

    .venv/bin/python benchmarks/trail_cost.py --scope 35.13                    # the sample size
    .venv/bin/python benchmarks/trail_cost.py --scope ALL --months 2 --responses 200000 --reports 20000

Stages call the functions the Dagster assets and the gate call (``build_ihai``,
``build_ikn``, ``build_integration``, ``build_trail``, ``validate_marts``,
``Warehouse.write_pending``); the figures go into docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scope", default="35.13")
    parser.add_argument("--period", default="2025-06", help="the month scored (and the last month generated)")
    parser.add_argument("--months", type=int, default=3, help="months generated up to --period (survey window)")
    parser.add_argument("--responses", type=int, default=None)
    parser.add_argument("--reports", type=int, default=None)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()

    from harmoni_pipeline import methodology
    from harmoni_pipeline.ingest.runner import ingest_partition
    from harmoni_pipeline.periods import month_range, shift
    from harmoni_pipeline.quality.validate import validate_marts
    from harmoni_pipeline.regions import Regions
    from harmoni_pipeline.registry import STAGING_TABLES
    from harmoni_pipeline.sample import generate_landing_zone
    from harmoni_pipeline.scoring.marts import PeriodContext, build_ihai, build_ikn, build_integration, read_inputs
    from harmoni_pipeline.settings import Settings
    from harmoni_pipeline.trace.build import build_trail, respondents

    work = Path(args.workdir or tempfile.mkdtemp(prefix="trail-cost-"))
    landing, root = work / "landing", work / "warehouse"
    months = month_range(shift(args.period, -(args.months - 1)), args.period)
    seconds: dict[str, float] = {}

    def timed(stage: str, fn, *a, **kw):
        started = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - started

    timed("generate", generate_landing_zone, landing, start=months[0], end=months[-1], seed=0, scope=args.scope,
          responses=args.responses, reports=args.reports)
    settings = Settings.from_env(landing_dir=str(landing), warehouse_dir=str(root), scope=args.scope)
    warehouse = settings.warehouse()
    regions, m = Regions.load(), methodology.load()
    for source, key in [("stats", args.period[:4])] + [(s, p) for p in months for s in ("survey", "fkdm")]:
        timed("ingest", ingest_partition, source, key, settings=settings, run_id="bench", warehouse=warehouse,
              regions=regions, publish=False)
        warehouse.publish_pending([STAGING_TABLES[source]], key, "bench")

    ctx = PeriodContext(args.period, warehouse, regions, args.scope, m, "bench")
    read = timed("read inputs", read_inputs, ctx)
    ihai = timed("score", build_ihai, ctx, read)
    ikn = timed("score", build_ikn, ctx, read)
    integ = timed("score", build_integration, ctx, landing, ihai.tables["marts.ihai_kecamatan"],
                  ikn.tables["marts.ikn_kecamatan"])
    marts = {**ihai.tables, **ikn.tables, **integ.tables}
    used = timed("trail: build", respondents, read.window, {"ihai": ihai.evidence["scores"], "ikn": ikn.evidence["scores"]})
    trail = timed("trail: build", build_trail, ctx, read, used, ikn.evidence["konteks"])
    # validate_marts takes each table out of the dict it is given: give it copies of the dicts
    timed("marts: validate", validate_marts, dict(marts), args.period, methodology=m, run_name="bench", docs=None)
    timed("trail: validate", validate_marts, dict(trail), args.period, methodology=m, run_name="bench", docs=None)
    sizes = {}
    for group, tables in (("marts", marts), ("trail", trail)):
        for table, data in tables.items():
            path = timed(f"{group}: write", warehouse.write_pending, table, args.period, data, "bench")
            sizes[table] = {"rows": data.num_rows, "bytes": warehouse.storage.size(path)}
    result = {
        "scope": args.scope, "period": args.period, "months": len(months),
        "window_responses": int(len(read.window)), "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "trail_rows": {t: sizes[t]["rows"] for t in trail}, "trail_bytes": sum(sizes[t]["bytes"] for t in trail),
        "marts_bytes": sum(sizes[t]["bytes"] for t in marts),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
