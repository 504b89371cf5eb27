"""Which partitions of which assets a range of months needs, in order.

Room: planning only — from the landing folders and what is already staged, the runs
(``harmoni run``, run one after another) or the asset partitions (``harmoni backfill``,
ordered by Dagster) that materialise a range of periods. Nothing is executed here.
"""

from __future__ import annotations

from pathlib import Path

from harmoni_pipeline.registry import HARMONI_MONTHLY, INGEST_MONTHLY, INGEST_STATISTICS, SCORE_MONTHLY, STAGING_JOBS


def plan_runs(periods: list[str], landing: Path, warehouse: Path | None = None, *, pii_key_id: str,
              restage_periods: bool = True) -> list[tuple[str, str]]:
    """The runs that materialise ``periods``, in order: the statistics years up to the
    last period's year and the landing months before the first period (its windows and
    the response dedup look back) — each only when its staging is not current (its
    landing files changed since it was staged, it was staged with another PII key than
    the one ``pii_key_id`` fingerprints, or it never was) — then every period,
    ingested and scored (``harmoni_monthly``). A month without a landing folder is empty:
    nothing to stage; a folder that is not a partition (``landing_shape``) is never
    planned. ``restage_periods=False``: the periods too are staged only when not
    current (``ingest_monthly``), then scored (``score_monthly``)."""
    from harmoni_pipeline.ingest.landing_shape import source_periods
    from harmoni_pipeline.ingest.runner import staging_is_current
    from harmoni_pipeline.registry import catalog_tables
    from harmoni_pipeline.warehouse import Warehouse

    first, last_year = min(periods), max(periods)[:4]
    wh = Warehouse(warehouse, catalog_tables()) if warehouse else None

    def stale(sources: tuple[str, ...], period: str) -> bool:
        return wh is None or not all(
            staging_is_current(s, period, landing=landing, warehouse=wh, pii_key_id=pii_key_id) for s in sources
        )

    def folders(source: str, keep) -> set[str]:  # partition folders only (landing_shape's rule)
        return {name for name in source_periods(landing, source)[0] if keep(name)}

    years = folders("stats", lambda name: name <= last_year)
    months = folders("survey", lambda name: name < first) | folders("fkdm", lambda name: name < first)
    return (
        [(INGEST_STATISTICS, y) for y in sorted(years) if stale(STAGING_JOBS[INGEST_STATISTICS], y)]
        + [(INGEST_MONTHLY, m) for m in sorted(months) if stale(STAGING_JOBS[INGEST_MONTHLY], m)]
        + ([(HARMONI_MONTHLY, p) for p in periods] if restage_periods else
           [(INGEST_MONTHLY, p) for p in periods if stale(STAGING_JOBS[INGEST_MONTHLY], p)]
           + [(SCORE_MONTHLY, p) for p in periods])
    )


def asset_partitions(plan: list[tuple[str, str]], job_assets: dict[str, list]) -> dict[tuple[str, ...], list[str]]:
    """The plan as asset partitions: ``{asset key path: sorted partition keys}``, with
    ``job_assets`` naming each job's assets (the code location's job selections)."""
    out: dict[tuple[str, ...], set[str]] = {}
    for job, key in plan:
        for asset in job_assets[job]:
            out.setdefault(tuple(asset), set()).add(key)
    return {asset: sorted(keys) for asset, keys in sorted(out.items())}
