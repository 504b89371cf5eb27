"""Choropleth maps as SVG (and PNG), drawn from the boundary layers without a browser.

Room: projecting a layer's polygons to the page (equirectangular scaled by the cosine of
the map's middle latitude — true to scale within a province or kabupaten, and close
enough over Indonesia, which straddles the equator), simplifying them to what a pixel
can show, and writing one self-contained SVG per map: filled features with a hover
title, "tidak cukup data" hatched, red alerts marked, labels, legend with counts, scale
bar, north arrow, source and methodology line. PNG is the same SVG rasterised. What each
feature shows is decided by :mod:`.content`; colours come from :mod:`.palette`.

Output is a pure function of its inputs (features in code order, fixed number
formatting), so the same marts give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd
import shapely

from harmoni_pipeline.report.boundaries import Layer
from harmoni_pipeline.report.numbers import bulat
from harmoni_pipeline.report.palette import ALERT_COLOUR, NO_DATA_FILL, NO_DATA_HATCH, NO_DATA_LABEL, Theme

WIDTH = 800
MAP_TOP = 46
MAP_MAX_HEIGHT = 540
MARGIN = 12
SIMPLIFY_PX = 0.35  # Douglas–Peucker tolerance in pixels: invisible at 1:1
DENSE_SIMPLIFY_PX = 0.7  # a national map: hundreds of features, borders 0.6 px wide
OUTLINE_SIMPLIFY_PX = 1.0
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
KM_PER_DEGREE = 111.32
MAX_LABELS = 60  # more features than this: no name labels (a national map)


@dataclass(frozen=True)
class MapData:
    """What a map shows: one row per feature drawn (``unit`` = code of the layer),
    ``nama``, ``label`` (category, NA = tidak cukup data), ``alert`` (bool), ``note``
    (the hover text: value, or the reason there is none)."""

    key: str
    title: str
    subtitle: str
    theme: Theme
    features: pd.DataFrame
    footer: tuple[str, ...] = ()
    show_alerts: bool = False
    alert_label: str = "Alert merah"
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Projection:
    kx: float
    k: float
    ox: float
    oy: float
    height: float

    def apply(self, geoms):
        return shapely.transform(geoms, lambda c: c * np.array([self.kx * self.k, -self.k]) + np.array([self.ox, self.oy]))

    @property
    def km_per_px(self) -> float:
        return KM_PER_DEGREE / self.k


def projection_for(geoms, width: float = WIDTH - 2 * MARGIN, max_height: float = MAP_MAX_HEIGHT) -> Projection:
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    kx = math.cos(math.radians((miny + maxy) / 2))
    span_x, span_y = max((maxx - minx) * kx, 1e-9), max(maxy - miny, 1e-9)
    k = min(width / span_x, max_height / span_y)
    drawn_w, drawn_h = span_x * k, span_y * k
    ox = MARGIN + (width - drawn_w) / 2 - minx * kx * k
    oy = MAP_TOP + maxy * k
    return Projection(kx, k, ox, oy, drawn_h)


def _fmt(values: np.ndarray, decimals: int) -> np.ndarray:
    """Coordinates as text with ``decimals`` decimals (vectorised)."""
    return np.char.mod(f"%.{decimals}f", np.round(values, decimals) + 0.0)


def svg_paths(geoms, decimals: int = 1) -> list[str]:
    """One SVG path ``d`` per (projected) geometry: every ring ``M x y x y … Z``."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    text = np.char.add(np.char.add(_fmt(coords[:, 0], decimals), " "), _fmt(coords[:, 1], decimals))
    counts = np.bincount(coord_of, minlength=len(rings))
    # drop each ring's closing point (Z closes it)
    keep = np.ones(len(coords), dtype=bool)
    ends = np.cumsum(counts) - 1
    keep[ends[counts > 0]] = False
    pieces = np.split(text, np.cumsum(counts)[:-1]) if len(rings) else []
    closed = ["M" + " ".join(p[:-1]) + "Z" if len(p) > 3 else "" for p in pieces]
    owner = part_of[ring_of] if len(rings) else np.array([], dtype=int)
    out = [""] * len(geoms)
    for i, d in zip(owner.tolist(), closed):
        if d:
            out[i] += d
    return out


