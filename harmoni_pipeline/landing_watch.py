"""What a change in the landing zone requires: which partitions to re-stage and which
scored months to recompute.

Room: plain logic behind the landing-zone sensor — a snapshot of every landing file's
SHA-256, the difference between two snapshots, and the refresh plan (data-contracts §3:
a partition reflects the files present in its folder). No Dagster here.

Rules: a survey or FKDM file in month M re-stages M and re-scores every
already-scored month from M on (a late survey file can move a response's first arrival,
so later windows change too); a statistics file of arrival year Y re-stages Y and
re-scores every scored month from Y-01 on; the assignment table re-scores every scored
month (only the integration changes, but a score run is cheap and keeps one path).
New, changed (other bytes) and deleted files all count. Which files belong to a partition
is :mod:`harmoni_pipeline.ingest.landing_shape`'s rule; other files never request a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harmoni_pipeline.ingest.landing import HashCache
from harmoni_pipeline.ingest.landing_shape import SOURCES, LandingScan, partition_range, period_problem
from harmoni_pipeline.registry import INGEST_MONTHLY, INGEST_STATISTICS
from harmoni_pipeline.scoring.integration import ASSIGNMENT_FILE as ASSIGNMENT_PATH


def snapshot(listing: LandingScan, cache: HashCache) -> dict[str, str]:
    """``relative path → sha256`` of every landing file the pipeline reads: the files of
    every partition of ``listing`` (:func:`harmoni_pipeline.ingest.landing_shape.scan`)
    and the assignment table. A file that cannot be hashed now (removed or replaced
    since the listing, unreadable) is left out: the next snapshot sees it."""
    assignment = listing.root / ASSIGNMENT_PATH
    files = [f for group in listing.files.values() for f in group] + ([assignment] if assignment.is_file() else [])
    out: dict[str, str] = {}
    for f in files:
        try:
            out[f.relative_to(listing.root).as_posix()] = cache.sha256(f)
        except OSError:
            continue
    return out


def changed_paths(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Paths added, removed, or whose bytes changed."""
    return sorted(p for p in set(previous) | set(current) if previous.get(p) != current.get(p))


@dataclass
class RefreshPlan:
    staging: list[tuple[str, str]] = field(default_factory=list)   # (job, partition)
    rescore_from: str | None = None                                  # first month to re-score

    def rescore(self, scored: list[str]) -> list[str]:
        """The already-scored months to recompute."""
        return sorted(p for p in scored if self.rescore_from is not None and p >= self.rescore_from)


def plan(paths: list[str], first_month: str) -> RefreshPlan:
    """The runs that make the warehouse current after ``paths`` changed."""
    months: set[str] = set()
    years: set[str] = set()
    starts: list[str] = []
    bounds = {source: partition_range(source) for source in SOURCES}
    for path in paths:
        parts = path.split("/")
        if len(parts) >= 3 and parts[0] in SOURCES and period_problem(parts[0], parts[1], bounds[parts[0]]) is not None:
            continue  # not a partition's file (a cursor written before the folder rules)
        if path == ASSIGNMENT_PATH.as_posix():
            starts.append(first_month)
        elif len(parts) >= 3 and parts[0] in ("survey", "fkdm"):
            months.add(parts[1])
            starts.append(parts[1])
        elif len(parts) >= 3 and parts[0] == "stats":
            years.add(parts[1])
            starts.append(f"{parts[1]}-01")
    result = RefreshPlan(
        staging=[(INGEST_STATISTICS, y) for y in sorted(years)] + [(INGEST_MONTHLY, m) for m in sorted(months)],
        rescore_from=min(starts) if starts else None,
    )
    return result
