"""The DuckDB catalog of views over the current Parquet files, and connections to it.

Room: the :class:`CatalogViews` part of :class:`~harmoni_pipeline.warehouse.Warehouse`
(why a catalog of views, and why it converges without a lock: the package's docstring).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import PurePath

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from harmoni_pipeline import snapshots
from harmoni_pipeline.warehouse.layout import (
    ADOPTED_MARKER,
    CATALOG_STORAGE_VERSION,
    CATALOG_VERSION,
    PLACEHOLDER_PARTITION,
    Published,
    content_sha256,
)


class CatalogViews:
    """``root/harmoni.duckdb``: views listing every table's current files (mixed into the warehouse)."""

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
        return self._read_parquet_sql([self.placeholder(table), *current])

    def file_sql(self, path: PurePath) -> str:
        """A SELECT over one Parquet file of this warehouse (a run's candidate, say),
        for a connection from :meth:`connect`."""
        return self._read_parquet_sql([path])

    def _read_parquet_sql(self, paths: list[PurePath]) -> str:
        listed = ", ".join("'" + self.storage.duckdb_path(f).replace("'", "''") + "'" for f in paths)
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
