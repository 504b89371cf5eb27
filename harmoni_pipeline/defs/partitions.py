"""Partitions, defined once: months (``YYYY-MM``) for surveys and FKDM reports, years
(``YYYY``) for statistics, both in Asia/Jakarta, from the methodology's first period."""

from __future__ import annotations

import dagster as dg

from harmoni_pipeline.periods import FIRST_MONTH, TIMEZONE

# end_offset=1: the current month is a partition too, so a delivery can be ingested
# the day it lands; the monthly schedule still targets the previous (complete) month.
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH, fmt="%Y-%m", timezone=TIMEZONE, end_offset=1
)

yearly_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", start=FIRST_MONTH[:4], fmt="%Y", timezone=TIMEZONE, end_offset=1
)
