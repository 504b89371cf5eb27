"""The region boundary layers the maps are drawn from, and which one a scope uses.

Room: reading the layers (GeoJSON, one feature per Kemendagri code, format in
``boundaries/README.md``) from the package or from the folder ``HARMONI_BOUNDARIES_DIR``
names (an office's own official boundaries; a file there replaces the packaged file of
its level, a level it lacks keeps the packaged one), and choosing per scope the finest
level that has polygons for it. Drawing is :mod:`.maps`; building the packaged layers
is :mod:`.prepare_boundaries`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

PACKAGED_DIR = Path(__file__).parent / "boundaries"
LEVELS = ("provinsi", "kabupaten", "kecamatan")
ENV_VAR = "HARMONI_BOUNDARIES_DIR"


class BoundaryError(ValueError):
    """A boundary file breaks its documented format."""


@dataclass(frozen=True)
class Layer:
    """One level's polygons: ``codes`` sorted, ``geoms`` aligned (shapely, lon/lat)."""

    level: str
    path: Path
    codes: tuple[str, ...]
    names: tuple[str, ...]
    geoms: np.ndarray

    def select(self, codes) -> "Layer":
        """The features of ``codes`` (those the layer has), in code order."""
        wanted = set(codes)
        idx = [i for i, c in enumerate(self.codes) if c in wanted]
        return Layer(self.level, self.path, tuple(self.codes[i] for i in idx), tuple(self.names[i] for i in idx),
                     self.geoms[idx])

    def __contains__(self, code: str) -> bool:
        return code in set(self.codes)


def boundaries_dir(environ=None) -> Path | None:
    """The office's own boundary folder (``HARMONI_BOUNDARIES_DIR``), or None."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    return Path(value).resolve() if value else None


def layer_path(level: str, folder: Path | None = None) -> Path:
    """``<folder>/<level>.geojson`` when the office's folder has it, else the packaged file."""
    if level not in LEVELS:
        raise ValueError(f"unknown boundary level {level!r}")
    if folder is not None and (folder / f"{level}.geojson").is_file():
        return folder / f"{level}.geojson"
    return PACKAGED_DIR / f"{level}.geojson"


def load_layer(level: str, folder: Path | None = None) -> Layer:
    path = layer_path(level, folder)
    stat = path.stat()
    return _load(str(path), level, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load(path: str, level: str, _mtime: int, _size: int) -> Layer:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        features = data["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BoundaryError(f"{path}: not a GeoJSON FeatureCollection ({exc})") from exc
    codes = [str((f.get("properties") or {}).get("kode", "")).strip() for f in features]
    depth = {"provinsi": 0, "kabupaten": 1, "kecamatan": 2}[level]
    bad = [c for c in codes if not c or c.count(".") != depth]
    if bad:
        raise BoundaryError(f"{path}: {len(bad)} feature(s) without a {level} code in properties.kode (e.g. {bad[0]!r})")
    dup = pd.Series(codes)[pd.Series(codes).duplicated()].tolist()
    if dup:
        raise BoundaryError(f"{path}: code {dup[0]} appears more than once (one feature per code)")
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features]) if features else np.array([], dtype=object)
    kinds = set(shapely.get_type_id(geoms).tolist()) - {3, 6}  # Polygon, MultiPolygon
    if kinds:
        raise BoundaryError(f"{path}: every geometry must be a Polygon or MultiPolygon")
    names = [str((f.get("properties") or {}).get("nama", "")) for f in features]
    order = np.argsort(np.array(codes, dtype=object), kind="stable")
    return Layer(level, Path(path), tuple(codes[i] for i in order), tuple(names[i] for i in order),
                 np.asarray(geoms, dtype=object)[order])


@dataclass(frozen=True)
class MapPlan:
    """How a scope is drawn: the ``level`` of its features, which kecamatan each feature
    stands for (``units``: one row per kecamatan in scope, ``unit`` = the feature's code)
    and notes where a finer level has no boundaries."""

    level: str
    layer: Layer
    units: pd.DataFrame
    notes: tuple[str, ...]
    outline: Layer | None = None  # province borders drawn over a national kabupaten map


def plan_map(scope: str, kecamatan: pd.DataFrame, folder: Path | None = None) -> MapPlan:
    """``kecamatan``: the scope's kecamatan (``kode, nama, kode_kabupaten,
    kode_provinsi``). A kabupaten scope is drawn per kecamatan when every one of its
    kecamatan has a polygon, else as its kabupaten; a province per kabupaten/kota;
    ``ALL`` per kabupaten/kota with province borders. Each kecamatan stands in exactly
    one feature."""
    kec = kecamatan[["kode", "nama", "kode_kabupaten", "kode_provinsi"]].astype(str)
    notes: list[str] = []
    depth = 0 if scope == "ALL" else scope.count(".") + 1
    outline = None
    if depth == 2:
        layer = load_layer("kecamatan", folder)
        if set(kec["kode"]) <= set(layer.codes):
            return MapPlan("kecamatan", layer.select(kec["kode"]), kec.assign(unit=kec["kode"]), ())
        notes.append("Batas kecamatan untuk wilayah ini tidak tersedia: peta digambar per kabupaten/kota; "
                     "angka per kecamatan ada di tabel.")
    kab_layer = load_layer("kabupaten", folder)
    layer = kab_layer.select(kec["kode_kabupaten"])
    if depth in (0, 1):
        kec_layer = load_layer("kecamatan", folder)
        with_kec = sorted({c[:5] for c in kec_layer.codes} & set(kec["kode_kabupaten"]))
        finer = ", ".join(with_kec) if with_kec else "tidak ada"
        notes.append("Peta digambar per kabupaten/kota: batas kecamatan hanya tersedia untuk sebagian wilayah "
                     f"(kabupaten/kota: {finer}); angka per kecamatan ada di tabel.")
    if depth == 0:
        outline = load_layer("provinsi", folder).select(kec["kode_provinsi"])
    return MapPlan("kabupaten", layer, kec.assign(unit=kec["kode_kabupaten"]), tuple(notes), outline)
