"""Putting a checked report in place: ``<warehouse>/reports/period=YYYY-MM/``.

Room: the report's write-then-publish. Files are written into a temporary folder first
(local, inside the warehouse folder when it is local), checked there, then put in place
one by one through the warehouse's storage (:mod:`harmoni_pipeline.storage`: an atomic
``os.replace`` locally, one upload per file on an object store), the manifest
``manifest.json`` last: it lists every file of the publication with its SHA-256, so a
reader that finds files newer than the manifest knows a publication is under way.
Files of an earlier publication that the new one does not have are removed afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath

from harmoni_pipeline.storage import open_storage

MANIFEST = "manifest.json"
REPORTS = "reports"


@dataclass(frozen=True)
class PublishedReport:
    folder: PurePath
    files: dict[str, PurePath]
    urls: dict[str, str]


def report_folder(storage, period: str) -> PurePath:
    return storage.root / REPORTS / f"period={period}"


@contextlib.contextmanager
def staging_folder(tmp_root: Path, period: str):
    """A fresh temporary folder for one rendering, removed afterwards."""
    folder = Path(tmp_root) / f"report-{period}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_files(folder: Path, files: dict[str, bytes]) -> dict[str, Path]:
    out = {}
    for name, payload in files.items():
        path = folder / name
        path.write_bytes(payload)
        out[name] = path
    return out


def manifest(period: str, written: dict[str, Path], facts: dict) -> bytes:
    listed = {name: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "bytes": p.stat().st_size}
              for name, p in sorted(written.items())}
    return (json.dumps({"period": period, "files": listed, **facts}, ensure_ascii=False, indent=2, sort_keys=True)
            + "\n").encode("utf-8")


def publish(warehouse_root, period: str, written: dict[str, Path], facts: dict) -> PublishedReport:
    """Put the checked files in place, then the manifest; drop files the manifest no
    longer lists."""
    storage = open_storage(warehouse_root)
    target = report_folder(storage, period)
    staged_dir = next(iter(written.values())).parent
    (staged_dir / MANIFEST).write_bytes(manifest(period, written, facts))
    old = {p.name for p in storage.glob(target, "*")}
    placed = {}
    for name in [*sorted(written), MANIFEST]:
        storage.place(staged_dir / name, target / name)
        placed[name] = target / name
    for name in sorted(old - set(placed)):
        storage.remove(target / name)
    return PublishedReport(target, placed, {name: storage.url(path) for name, path in placed.items()})


def latest_report(warehouse_root) -> tuple[str, str] | None:
    """(period, its HTML: a local path, or the URL on an object store) of the newest
    published report, or None."""
    storage = open_storage(warehouse_root)
    manifests = storage.glob(storage.root / REPORTS, f"period=*/{MANIFEST}")
    if not manifests:
        return None
    folder = manifests[-1].parent
    period = folder.name.split("=", 1)[1]
    html = folder / f"laporan_{period}.html"
    return period, str(html) if storage.is_local else storage.url(html)
