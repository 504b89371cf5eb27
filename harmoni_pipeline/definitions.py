"""The Dagster code location: every asset, job and resource of harmoni in one
``Definitions`` (``dg list defs``, ``dagster dev -m harmoni_pipeline.definitions``)."""

from __future__ import annotations

import os

import dagster as dg

from assets.ingestion import build_ingestion_assets, landing_specs
from assets.marts import mart_assets, mart_specs
from assets.report import report_assets
from checks.diagnostics import diagnostic_checks
from checks.marts import mart_checks
from checks.staging import staging_checks
from harmoni_pipeline.automation import (
    freshness_sensor,
    landing_sensor,
    monthly_schedule,
    refresh_sensor,
    run_failure_alert,
)
from harmoni_pipeline import trail
from harmoni_pipeline.resources import HarmoniResource
from harmoni_pipeline.warehouse import Warehouse

ingest_monthly_job = dg.define_asset_job(
    "ingest_monthly",
    selection=dg.AssetSelection.assets(["staging", "survey_responses"], ["staging", "fkdm_reports"]),
    description="Ingest one month of survey exports and FKDM reports.",
)
MONTHLY_STAGING = dg.AssetSelection.assets(["staging", "survey_responses"], ["staging", "fkdm_reports"])
MARTS = dg.AssetSelection.groups("marts")
REPORT = dg.AssetSelection.groups("reports")

harmoni_monthly_job = dg.define_asset_job(
    "harmoni_monthly",
    selection=MONTHLY_STAGING | MARTS | REPORT,
    description="Ingest one month's survey exports and FKDM reports, then score the month (every mart).",
)
score_monthly_job = dg.define_asset_job(
    "score_monthly",
    selection=MARTS | REPORT,
    description="Score one month from what is staged (after a statistics delivery or a methodology change).",
)
ingest_statistics_job = dg.define_asset_job(
    "ingest_statistics",
    selection=dg.AssetSelection.assets(["staging", "statistics"]),
    description="Ingest one arrival year of statistics tables.",
)


EXECUTORS = ("multiprocess", "in_process", "k8s")


def executor_from_env(environ=None) -> dg.ExecutorDefinition:
    """``HARMONI_EXECUTOR``: ``multiprocess`` (default: one process per step, steps of a run
    in parallel), ``in_process`` (one process per run: no per-step start-up cost, for
    small machines where runs, not steps, are the parallelism) or ``k8s`` (one Kubernetes
    Job per step; needs ``dagster-k8s``, installed in the deployment image only)."""
    name = (os.environ if environ is None else environ).get("HARMONI_EXECUTOR", "multiprocess").strip() or "multiprocess"
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "in_process":
        return dg.in_process_executor
    if name == "k8s":
        try:
            from dagster_k8s import k8s_job_executor
        except ImportError as exc:
            raise ValueError("HARMONI_EXECUTOR=k8s needs the package dagster-k8s (docs/deployment.md)") from exc
        return k8s_job_executor
    raise ValueError(f"HARMONI_EXECUTOR={name!r}: expected one of {', '.join(EXECUTORS)}")


def located(assets: list, harmoni: HarmoniResource) -> list:
    """``assets`` with ``dagster/uri`` in their definitions: where each lives under the
    landing zone and warehouse of this code location (left out when the settings
    cannot be read here: the runs will say why)."""
    try:
        settings = harmoni.settings()
        warehouse = Warehouse(settings.warehouse_dir, local_dir=settings.local_dir)
    except Exception:  # noqa: BLE001 — a code location must load; the runs report bad settings
        return assets
    return list(dg.map_asset_specs(lambda spec: trail.with_location(spec, landing=settings.landing_dir,
                                                                    warehouse=warehouse), assets))


def build_defs(resource_overrides: dict | None = None, split: str | None = None) -> dg.Definitions:
    """``split``: ``"province"`` splits each month's survey and FKDM parse into one step
    per province shard (default: ``HARMONI_SPLIT``; unset = one step per source)."""
    split = os.environ.get("HARMONI_SPLIT") if split is None else split
    resources = {"harmoni": HarmoniResource()}
    resources.update(resource_overrides or {})
    return dg.Definitions(
        executor=executor_from_env(),
        assets=located([*landing_specs, *mart_specs, *build_ingestion_assets(split), *mart_assets, *report_assets],
                       resources["harmoni"]),
        asset_checks=[*staging_checks, *diagnostic_checks, *mart_checks],
        jobs=[ingest_monthly_job, ingest_statistics_job, harmoni_monthly_job, score_monthly_job],
        schedules=[monthly_schedule(harmoni_monthly_job)],
        sensors=[
            run_failure_alert,
            freshness_sensor,
            landing_sensor([ingest_monthly_job, ingest_statistics_job, score_monthly_job]),
            refresh_sensor(score_monthly_job, [ingest_monthly_job, ingest_statistics_job]),
        ],
        resources=resources,
    )


defs = build_defs()
