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

from harmoni_pipeline.settings import local_dir_for
from harmoni_pipeline.storage import open_storage

PLACEHOLDER_PARTITION = "period=0000-00"
PLACEHOLDER_PART = "_placeholder"
CATALOG_VERSION = "2"
GRACE_SECONDS = 6 * 3600.0
PENDING_KEEP_SECONDS = 7 * 24 * 3600.0  # a blocked candidate stays this long for inspection
VERSION_SEP = "~"
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
    """``root/parquet/<schema>/<table>/period=<P>/<file>.parquet`` plus ``root/harmoni.duckdb``."""

    def __init__(self, root: str | os.PathLike, tables: dict[str, pa.Schema] | None = None,
                 local_dir: str | os.PathLike | None = None):
        """``root``: a local folder or an fsspec URL. ``tables``: every table of the
        catalog with its schema; when given, each publication refreshes the catalog.
        ``local_dir``: this machine's working folder (temporary files of a non-local
        warehouse, and for callers the landing hash cache, Data Docs, alerts); default
        :func:`~harmoni_pipeline.settings.local_dir_for` — the warehouse folder itself
        when it is local."""
        self.storage = open_storage(root)
        self.root = self.storage.root
        self.tables = dict(tables or {})
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

    # ---- layout -----------------------------------------------------------------
    def table_dir(self, table: str) -> PurePath:
        schema, name = table.split(".", 1)
        return self.parquet_dir / schema / name

    def partition_dir(self, table: str, period: str) -> PurePath:
        return self.table_dir(table) / f"period={period}"

    def versions(self, table: str, period: str, part: str = "data") -> list[PurePath]:
        """Published versions of one (partition, part), oldest first."""
        return self.storage.glob(self.partition_dir(table, period), f"{part}{VERSION_SEP}*.parquet")

    def current_file(self, table: str, period: str, part: str = "data") -> PurePath | None:
        """The current version of (partition, part); ``None`` if never published."""
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
        latest: dict[tuple[str, str], PurePath] = {}
        for f in self.storage.glob(self.table_dir(table), f"period=*/*{VERSION_SEP}*.parquet"):
            part = f.name.split(VERSION_SEP, 1)[0]
            if part != PLACEHOLDER_PART:
                latest[(f.parent.name, part)] = f
        return sorted(latest.values())

    def placeholder(self, table: str) -> PurePath:
        return self.table_dir(table) / PLACEHOLDER_PARTITION / f"{PLACEHOLDER_PART}{VERSION_SEP}0.parquet"

    # ---- write, then publish ------------------------------------------------------
    def stage(self, table: str, period: str, data: pa.Table, part: str = "data") -> tuple[Path, Published]:
        """Write ``data`` to a local temporary file (on the warehouse's filesystem when
        it is local). Nothing is visible to readers until :meth:`publish`."""
        if VERSION_SEP in part:
            raise ValueError(f"part name must not contain {VERSION_SEP!r}: {part!r}")
        tmp = self._scratch(f"{table}.{period}.{part}.{uuid.uuid4().hex}.parquet")
        pq.write_table(data, tmp, compression="zstd", row_group_size=256_000)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        version = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]
        final = self.partition_dir(table, period) / f"{part}{VERSION_SEP}{version}.parquet"
        return tmp, Published(
            table=table,
            period=period,
            path=final,
            rows=data.num_rows,
            bytes=tmp.stat().st_size,
            content_sha256=content_sha256(data),
            url=self.storage.url(final),
        )

    def publish(self, tmp: Path, published: Published) -> Published:
        """Make the staged file the current version and refresh the catalog: a new
        reader sees the old version or the new one, never a mixture."""
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
        """Delete versions whose successor has been current for longer than ``grace``."""
        found = self.versions(table, period, part)
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
        tmp, published = self.stage(table, period, data, part)
        return self.publish(tmp, published)

    def publish_all(self, tables: dict[str, pa.Table], period: str, run_id: str, part: str = "data") -> dict[str, Published]:
        """Publish several tables' ``period`` partitions together: every file is written
        first (a failure leaves all of them unpublished), then each is renamed into
        place and logged; the catalog is refreshed once."""
        staged = {}
        try:
            for name, data in tables.items():
                staged[name] = self.stage(name, period, data, part)
        except BaseException:
            for tmp, _ in staged.values():
                self.discard(tmp)
            raise
        with self.one_catalog_refresh():
            published = {name: self.publish(tmp, pub) for name, (tmp, pub) in staged.items()}
            for pub in published.values():
                self.log_publication(pub, run_id)
        return published

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
        tmp = self._scratch(f"{path.name}.{uuid.uuid4().hex}.tmp")
        pq.write_table(data, tmp, compression="zstd", row_group_size=256_000)
        self.storage.place(tmp, path)
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

    def write_pending_blob(self, run_id: str, name: str, payload: bytes) -> PurePath:
        """Write an intermediate result of a run (e.g. one shard's parse) beside its
        candidates, where every step of the run — on this machine or another — finds it."""
        path = self.pending_dir(run_id) / name
        tmp = self._scratch(f"{name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(payload)
        self.storage.place(tmp, path)
        return path

    def read_pending_blob(self, run_id: str, name: str) -> bytes | None:
        path = self.pending_dir(run_id) / name
        if not self.storage.exists(path):
            return None
        tmp = self._scratch(f"{name}.{uuid.uuid4().hex}.tmp")
        try:
            self.storage.download(path, tmp)
            return tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)

    def remove_pending_blob(self, run_id: str, name: str) -> None:
        self.storage.remove(self.pending_dir(run_id) / name)

    def read_pending(self, table: str, period: str, run_id: str, part: str = "data") -> pa.Table | None:
        path = self._pending_path(run_id, table, period, part)
        return self.storage.read_parquet(path) if self.storage.exists(path) else None

    def publish_pending(self, tables: list[str], period: str, run_id: str, part: str = "data") -> dict[str, Published]:
        """Publish the run's candidates of ``tables`` for ``period`` together (all or none
        missing), then drop them. Returns what was published."""
        found = {t: self.read_pending(t, period, run_id, part) for t in tables}
        missing = [t for t, data in found.items() if data is None]
        if missing:
            raise FileNotFoundError(f"no pending candidate of {', '.join(missing)} {period} in run {run_id}")
        published = self.publish_all(found, period, run_id, part=part)
        for t in tables:
            self.storage.remove(self._pending_path(run_id, t, period, part))
        return published

    def discard_pending(self, tables: list[str], period: str, run_id: str, part: str = "data") -> None:
        for t in tables:
            self.storage.remove(self._pending_path(run_id, t, period, part))

    # ---- publication log --------------------------------------------------------
    def last_publication_sha(self, table: str, period: str) -> str | None:
        files = self.storage.glob(self.partition_dir("audit.publications", period), f"*{VERSION_SEP}*.parquet")
        if not files:
            return None
        rows = [r for f in files for r in self.storage.read_parquet(f).to_pylist() if r["table"] == table]
        if not rows:
            return None
        return max(rows, key=lambda r: r["published_at"])["sha256"]

    def log_publication(self, published: Published, run_id: str) -> bool:
        """Append one row to ``audit.publications`` unless the content is unchanged since
        the last publication of that table and period. Returns whether a row was added."""
        if self.last_publication_sha(published.table, published.period) == published.content_sha256:
            return False
        row = pa.table(
            {
                "table": [published.table],
                "period": [published.period],
                "run_id": [run_id],
                "published_at": [dt.datetime.now(dt.timezone.utc)],
                "rows": [published.rows],
                "sha256": [published.content_sha256],
            },
            schema=PUBLICATIONS_SCHEMA,
        )
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        self.write_partition("audit.publications", published.period, row, part=f"{published.table}__{stamp}")
        return True

    # ---- catalog ------------------------------------------------------------------
    def ensure_placeholder(self, table: str, schema: pa.Schema) -> PurePath:
        """An empty Parquet file per table: its view's schema when nothing is published."""
        path = self.placeholder(table)
        if not self.storage.exists(path):
            tmp = self._scratch(f"{table}.placeholder.{uuid.uuid4().hex}.parquet")
            pq.write_table(schema.empty_table(), tmp)
            self.storage.place(tmp, path)
        return path

    def select_sql(self, table: str, up_to: str | None = None) -> str:
        """A SELECT over the current version of every partition of ``table``, files
        listed explicitly (absolute paths or URLs we built ourselves, quoted as SQL
        literals). ``up_to``: only partitions whose period key is ≤ it (keys compare as
        text). On a non-local warehouse the connection needs :meth:`connect`'s filesystem."""
        current = self.current_files(table)
        if up_to is not None:
            current = [f for f in current if f.parent.name.split("=", 1)[1] <= up_to]
        return self._select_over(table, current)

    def _select_over(self, table: str, current: list[PurePath]) -> str:
        files = [self.storage.duckdb_path(f) for f in (self.placeholder(table), *current)]
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        return f"SELECT * FROM read_parquet([{listed}], union_by_name = true, hive_partitioning = false)"

    def _listing(self, tables) -> dict[str, list[PurePath]]:
        return {table: self.current_files(table) for table in sorted(tables)}

    def build_catalog(self, tables: dict[str, pa.Schema] | None = None) -> PurePath:
        """(Re)create the catalog: one view per table over its current files. Built in a
        new local file and put over the old one, so open read-only sessions are
        untouched; rebuilt until the files listed are still the current ones after it
        is in place (the convergence argument is in the module docstring)."""
        tables = tables or self.tables
        with self.storage.lock(".catalog.lock"):  # local only; object stores have no lock
            for table, schema in tables.items():
                self.ensure_placeholder(table, schema)
            listing = self._listing(tables)
            while True:
                self._write_catalog(listing)
                again = self._listing(tables)
                if again == listing:
                    break
                listing = again
        return self.catalog_path

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
        placeholders in ``sql_template`` become sub-selects over current files."""
        con = self.connect()
        sql = sql_template
        for table in self.tables:
            sql = sql.replace("{" + table + "}", f"({self.select_sql(table)})")
        return con.execute(sql, params or [])
