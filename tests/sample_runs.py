"""Running the monthly jobs on a generated landing zone, as a test's fixture does:
statistics years, the landing months before the first scored month, then
``harmoni_monthly`` per scored month, each asserted to succeed."""

from __future__ import annotations

import contextlib

import dagster as dg

from harmoni_pipeline.definitions import build_defs
from harmoni_pipeline.periods import month_range
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.sample import generate_landing_zone


@contextlib.contextmanager
def scored_sample(landing, warehouse, *, start: str, scored: list[str], seed: int, scope: str = "35.13",
                  home=None):
    """Generate ``start``..last scored month into ``landing``, run the jobs into
    ``warehouse``; yields the Dagster test instance (open while the block runs; kept in
    the folder ``home`` when given, for a webserver to read afterwards)."""
    generate_landing_zone(landing, start=start, end=scored[-1], seed=seed, scope=scope)
    defs = build_defs({"harmoni": HarmoniResource(landing_dir=str(landing), warehouse_dir=str(warehouse), scope=scope)})
    years = sorted({p[:4] for p in month_range(start, scored[-1])})
    plan = [("ingest_statistics", y) for y in years]
    plan += [("ingest_monthly", p) for p in month_range(start, scored[0])[:-1]]
    plan += [("harmoni_monthly", p) for p in scored]
    with dg.instance_for_test(temp_dir=None if home is None else str(home)) as instance:
        for job, key in plan:
            result = defs.resolve_job_def(job).execute_in_process(partition_key=key, instance=instance, raise_on_error=False)
            assert result.success, (job, key)
        yield instance