def _nice_length(km: float) -> float:
    """The largest 1, 2 or 5 × 10^n not above ``km``."""
    if km <= 0:
        return 0.0
    exp = math.floor(math.log10(km))
    for m in (5, 2, 1):
        if m * 10 ** exp <= km:
            return m * 10 ** exp
    return 10 ** exp


def _scale_bar(proj: Projection, x: float, y: float) -> str:
    km = _nice_length(120 * proj.km_per_px)
    px = km / proj.km_per_px
    label = f"{bulat(km)} km" if km >= 1 else f"{bulat(km * 1000)} m"
    half = px / 2
    return (
        f'<g class="skala" font-family="{FONT}" font-size="10">'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{half:.1f}" height="5" fill="#333"/>'
        f'<rect x="{x + half:.1f}" y="{y:.1f}" width="{half:.1f}" height="5" fill="#fff" stroke="#333" stroke-width="0.8"/>'
        f'<text x="{x:.1f}" y="{y - 3:.1f}">0</text>'
        f'<text x="{x + px:.1f}" y="{y - 3:.1f}" text-anchor="middle">{label}</text></g>'
    )


def _north(x: float, y: float) -> str:
    return (f'<g class="utara" font-family="{FONT}" font-size="11" text-anchor="middle">'
            f'<path d="M{x:.1f} {y:.1f} l-6 16 l6 -4 l6 4 Z" fill="#333"/>'
            f'<text x="{x:.1f}" y="{y + 28:.1f}">U</text></g>')


def _alert_marker(x: float, y: float, small: bool = False) -> str:
    if small:  # a national map: hundreds of features, a mark must not hide its neighbours
        return f'<path d="M{x:.1f} {y - 3.5:.1f} l3.5 6 l-7 0 Z" fill="{ALERT_COLOUR}" stroke="#fff" stroke-width="0.6"/>'
    return (f'<path d="M{x:.1f} {y - 7:.1f} l6.5 11 l-13 0 Z" fill="{ALERT_COLOUR}" stroke="#fff" stroke-width="1.2"/>'
            f'<text x="{x:.1f}" y="{y + 2.8:.1f}" font-size="8" font-weight="bold" fill="#fff" text-anchor="middle">!</text>')


def _label(x: float, y: float, text: str) -> str:
    t = escape(text)
    return (f'<text x="{x:.1f}" y="{y:.1f}" stroke="#fff" stroke-width="2.6" stroke-linejoin="round" '
            f'fill="#fff">{t}</text><text x="{x:.1f}" y="{y:.1f}" fill="#222">{t}</text>')


