"""The warehouse's layout and publication: where a table's partition lives, writing a
file complete and putting it in place, period snapshots (manifests), pruning, and the
append-only publication log.

Room: the :class:`Warehouse` class, with the pending candidates
(:mod:`.pending`) and the catalog (:mod:`.catalog`) mixed in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import uuid
from pathlib import Path, PurePath

import pyarrow as pa
import pyarrow.parquet as pq

from harmoni_pipeline import snapshots
from harmoni_pipeline.snapshots import Manifest
from harmoni_pipeline.storage import local_dir_for, open_storage
from harmoni_pipeline.warehouse.catalog import CatalogViews
from harmoni_pipeline.warehouse.layout import (
    GRACE_SECONDS,
    HASH_KEY,
    PLACEHOLDER_PART,
    PLACEHOLDER_PARTITION,
    PUBLICATIONS_SCHEMA,
    SNAPSHOTS,
    VERSION_SEP,
    Published,
    content_sha256,
)
from harmoni_pipeline.warehouse.pending import PendingCandidates


class Warehouse(PendingCandidates, CatalogViews):
    """``root/parquet/<schema>/<table>/period=<P>/<file>.parquet`` plus ``root/harmoni.duckdb``
    and, for snapshot schemas, ``root/snapshots/<schema>/period=<P>.json``."""

    def __init__(self, root: str | os.PathLike, tables: dict[str, pa.Schema] | None = None,
                 local_dir: str | os.PathLike | None = None, snapshots: dict[str, str] | None = None):
        """``root``: a local folder or an fsspec URL. ``tables``: every table of the
        catalog with its schema; when given, each publication refreshes the catalog.
        ``local_dir``: this machine's working folder (temporary files of a non-local
        warehouse, and for callers the landing hash cache, Data Docs, alerts); default
        :func:`~harmoni_pipeline.storage.local_dir_for` — the warehouse folder itself
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

