"""The landing zone's shape: which folders are partitions, what is ignored by rule, and
what is an issue — recorded in ``audit.landing_issues`` and reported, never blocking.

Room: the rules for the names, kinds and links of landing entries (listing only: no
hashing, no parsing) and the record of their breaches. The listing of a partition
(:mod:`harmoni_pipeline.ingest.landing`), the landing sensor's snapshot
(:mod:`harmoni_pipeline.landing_watch`), the run planner (:mod:`harmoni_pipeline.runplan`),
``harmoni run`` and ``harmoni status`` all ask this module.

Rules (``docs/ingestion.md``, "Landing zone rules"):

- ``<source>/<period>/`` is a partition when ``period`` is a partition key of the source
  — ``YYYY-MM`` for survey and FKDM, ``YYYY`` for statistics — within the partitions
  (:mod:`harmoni_pipeline.defs.partitions`: from 2022-01 to the current month, Asia/Jakarta).
  Any other entry of a source folder is an issue: a folder whose name is not a period
  (``2025-11-copy``, ``2025-13``), a period outside the partitions (``2027-01``), a file
  outside a period folder. Its files are never read, and it never stops another partition.
- Inside a partition every file, at any depth, is a landing file, except:
  ``.incoming/`` folders (files a producer is still writing) and Office lock files
  ``~$…`` — ignored silently, by rule; hidden entries (``.name.csv``, ``..name.csv``,
  ``.folder/``), symbolic links resolving outside the landing zone (refused: a link must
  not bring in a file from elsewhere), broken links, links to folders (not followed, as
  before) and anything that is not a regular file — issues, not read.
- A symbolic link to a file inside the landing zone is read under the link's path; a
  partition folder that is itself a link is followed when it resolves inside the zone.

An issue is identified by (source, path, problem); problems are fixed texts so that one
issue keeps one row: ``first_seen`` stays, ``last_seen`` moves on each time a run or a
sensor tick records it. The table is one file rewritten with the merged rows under a
lock (local warehouse); rows are never removed, so a lost update between writers with no
lock (object stores) is re-added by the next recording.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from harmoni_pipeline.ingest.audit import ISSUE_KEY, merge_landing_issues
from harmoni_pipeline.periods import parse_period

SOURCES = ("survey", "fkdm", "stats")
INCOMING = ".incoming"          # a producer's folder for files still being written
OFFICE_LOCK_PREFIX = "~$"      # Excel/Word lock files beside an open document
TABLE = "audit.landing_issues"
PARTITION = "all"              # one partition: the table is small and merged whole
HIDDEN = "hidden {kind} (name starts with '.'): not read"
LINK_OUTSIDE = "symbolic link resolving outside the landing zone: refused"
LINK_BROKEN = "broken symbolic link: not read"
LINK_FOLDER = "symbolic link to a folder: not followed"
NOT_REGULAR = "not a regular file: not read"
FILE_OUTSIDE = "file outside a period folder: not read"


@dataclass(frozen=True, order=True)
class LandingIssue:
    source: str
    path: str       # relative to the landing root, with '/'
    problem: str    # a fixed text, one line; (source, path, problem) is the issue's identity

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


@dataclass
class LandingScan:
    """The landing zone as the pipeline reads it: each source's partition folders, each
    partition's files (sorted paths), and every issue."""

    root: Path
    periods: dict[str, list[str]] = field(default_factory=dict)          # source → sorted periods
    files: dict[tuple[str, str], list[Path]] = field(default_factory=dict)  # (source, period) → files
    issues: list[LandingIssue] = field(default_factory=list)


# ---- partition keys ----------------------------------------------------------------
def partition_range(source: str) -> tuple[str, str]:
    """The first and last partition key of ``source`` (months; statistics: years): from
    the first month to the current one in Asia/Jakarta, as the partitions definitions
    (:mod:`harmoni_pipeline.defs.partitions`, ``end_offset=1``) have them — the last one
    moves with the clock. ``tests/test_landing_shape.py`` holds the two to each other."""
    from harmoni_pipeline.periods import FIRST_MONTH, current_period

    now = current_period()
    return (FIRST_MONTH[:4], now[:4]) if source == "stats" else (FIRST_MONTH, now)


