"""Period snapshots: the manifest that makes several tables' partitions of one period one
publication (data contract §4: the marts of a period are published together or not at
all).

Room: the manifest of one (schema, period) — which file of each table is current, which
run published it, which files it superseded and when — its JSON form, and the rule that
says which files of a snapshot partition may be deleted. Reading and writing the file
(atomically, as the commit point of a publication) is the warehouse's
(:mod:`harmoni_pipeline.warehouse`); nothing here touches storage.

Why a manifest: a period's marts are ten files. Renaming them one by one leaves moments
(and, after a ``kill -9``, states) where some are new and some old. With a manifest, the
data files are first put in place under new version names that nobody reads, then one
small file — the manifest, replaced atomically — switches every table of the period at
once. A file that no manifest names (a killed run's leftover) is never current.

Paths in a manifest are relative to the warehouse root, so a warehouse that moved (and
``harmoni catalog`` after it) still resolves them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

FORMAT = 1


@dataclass(frozen=True)
class Entry:
    """The current file of one table in a snapshot, relative to the warehouse root."""

    file: str
    rows: int
    bytes: int
    sha256: str  # content hash of the rows without run_id (audit.publications.sha256)


@dataclass
class Manifest:
    schema: str
    period: str
    run_id: str
    published_at: str  # ISO 8601, UTC
    tables: dict[str, Entry] = field(default_factory=dict)
    # files replaced by this or an earlier publication, with the moment they stopped being
    # current: kept until the grace period has passed (an analyst's open snapshot reads them)
    superseded: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> bytes:
        doc = {
            "format": FORMAT,
            "schema": self.schema,
            "period": self.period,
            "run_id": self.run_id,
            "published_at": self.published_at,
            "tables": {t: e.__dict__ for t, e in sorted(self.tables.items())},
            "superseded": dict(sorted(self.superseded.items())),
        }
        return json.dumps(doc, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, where: str) -> "Manifest":
        try:
            doc = json.loads(data)
            if doc.get("format") != FORMAT:
                raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT}")
            return cls(
                schema=doc["schema"],
                period=doc["period"],
                run_id=doc["run_id"],
                published_at=doc["published_at"],
                tables={t: Entry(**e) for t, e in doc["tables"].items()},
                superseded=dict(doc.get("superseded") or {}),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{where}: not a readable snapshot manifest ({exc})") from None

    def files(self) -> set[str]:
        return {e.file for e in self.tables.values()}


def successor(previous: Manifest | None, *, schema: str, period: str, run_id: str, entries: dict[str, Entry],
              now: dt.datetime, grace_seconds: float) -> Manifest:
    """The manifest after publishing ``entries``: tables not given keep their current
    file; every file that stops being current is listed as superseded ``now``; superseded
    files older than the grace period are forgotten (they may be deleted by then)."""
    tables = dict(previous.tables) if previous else {}
    tables.update(entries)
    current = {e.file for e in tables.values()}
    superseded: dict[str, str] = {}
    if previous:
        for file, when in previous.superseded.items():
            if file not in current and (now - dt.datetime.fromisoformat(when)).total_seconds() <= grace_seconds:
                superseded[file] = when
        for entry in previous.tables.values():
            if entry.file not in current:
                superseded[entry.file] = now.isoformat()
    return Manifest(schema=schema, period=period, run_id=run_id, published_at=now.isoformat(), tables=tables,
                    superseded=superseded)


def deletable(files: dict[str, float], manifest: Manifest | None, *, now: dt.datetime, grace_seconds: float) -> list[str]:
    """Which of a snapshot partition's ``files`` (relative path → modification time, in
    seconds since the epoch) may be deleted: never a current file; a superseded file once
    it has been superseded for longer than the grace period; a file no manifest ever named
    (a killed run's leftover) once it is older than the grace period — younger, it may be
    a publication in progress."""
    if manifest is None:
        return []
    current = manifest.files()
    out = []
    for file, modified in files.items():
        if file in current:
            continue
        when = manifest.superseded.get(file)
        age = (now - dt.datetime.fromisoformat(when)).total_seconds() if when else now.timestamp() - modified
        if age > grace_seconds:
            out.append(file)
    return sorted(out)
