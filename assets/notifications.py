"""Notification assets: a red FKDM report, a kecamatan turning rawan, each position's
digest — found in the published tables of a month and sent once to the responsible
officer (thin declarations over :mod:`harmoni_pipeline.notify`). The retry job is in
:mod:`harmoni_pipeline.defs.jobs`, its sensor in :mod:`harmoni_pipeline.defs.sensors`."""

import dagster as dg

from harmoni_pipeline.defs.partitions import monthly_partitions
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.notify import service, triggers
from harmoni_pipeline.notify.config import NotifyConfig, NotifyConfigError
from harmoni_pipeline.notify.contacts import ContactsError

NOTIFY_CODE_VERSION = "notify-1"
OWNERS = ["team:data-engineering"]
GROUP = "notifications"


def _notify(context: dg.AssetExecutionContext, harmoni: HarmoniResource, find) -> dg.MaterializeResult:
    settings, warehouse = harmoni.settings(), harmoni.warehouse()
    try:
        config = NotifyConfig.from_env()
        alerts = find(settings, warehouse, context.partition_key)
        outcome = service.notify(alerts, settings=settings, warehouse=warehouse, config=config, run_id=context.run_id)
    except (NotifyConfigError, ContactsError) as exc:
        # A settings problem: loud (log, alert log, office webhook) but never failing the run,
        # so staging and scoring go on; the alerts are found again when the partition re-runs.
        from harmoni_pipeline.alerts import make_alert, post_alert, record_alert

        context.log.error(f"notifications {context.partition_key} not sent: {exc}")
        alert = make_alert(context.run_id, context.job_name, context.partition_key, f"notifications not sent: {exc}")
        record_alert(alert, settings.warehouse_dir)
        try:
            post_alert(alert)
        except OSError:
            pass
        return dg.MaterializeResult(metadata={"error": str(exc), "table": "audit.notifications"})
    context.log.info(f"notifications {context.partition_key}: {outcome.summary()}")
    for error in outcome.delivery.errors:
        context.log.warning(f"not sent yet (retried by harmoni_notify_retry_sensor): {error}")
    return dg.MaterializeResult(metadata={
        "alerts_found": outcome.found,
        "before_since": outcome.before_since,
        "since": str(outcome.since),
        "new_alerts": len(outcome.new),
        "new_keys": ", ".join(outcome.new[:50]) or "none",
        "unassigned": len(outcome.unassigned),
        "sent": outcome.delivery.sent,
        "to_retry": outcome.delivery.retrying,
        "failed": outcome.delivery.failed,
        "table": "audit.notifications",
    })


def _digests(settings, warehouse, period):
    return triggers.digests(warehouse, period)


@dg.asset(
    key=["notifications", "red_reports"],
    description="Red FKDM reports (merah1/merah2, not ditolak) of the month's published staging partition, sent to the "
    "kecamatan's responsible officer as soon as the staging run publishes them (no scoring needed); once per report "
    "and qualification. Recorded in audit.notifications.",
    deps=[dg.AssetKey(["staging", "fkdm_reports"]), dg.AssetKey(["landing", "penanggung_jawab"])],
    partitions_def=monthly_partitions, group_name=GROUP, kinds={"email", "telegram"}, owners=OWNERS,
    code_version=NOTIFY_CODE_VERSION,
)
def red_reports(context: dg.AssetExecutionContext, harmoni: HarmoniResource) -> dg.MaterializeResult:
    return _notify(context, harmoni, service.red_report_alerts)


@dg.asset(
    key=["notifications", "became_rawan"],
    description="Kecamatan whose tingkat_kerawanan became Tinggi, or whose red alert is new, in the month's published "
    "marts (against the previous published month); once per kecamatan and month.",
    deps=[dg.AssetKey(["marts", "ikn_kecamatan"]), dg.AssetKey(["marts", "harmoni_kewaspadaan"])],
    partitions_def=monthly_partitions, group_name=GROUP, kinds={"email", "telegram"}, owners=OWNERS,
    code_version=NOTIFY_CODE_VERSION,
)
def became_rawan(context: dg.AssetExecutionContext, harmoni: HarmoniResource) -> dg.MaterializeResult:
    return _notify(context, harmoni, lambda settings, warehouse, period: triggers.became_rawan(warehouse, period))


@dg.asset(
    key=["notifications", "digest"],
    description="One summary per responsible position of its kecamatan's quadrant, rekomendasi and changes, for the "
    "newest published month only (older months, e.g. in a backfill, never send one); once per position and month.",
    deps=[dg.AssetKey(["marts", "harmoni_kewaspadaan"])],
    partitions_def=monthly_partitions, group_name=GROUP, kinds={"email", "telegram"}, owners=OWNERS,
    code_version=NOTIFY_CODE_VERSION,
)
def digest(context: dg.AssetExecutionContext, harmoni: HarmoniResource) -> dg.MaterializeResult:
    range_end = context.run.tags.get(triggers.RANGE_END_TAG)
    if range_end and context.partition_key < range_end:
        return _notify(context, harmoni, lambda *_: [])
    return _notify(context, harmoni, _digests)


notification_assets = [red_reports, became_rawan, digest]
