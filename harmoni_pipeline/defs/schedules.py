"""Schedules of the code location: the monthly run.

Room: Dagster declarations only; which month a tick runs is :mod:`harmoni_pipeline.periods`'.
"""

from __future__ import annotations

import dagster as dg

from harmoni_pipeline.periods import TIMEZONE, month_of, previous_month


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
        period = previous_month(month_of(context.scheduled_execution_time))
        return dg.RunRequest(run_key=f"monthly-{period}", partition_key=period, tags={"harmoni/trigger": "schedule"})

    return _schedule