def period_problem(source: str, name: str, bounds: tuple[str, str] | None = None) -> str | None:
    """Why ``name`` is not a partition of ``source``, in fixed words; ``None`` when it is.
    ``bounds``: :func:`partition_range`, when the caller already has it."""
    if not _well_formed(source, name):
        return f"folder name is not a period ({_SHAPE[source]}): not read"
    first, last = bounds or partition_range(source)
    if name < first:
        return f"period before the first partition ({first}): not read"
    if name > last:
        return f"period after the last partition (the current {'year' if source == 'stats' else 'month'}): not read"
    return None


_SHAPE = {"survey": "YYYY-MM", "fkdm": "YYYY-MM", "stats": "YYYY"}


def _well_formed(source: str, name: str) -> bool:
    if source == "stats":
        return len(name) == 4 and name.isascii() and name.isdigit()
    try:
        parse_period(name)
    except ValueError:
        return False
    return name == name.strip()


def check_period(period: str, source: str = "survey", option: str = "period") -> str:
    """``period`` when it is a partition key of ``source``, else ``ValueError`` with one
    line naming the ``option`` and the partitions (``--period``, ``--from``, ``--to``)."""
    if not _well_formed(source, period):
        raise ValueError(f"{option} {period!r} is not a period {_SHAPE[source]}")
    if period_problem(source, period) is not None:
        first, last = partition_range(source)
        raise ValueError(f"{option} {period} is outside the partitions ({first}..{last})")
    return period


# ---- listing -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Zone:
    base: Path   # the landing folder as given: listed paths are under it
    root: Path   # the same, resolved: links must resolve inside it

    @classmethod
    def of(cls, landing: Path) -> "_Zone":
        return cls(Path(landing), Path(landing).resolve())

    def rel(self, path: Path) -> str:
        return path.relative_to(self.base).as_posix()

    def classify(self, path: Path) -> tuple[str | None, str | None]:
        """``(kind, problem)`` of one entry: kind ``"file"``/``"folder"`` to read, or a
        problem; ``(None, None)`` for an entry ignored silently by rule."""
        name = path.name
        try:
            if name == INCOMING and path.is_dir():
                return None, None
            if name.startswith(OFFICE_LOCK_PREFIX):
                return None, None
            if name.startswith("."):
                return None, HIDDEN.format(kind="folder" if path.is_dir() else "file")
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):  # a missing target, or a loop of links
                    return None, LINK_BROKEN
                if not target.is_relative_to(self.root):
                    return None, LINK_OUTSIDE
            mode = path.stat().st_mode
        except OSError as exc:
            return None, f"cannot be read ({exc.strerror or type(exc).__name__})"
        if stat.S_ISDIR(mode):
            return "folder", None
        if stat.S_ISREG(mode):
            return "file", None
        return None, NOT_REGULAR

    def walk(self, source: str, folder: Path, files: list[Path], issues: list[LandingIssue]) -> None:
        """Files under ``folder`` (links to folders not followed), issues on the way."""
        entries, problem = _entries(folder)
        if problem:
            issues.append(LandingIssue(source, self.rel(folder), problem))
        for path in entries:
            kind, problem = self.classify(path)
            if kind == "folder" and path.is_symlink():
                kind, problem = None, LINK_FOLDER
            if problem:
                issues.append(LandingIssue(source, self.rel(path), problem))
            elif kind == "folder":
                self.walk(source, path, files, issues)
            elif kind == "file":
                files.append(path)


def _entries(folder: Path) -> tuple[list[Path], str | None]:
    try:
        with os.scandir(folder) as it:
            return sorted(Path(e.path) for e in it), None
    except OSError as exc:
        return [], f"cannot be listed ({exc.strerror or type(exc).__name__})"


