"""Small SVG charts of the report: 12-month trend lines and per-kecamatan sparklines.

Room: drawing series of (month, value) as inline SVG with fixed formatting (0–100 axis,
missing months as gaps), so the HTML needs no script and the PDF gets vector lines.
Which series to draw is decided by :mod:`.content`.
"""

from __future__ import annotations

from html import escape

import numpy as np

from harmoni_pipeline.report.numbers import angka

FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
SERIES_COLOURS = ("#2166ac", "#b2182b", "#1a9850", "#762a83")


def _segments(xs: np.ndarray, ys: np.ndarray) -> list[str]:
    """Polyline point lists, split where a value is missing."""
    out, current = [], []
    for x, y in zip(xs, ys):
        if np.isnan(y):
            if current:
                out.append(" ".join(current))
            current = []
        else:
            current.append(f"{x:.1f},{y:.1f}")
    if current:
        out.append(" ".join(current))
    return out


def trend_chart(periods: list[str], series: dict[str, list], title: str, width: int = 760, height: int = 220) -> str:
    """Lines of ``series`` (name → values aligned with ``periods``, NaN = missing) on a
    0–100 axis with the months below."""
    left, right, top, bottom = 36, 150, 26, 30
    w, h = width - left - right, height - top - bottom
    n = max(len(periods) - 1, 1)
    xs = left + np.arange(len(periods)) * w / n
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="tren" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" font-family="{FONT}" font-size="10">',
           f'<rect width="{width}" height="{height}" fill="#fff"/>',
           f'<text x="{left}" y="14" font-size="12" font-weight="bold">{escape(title)}</text>']
    for v in (0, 20, 40, 60, 80, 100):
        y = top + h * (1 - v / 100)
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>'
                   f'<text x="{left - 5}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{v}</text>')
    for x, p in zip(xs, periods):
        out.append(f'<text x="{x:.1f}" y="{top + h + 16}" text-anchor="middle" fill="#555">{escape(p[2:])}</text>')
    for i, (name, values) in enumerate(series.items()):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        vals = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
        ys = top + h * (1 - vals / 100)
        for seg in _segments(xs, ys):
            out.append(f'<polyline points="{seg}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, v in zip(xs, ys, vals):
            if not np.isnan(v):
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"><title>{escape(name)}: {angka(v)}</title></circle>')
        ly = top + 10 + 18 * i
        last = vals[~np.isnan(vals)]
        out.append(f'<line x1="{left + w + 12}" x2="{left + w + 30}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"/>'
                   f'<text x="{left + w + 34}" y="{ly + 3.5}">{escape(name)} {angka(last[-1]) if len(last) else ""}</text>')
    out.append("</svg>")
    return "".join(out)


def sparkline(values: list, width: int = 120, height: int = 24, colour: str = "#b2182b") -> str:
    """A tiny 0–100 line of a kecamatan's values over the trend window."""
    vals = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    n = max(len(vals) - 1, 1)
    xs = 2 + np.arange(len(vals)) * (width - 4) / n
    ys = 2 + (height - 4) * (1 - vals / 100)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f'<line x1="0" x2="{width}" y1="{2 + (height - 4) / 2:.1f}" y2="{2 + (height - 4) / 2:.1f}" stroke="#eee"/>']
    parts.extend(f'<polyline points="{seg}" fill="none" stroke="{colour}" stroke-width="1.5"/>' for seg in _segments(xs, ys))
    ok = ~np.isnan(vals)
    if ok.any():
        i = np.flatnonzero(ok)[-1]
        parts.append(f'<circle cx="{xs[i]:.1f}" cy="{ys[i]:.1f}" r="2" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)
