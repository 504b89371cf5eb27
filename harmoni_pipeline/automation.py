"""Schedules and sensors of the code location: the monthly run, and the alert on failure.

Room: Dagster declarations only; messages and delivery are :mod:`harmoni_pipeline.alerts`'.
The landing-zone sensor lives in :mod:`harmoni_pipeline.landing_sensor`.
"""

from __future__ import annotations

import dagster as dg

from harmoni_pipeline.alerts import make_alert, post_alert, record_alert
from harmoni_pipeline.partitions import TIMEZONE
from harmoni_pipeline.periods import shift


def previous_month(moment) -> str:
    """The partition a monthly tick at ``moment`` (Asia/Jakarta) runs: the month before."""
    return shift(f"{moment.year:04d}-{moment.month:02d}", -1)


def monthly_schedule(job) -> dg.ScheduleDefinition:
    """The 5th of every month at 02:00 Asia/Jakarta, for the previous (complete) month."""

    @dg.schedule(
        name="harmoni_monthly_schedule",
        cron_schedule="0 2 5 * *",
        execution_timezone=TIMEZONE,
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Ingest and score the previous month on the 5th at 02:00 Asia/Jakarta.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        period = previous_month(context.scheduled_execution_time)
        return dg.RunRequest(run_key=f"monthly-{period}", partition_key=period, tags={"harmoni/trigger": "schedule"})

    return _schedule


@dg.run_failure_sensor(
    name="harmoni_run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run in <warehouse>/alerts/alerts.jsonl and POSTs it to HARMONI_ALERT_WEBHOOK.",
    monitor_all_code_locations=False,
)
def run_failure_alert(context: dg.RunFailureSensorContext):
    from harmoni_pipeline.settings import Settings

    run = context.dagster_run
    reason = context.failure_event.message if context.failure_event else "run failed"
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        if data and data.user_failure_data and data.user_failure_data.description:
            reason = data.user_failure_data.description
            break
        if data and data.error:
            reason = data.error.message
            break
    alert = make_alert(run.run_id, run.job_name, run.tags.get("dagster/partition"), reason)
    path = record_alert(alert, Settings.from_env().warehouse_dir)
    context.log.info(f"alert recorded in {path}")
    try:
        status = post_alert(alert)
    except OSError as exc:  # the alert stays recorded; the webhook may be down
        context.log.warning(f"alert webhook failed: {exc}")
        return
    if status is not None:
        context.log.info(f"alert posted (HTTP {status})")
