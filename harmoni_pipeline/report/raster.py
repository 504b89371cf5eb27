"""SVG → PNG, without a browser.

Room: one function, :func:`rasterise`, over resvg (Rust, shipped inside the
``resvg-py`` wheel: no system library, no network). Fonts are the machine's
(DejaVu Sans from Debian's fonts-dejavu-core), so the PNG has the SVG's text.
"""

from __future__ import annotations


def rasterise(svg: str, width: int) -> bytes:
    """PNG bytes of ``svg`` scaled to ``width`` pixels, on white."""
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, width=int(width), background="#ffffff",
                                       sans_serif_family="DejaVu Sans"))
