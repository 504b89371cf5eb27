"""Landing files written by the connectors, their cursors and ``audit.pulls``.

Room: putting bytes into the landing zone atomically, remembering where each pull
stopped, and recording what every pull did. Nothing here speaks HTTP or knows a format.

- **Atomic files.** A file is written under ``landing/.incoming/`` (outside every source
  folder, so the landing sensor and the runs never list it), flushed to disk, then
  renamed into its partition folder with ``os.replace`` — a reader sees the whole file
  or none. An existing landing file is never modified: writing a name that exists with
  other bytes is an error, with the same bytes a no-op.
- **Cursors** (per source and target: a Kobo asset, a sheet, a BPS variable-year) live
  in ``$HARMONI_LOCAL_DIR/pulls/cursors/`` as small JSON files replaced atomically. A
  file and its cursor move together through a two-step record: the new cursor is saved
  as *pending* with the file's path and SHA-256, the file is renamed into place, then
  the cursor is committed. A pull killed between the steps is settled by the next one:
  the pending cursor is kept when its file is in place with those bytes, dropped
  otherwise — so records are never landed twice nor skipped.
- **One pull at a time** per local folder (an ``fcntl`` lock): a schedule and a
  ``harmoni pull`` cannot interleave their cursors.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa

from harmoni_pipeline.ingest.landing_shape import INCOMING  # the folder every landing listing skips
from harmoni_pipeline.storage import LocalStorage

PART_SUFFIX = ".harmoni-pull.part"
TABLE = "audit.pulls"

PULLS_SCHEMA = pa.schema(
    [
        ("pulled_at", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),         # kobo, kobo_fkdm, sheets, bps
        ("target", pa.string()),         # asset uid, masked sheet, domain/var/th
        ("url", pa.string()),            # the first URL asked, secrets masked
        ("period", pa.string()),         # the arrival month the file went under
        ("records", pa.int64()),         # records (rows, datacontent entries) in the file
        ("bytes", pa.int64()),
        ("sha256", pa.string()),
        ("path", pa.string()),           # relative to the landing root; NULL: nothing new
        ("cursor_before", pa.string()),
        ("cursor_after", pa.string()),
        ("error", pa.string()),          # one line; NULL when the pull of this target worked
        ("run_id", pa.string()),
    ]
)


def utc_stamp(now: dt.datetime | None = None) -> str:
    """``20261203T021500123Z`` (milliseconds before the ``Z``): a sortable instant for
    file names."""
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    return f"{moment:%Y%m%dT%H%M%S}{moment.microsecond // 1000:03d}Z"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Pulled:
    """What one pull of one target did: one row of ``audit.pulls``."""

    source: str
    target: str
    url: str
    period: str
    records: int = 0
    bytes: int = 0
    sha256: str | None = None
    path: str | None = None
    cursor_before: str | None = None
    cursor_after: str | None = None
    error: str | None = None

    def line(self) -> str:
        """One line for the terminal and the logs."""
        if self.error:
            return f"{self.source} {self.target}: FAILED: {self.error}"
        if self.path is None:
            return f"{self.source} {self.target}: nothing new"
        return f"{self.source} {self.target}: wrote {self.path} ({self.records} records, {self.bytes} bytes)"


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` (a state file, not a landing file) by ``data`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class PullState:
    """The landing zone and the cursors of one machine (``local_dir/pulls``)."""

    def __init__(self, landing_dir: Path, local_dir: Path):
        self.landing = Path(landing_dir)
        self.folder = Path(local_dir) / "pulls"

    @contextlib.contextmanager
    def lock(self):
        """Exclusive: one pull at a time; leftovers of killed pulls are removed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                incoming = self.landing / INCOMING
                if incoming.is_dir():
                    for leftover in incoming.glob(f"*{PART_SUFFIX}"):
                        leftover.unlink(missing_ok=True)
                yield self
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _cursor_path(self, source: str, target: str) -> Path:
        return self.folder / "cursors" / f"{source}-{sha256(target.encode())[:16]}.json"

    def cursor(self, source: str, target: str):
        """The committed cursor of ``target`` (``None`` before its first pull), after
        settling a pending one left by a killed pull."""
        path = self._cursor_path(source, target)
        if not path.exists():
            return None
        state = json.loads(path.read_text(encoding="utf-8"))
        pending = state.get("pending")
        if pending:
            landed = self.landing / pending["path"]
            if landed.is_file() and sha256(landed.read_bytes()) == pending["sha256"]:
                state["cursor"] = pending["cursor"]
            state["pending"] = None
            _write_atomic(path, json.dumps(state).encode())
        return state.get("cursor")

    def _save(self, source: str, target: str, cursor, pending: dict | None = None) -> None:
        state = {"source": source, "cursor": cursor, "pending": pending}  # no target: a sheet URL is a secret
        _write_atomic(self._cursor_path(source, target), json.dumps(state).encode())

    def land(self, folder: str, name: str, data: bytes, *, source: str, target: str, cursor_before,
             cursor_after) -> str:
        """Write ``data`` as ``landing/folder/name`` atomically and move ``target``'s cursor
        to ``cursor_after`` with it; returns the landing-relative path."""
        rel = f"{folder}/{name}"
        final = self.landing / rel
        digest = sha256(data)
        if final.exists():
            if final.is_file() and sha256(final.read_bytes()) == digest:
                self._save(source, target, cursor_after)
                return rel
            raise FileExistsError(f"{rel} exists with other bytes: landing files are never modified")
        incoming = self.landing / INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        tmp = incoming / f"{name}.{os.getpid()}{PART_SUFFIX}"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self._save(source, target, cursor_before, pending={"path": rel, "sha256": digest, "cursor": cursor_after})
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        LocalStorage.sync_folder(final.parent)
        self._save(source, target, cursor_after)
        return rel

    def move_cursor(self, source: str, target: str, cursor) -> None:
        """Save a cursor that moved without a file (nothing new to write)."""
        self._save(source, target, cursor)


def pulls_table(rows: list[Pulled], run_id: str | None, pulled_at: dt.datetime) -> pa.Table:
    records = [{**asdict(r), "run_id": run_id, "pulled_at": pulled_at} for r in rows]
    return pa.Table.from_pylist(records, schema=PULLS_SCHEMA)


def record_pulls(warehouse, rows: list[Pulled], run_id: str | None = None,
                 pulled_at: dt.datetime | None = None) -> None:
    """Append ``rows`` to ``audit.pulls`` (partition: the arrival month), under the
    warehouse's lock so concurrent pulls lose no row."""
    if not rows:
        return
    pulled_at = pulled_at or dt.datetime.now(dt.timezone.utc)
    with warehouse.storage.lock(".pulls.lock"):
        for period in sorted({r.period for r in rows}):
            new = pulls_table([r for r in rows if r.period == period], run_id, pulled_at)
            old = warehouse.read_partition(TABLE, period)
            table = pa.concat_tables([old.cast(PULLS_SCHEMA), new]) if old is not None else new
            warehouse.write_partition(TABLE, period, table)
