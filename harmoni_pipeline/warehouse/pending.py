"""Write-audit-publish candidates: partitions written where no reader looks, checked,
then published by a move; and the small blobs that carry a sharded parse's pieces
between steps, and the sweeping of what dead processes left.

Room: the :class:`PendingCandidates` part of :class:`~harmoni_pipeline.warehouse.Warehouse`.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass
from pathlib import PurePath

import pyarrow as pa

from harmoni_pipeline.warehouse.layout import (
    HASH_KEY,
    PENDING_KEEP_SECONDS,
    SCRATCH_KEEP_SECONDS,
    VERSION_SEP,
    Published,
    content_sha256,
)


@dataclass(frozen=True)
class Written:
    """A candidate already written as the run's pending file (:meth:`PendingCandidates.write_pending`):
    where, and how many rows — what a caller that let go of the table still needs of it."""

    path: PurePath
    num_rows: int


class PendingCandidates:
    """Candidates under ``root/.pending/<run_id>/`` (mixed into the warehouse)."""

    def pending_dir(self, run_id: str) -> PurePath:
        return self.root / ".pending" / run_id

    def _pending_path(self, run_id: str, table: str, period: str, part: str) -> PurePath:
        return self.pending_dir(run_id) / f"{table}{VERSION_SEP}{period}{VERSION_SEP}{part}.parquet"

    def write_pending(self, table: str, period: str, data: pa.Table, run_id: str, part: str = "data") -> PurePath:
        """Write a candidate partition that readers never see: data-quality checks read it
        (:meth:`read_pending`) and publish it (:meth:`publish_pending`) only when they pass.
        The run id names it, so a check in another process of the same run finds it."""
        path = self._pending_path(run_id, table, period, part)
        self.prune_pending()
        self.storage.place(self._write_local(data, path.name), path)
        return path

    def prune_pending(self, keep: float = PENDING_KEEP_SECONDS) -> None:
        """Delete the candidates of runs whose folder is older than ``keep`` (blocked
        candidates are kept a week for inspection; published ones are already gone)."""
        now = time.time()
        for run_dir in self.storage.listdir(self.root / ".pending"):
            try:
                if now - self.storage.modified(run_dir) > keep:
                    self.storage.remove_tree(run_dir)
            except OSError:
                continue

    def prune_scratch(self, keep: float = SCRATCH_KEEP_SECONDS) -> int:
        """Delete temporary files older than ``keep`` (left by processes that were
        killed while writing); returns how many. Younger ones may be in use."""
        removed = 0
        now = time.time()
        for tmp in (self.tmp_dir.iterdir() if self.tmp_dir.is_dir() else ()):
            with contextlib.suppress(FileNotFoundError):
                if tmp.is_file() and now - tmp.stat().st_mtime > keep:
                    tmp.unlink()
                    removed += 1
        return removed

    def write_pending_blob(self, run_id: str, name: str, payload: bytes) -> PurePath:
        """Write an intermediate result of a run (e.g. one shard's parse) beside its
        candidates, where every step of the run — on this machine or another — finds it."""
        path = self.pending_dir(run_id) / name
        tmp = self._scratch(f"{name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(payload)
        self.storage.place(tmp, path)
        return path

    def read_pending_blob(self, run_id: str, name: str) -> bytes | None:
        try:
            return self.storage.read_bytes(self.pending_dir(run_id) / name)
        except FileNotFoundError:
            return None

    def remove_pending_blob(self, run_id: str, name: str) -> None:
        self.storage.remove(self.pending_dir(run_id) / name)

    def read_pending(self, table: str, period: str, run_id: str, part: str = "data",
                     columns: list[str] | None = None, dictionary: list[str] | None = None) -> pa.Table | None:
        """The run's candidate (only ``columns``, when given; ``dictionary``: columns read
        as Arrow dictionaries), or ``None`` if there is none."""
        path = self._pending_path(run_id, table, period, part)
        return self.storage.read_parquet(path, columns, dictionary) if self.storage.exists(path) else None

    def content_hash(self, path: PurePath) -> str:
        """The content hash a file written by this warehouse carries in its footer
        (computed when it was written), else computed from its rows."""
        digest = self.storage.parquet_metadata(path).get(HASH_KEY.encode())
        return digest.decode() if digest else content_sha256(self.storage.read_parquet(path))

    def pending_rows(self, table: str, period: str, run_id: str, part: str = "data") -> int:
        """How many rows the run's candidate holds (its footer only)."""
        return self.storage.parquet_rows(self._pending_path(run_id, table, period, part))

    def has_pending(self, table: str, period: str, run_id: str, part: str = "data") -> bool:
        return self.storage.exists(self._pending_path(run_id, table, period, part))

    def publish_pending(self, tables: list[str], period: str, run_id: str, part: str = "data") -> dict[str, Published]:
        """Publish the run's candidates of ``tables`` for ``period`` together (all or none
        missing): each candidate file is moved to its versioned name (never re-read or
        re-written: its content hash is in its footer), then :meth:`_commit`."""
        paths = {t: self._pending_path(run_id, t, period, part) for t in tables}
        missing = [t for t, p in paths.items() if not self.storage.exists(p)]
        if missing:
            raise FileNotFoundError(f"no pending candidate of {', '.join(missing)} {period} in run {run_id}")
        placed = {}
        for table, path in paths.items():
            digest = self.content_hash(path)
            rows = self.storage.parquet_rows(path)
            final = self._final_path(table, period, part)
            size = self.storage.size(path)
            self.storage.move(path, final)
            placed[table] = Published(table=table, period=period, path=final, rows=rows, bytes=size,
                                      content_sha256=digest, url=self.storage.url(final))
        return self._commit(placed, period, run_id)

