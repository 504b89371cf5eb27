"""The warehouse: Parquet partitions published atomically, and the DuckDB catalog of views.

Room (this package; layout and publication in :mod:`.store`, candidates in
:mod:`.pending`, the catalog in :mod:`.catalog`, names in :mod:`.layout`): file layout
under ``$HARMONI_WAREHOUSE_DIR`` (data-contracts §4), write-then-publish
of one Parquet file per (table, partition), the append-only publication log, and the
catalog of views over the Parquet. It knows nothing of sources, scoring or Dagster.

Why views over Parquet: DuckDB locks a database file per process, so a run that wrote
into ``harmoni.duckdb`` would block (and be blocked by) an analyst's read-only session.
Runs never open the catalog; its views glob the Parquet files, so new partitions appear
without touching it.

Publication: every version of a (table, partition, part) is a new, never-modified file
``<part>~<version>.parquet``, renamed into place complete. Replacing one file in place
is not safe for DuckDB readers: a query reads a file's footer when it binds and its row
groups later, through a second open; a file swapped in between gives
"TProtocolException: Invalid data" — or worse, wrong rows (reproduced in
tests/test_foundation.py). Nor can a view pick "the newest version" by globbing: the
optimiser turns that into two scans, two listings, and a window over all rows is too slow.

So the catalog is the manifest: after each publication it is rebuilt — into a new file
moved over the old one, never opened for writing — with views that list the current
file of every partition explicitly. An analyst's open session keeps the snapshot it
opened (consistent, never blocked, never blocking); a new session sees the new data.
A superseded version is deleted once its successor is older than ``GRACE_SECONDS``,
so an analyst's older snapshot stays readable for that long.

Where the files live (:mod:`harmoni_pipeline.storage`): ``root`` is a local folder (a
plain path or ``file://`` URL) or any fsspec URL (``s3://bucket/prefix``, ``memory://…``).
Files are always written complete to a local temporary file first, then put in place in
one step: locally by ``os.replace`` inside the warehouse folder (atomic), on an object
store by one upload to the final name (an object appears complete or not at all). The
catalog is built in a local file the same way and put at ``<root>/harmoni.duckdb``; its
views name files by absolute path, or by URL on a non-local warehouse.

Catalog refresh converges without a lock. Locally an ``fcntl`` lock serialises rebuilds;
object stores have none. So every rebuild lists the current files, writes a catalog of
exactly that listing, lists again, and rebuilds while the two listings differ. Why the
last catalog written lists every published file: a publisher puts its file in place
*before* it lists. Suppose the last catalog written, by X, lacked a file F. X's final
listing came after its write and equalled what it wrote, so F was put in place after
that listing — and F's publisher then listed, built and wrote its own catalog, later
than X's: X was not the last writer. (This needs listings that show every object written
before them, as S3, GCS and a local folder give.) Pruning removes only superseded
versions, never a current file, so it does not disturb the argument.
"""

from __future__ import annotations

from harmoni_pipeline.warehouse.layout import (
    CATALOG_STORAGE_VERSION,
    PENDING_KEEP_SECONDS,
    PUBLICATIONS_SCHEMA,
    Published,
    content_sha256,
)
from harmoni_pipeline.warehouse.store import Warehouse

__all__ = ["CATALOG_STORAGE_VERSION", "PENDING_KEEP_SECONDS", "PUBLICATIONS_SCHEMA", "Published", "Warehouse",
           "content_sha256"]