def render_svg(layer: Layer, data: MapData, outline: Layer | None = None, uid: str | None = None) -> str:
    """The map as one SVG document. ``layer``: the features to draw (code order);
    ``data.features``: one row per ``unit`` of ``layer``; ``outline``: borders drawn on
    top (province borders of a national map); ``uid`` prefixes element ids so several
    maps can sit inline in one HTML page."""
    uid = uid or data.key
    feats = data.features.set_index("unit").reindex(list(layer.codes))
    proj = projection_for(layer.geoms)
    projected = proj.apply(layer.geoms)
    anchors = shapely.get_coordinates(shapely.point_on_surface(projected))
    dense = len(layer.codes) > MAX_LABELS
    paths = svg_paths(shapely.simplify(projected, DENSE_SIMPLIFY_PX if dense else SIMPLIFY_PX), 0 if dense else 1)
    height = MAP_TOP + proj.height + 96 + 14 * len(data.footer)

    labels = feats["label"].astype("object").where(feats["label"].notna(), None).tolist()
    fills = [data.theme.colour(v) if v is not None else f"url(#{uid}-nodata)" for v in labels]
    notes = feats["note"].fillna("").astype(str).tolist()
    names = feats["nama"].fillna("").astype(str).tolist()

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="peta" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="{WIDTH}" height="{height:.0f}" role="img" aria-label="{escape(data.title)}">',
        f'<defs><pattern id="{uid}-nodata" patternUnits="userSpaceOnUse" width="6" height="6">'
        f'<rect width="6" height="6" fill="{NO_DATA_FILL}"/>'
        f'<path d="M0 6 L6 0 M-1 1 L1 -1 M5 7 L7 5" stroke="{NO_DATA_HATCH}" stroke-width="1"/></pattern></defs>',
        f'<rect width="{WIDTH}" height="{height:.0f}" fill="#fff"/>',
        f'<text x="{MARGIN}" y="20" font-family="{FONT}" font-size="16" font-weight="bold" fill="#111">{escape(data.title)}</text>',
        f'<text x="{MARGIN}" y="37" font-family="{FONT}" font-size="11" fill="#444">{escape(data.subtitle)}</text>',
        f'<g class="wilayah" stroke="#fff" stroke-width="{0.6 if len(paths) > MAX_LABELS else 1}" fill-rule="evenodd">',
    ]
    for code, d, fill, name, note in zip(layer.codes, paths, fills, names, notes):
        title = escape(f"{name} ({code}): {note}" if note else f"{name} ({code})")
        out.append(f'<path data-kode="{code}" d="{d}" fill="{fill}"><title>{title}</title></path>')
    out.append("</g>")
    if outline is not None and len(outline.codes):
        borders = svg_paths(shapely.simplify(proj.apply(outline.geoms), OUTLINE_SIMPLIFY_PX), 0)
        out.append('<g class="batas" fill="none" stroke="#333" stroke-width="0.8" stroke-linejoin="round">')
        out.extend(f'<path data-kode="{c}" d="{d}"/>' for c, d in zip(outline.codes, borders))
        out.append("</g>")
    if not dense:
        out.append(f'<g class="label" font-family="{FONT}" font-size="9" text-anchor="middle">')
        out.extend(_label(x, y + 3, name) for (x, y), name in zip(anchors, names))
        out.append("</g>")
    alerts = feats["alert"].fillna(False).astype(bool).to_numpy()
    if data.show_alerts and alerts.any():
        out.append(f'<g class="alert" font-family="{FONT}">')
        out.extend(_alert_marker(x, y if dense else y - 9, dense) for (x, y) in anchors[alerts])
        out.append("</g>")

    top = MAP_TOP + proj.height + 14
    out.append(_scale_bar(proj, MARGIN, top + 6))
    out.append(_north(WIDTH - MARGIN - 10, MAP_TOP + 4))
    out.append(_legend(data, labels, alerts, uid, top + 26))
    y = top + 80
    for line in data.footer:
        out.append(f'<text x="{MARGIN}" y="{y:.1f}" font-family="{FONT}" font-size="9.5" fill="#555">{escape(line)}</text>')
        y += 14
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(data: MapData, labels: list, alerts: np.ndarray, uid: str, y: float) -> str:
    counts = pd.Series([v for v in labels if v is not None], dtype="object").value_counts()
    entries = [(data.theme.colour(v), f"{v} ({bulat(counts.get(v, 0))})") for v in data.theme.labels]
    entries.append((f"url(#{uid}-nodata)", f"{NO_DATA_LABEL} ({bulat(sum(v is None for v in labels))})"))
    out = [f'<g class="legenda" font-family="{FONT}" font-size="10.5" fill="#222">',
           f'<text x="{MARGIN}" y="{y:.1f}" font-weight="bold">{escape(data.theme.title)}</text>']
    x, row = MARGIN, y + 8
    for fill, text in entries:
        width = 22 + 6.2 * len(text)
        if x + width > WIDTH - MARGIN:
            x, row = MARGIN, row + 18
        out.append(f'<rect x="{x:.1f}" y="{row:.1f}" width="14" height="11" fill="{fill}" stroke="#666" stroke-width="0.5"/>')
        out.append(f'<text x="{x + 18:.1f}" y="{row + 9.5:.1f}">{escape(text)}</text>')
        x += width
    if data.show_alerts:
        text = f"{data.alert_label} ({bulat(int(alerts.sum()))})"
        if x + 22 + 6.2 * len(text) > WIDTH - MARGIN:
            x, row = MARGIN, row + 18
        out.append(_alert_marker(x + 7, row + 6))
        out.append(f'<text x="{x + 18:.1f}" y="{row + 9.5:.1f}">{escape(text)}</text>')
    out.append("</g>")
    return "".join(out)


def svg_to_png(svg: str, width: int = WIDTH) -> bytes:
    """Rasterise an SVG of this module to PNG ``width`` pixels wide (white background)."""
    from harmoni_pipeline.report.raster import rasterise

    return rasterise(svg, width)
