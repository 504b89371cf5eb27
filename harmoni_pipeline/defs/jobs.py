"""The jobs of the code location, by the names in :mod:`harmoni_pipeline.registry`.

Room: asset selections and job definitions only; what runs is the assets' and checks'.
"""

from __future__ import annotations

import dagster as dg

from harmoni_pipeline.defs.resources import HarmoniResource

from harmoni_pipeline import registry
from harmoni_pipeline.registry import (
    HARMONI_MONTHLY,
    INGEST_MONTHLY,
    INGEST_STATISTICS,
    PULL_JOBS,
    NOTIFY_PENDING,
    SCORE_MONTHLY,
    STAGING_JOBS,
    STAGING_TABLES,
)

MONTHLY_STAGING = dg.AssetSelection.assets(*(registry.asset_path(STAGING_TABLES[s]) for s in STAGING_JOBS[INGEST_MONTHLY]))
MARTS = dg.AssetSelection.groups("marts")
REPORT = dg.AssetSelection.groups("reports")
RED_REPORTS = dg.AssetSelection.assets(["notifications", "red_reports"])
SCORE_NOTIFICATIONS = dg.AssetSelection.assets(["notifications", "became_rawan"], ["notifications", "digest"])

ingest_monthly_job = dg.define_asset_job(
    INGEST_MONTHLY,
    selection=MONTHLY_STAGING | RED_REPORTS,
    description="Ingest one month of survey exports and FKDM reports; notify red FKDM reports once published.",
)

harmoni_monthly_job = dg.define_asset_job(
    HARMONI_MONTHLY,
    selection=MONTHLY_STAGING | RED_REPORTS | MARTS | SCORE_NOTIFICATIONS | REPORT,
    description="Ingest one month's survey exports and FKDM reports, then score the month (every mart), notify.",
)
score_monthly_job = dg.define_asset_job(
    SCORE_MONTHLY,
    selection=MARTS | SCORE_NOTIFICATIONS | REPORT,
    description="Score one month from what is staged (after a statistics delivery or a methodology change), notify.",
)
ingest_statistics_job = dg.define_asset_job(
    INGEST_STATISTICS,
    selection=dg.AssetSelection.assets(registry.asset_path(STAGING_TABLES["stats"])),
    description="Ingest one arrival year of statistics tables.",
)

# One job per connector (``harmoni pull``'s sources): materialise its pull asset now.
pull_jobs = {
    source: dg.define_asset_job(name, selection=dg.AssetSelection.assets(["pulls", source]),
                                description=f"Pull new {source} records into the landing zone now.")
    for source, name in PULL_JOBS.items()
}

@dg.op(description="Send every notification due now (retries, and messages left by a process that died); expire "
       "those older than HARMONI_ALERT_EXPIRE_HOURS (default 72) as failed; publish audit.notifications.")
def deliver_pending(context, harmoni: HarmoniResource) -> None:
    from harmoni_pipeline.notify import service

    report = service.deliver_pending(settings=harmoni.settings(), warehouse=harmoni.warehouse())
    context.log.info(f"pending notifications: {report.summary()}")
    for error in report.errors:
        context.log.warning(error)


@dg.job(name=NOTIFY_PENDING, description="Retry the notifications a channel could not take yet.")
def notify_pending_job():
    deliver_pending()
