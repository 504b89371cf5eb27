"""Month arithmetic on ``YYYY-MM`` period keys (no time zones needed: keys are labels)."""

from __future__ import annotations

import re

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


def month_range(start: str, end: str) -> list[str]:
    """Inclusive list of periods from ``start`` to ``end``."""
    if parse_period(start) > parse_period(end):
        raise ValueError(f"--from {start} is after --to {end}")
    out, p = [], start
    while p <= end:
        out.append(p)
        p = shift(p, 1)
    return out
