"""The warehouse: Parquet partitions published atomically, and the DuckDB catalog of views.

Room: file layout under ``$HARMONI_WAREHOUSE_DIR`` (data-contracts §4), write-then-publish
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

import contextlib
import datetime as dt
import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from harmoni_pipeline import snapshots
from harmoni_pipeline.settings import local_dir_for
from harmoni_pipeline.snapshots import Manifest
from harmoni_pipeline.storage import open_storage

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


def content_sha256(table: pa.Table, exclude: tuple[str, ...] = ("run_id", "ingested_at", "published_at")) -> str:
    """SHA-256 over the rows of a table, independent of Parquet encoding and of the
    columns that change with every run (run id, timestamps)."""
    keep = [name for name in table.column_names if name not in exclude]
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.select(keep).schema) as writer:
        for batch in table.select(keep).combine_chunks().to_batches():
            writer.write_batch(batch)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


class Warehouse:
    """``root/parquet/<schema>/<table>/period=<P>/<file>.parquet`` plus ``root/harmoni.duckdb``
    and, for snapshot schemas, ``root/snapshots/<schema>/period=<P>.json``."""

    def __init__(self, root: str | os.PathLike, tables: dict[str, pa.Schema] | None = None,
                 local_dir: str | os.PathLike | None = None, snapshots: dict[str, str] | None = None):
        """``root``: a local folder or an fsspec URL. ``tables``: every table of the
        catalog with its schema; when given, each publication refreshes the catalog.
        ``local_dir``: this machine's working folder (temporary files of a non-local
        warehouse, and for callers the landing hash cache, Data Docs, alerts); default
        :func:`~harmoni_pipeline.settings.local_dir_for` — the warehouse folder itself
        when it is local. ``snapshots``: table-name prefix → snapshot; the tables of one
        snapshot publish their partitions of a period together (a manifest per period)."""
        self.storage = open_storage(root)
        self.root = self.storage.root
        self.tables = dict(tables or {})
        self.snapshots = dict(SNAPSHOTS if snapshots is None else snapshots)
        self._deferred = 0
        if local_dir:
            self.local_dir = Path(local_dir).resolve()
        else:
            self.local_dir = local_dir_for(self.root if self.storage.is_local else os.fspath(root))
        self.parquet_dir = self.root / "parquet"
        # temporary files are local; inside the warehouse folder when it is local (os.replace is atomic there)
        self.tmp_dir = (self.root if self.storage.is_local else self.local_dir) / ".tmp"
        self.catalog_path = self.root / "harmoni.duckdb"

    def url(self, path: PurePath) -> str:
        """A warehouse path as a URL (``file://…`` locally)."""
        return self.storage.url(path)

    def _scratch(self, name: str) -> Path:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        return self.tmp_dir / name

    def _relative(self, path: PurePath) -> str:
        return PurePath(path).relative_to(self.root).as_posix()

    # ---- layout -----------------------------------------------------------------
    def table_dir(self, table: str) -> PurePath:
        schema, name = table.split(".", 1)
        return self.parquet_dir / schema / name

    def partition_dir(self, table: str, period: str) -> PurePath:
        return self.table_dir(table) / f"period={period}"

    def versions(self, table: str, period: str, part: str = "data") -> list[PurePath]:
        """Files of one (partition, part) — published versions, and for a snapshot table
        also files no manifest names yet or any more — oldest first."""
        return self.storage.glob(self.partition_dir(table, period), f"{part}{VERSION_SEP}*.parquet")

    def snapshot_of(self, table: str) -> str | None:
        """The snapshot ``table`` belongs to (``None``: published partition by partition)."""
        return next((name for prefix, name in self.snapshots.items() if table.startswith(prefix)), None)

    def is_snapshot(self, table: str) -> bool:
        return self.snapshot_of(table) is not None

    def manifest_path(self, schema: str, period: str) -> PurePath:
        return self.root / "snapshots" / schema / f"period={period}.json"

    def manifest(self, schema: str, period: str) -> Manifest | None:
        """The current snapshot of ``schema``'s tables for ``period`` (``None``: never published)."""
        path = self.manifest_path(schema, period)
        try:
            data = self.storage.read_bytes(path)
        except FileNotFoundError:
            return None
        return Manifest.from_json(data, str(path))

    def manifests(self, schema: str) -> dict[str, Manifest]:
        """Every period's current snapshot of ``schema``, each manifest read once."""
        out = {}
        for path in self.storage.glob(self.root / "snapshots" / schema, "period=*.json"):
            period = path.name[len("period="):-len(".json")]
            found = self.manifest(schema, period)
            if found is not None:
                out[period] = found
        return out

    def current_file(self, table: str, period: str, part: str = "data") -> PurePath | None:
        """The current version of (partition, part); ``None`` if never published. For a
        snapshot table, the file its period's manifest names."""
        if self.is_snapshot(table):
            found = self.manifest(self.snapshot_of(table), period)
            entry = found.tables.get(table) if found and part == "data" else None
            return self.root / entry.file if entry else None
        found = self.versions(table, period, part)
        return found[-1] if found else None

    def read_partition(self, table: str, period: str, part: str = "data",
                       columns: list[str] | None = None) -> pa.Table | None:
        """The current version of one partition (only ``columns``, when given), or
        ``None`` if never published."""
        path = self.current_file(table, period, part)
        return None if path is None else self.storage.read_parquet(path, columns)

    def current_files(self, table: str) -> list[PurePath]:
        """The current version of every (partition, part) of a table, placeholder excluded."""
        return self.listing([table])[table]

    def listing(self, tables) -> dict[str, list[PurePath]]:
        """The current files of every table in ``tables`` at one moment: each snapshot
        manifest is read once, so the tables of a snapshot schema are listed from the
        same publication of each period. Scoring reads its inputs through one listing."""
        out: dict[str, list[PurePath]] = {}
        snapshots: dict[str, dict[str, Manifest]] = {}
        for table in sorted(tables):
            schema = self.snapshot_of(table)
            if schema:
                if schema not in snapshots:
                    snapshots[schema] = self.manifests(schema)
                out[table] = sorted(self.root / m.tables[table].file
                                    for m in snapshots[schema].values() if table in m.tables)
                continue
            latest: dict[tuple[str, str], PurePath] = {}
            for f in self.storage.glob(self.table_dir(table), f"period=*/*{VERSION_SEP}*.parquet"):
                part = f.name.split(VERSION_SEP, 1)[0]
                if part != PLACEHOLDER_PART:
                    latest[(f.parent.name, part)] = f
            out[table] = sorted(latest.values())
        return out

    def placeholder(self, table: str) -> PurePath:
        return self.table_dir(table) / PLACEHOLDER_PARTITION / f"{PLACEHOLDER_PART}{VERSION_SEP}0.parquet"

    # ---- write, then publish ------------------------------------------------------
    def _final_path(self, table: str, period: str, part: str) -> PurePath:
        if VERSION_SEP in part:
            raise ValueError(f"part name must not contain {VERSION_SEP!r}: {part!r}")
        version = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]
        return self.partition_dir(table, period) / f"{part}{VERSION_SEP}{version}.parquet"

    def _write_local(self, data: pa.Table, name: str, content_hash: str | None = None) -> Path:
        """Write ``data`` as Parquet to a local temporary file (fsynced), with its content
        hash in the footer so that publishing never needs to read the rows again."""
        tmp = self._scratch(f"{name}.{uuid.uuid4().hex}.tmp")
        metadata = {HASH_KEY: content_hash or content_sha256(data)}
        pq.write_table(data.replace_schema_metadata({**(data.schema.metadata or {}), **metadata}), tmp,
                       compression="zstd", row_group_size=256_000)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        return tmp

    def stage(self, table: str, period: str, data: pa.Table, part: str = "data") -> tuple[Path, Published]:
        """Write ``data`` to a local temporary file (on the warehouse's filesystem when
        it is local). Nothing is visible to readers until :meth:`publish`."""
        final = self._final_path(table, period, part)
        digest = content_sha256(data)
        tmp = self._write_local(data, f"{table}.{period}.{part}", digest)
        return tmp, Published(table=table, period=period, path=final, rows=data.num_rows,
                              bytes=tmp.stat().st_size, content_sha256=digest, url=self.storage.url(final))

    def publish(self, tmp: Path, published: Published) -> Published:
        """Make the staged file the current version and refresh the catalog: a new
        reader sees the old version or the new one, never a mixture. (Snapshot tables
        are published with :meth:`publish_all` or :meth:`publish_pending`.)"""
        if self.is_snapshot(published.table):
            raise ValueError(f"{published.table} belongs to a snapshot: publish it with its period's other tables")
        self.storage.place(tmp, published.path)
        self.prune(published.table, published.period, published.path.name.split(VERSION_SEP, 1)[0])
        if self.tables and not self._deferred:
            self.build_catalog()
        return published

    @contextlib.contextmanager
    def one_catalog_refresh(self):
        """Publications inside this block refresh the catalog once, at its end (an
        ingestion publishes staging and two audit parts: one rebuild, not three)."""
        self._deferred += 1
        try:
            yield self
        finally:
            self._deferred -= 1
            if self.tables and not self._deferred:
                self.build_catalog()

    def prune(self, table: str, period: str, part: str, grace: float = GRACE_SECONDS) -> None:
        """Delete versions whose successor has been current for longer than ``grace``;
        for a snapshot table, files its period's manifest no longer names (or never
        named: a killed run's leftovers) once ``grace`` has passed
        (:func:`harmoni_pipeline.snapshots.deletable`)."""
        found = self.versions(table, period, part)
        if self.is_snapshot(table):
            manifest = self.manifest(self.snapshot_of(table), period)
            mtimes = {}
            for f in found:
                with contextlib.suppress(FileNotFoundError):
                    mtimes[self._relative(f)] = self.storage.modified(f)
            now = dt.datetime.now(dt.timezone.utc)
            for rel in snapshots.deletable(mtimes, manifest, now=now, grace_seconds=grace):
                self.storage.remove(self.root / rel)
            return
        now = time.time()
        for old, successor in zip(found, found[1:]):
            try:
                if now - self.storage.modified(successor) > grace:
                    self.storage.remove(old)
            except FileNotFoundError:
                continue

    def discard(self, tmp: Path) -> None:
        tmp.unlink(missing_ok=True)

    def write_partition(self, table: str, period: str, data: pa.Table, part: str = "data") -> Published:
        """Write and publish one partition (a snapshot table: as an update of its period's
        snapshot in which the other tables keep their files)."""
        if self.is_snapshot(table):
            return self.publish_all({table: data}, period, run_id=data.column("run_id")[0].as_py()
                                    if "run_id" in data.column_names and data.num_rows else "-", part=part)[table]
        tmp, published = self.stage(table, period, data, part)
        return self.publish(tmp, published)

    def publish_all(self, tables: dict[str, pa.Table], period: str, run_id: str, part: str = "data") -> dict[str, Published]:
        """Publish several tables' ``period`` partitions together: every file is written
        first (a failure leaves all of them unpublished), then put in place — for snapshot
        tables under names no reader follows until the period's manifest names them —
        and logged; the catalog is refreshed once."""
        staged = {}
        try:
            for name, data in tables.items():
                staged[name] = self.stage(name, period, data, part)
        except BaseException:
            for tmp, _ in staged.values():
                self.discard(tmp)
            raise
        for tmp, pub in staged.values():
            self.storage.place(tmp, pub.path)
        return self._commit({name: pub for name, (_, pub) in staged.items()}, period, run_id)

    def _commit(self, placed: dict[str, Published], period: str, run_id: str) -> dict[str, Published]:
        """Files are in place: switch the snapshot schemas' manifests (the commit point),
        log the publications, refresh the catalog once, prune."""
        with self.one_catalog_refresh():
            by_schema: dict[str, dict[str, Published]] = {}
            for name, pub in placed.items():
                if self.is_snapshot(name):
                    by_schema.setdefault(self.snapshot_of(name), {})[name] = pub
            for schema, pubs in by_schema.items():
                self._log_current_snapshot(schema, period)
                self._write_manifest(schema, period, run_id, pubs)
            self.log_publications(list(placed.values()), run_id)
            for name, pub in placed.items():
                self.prune(name, period, pub.path.name.split(VERSION_SEP, 1)[0])
        return placed

    def _write_manifest(self, schema: str, period: str, run_id: str, pubs: dict[str, Published]) -> Manifest:
        """Replace the period's manifest of ``schema`` in one atomic step (temporary file,
        fsync, rename, fsync of the folder; on an object store one PUT)."""
        entries = {t: snapshots.Entry(file=self._relative(p.path), rows=p.rows, bytes=p.bytes, sha256=p.content_sha256)
                   for t, p in pubs.items()}
        manifest = snapshots.successor(self.manifest(schema, period), schema=schema, period=period, run_id=run_id,
                                       entries=entries, now=dt.datetime.now(dt.timezone.utc), grace_seconds=GRACE_SECONDS)
        tmp = self._scratch(f"manifest.{schema}.{period}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(manifest.to_json())
        self.storage.place(tmp, self.manifest_path(schema, period), durable=True)
        return manifest

    # ---- write-audit-publish: candidates that checks must pass first -------------
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

    def read_pending(self, table: str, period: str, run_id: str, part: str = "data") -> pa.Table | None:
        path = self._pending_path(run_id, table, period, part)
        return self.storage.read_parquet(path) if self.storage.exists(path) else None

    def content_hash(self, path: PurePath) -> str:
        """The content hash a file written by this warehouse carries in its footer
        (computed when it was written), else computed from its rows."""
        digest = self.storage.parquet_metadata(path).get(HASH_KEY.encode())
        return digest.decode() if digest else content_sha256(self.storage.read_parquet(path))

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

    # ---- publication log --------------------------------------------------------
    def last_publication_shas(self, period: str) -> dict[str, str]:
        """table → content hash of its last publication for ``period``."""
        files = self.storage.glob(self.partition_dir("audit.publications", period), f"*{VERSION_SEP}*.parquet")
        if not files:
            return {}
        rows = [r for f in files for r in self.storage.read_parquet(f).to_pylist()]
        out: dict[str, tuple] = {}
        for r in rows:
            if r["table"] not in out or r["published_at"] > out[r["table"]][0]:
                out[r["table"]] = (r["published_at"], r["sha256"])
        return {t: sha for t, (_, sha) in out.items()}

    def last_publication_sha(self, table: str, period: str) -> str | None:
        return self.last_publication_shas(period).get(table)

    def log_publication(self, published: Published, run_id: str) -> bool:
        """Append one row to ``audit.publications`` unless the content is unchanged since
        the last publication of that table and period. Returns whether a row was added."""
        return bool(self.log_publications([published], run_id))

    def log_publications(self, published: list[Published], run_id: str,
                         published_at: dt.datetime | None = None) -> list[Published]:
        """One ``audit.publications`` part with a row per table whose content changed since
        its last publication for the period (all tables share the period). Returns those."""
        if not published:
            return []
        period = published[0].period
        last = self.last_publication_shas(period)
        changed = [p for p in published if last.get(p.table) != p.content_sha256]
        if not changed:
            return []
        when = published_at or dt.datetime.now(dt.timezone.utc)
        row = pa.table(
            {
                "table": [p.table for p in changed],
                "period": [period] * len(changed),
                "run_id": [run_id] * len(changed),
                "published_at": [when] * len(changed),
                "rows": [p.rows for p in changed],
                "sha256": [p.content_sha256 for p in changed],
            },
            schema=PUBLICATIONS_SCHEMA,
        )
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        name = changed[0].table if len(changed) == 1 else changed[0].table.split(".", 1)[0]
        self.write_partition("audit.publications", period, row, part=f"{name}__{stamp}")
        return changed

    def _log_current_snapshot(self, schema: str, period: str) -> None:
        """Before a snapshot is replaced, log its tables if the run that published it was
        killed between switching the manifest and logging (the log converges here)."""
        current = self.manifest(schema, period)
        if current is None:
            return
        entries = [Published(table=t, period=period, path=self.root / e.file, rows=e.rows, bytes=e.bytes,
                             content_sha256=e.sha256) for t, e in current.tables.items()]
        self.log_publications(entries, current.run_id, dt.datetime.fromisoformat(current.published_at))

    # ---- catalog ------------------------------------------------------------------
    def ensure_placeholder(self, table: str, schema: pa.Schema) -> PurePath:
        """An empty Parquet file per table: its view's schema when nothing is published."""
        path = self.placeholder(table)
        if not self.storage.exists(path):
            tmp = self._scratch(f"{table}.placeholder.{uuid.uuid4().hex}.parquet")
            pq.write_table(schema.empty_table(), tmp)
            self.storage.place(tmp, path)
        return path

    def select_sql(self, table: str, up_to: str | None = None, files: list[PurePath] | None = None) -> str:
        """A SELECT over the current version of every partition of ``table`` (or over
        ``files``, from one :meth:`listing`), files listed explicitly (absolute paths or
        URLs we built ourselves, quoted as SQL literals). ``up_to``: only partitions whose
        period key is ≤ it (keys compare as text). On a non-local warehouse the connection
        needs :meth:`connect`'s filesystem."""
        current = self.current_files(table) if files is None else files
        if up_to is not None:
            current = [f for f in current if f.parent.name.split("=", 1)[1] <= up_to]
        return self._select_over(table, current)

    def _select_over(self, table: str, current: list[PurePath]) -> str:
        files = [self.storage.duckdb_path(f) for f in (self.placeholder(table), *current)]
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        return f"SELECT * FROM read_parquet([{listed}], union_by_name = true, hive_partitioning = false)"

    def build_catalog(self, tables: dict[str, pa.Schema] | None = None) -> PurePath:
        """(Re)create the catalog: one view per table over its current files. Built in a
        new local file and put over the old one, so open read-only sessions are
        untouched; rebuilt until the files listed are still the current ones after it
        is in place (the convergence argument is in the module docstring)."""
        tables = tables or self.tables
        with self.storage.lock(".catalog.lock"):  # local only; object stores have no lock
            self._adopt_unmanifested(tables)
            for table, schema in tables.items():
                self.ensure_placeholder(table, schema)
            listing = self.listing(tables)
            while True:
                self._write_catalog(listing)
                again = self.listing(tables)
                if again == listing:
                    break
                listing = again
        return self.catalog_path

    def _adopt_unmanifested(self, tables) -> None:
        """Once per warehouse, for partitions of snapshot tables published before
        snapshots existed (no manifest): write a manifest naming each table's newest
        file, so that they stay current. A marker file records that it was done, so a
        later leftover file is never adopted."""
        for schema in sorted({self.snapshot_of(t) for t in tables if self.is_snapshot(t)}):
            marker = self.root / "snapshots" / schema / ADOPTED_MARKER
            if self.storage.exists(marker):
                continue
            known = self.manifests(schema)
            periods: dict[str, dict[str, Published]] = {}
            for table in sorted(t for t in tables if self.snapshot_of(t) == schema):
                for folder in self.storage.listdir(self.table_dir(table)):
                    period = folder.name.split("=", 1)[-1]
                    if folder.name == PLACEHOLDER_PARTITION or period in known:
                        continue
                    found = self.versions(table, period)
                    if found:
                        data = self.storage.read_parquet(found[-1])
                        periods.setdefault(period, {})[table] = Published(
                            table=table, period=period, path=found[-1], rows=data.num_rows,
                            bytes=self.storage.size(found[-1]), content_sha256=content_sha256(data))
            for period, pubs in sorted(periods.items()):
                self._write_manifest(schema, period, "adopted", pubs)
            tmp = self._scratch(f"adopted.{uuid.uuid4().hex}.tmp")
            tmp.write_text(dt.datetime.now(dt.timezone.utc).isoformat(), encoding="utf-8")
            self.storage.place(tmp, marker)

    def _write_catalog(self, listing: dict[str, list[PurePath]]) -> None:
        tmp = self._scratch(f"catalog.{uuid.uuid4().hex}.duckdb")
        con = self.storage.register(
            duckdb.connect(str(tmp), config={"storage_compatibility_version": CATALOG_STORAGE_VERSION})
        )
        try:
            for schema_name in sorted({t.split(".", 1)[0] for t in listing} | {"meta"}):
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema_name}")
            for table, files in listing.items():
                con.execute(f"CREATE OR REPLACE VIEW {table} AS {self._select_over(table, files)}")
            con.execute("CREATE TABLE meta.catalog (key VARCHAR, value VARCHAR)")
            root = self.root if self.storage.is_local else self.url(self.root)
            con.execute(
                "INSERT INTO meta.catalog VALUES ('root', ?), ('built_at', ?)",
                [f"{CATALOG_VERSION}:{root}", dt.datetime.now(dt.timezone.utc).isoformat()],
            )
            con.execute("CHECKPOINT")
        finally:
            con.close()
        self.storage.place(tmp, self.catalog_path)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection that can read this warehouse's files (its
        fsspec filesystem registered when the warehouse is not local)."""
        return self.storage.register(duckdb.connect())

    def connect_readonly(self) -> duckdb.DuckDBPyConnection:
        """The catalog, read-only. A non-local catalog is first downloaded to
        ``<local_dir>/harmoni.duckdb`` (replaced whole: sessions already open keep theirs)."""
        if self.storage.is_local:
            return duckdb.connect(str(self.catalog_path), read_only=True)
        tmp = self._scratch(f"catalog.download.{uuid.uuid4().hex}.duckdb")
        self.storage.download(self.catalog_path, tmp)
        copy = self.local_dir / "harmoni.duckdb"
        os.replace(tmp, copy)
        return self.storage.register(duckdb.connect(str(copy), read_only=True))

    def query(self, sql_template: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
        """Run SQL against the current files without the catalog: ``{schema.table}``
        placeholders in ``sql_template`` become sub-selects over current files (one
        :meth:`listing`, so a snapshot's tables agree)."""
        con = self.connect()
        sql = sql_template
        used = [t for t in self.tables if "{" + t + "}" in sql]
        listing = self.listing(used)
        for table in used:
            sql = sql.replace("{" + table + "}", f"({self._select_over(table, listing[table])})")
        return con.execute(sql, params or [])
