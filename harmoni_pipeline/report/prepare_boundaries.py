"""Build the packaged boundary layers from the source polygons (run by hand, rarely).

Room: turning the source GeoJSON files of region polygons into the compact layers the
report draws (``harmoni_pipeline/report/boundaries/*.geojson``, format in
``boundaries/README.md``): one feature per Kemendagri code, valid geometry, simplified
for size, coordinates rounded. Nothing at run time imports this module.

    python -m harmoni_pipeline.report.prepare_boundaries SOURCE_DIR [--out DIR]

``SOURCE_DIR`` holds the files of the wilayah_boundaries compilation (MIT, (c) cahya
dsn): ``desa_3513_probolinggo.geojson``, ``kabkota_indonesia.geojson``,
``provinsi_indonesia.geojson``. What is done, and why:

- **kecamatan**: the source's kecamatan polygons overlap each other, so the layer is
  built from the desa/kelurahan polygons dissolved by their kecamatan code (the first
  eight characters of the desa code); holes left by the two desa the source lacks are
  filled when no other kecamatan covers them.
- **kabupaten/kota**: features still keyed by a code of before the 2022 Papua split
  (``92.01 Sorong``…) are re-keyed to the 2025 code of the kabupaten of the same name
  (``Sorong`` → ``Kabupaten Sorong``, ``Kota Sorong`` → ``Kota Sorong``, unique in the
  2025 list); a feature whose code and name fit nothing (``52.0452.07
  Sumbawa/Sumbawa Barat``, a sliver claimed by two kabupaten) is dropped and listed.
  Pieces of one code are dissolved into one feature; invalid polygons are repaired
  (``shapely.make_valid``).
- **provinsi**: repaired and simplified.

Every layer is simplified as a coverage where it is one (shared borders stay shared:
``shapely.coverage_simplify``), otherwise polygon by polygon, and its coordinates are
rounded. The run prints what it changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import shapely

from harmoni_pipeline.regions import Regions

OUT_DIR = Path(__file__).parent / "boundaries"
SOURCES = {
    "kecamatan": "desa_3513_probolinggo.geojson",
    "kabupaten": "kabkota_indonesia.geojson",
    "provinsi": "provinsi_indonesia.geojson",
}
# tolerance of simplification (degrees; 0.001° ≈ 110 m) and decimals kept, per layer
TOLERANCE = {"kecamatan": 0.0004, "kabupaten": 0.004, "provinsi": 0.006}
DECIMALS = {"kecamatan": 5, "kabupaten": 3, "provinsi": 3}


def _read(path: Path) -> tuple[list[dict], np.ndarray]:
    data = json.loads(path.read_text(encoding="utf-8"))
    features = data["features"]
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object)
    return [f["properties"] for f in features], _repair(geoms)


def _repair(geoms):
    """``make_valid`` (the "structure" method: rings rebuilt as areas, collapsed parts dropped)."""
    return shapely.make_valid(geoms, method="structure", keep_collapsed=False)


def _polygonal(geom):
    """The polygonal part of a repaired geometry (make_valid may add lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _dissolve(codes: list[str], geoms) -> dict[str, object]:
    groups: dict[str, list] = defaultdict(list)
    for code, geom in zip(codes, geoms):
        groups[code].append(geom)
    return {code: _polygonal(_repair(shapely.union_all(parts))) for code, parts in sorted(groups.items())}


def _fill_uncovered_holes(layer: dict[str, object]) -> dict[str, int]:
    """Drop a polygon's interior rings that no other feature covers (slivers between the
    source's desa polygons, a missing desa), so a kecamatan is drawn whole. Returns the
    number of holes filled per code."""
    filled: dict[str, int] = {}
    for code, geom in layer.items():
        others = shapely.union_all([g for c, g in layer.items() if c != code])
        polys = list(getattr(geom, "geoms", [geom]))
        out = []
        for poly in polys:
            keep = [ring for ring in poly.interiors if shapely.Polygon(ring).intersection(others).area > 0.5 * shapely.Polygon(ring).area]
            if len(keep) != len(poly.interiors):
                filled[code] = filled.get(code, 0) + len(poly.interiors) - len(keep)
            out.append(shapely.Polygon(poly.exterior, keep))
        layer[code] = shapely.MultiPolygon(out) if len(out) > 1 else out[0]
    return filled


def _simplify(layer: dict[str, object], tolerance: float) -> str:
    geoms = np.array(list(layer.values()), dtype=object)
    if shapely.coverage_is_valid(geoms):
        simple, how = shapely.coverage_simplify(geoms, tolerance), "coverage_simplify"
    else:
        simple, how = shapely.simplify(geoms, tolerance, preserve_topology=True), "simplify per polygon (not a coverage)"
    simple = _repair(simple)
    for code, geom in zip(list(layer), simple):
        layer[code] = _polygonal(geom)
    return how


def rekey_kabupaten(props: list[dict], regions: Regions) -> tuple[list[str | None], list[str]]:
    """The 2025 code of every kabupaten feature (None: dropped) and notes on changes."""
    names = dict(zip(regions.kabupaten["kode"], regions.kabupaten["nama"]))
    by_name: dict[str, list[str]] = defaultdict(list)
    for code, name in names.items():
        by_name[name.lower()].append(code)
    codes, notes = [], []
    for p in props:
        code, name = str(p["kode"]), str(p["nama"])
        if code in names:
            codes.append(code)
            continue
        wanted = name if name.lower().startswith("kota ") else f"Kabupaten {name}"
        found = by_name.get(wanted.lower(), [])
        if len(found) == 1:
            codes.append(found[0])
            notes.append(f"kabupaten {code} {name}: re-keyed to {found[0]} {names[found[0]]}")
        else:
            codes.append(None)
            notes.append(f"kabupaten {code} {name}: no 2025 kabupaten of that code or name; dropped")
    return codes, notes


def _round(geom, decimals: int):
    return shapely.set_precision(geom, 10.0 ** -decimals)


def _write(layer: dict[str, object], names: dict[str, str], path: Path, decimals: int) -> int:
    features = []
    for code, geom in layer.items():
        geom = _polygonal(_round(geom, decimals))
        if geom.is_empty:
            continue
        features.append({
            "type": "Feature",
            "properties": {"kode": code, "nama": names.get(code, "")},
            "geometry": json.loads(shapely.to_geojson(geom)),
        })
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    return len(features)


def prepare(source: Path, out: Path = OUT_DIR, *, log=print) -> dict[str, int]:
    regions = Regions.load()
    names = {**dict(zip(regions.provinsi["kode"], regions.provinsi["nama"])),
             **dict(zip(regions.kabupaten["kode"], regions.kabupaten["nama"])),
             **dict(zip(regions.kecamatan["kode"], regions.kecamatan["nama"]))}
    out.mkdir(parents=True, exist_ok=True)
    written = {}

    props, geoms = _read(source / SOURCES["kecamatan"])
    layer = _dissolve([str(p["kode"])[:8] for p in props], geoms)
    filled = _fill_uncovered_holes(layer)
    log(f"kecamatan: {sum(filled.values())} holes no other kecamatan covers filled in {len(filled)} kecamatan "
        "(slivers between desa polygons, desa missing from the source)")

    layers = {"kecamatan": layer}
    props, geoms = _read(source / SOURCES["kabupaten"])
    codes, notes = rekey_kabupaten(props, regions)
    for note in notes:
        log(note)
    keep = [i for i, c in enumerate(codes) if c is not None]
    layers["kabupaten"] = _dissolve([codes[i] for i in keep], geoms[keep])
    missing = sorted(set(regions.kabupaten["kode"]) - set(layers["kabupaten"]))
    if missing:
        log(f"kabupaten without a polygon: {', '.join(missing)}")

    props, geoms = _read(source / SOURCES["provinsi"])
    layers["provinsi"] = _dissolve([str(p["kode"]) for p in props], geoms)

    for level, layer in layers.items():
        how = _simplify(layer, TOLERANCE[level])
        path = out / f"{level}.geojson"
        written[level] = _write(layer, names, path, DECIMALS[level])
        log(f"{level}: {written[level]} features, {how} at {TOLERANCE[level]}°, "
            f"{DECIMALS[level]} decimals -> {path.name} ({path.stat().st_size / 1e6:.2f} MB)")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="folder with the source GeoJSON files")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default: the package's {OUT_DIR.name}/)")
    args = parser.parse_args(argv)
    prepare(args.source, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
