"""The warehouse's fixed names: file layout constants, the publication log's schema, what
one publication wrote (:class:`Published`) and the content hash of a table.

Room: values and one pure function shared by the warehouse's parts
(:mod:`.store`, :mod:`.pending`, :mod:`.catalog`); no I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePath

import pyarrow as pa

PLACEHOLDER_PARTITION = "period=0000-00"
PLACEHOLDER_PART = "_placeholder"
CATALOG_VERSION = "2"
GRACE_SECONDS = 6 * 3600.0
PENDING_KEEP_SECONDS = 7 * 24 * 3600.0  # a blocked candidate stays this long for inspection
VERSION_SEP = "~"
SCRATCH_KEEP_SECONDS = 24 * 3600.0  # a temporary file this old belongs to a process that died
# The marts of a period are one snapshot (data contract §4), and the auditor's trail of
# their scores (audit.score_*) belongs to the same one: table-name prefix → snapshot name.
SNAPSHOTS = {"marts.": "marts", "audit.score_": "marts"}
ADOPTED_MARKER = "_adopted"
HASH_KEY = "harmoni.content_sha256"  # Parquet footer key: the content hash, computed when written
# The catalog is a file analysts open with their own DuckDB client (the CLI of
# ``make install``, DBeaver/JDBC, R, an older Python package). DuckDB 2.0 writes storage
# version 69 by default, which 1.5 clients refuse; the catalog holds only views and a
# small table, so it is written in the 1.5 storage format (version 68), readable by
# every client from 1.5 on. Raise it when the oldest client analysts use moves on.
CATALOG_STORAGE_VERSION = "v1.5.0"

# Publication log: what was published when (data-contracts §4, audit.publications).
PUBLICATIONS_SCHEMA = pa.schema(
    [
        ("table", pa.string()),
        ("period", pa.string()),
        ("run_id", pa.string()),
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("rows", pa.int64()),
        ("sha256", pa.string()),
    ]
)


@dataclass(frozen=True)
class Published:
    """What one publication wrote: the final path, its row count and content hash.
    ``path`` is a local Path, or the filesystem path (``PurePosixPath``, protocol
    stripped) on a non-local warehouse, whose URL is ``url``."""

    table: str
    period: str
    path: PurePath
    rows: int
    bytes: int
    content_sha256: str
    url: str | None = None

    @property
    def uri(self) -> str:
        return self.url or Path(self.path).as_uri()


class _HashSink:
    """A write-only file that hashes what is written to it (SHA-256) and keeps nothing."""

    closed = False

    def __init__(self):
        self.digest = hashlib.sha256()
        self.position = 0

    def write(self, data) -> int:
        view = memoryview(data)
        self.digest.update(view)
        self.position += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


RUN_COLUMNS = ("run_id", "staging_run_id", "ingested_at", "published_at")


def content_sha256(table: pa.Table, exclude: tuple[str, ...] = RUN_COLUMNS) -> str:
    """SHA-256 over the rows of a table, independent of Parquet encoding and of the
    columns that change with every run: the run ids (``run_id``; ``staging_run_id`` of
    the trail tables ``audit.score_*``, the run that staged a row used) and timestamps.
    The same landing zone scored by other runs — one process or Celery workers, again
    after a re-staging — has the same content hash. It is the SHA-256 of the Arrow IPC
    stream of the kept columns as one record batch; the stream goes straight into the
    hash, buffer by buffer, so no serialised copy of the table is held in memory."""
    keep = [name for name in table.column_names if name not in exclude]
    selected = table.select(keep)
    sink = _HashSink()
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), selected.schema) as writer:
        for batch in selected.combine_chunks().to_batches():
            writer.write_batch(batch)
    return sink.digest.hexdigest()
