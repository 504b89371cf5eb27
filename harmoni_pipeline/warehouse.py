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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

PLACEHOLDER_PARTITION = "period=0000-00"
PLACEHOLDER_PART = "_placeholder"
CATALOG_VERSION = "2"
GRACE_SECONDS = 6 * 3600.0
PENDING_KEEP_SECONDS = 7 * 24 * 3600.0  # a blocked candidate stays this long for inspection
VERSION_SEP = "~"

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
    """What one publication wrote: the final path, its row count and content hash."""

    table: str
    period: str
    path: Path
    rows: int
    bytes: int
    content_sha256: str

    @property
    def uri(self) -> str:
        return self.path.as_uri()


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

    def __init__(self, root: str | os.PathLike, tables: dict[str, pa.Schema] | None = None):
        """``tables``: every table of the catalog with its schema; when given, each
        publication refreshes the catalog."""
        self.root = Path(root).resolve()
        self.tables = dict(tables or {})
        self._deferred = 0
        self.parquet_dir = self.root / "parquet"
        self.tmp_dir = self.root / ".tmp"
        self.catalog_path = self.root / "harmoni.duckdb"

    # ---- layout -----------------------------------------------------------------
    def table_dir(self, table: str) -> Path:
        schema, name = table.split(".", 1)
        return self.parquet_dir / schema / name

    def partition_dir(self, table: str, period: str) -> Path:
        return self.table_dir(table) / f"period={period}"

    def versions(self, table: str, period: str, part: str = "data") -> list[Path]:
        """Published versions of one (partition, part), oldest first."""
        folder = self.partition_dir(table, period)
        if not folder.is_dir():
            return []
        return sorted(folder.glob(f"{part}{VERSION_SEP}*.parquet"))

    def current_file(self, table: str, period: str, part: str = "data") -> Path | None:
        """The current version of (partition, part); ``None`` if never published."""
        found = self.versions(table, period, part)
        return found[-1] if found else None

    def read_partition(self, table: str, period: str, part: str = "data") -> pa.Table | None:
        """The current version of one partition, or ``None`` if never published."""
        path = self.current_file(table, period, part)
        return None if path is None else pq.read_table(path)

    def current_files(self, table: str) -> list[Path]:
        """The current version of every (partition, part) of a table, placeholder excluded."""
        latest: dict[tuple[str, str], Path] = {}
        for f in sorted(self.table_dir(table).glob(f"period=*/*{VERSION_SEP}*.parquet")):
            part = f.name.split(VERSION_SEP, 1)[0]
            if part != PLACEHOLDER_PART:
                latest[(f.parent.name, part)] = f
        return sorted(latest.values())

    def placeholder(self, table: str) -> Path:
        return self.table_dir(table) / PLACEHOLDER_PARTITION / f"{PLACEHOLDER_PART}{VERSION_SEP}0.parquet"

    # ---- write, then publish ------------------------------------------------------
    def stage(self, table: str, period: str, data: pa.Table, part: str = "data") -> tuple[Path, Published]:
        """Write ``data`` to a temporary file on the warehouse's filesystem. Nothing is
        visible to readers until :meth:`publish`."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        if VERSION_SEP in part:
            raise ValueError(f"part name must not contain {VERSION_SEP!r}: {part!r}")
        tmp = self.tmp_dir / f"{table}.{period}.{part}.{uuid.uuid4().hex}.parquet"
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
        )

    def publish(self, tmp: Path, published: Published) -> Published:
        """Make the staged file the current version and refresh the catalog: a new
        reader sees the old version or the new one, never a mixture."""
        published.path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, published.path)
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
                if now - successor.stat().st_mtime > grace:
                    old.unlink(missing_ok=True)
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
    def pending_dir(self, run_id: str) -> Path:
        return self.root / ".pending" / run_id

    def _pending_path(self, run_id: str, table: str, period: str, part: str) -> Path:
        return self.pending_dir(run_id) / f"{table}{VERSION_SEP}{period}{VERSION_SEP}{part}.parquet"

    def write_pending(self, table: str, period: str, data: pa.Table, run_id: str, part: str = "data") -> Path:
        """Write a candidate partition that readers never see: data-quality checks read it
        (:meth:`read_pending`) and publish it (:meth:`publish_pending`) only when they pass.
        The run id names it, so a check in another process of the same run finds it."""
        path = self._pending_path(run_id, table, period, part)
        self.prune_pending()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        pq.write_table(data, tmp, compression="zstd", row_group_size=256_000)
        os.replace(tmp, path)
        return path

    def prune_pending(self, keep: float = PENDING_KEEP_SECONDS) -> None:
        """Delete the candidates of runs whose folder is older than ``keep`` (blocked
        candidates are kept a week for inspection; published ones are already gone)."""
        root = self.root / ".pending"
        if not root.is_dir():
            return
        now = time.time()
        for run_dir in root.iterdir():
            try:
                if now - run_dir.stat().st_mtime > keep:
                    for f in run_dir.iterdir():
                        f.unlink(missing_ok=True)
                    run_dir.rmdir()
            except OSError:
                continue

    def read_pending(self, table: str, period: str, run_id: str, part: str = "data") -> pa.Table | None:
        path = self._pending_path(run_id, table, period, part)
        return pq.read_table(path) if path.exists() else None

    def publish_pending(self, tables: list[str], period: str, run_id: str, part: str = "data") -> dict[str, Published]:
        """Publish the run's candidates of ``tables`` for ``period`` together (all or none
        missing), then drop them. Returns what was published."""
        found = {t: self.read_pending(t, period, run_id, part) for t in tables}
        missing = [t for t, data in found.items() if data is None]
        if missing:
            raise FileNotFoundError(f"no pending candidate of {', '.join(missing)} {period} in run {run_id}")
        published = self.publish_all(found, period, run_id, part=part)
        for t in tables:
            self._pending_path(run_id, t, period, part).unlink(missing_ok=True)
        return published

    def discard_pending(self, tables: list[str], period: str, run_id: str, part: str = "data") -> None:
        for t in tables:
            self._pending_path(run_id, t, period, part).unlink(missing_ok=True)

    # ---- publication log --------------------------------------------------------
    def last_publication_sha(self, table: str, period: str) -> str | None:
        folder = self.partition_dir("audit.publications", period)
        files = sorted(folder.glob(f"*{VERSION_SEP}*.parquet")) if folder.is_dir() else []
        if not files:
            return None
        rows = [r for f in files for r in pq.read_table(f).to_pylist() if r["table"] == table]
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
    def ensure_placeholder(self, table: str, schema: pa.Schema) -> Path:
        """An empty Parquet file per table: its view's schema when nothing is published."""
        path = self.placeholder(table)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.tmp_dir / f"{table}.placeholder.{uuid.uuid4().hex}.parquet"
            pq.write_table(schema.empty_table(), tmp)
            os.replace(tmp, path)
        return path

    def select_sql(self, table: str, up_to: str | None = None) -> str:
        """A SELECT over the current version of every partition of ``table``, files
        listed explicitly (absolute paths we built ourselves, quoted as SQL literals).
        ``up_to``: only partitions whose period key is ≤ it (keys compare as text)."""
        current = self.current_files(table)
        if up_to is not None:
            current = [f for f in current if f.parent.name.split("=", 1)[1] <= up_to]
        files = [self.placeholder(table), *current]
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        return f"SELECT * FROM read_parquet([{listed}], union_by_name = true, hive_partitioning = false)"

    def view_sql(self, table: str) -> str:
        return f"CREATE OR REPLACE VIEW {table} AS {self.select_sql(table)}"

    @contextlib.contextmanager
    def _catalog_lock(self):
        """Serialise catalog rebuilds between processes (two runs publishing at once)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".catalog.lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def build_catalog(self, tables: dict[str, pa.Schema] | None = None) -> Path:
        """(Re)create the catalog: one view per table over its current files. Written to
        a new file and moved over the old one, so open read-only sessions are untouched."""
        tables = tables or self.tables
        with self._catalog_lock():
            for table, schema in tables.items():
                self.ensure_placeholder(table, schema)
            tmp = self.tmp_dir / f"catalog.{uuid.uuid4().hex}.duckdb"
            con = duckdb.connect(str(tmp))
            try:
                for schema_name in sorted({t.split(".", 1)[0] for t in tables} | {"meta"}):
                    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema_name}")
                for table in sorted(tables):
                    con.execute(self.view_sql(table))
                con.execute("CREATE TABLE meta.catalog (key VARCHAR, value VARCHAR)")
                con.execute(
                    "INSERT INTO meta.catalog VALUES ('root', ?), ('built_at', ?)",
                    [f"{CATALOG_VERSION}:{self.root}", dt.datetime.now(dt.timezone.utc).isoformat()],
                )
                con.execute("CHECKPOINT")
            finally:
                con.close()
            os.replace(tmp, self.catalog_path)
        return self.catalog_path

    def connect_readonly(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.catalog_path), read_only=True)

    def query(self, sql_template: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
        """Run SQL against the current files without the catalog: ``{schema.table}``
        placeholders in ``sql_template`` become sub-selects over current files."""
        con = duckdb.connect()
        sql = sql_template
        for table in self.tables:
            sql = sql.replace("{" + table + "}", f"({self.select_sql(table)})")
        return con.execute(sql, params or [])
