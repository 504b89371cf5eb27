"""Freshness: the previous month's marts are due by the 10th (Asia/Jakarta).

Room: deciding, for a moment in time, which month is due and whether its marts are
*published* in the warehouse — what analysts can read, not merely what Dagster
materialised (a month blocked by its checks is materialised but not published). No
Dagster here; ``harmoni_freshness_sensor`` (:mod:`harmoni_pipeline.defs.sensors`) calls it and alerts.

Why not Dagster's ``FreshnessPolicy``: in 1.13 it judges when an asset was last
materialised (any partition), and ``build_time_partition_freshness_checks`` judges the
*last* partition, which with ``end_offset=1`` is the current month — "the previous month
by the 10th" fails every month (measured).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from harmoni_pipeline.periods import in_jakarta, month_of, shift

DUE_DAY = 10
DUE_TABLES = ("marts.ihai_kecamatan", "marts.ikn_kecamatan", "marts.harmoni_kewaspadaan")


def due_period(now: dt.datetime) -> str:
    """The latest month whose marts are due at ``now``: the previous month from the 10th
    (Asia/Jakarta) on, before it the month before that."""
    local = in_jakarta(now)
    this_month = month_of(local)
    return shift(this_month, -1 if local.day >= DUE_DAY else -2)


def due_date(period: str) -> str:
    return f"{shift(period, 1)}-{DUE_DAY:02d}"


@dataclass(frozen=True)
class Freshness:
    period: str
    missing: tuple[str, ...]  # due tables without a published partition for ``period``

    @property
    def overdue(self) -> bool:
        return bool(self.missing)

    @property
    def reason(self) -> str:
        return (f"marts of {self.period} not published by {due_date(self.period)} (Asia/Jakarta): "
                f"{', '.join(self.missing)}")


def check(warehouse, now: dt.datetime) -> Freshness:
    """Which due tables of :func:`due_period` have no published partition."""
    period = due_period(now)
    return Freshness(period, tuple(t for t in DUE_TABLES if warehouse.current_file(t, period) is None))
