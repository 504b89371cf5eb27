"""Time, in one place: ``YYYY-MM`` period keys, month bounds, the previous and current
month, the end of a month, and the pipeline's one time zone (Asia/Jakarta).

Room: month arithmetic on period keys (labels, no time zone needed) and the few places a
moment becomes a month, which all go through :data:`JAKARTA`. The partitions' first
month is here too, so every module that walks months starts where the partitions do.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pandas as pd

TIMEZONE = "Asia/Jakarta"  # the name, for Dagster partitions and schedules
JAKARTA = ZoneInfo(TIMEZONE)
FIRST_MONTH = "2022-01"  # the first monthly partition
JAKARTA_OFFSET_S = 7 * 3600  # UTC+7 all year (no daylight saving): vectorised sample arithmetic

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_period(text: str) -> tuple[int, int]:
    m = _PERIOD.match(text.strip())
    if not m:
        raise ValueError(f"not a period YYYY-MM: {text!r}")
    return int(m.group(1)), int(m.group(2))


def shift(period: str, months: int) -> str:
    year, month = parse_period(period)
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def previous_month(period: str) -> str:
    return shift(period, -1)


def month_range(start: str, end: str) -> list[str]:
    """Inclusive list of periods from ``start`` to ``end``."""
    if parse_period(start) > parse_period(end):
        raise ValueError(f"--from {start} is after --to {end}")
    out, p = [], start
    while p <= end:
        out.append(p)
        p = shift(p, 1)
    return out


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``YYYY-MM`` period."""
    year, month = parse_period(period)
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def month_of(moment: dt.datetime) -> str:
    """The ``YYYY-MM`` of ``moment`` on its own clock (a schedule's tick is already in
    Asia/Jakarta)."""
    return f"{moment.year:04d}-{moment.month:02d}"


def in_jakarta(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(JAKARTA)


def current_period(now: dt.datetime | None = None) -> str:
    """The current month in Asia/Jakarta, ``YYYY-MM``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return month_of(in_jakarta(now))


def month_end_utc(period: str) -> pd.Timestamp:
    """First instant after the month ``YYYY-MM`` (Asia/Jakarta), in UTC."""
    if not re.fullmatch(r"\d{4}-\d{2}", str(period)):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    start = pd.Timestamp(f"{period}-01", tz=TIMEZONE)
    return (start + pd.DateOffset(months=1)).tz_convert("UTC")


def last_instant(period: str) -> pd.Timestamp:
    """The last microsecond of the month ``YYYY-MM`` in Asia/Jakarta."""
    _, last = month_bounds(period)
    return pd.Timestamp(dt.datetime(last.year, last.month, last.day, 23, 59, 59, 999999, tzinfo=JAKARTA))
