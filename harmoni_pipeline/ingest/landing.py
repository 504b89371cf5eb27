"""The landing zone as the pipeline sees it: which files belong to a partition, their
SHA-256, and which copy of identical bytes counts (data-contracts §3).

Room: listing and hashing landing files, read-only. Parsing is elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from harmoni_pipeline.ingest.landing_shape import partition_listing, source_periods

EXTENSIONS = {
    "survey": (".csv", ".xlsx"),
    "fkdm": (".csv", ".xlsx"),
    "stats": (".csv", ".xlsx", ".json"),
}


@dataclass(frozen=True)
class LandingFile:
    source: str
    period: str       # folder name: YYYY-MM (statistics: YYYY)
    path: Path        # absolute
    rel_path: str     # relative to the landing root, with '/'
    sha256: str
    bytes: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class HashCache:
    """SHA-256 of landing files keyed by (path, size, mtime), kept in the local working
    folder so that earlier months are not re-hashed on every run. A stale entry cannot
    survive a change of size or mtime; a wrong cache is harmless to delete."""

    @classmethod
    def in_folder(cls, local_dir: Path) -> "HashCache":
        """The cache of this machine's working folder (``<local dir>/.cache/``)."""
        return cls(Path(local_dir) / ".cache" / "landing_sha256.json")

    def __init__(self, path: Path | None):
        self.path = path
        self._data: dict[str, list] = {}
        if path is not None and path.exists():
            try:
                self._data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._data = {}
        self._dirty = False

    def sha256(self, file: Path) -> str:
        st = file.stat()
        key = str(file)
        entry = self._data.get(key)
        if entry and entry[0] == st.st_size and entry[1] == st.st_mtime_ns:
            return entry[2]
        digest = sha256_file(file)
        self._data[key] = [st.st_size, st.st_mtime_ns, digest]
        self._dirty = True
        return digest

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._data), encoding="utf-8")
        os.replace(tmp, self.path)
        self._dirty = False


def partition_files(landing: Path, source: str, period: str, cache: HashCache) -> list[LandingFile]:
    """Every file of one partition folder, in path order (missing folder = no files);
    what counts as a file of it is :mod:`harmoni_pipeline.ingest.landing_shape`'s rule."""
    landing = Path(landing)
    files, _ = partition_listing(landing, source, period)
    return [
        LandingFile(
            source=source,
            period=period,
            path=p,
            rel_path=p.relative_to(landing).as_posix(),
            sha256=cache.sha256(p),
            bytes=p.stat().st_size,
        )
        for p in files
    ]


def earlier_periods(landing: Path, source: str, period: str) -> list[str]:
    """The partition folders of ``source`` before ``period`` (folders that are not
    partitions never count: their files are not read)."""
    return [p for p in source_periods(landing, source)[0] if p < period]


def first_copies(landing: Path, source: str, period: str, cache: HashCache) -> dict[str, str]:
    """sha256 → relative path of the copy that counts, over the partitions before
    ``period`` (the earliest (period, path) copy counts)."""
    first: dict[str, str] = {}
    for earlier in earlier_periods(landing, source, period):
        for f in partition_files(landing, source, earlier, cache):
            first.setdefault(f.sha256, f.rel_path)
    return first