def source_periods(landing: Path, source: str) -> tuple[list[str], list[LandingIssue]]:
    """The partition folders of ``source`` (sorted) and the issues among the entries of
    its folder (not inside the partitions)."""
    zone = _Zone.of(landing)
    folder = zone.base / source
    if not folder.is_dir():
        return [], []
    entries, problem = _entries(folder)
    issues = [LandingIssue(source, source, problem)] if problem else []
    periods = []
    bounds = partition_range(source)
    for path in entries:
        kind, problem = zone.classify(path)
        if kind == "file":
            problem = FILE_OUTSIDE
        elif kind == "folder":
            problem = period_problem(source, path.name, bounds)
        if problem:
            issues.append(LandingIssue(source, zone.rel(path), problem))
        elif kind == "folder":
            periods.append(path.name)
    return periods, issues


def partition_listing(landing: Path, source: str, period: str) -> tuple[list[Path], list[LandingIssue]]:
    """The files of one partition folder (sorted paths under ``landing`` as given) and
    the issues inside it; no folder — or one refused (a link outside the zone) — is no
    files."""
    zone = _Zone.of(landing)
    folder = zone.base / source / period
    if not (folder.is_dir() or folder.is_symlink()):
        return [], []
    kind, problem = zone.classify(folder)
    if kind != "folder":
        return [], [LandingIssue(source, zone.rel(folder), problem)] if problem else []
    files: list[Path] = []
    issues: list[LandingIssue] = []
    zone.walk(source, folder, files, issues)
    return sorted(files), issues


def scan(landing: Path) -> LandingScan:
    """The whole landing zone: every source's partitions and files, and every issue."""
    result = LandingScan(root=Path(landing))
    for source in SOURCES:
        periods, issues = source_periods(landing, source)
        result.periods[source] = periods
        result.issues.extend(issues)
        for period in periods:
            files, inside = partition_listing(landing, source, period)
            result.files[(source, period)] = files
            result.issues.extend(inside)
    result.issues.sort()
    return result


# ---- audit.landing_issues ------------------------------------------------------------
def recorded_issues(warehouse) -> pa.Table | None:
    """``audit.landing_issues`` as published, or ``None`` before any issue was recorded."""
    return warehouse.read_partition(TABLE, PARTITION)


def record_issues(warehouse, issues: list[LandingIssue], *, only_if_new: bool = False,
                  now: dt.datetime | None = None) -> list[LandingIssue]:
    """Record ``issues`` in ``audit.landing_issues`` (read, merge, write one new version,
    under the warehouse's lock so concurrent runs lose no row); returns those never
    recorded before. Nothing is written when there is no issue, nor — with
    ``only_if_new`` (the sensor, every minute) — when none is new."""
    if not issues:
        return []
    now = now or dt.datetime.now(dt.timezone.utc)
    with warehouse.storage.lock(".landing_issues.lock"):
        table, fresh = merge_landing_issues(recorded_issues(warehouse), _frame(issues), now)
        new = [LandingIssue(*row) for row in fresh.itertuples(index=False, name=None)]
        if new or not only_if_new:
            warehouse.write_partition(TABLE, PARTITION, table)
    return new


def first_seen(warehouse, issues: list[LandingIssue]) -> dict[LandingIssue, dt.datetime]:
    """When each of ``issues`` was first recorded (absent: never recorded)."""
    table = recorded_issues(warehouse)
    if table is None or not issues:
        return {}
    rows = table.select([*ISSUE_KEY, "first_seen"]).to_pandas()
    found = _frame(issues).merge(rows, on=list(ISSUE_KEY), how="inner")
    return {LandingIssue(s, p, q): t.to_pydatetime() for s, p, q, t in found.itertuples(index=False, name=None)}


def _frame(issues: list[LandingIssue]) -> pd.DataFrame:
    return pd.DataFrame([(i.source, i.path, i.problem) for i in issues], columns=list(ISSUE_KEY))
