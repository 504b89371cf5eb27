"""One ``Definitions`` from the Dagster area's modules: the assets and checks (the
``assets`` and ``checks`` folders, installed under this package), the jobs, schedule,
sensors and the ``harmoni`` resource, and the executor the environment asks for.

Room: assembling the code location; :mod:`harmoni_pipeline.definitions` is its entry.
"""

from __future__ import annotations

import os

import dagster as dg

from harmoni_pipeline import trail
from harmoni_pipeline.assets.ingestion import build_ingestion_assets, landing_specs
from harmoni_pipeline.assets.marts import mart_assets, mart_specs
from harmoni_pipeline.assets.pulls import pull_assets
from harmoni_pipeline.assets.notifications import notification_assets
from harmoni_pipeline.assets.report import report_assets
from harmoni_pipeline.assets.uncertainty import uncertainty_assets
from harmoni_pipeline.checks.diagnostics import diagnostic_checks
from harmoni_pipeline.checks.marts import mart_checks
from harmoni_pipeline.checks.staging import staging_checks
from harmoni_pipeline.defs.jobs import (
    harmoni_monthly_job,
    ingest_monthly_job,
    ingest_statistics_job,
    notify_pending_job,
    pull_jobs,
    score_monthly_job,
)
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.defs.schedules import monthly_schedule, pull_schedules
from harmoni_pipeline.defs.sensors import (
    freshness_sensor,
    landing_sensor,
    notify_retry_sensor,
    refresh_sensor,
    run_failure_alert,
)
from harmoni_pipeline.step_io import warehouse_io_manager

EXECUTORS = ("multiprocess", "in_process", "k8s", "celery")


def executor_name(environ=None) -> str:
    """The executor ``HARMONI_EXECUTOR`` names (``multiprocess`` when unset or blank)."""
    return (os.environ if environ is None else environ).get("HARMONI_EXECUTOR", "multiprocess").strip() or "multiprocess"


def executor_from_env(environ=None) -> dg.ExecutorDefinition:
    """``HARMONI_EXECUTOR``: ``multiprocess`` (default: one process per step, steps of a run
    in parallel), ``in_process`` (one process per run: no per-step start-up cost, for
    small machines where runs, not steps, are the parallelism), ``k8s`` (one Kubernetes
    Job per step; needs ``dagster-k8s``, installed in the deployment image only) or
    ``celery`` (each step a task on the broker ``HARMONI_CELERY_BROKER``, run by
    ``harmoni worker`` processes on any machine: :mod:`harmoni_pipeline.celery_workers`)."""
    name = executor_name(environ)
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
    if name == "celery":
        from harmoni_pipeline.celery_workers import celery_executor

        return celery_executor(environ)
    raise ValueError(f"HARMONI_EXECUTOR={name!r}: expected one of {', '.join(EXECUTORS)}")


def located(assets: list, harmoni: HarmoniResource) -> list:
    """``assets`` with ``dagster/uri`` in their definitions: where each lives under the
    landing zone and warehouse of this code location (left out when the settings
    cannot be read here: the runs will say why)."""
    try:
        settings = harmoni.settings()
        warehouse = settings.warehouse()
    except Exception:  # noqa: BLE001 — a code location must load; the runs report bad settings
        return assets
    return list(dg.map_asset_specs(lambda spec: trail.with_location(spec, landing=settings.landing_dir,
                                                                    warehouse=warehouse), assets))


def build_defs(resource_overrides: dict | None = None, split: str | None = None) -> dg.Definitions:
    """``split``: ``"province"`` splits each month's survey and FKDM parse into one step
    per province shard (default: ``HARMONI_SPLIT``; unset = one step per source)."""
    split = os.environ.get("HARMONI_SPLIT") if split is None else split
    resources = {"harmoni": HarmoniResource(), "io_manager": warehouse_io_manager}
    resources.update(resource_overrides or {})
    return dg.Definitions(
        executor=executor_from_env(),
        assets=located([*landing_specs, *mart_specs, *build_ingestion_assets(split), *mart_assets, *uncertainty_assets,
                        *report_assets, *pull_assets, *notification_assets], resources["harmoni"]),
        asset_checks=[*staging_checks, *diagnostic_checks, *mart_checks],
        jobs=[ingest_monthly_job, ingest_statistics_job, harmoni_monthly_job, score_monthly_job, notify_pending_job,
              *pull_jobs.values()],
        schedules=[monthly_schedule(harmoni_monthly_job), *pull_schedules(pull_jobs)],
        sensors=[
            run_failure_alert,
            freshness_sensor,
            landing_sensor([ingest_monthly_job, ingest_statistics_job, score_monthly_job]),
            refresh_sensor(score_monthly_job, [ingest_monthly_job, ingest_statistics_job]),
            notify_retry_sensor(notify_pending_job),
        ],
        resources=resources,
    )

