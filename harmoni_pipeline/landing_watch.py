"""What a change in the landing zone requires: which partitions to re-stage and which
scored months to recompute.

Room: plain logic behind the landing-zone sensor — a snapshot of every landing file's
SHA-256, the difference between two snapshots, and the refresh plan (data-contracts §3:
a partition reflects the files present in its folder). No Dagster here.

Rules (issue 5): a survey or FKDM file in month M re-stages M and re-scores every
already-scored month from M on (a late survey file can move a response's first arrival,
so later windows change too); a statistics file of arrival year Y re-stages Y and
re-scores every scored month from Y-01 on; the assignment table re-scores every scored
month (only the integration changes, but a score run is cheap and keeps one path).
New, changed (other bytes) and deleted files all count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harmoni_pipeline.ingest.landing import HashCache, is_landing_file
from harmoni_pipeline.scoring.integration import ASSIGNMENT_FILE as ASSIGNMENT_PATH

SOURCES = ("survey", "fkdm", "stats")


def snapshot(landing: Path, cache: HashCache) -> dict[str, str]:
    """``relative path → sha256`` of every landing file the pipeline reads."""
    landing = Path(landing)
    out: dict[str, str] = {}
    for source in SOURCES:
        folder = landing / source
        if not folder.is_dir():
            continue
        for partition in sorted(p for p in folder.iterdir() if p.is_dir()):
            for f in sorted(p for p in partition.rglob("*") if is_landing_file(p)):
                out[f.relative_to(landing).as_posix()] = cache.sha256(f)
    assignment = landing / ASSIGNMENT_PATH
    if assignment.is_file():
        out[ASSIGNMENT_PATH.as_posix()] = cache.sha256(assignment)
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
    for path in paths:
        parts = path.split("/")
        if path == ASSIGNMENT_PATH.as_posix():
            starts.append(first_month)
        elif len(parts) >= 3 and parts[0] in ("survey", "fkdm"):
            months.add(parts[1])
            starts.append(parts[1])
        elif len(parts) >= 3 and parts[0] == "stats":
            years.add(parts[1])
            starts.append(f"{parts[1]}-01")
    result = RefreshPlan(
        staging=[("ingest_statistics", y) for y in sorted(years)] + [("ingest_monthly", m) for m in sorted(months)],
        rescore_from=min(starts) if starts else None,
    )
    return result
