"""A landing zone at a URL (``s3://bucket/prefix``, any fsspec URL), read through a local
read-only copy.

Room: listing the objects under the URL and keeping, in this machine's working folder, a
copy of each — downloaded only when the object is new or its size or version tag (S3's
ETag, else its modification time) changed — and removing the copies of objects that are
gone. Everything after that (the landing rules of :mod:`.landing_shape`, the SHA-256 of
:mod:`.landing`, the parsers, the landing sensor's snapshot) reads the copy exactly as it
reads a landing folder, so a landing zone at a URL follows the same rules as one on disk:
a hidden object (``.name.csv``), one under ``.incoming/``, an Office lock file, a folder
name that is not a period, a file outside a period folder are what they are in a folder.
The landing objects themselves are only ever read.

Choices
- The copy is a cache, never a hand-over between steps: every machine keeps its own
  (``<local dir>/.cache/landing/<digest of the URL>/``), brought up to date by each
  reader before it reads (:func:`sync`, under a file lock: the steps of one worker take
  turns). A copy that is lost or damaged is fetched again; deleting it is harmless.
- An object store has no folders, links or special files: a key maps to the same
  relative path. Keys that cannot be a path on disk — an empty, ``.`` or ``..`` segment,
  or a key that is also the prefix of other keys (``survey/2025-11`` beside
  ``survey/2025-11/a.csv``) — are left out of the copy and named in :attr:`Sync.skipped`.
- Object stores list a whole prefix in pages (1,000 keys a request on S3); a national
  landing zone of a few thousand files is a few requests a sync. Only changed objects
  are downloaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from fsspec.core import url_to_fs

MANIFEST_SUFFIX = ".json"


@dataclass
class Sync:
    root: Path                      # the local copy: read it as a landing folder
    fetched: list[str] = field(default_factory=list)   # relative paths downloaded now
    removed: list[str] = field(default_factory=list)   # copies of objects that are gone
    skipped: list[str] = field(default_factory=list)   # keys that cannot be a path (see module doc)


def mirror_dir(url: str, local_dir: Path) -> Path:
    """Where this machine keeps its copy of the landing zone at ``url``."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return Path(local_dir) / ".cache" / "landing" / digest


def _version(info: dict) -> str:
    for key in ("ETag", "etag", "mtime", "LastModified", "last_modified", "created"):
        if info.get(key) is not None:
            return str(info[key])
    return ""


def _usable(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and all(p not in ("", ".", "..") for p in parts)


def listing(url: str) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """``relative key → (size, version tag)`` of every object under ``url``, and the keys
    that cannot be a path (see the module docstring)."""
    fs, root = url_to_fs(url)
    root = root.rstrip("/")
    fs.invalidate_cache(root)  # s3fs keeps listings per process: a sensor must see new objects
    found = fs.find(root, detail=True) if fs.exists(root) else {}
    objects: dict[str, tuple[int, str]] = {}
    skipped: list[str] = []
    for path, info in found.items():
        if info.get("type", "file") != "file":
            continue
        rel = path[len(root):].lstrip("/") if path.startswith(root) else path
        if _usable(rel):
            objects[rel] = (int(info.get("size") or 0), _version(info))
        else:
            skipped.append(rel)
    prefixes = {"/".join(rel.split("/")[:i]) for rel in objects for i in range(1, rel.count("/") + 1)}
    for rel in sorted(set(objects) & prefixes):  # a key that is also a "folder"
        skipped.append(rel)
        del objects[rel]
    return objects, sorted(skipped)


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def sync(url: str, local_dir: Path) -> Sync:
    """Bring this machine's copy of the landing zone at ``url`` up to date; returns it."""
    root = mirror_dir(url, local_dir)
    manifest = root.with_suffix(MANIFEST_SUFFIX)
    with _locked(root.with_suffix(".lock")):
        try:
            known = {k: tuple(v) for k, v in json.loads(manifest.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError):
            known = {}
        objects, skipped = listing(url)
        result = Sync(root=root, skipped=skipped)
        fs, base = url_to_fs(url)
        base = base.rstrip("/")
        root.mkdir(parents=True, exist_ok=True)
        for rel, meta in sorted(objects.items()):
            target = root / rel
            if known.get(rel) == meta and target.is_file() and target.stat().st_size == meta[0]:
                continue
            tmp = root.parent / f".{root.name}.{os.getpid()}.part"
            try:
                fs.get_file(f"{base}/{rel}", str(tmp))
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
            except (OSError, FileNotFoundError):  # gone since the listing: the next sync sees it
                tmp.unlink(missing_ok=True)
                objects.pop(rel)
                continue
            result.fetched.append(rel)
        for rel in sorted(set(known) - set(objects)):
            with contextlib.suppress(FileNotFoundError):
                (root / rel).unlink()
                result.removed.append(rel)
            _prune_empty(root, (root / rel).parent)
        tmp_manifest = manifest.with_suffix(f".{os.getpid()}.tmp")
        tmp_manifest.write_text(json.dumps({k: list(v) for k, v in objects.items()}), encoding="utf-8")
        os.replace(tmp_manifest, manifest)
    return result


def _prune_empty(root: Path, folder: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
