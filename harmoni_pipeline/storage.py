"""Where the warehouse's files live: a local folder, or any fsspec URL.

Room: the handful of file operations the warehouse needs — list, read Parquet, move a
finished local file into place, remove, age, a lock — on a local folder (a plain path or
a ``file://`` URL) or on any fsspec filesystem (``s3://bucket/prefix``, ``gs://…``,
``memory://…``), and what DuckDB needs to read those files (a local path, or a URL with
the filesystem registered on the connection). It knows nothing of the warehouse's
layout, tables or catalog (:mod:`harmoni_pipeline.warehouse`).

Two implementations of one interface, chosen by :func:`open_storage`:

- :class:`LocalStorage` uses ``pathlib`` and ``os`` directly: ``os.replace`` is atomic on
  one filesystem and ``fcntl`` locks work, so local behaviour is exactly what it was
  before warehouses could be URLs.
- :class:`FsspecStorage` uses the fsspec filesystem of the URL. Object stores have no
  rename and no lock: a finished file is uploaded to its final name in one request (an
  object appears complete or not at all), and :meth:`FsspecStorage.lock` is a no-op —
  the warehouse's catalog refresh converges without one.

Paths handed out are ``pathlib.Path`` for a local folder and ``PurePosixPath`` of the
filesystem's own path (protocol stripped, as fsspec takes it) otherwise; :meth:`url`
turns either into something a person or DuckDB can use.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

if TYPE_CHECKING:
    import duckdb

LOCAL_PROTOCOLS = LocalFileSystem.protocol  # ("file", "local")

DEFAULT_LOCAL_DIR = "data/local"  # the local folder of a non-local warehouse without HARMONI_LOCAL_DIR


def is_url(location: str | os.PathLike) -> bool:
    """Whether ``location`` names a protocol (``s3://…``, ``file://…``) rather than a plain path."""
    return "://" in os.fspath(location)


def is_local(location: str | os.PathLike) -> bool:
    """A plain path or a ``file://`` URL: the warehouse is a folder on this machine."""
    return not is_url(location) or fsspec.utils.get_protocol(os.fspath(location)) in LOCAL_PROTOCOLS


def local_folder(location: str | os.PathLike) -> Path:
    """The absolute local folder of a local ``location`` (plain path or ``file://`` URL)."""
    text = os.fspath(location)
    return Path(url_to_fs(text)[1] if is_url(text) else text).resolve()


def normalise_location(location: str | os.PathLike) -> Path | str:
    """A local location as an absolute :class:`~pathlib.Path`; any other URL as given,
    without a trailing slash."""
    if is_local(location):
        return local_folder(location)
    protocol, rest = os.fspath(location).split("://", 1)
    return f"{protocol}://{rest.rstrip('/')}"


def local_dir_for(warehouse: Path | str, environ: dict | None = None) -> Path:
    """The local working folder (this machine's: the landing hash cache, Data Docs, alerts,
    temporary files of a non-local warehouse), derived here only: ``HARMONI_LOCAL_DIR`` when set, else the warehouse
    folder for a local warehouse, else ``data/local``."""
    env = os.environ if environ is None else environ
    if env.get("HARMONI_LOCAL_DIR"):
        return Path(env["HARMONI_LOCAL_DIR"]).resolve()
    return local_folder(warehouse) if is_local(warehouse) else Path(DEFAULT_LOCAL_DIR).resolve()


class LocalStorage:
    """A folder on this machine, through ``pathlib`` and ``os``."""

    is_local = True

    def __init__(self, folder: str | os.PathLike):
        self.root: Path = local_folder(folder)

    def url(self, path: PurePath) -> str:
        return Path(path).as_uri()

    def duckdb_path(self, path: PurePath) -> str:
        """What DuckDB's ``read_parquet`` is given: the absolute path."""
        return str(path)

    def register(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """DuckDB reads local paths natively: nothing to register."""
        return con

    def exists(self, path: PurePath) -> bool:
        return Path(path).exists()

    def glob(self, folder: PurePath, pattern: str) -> list[Path]:
        """Files under ``folder`` matching ``pattern`` (may contain ``/``), sorted; none
        when ``folder`` does not exist."""
        folder = Path(folder)
        return sorted(folder.glob(pattern)) if folder.is_dir() else []

    def listdir(self, folder: PurePath) -> list[Path]:
        folder = Path(folder)
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def read_parquet(self, path: PurePath, columns: list[str] | None = None,
                     dictionary: list[str] | None = None) -> pa.Table:
        """The file's rows (only ``columns``, when given); ``dictionary``: columns read as
        Arrow dictionaries, straight from the file's dictionary pages."""
        return pq.read_table(path, columns=columns, read_dictionary=dictionary)

    def parquet_metadata(self, path: PurePath) -> dict[bytes, bytes]:
        """The key-value metadata of a Parquet file's footer (the data is not read)."""
        return pq.read_metadata(path).metadata or {}

    def parquet_rows(self, path: PurePath) -> int:
        return pq.read_metadata(path).num_rows

    def size(self, path: PurePath) -> int:
        return Path(path).stat().st_size

    def place(self, local_file: Path, path: PurePath, durable: bool = False) -> None:
        """Move a finished file into place: ``os.replace``, atomic on one filesystem (the
        warehouse writes its temporary files inside its own folder). ``durable``: fsync
        the file before and its folder after the rename (a commit point that must
        survive a crash of the machine, not only of the process)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if durable:
            with open(local_file, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(local_file, path)
        if durable:
            self.sync_folder(Path(path).parent)

    def download(self, path: PurePath, local_file: Path) -> None:
        local_file.write_bytes(Path(path).read_bytes())

    def read_bytes(self, path: PurePath) -> bytes:
        return Path(path).read_bytes()

    def move(self, source: PurePath, path: PurePath) -> None:
        """Rename a file of this folder to ``path`` (atomic: ``os.replace``), and make the
        rename durable (fsync of the folder)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, path)
        self.sync_folder(Path(path).parent)

    @staticmethod
    def sync_folder(folder: Path) -> None:
        """fsync a folder, so that a rename inside it survives a crash of the machine."""
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, path: PurePath) -> None:
        Path(path).unlink(missing_ok=True)

    def remove_tree(self, folder: PurePath) -> None:
        """Remove a folder of files (one level, as the warehouse writes them)."""
        for f in Path(folder).iterdir():
            f.unlink(missing_ok=True)
        Path(folder).rmdir()

    def modified(self, path: PurePath) -> float:
        """Modification time (seconds since the epoch) of a file or folder."""
        return Path(path).stat().st_mtime

    @contextlib.contextmanager
    def lock(self, name: str):
        """An exclusive ``fcntl`` lock on ``<root>/<name>``, between processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / name, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


class FsspecStorage:
    """Any fsspec filesystem (object stores, ``memory://``) named by a URL."""

    is_local = False

    def __init__(self, url: str):
        self.fs, root = url_to_fs(url)
        self.root = PurePosixPath(root.rstrip("/") or "/")

    def url(self, path: PurePath) -> str:
        return self.fs.unstrip_protocol(str(path))

    def duckdb_path(self, path: PurePath) -> str:
        """What DuckDB's ``read_parquet`` is given: the URL; connections that read it
        need :meth:`register`."""
        return self.url(path)

    def register(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """Let DuckDB read this filesystem's URLs through fsspec."""
        con.register_filesystem(self.fs)
        return con

    def exists(self, path: PurePath) -> bool:
        return self.fs.exists(str(path))

    def glob(self, folder: PurePath, pattern: str) -> list[PurePosixPath]:
        return sorted(PurePosixPath(p) for p in self.fs.glob(f"{folder}/{pattern}"))

    def listdir(self, folder: PurePath) -> list[PurePosixPath]:
        try:
            return sorted(PurePosixPath(p) for p in self.fs.ls(str(folder), detail=False))
        except FileNotFoundError:
            return []

    def read_parquet(self, path: PurePath, columns: list[str] | None = None,
                     dictionary: list[str] | None = None) -> pa.Table:
        return pq.read_table(str(path), filesystem=self.fs, columns=columns, read_dictionary=dictionary)

    def parquet_metadata(self, path: PurePath) -> dict[bytes, bytes]:
        with self.fs.open(str(path), "rb") as fh:
            return pq.read_metadata(fh).metadata or {}

    def parquet_rows(self, path: PurePath) -> int:
        with self.fs.open(str(path), "rb") as fh:
            return pq.read_metadata(fh).num_rows

    def size(self, path: PurePath) -> int:
        return int(self.fs.size(str(path)))

    def place(self, local_file: Path, path: PurePath, durable: bool = False) -> None:
        """Upload a finished local file to its final name in one request (an object
        appears complete or not at all, and is durable once the request succeeded), then
        delete the local file."""
        self.fs.makedirs(str(path.parent), exist_ok=True)
        self.fs.put_file(str(local_file), str(path))
        local_file.unlink()

    def download(self, path: PurePath, local_file: Path) -> None:
        self.fs.get_file(str(path), str(local_file))

    def read_bytes(self, path: PurePath) -> bytes:
        return self.fs.cat_file(str(path))

    def move(self, source: PurePath, path: PurePath) -> None:
        """Copy an object to ``path`` (server-side where the store can; the copy appears
        whole) and delete the source."""
        self.fs.makedirs(str(path.parent), exist_ok=True)
        self.fs.mv(str(source), str(path))

    def remove(self, path: PurePath) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(str(path))

    def remove_tree(self, folder: PurePath) -> None:
        self.fs.rm(str(folder), recursive=True)

    def modified(self, path: PurePath) -> float:
        """Modification time (seconds since the epoch) of a file; of a "folder" (a
        prefix: object stores have none), that of its newest file, or 0 when empty."""
        if self.fs.isdir(str(path)):
            return max((self.modified(PurePosixPath(f)) for f in self.fs.find(str(path))), default=0.0)
        return self.fs.modified(str(path)).timestamp()

    @contextlib.contextmanager
    def lock(self, name: str):
        """Object stores have no lock; callers must converge without one."""
        yield


Storage = LocalStorage | FsspecStorage


def open_storage(location: str | os.PathLike) -> Storage:
    """The storage of a warehouse location: a plain path or ``file://`` URL is local;
    any other URL goes through fsspec (``s3://`` needs ``pip install s3fs``)."""
    return LocalStorage(location) if is_local(location) else FsspecStorage(os.fspath(location))
