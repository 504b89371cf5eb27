"""``harmoni status``: what the Dagster instance knows — recent runs, and per asset which
partitions are materialised, failed or missing — and the landing zone's issues.

Room: reading the instance (public ``DagsterInstance`` API) and the landing zone's shape
(:mod:`harmoni_pipeline.ingest.landing_shape`), and formatting them for the terminal. Works on whichever instance ``DAGSTER_HOME`` points at (Postgres in
production, the embedded SQLite one for the demo).
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from harmoni_pipeline import registry
from harmoni_pipeline.registry import STAGING_TABLES
from harmoni_pipeline.summary import text_table

STATUS_ASSETS = [registry.asset_path(table) for table in (
    *STAGING_TABLES.values(), "marts.ihai_kecamatan", "marts.ikn_kecamatan", registry.KEWASPADAAN,
)]


def ranges(keys: list[str]) -> str:
    """Sorted partition keys, shown whole when few, else as ``first..last (count)``."""
    if not keys:
        return "-"
    return ", ".join(keys) if len(keys) <= 4 else f"{keys[0]}..{keys[-1]} ({len(keys)})"


def asset_status(instance: dg.DagsterInstance, defs: dg.Definitions, until: str | None = None) -> list[tuple]:
    """Per asset: partitions materialised, failed, and missing between the first
    materialised partition and ``until`` (default: the last materialised one)."""
    graph = defs.resolve_asset_graph()
    rows = []
    for path in STATUS_ASSETS:
        key = dg.AssetKey(path)
        partitions_def = graph.get(key).partitions_def
        every = partitions_def.get_partition_keys()
        status = instance.get_status_by_partition(key, every, partitions_def) or {}
        done = sorted(k for k, v in status.items() if v == dg.AssetPartitionStatus.MATERIALIZED)
        failed = sorted(k for k, v in status.items() if v == dg.AssetPartitionStatus.FAILED)
        running = sorted(k for k, v in status.items() if v == dg.AssetPartitionStatus.IN_PROGRESS)
        last = until or (done[-1] if done else None)
        span = [k for k in every if done and done[0] <= k <= (last or done[-1])]
        missing = [k for k in span if k not in status or status[k] is None]
        rows.append((key.to_user_string(), ranges(done), ranges(failed), ranges(running), ranges(missing)))
    return rows


def recent_runs(instance: dg.DagsterInstance, limit: int = 10) -> list[tuple]:
    out = []
    for run in instance.get_runs(limit=limit):
        record = instance.get_run_record_by_id(run.run_id)
        started = record.start_time if record else None
        stamp = _stamp(dt.datetime.fromtimestamp(started, dt.timezone.utc) if started else None)
        out.append((run.run_id[:8], run.job_name, run.tags.get("dagster/partition", ""), run.status.value, stamp))
    return out


def staging_standing(warehouse, instance: dg.DagsterInstance, defs: dg.Definitions) -> list[tuple]:
    """Staging partitions blocked at their latest attempt, or whose last check warned
    (from the warehouse's own records: the instance may be elsewhere)."""
    from harmoni_pipeline.quality.standing import standings

    graph = defs.resolve_asset_graph()
    wanted = {}
    for source, table in STAGING_TABLES.items():
        key = dg.AssetKey(registry.asset_path(table))
        wanted[source] = graph.get(key).partitions_def.get_partition_keys()
    rows = []
    for s in standings(warehouse, wanted):
        if s.blocked:
            rows.append((STAGING_TABLES[s.source], s.partition, "blocked",
                         f"{s.reason}; scores use {'its last published staging' if s.published else 'none of it'}"))
        rows += [(STAGING_TABLES[s.source], s.partition, "warning", w) for w in s.warnings]
    return rows


def _stamp(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def landing_issues(settings) -> list[tuple]:
    """The landing zone's issues now (a fresh listing: nothing is written), each with when
    it was first recorded in ``audit.landing_issues``."""
    from harmoni_pipeline.ingest import landing_shape

    issues = landing_shape.scan(settings.landing_dir).issues
    warehouse = settings.warehouse()
    seen = landing_shape.first_seen(warehouse, issues)
    return [(i.path, i.problem, _stamp(seen.get(i)) or "not yet recorded") for i in issues]


def render(instance: dg.DagsterInstance, defs: dg.Definitions, limit: int = 10, warehouse=None,
           issues: list[tuple] | None = None) -> str:
    """``warehouse``: also the staging partitions blocked or warned (left out when ``None``);
    ``issues``: :func:`landing_issues` (left out when ``None``)."""
    from harmoni_pipeline.local_runs import reap_dead_runs

    reaped = reap_dead_runs(instance)
    runs = recent_runs(instance, limit)
    parts = [f"Dagster instance: {instance.root_directory}", ""]
    if reaped:
        parts += [f"Marked failed (their process died): {', '.join(r[:8] for r in reaped)}", ""]
    parts += [f"Recent runs (latest {limit}):"]
    parts.append(text_table(runs, ["run", "job", "partition", "status", "started"]) if runs else "  none")
    parts += ["", "Partitions by asset (failed: the latest attempt failed or was blocked — the last good version stays "
              "published; missing: never materialised between the first and the last materialised):",
              text_table(asset_status(instance, defs), ["asset", "materialised", "failed", "in progress", "missing"])]
    if warehouse is not None:
        standing = staging_standing(warehouse, instance, defs)
        parts += ["", "Staging partitions blocked or warned at their latest check (warehouse records):",
                  text_table(standing, ["table", "partition", "state", "why"]) if standing else "  none"]
    if issues is not None:
        parts += ["", "Landing zone issues (not read, never blocking; audit.landing_issues, docs/ingestion.md):"]
        parts.append(text_table(issues, ["path", "problem", "first seen"]) if issues else "  none")
    return "\n".join(parts)
