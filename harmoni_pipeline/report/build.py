"""Rendering one month's report from the published marts, checking it, publishing it.

Room: the order of the work — read (:mod:`.content`), plan and draw the maps
(:mod:`.boundaries`, :mod:`.maps`), trends (:mod:`.charts`), page (:mod:`.html`), PDF
(:mod:`.pdf`), check (:mod:`.check`), publish (:mod:`.publish`) — and the summary a
caller (the Dagster asset, the CLI) shows. Nothing is rescored.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.report import boundaries, check, content, maps, pdf, publish
from harmoni_pipeline.report.context import build_context
from harmoni_pipeline.report.html import render_html
from harmoni_pipeline.report.numbers import bulan
from harmoni_pipeline.report.palette import themes

MAP_KEYS = ("kerawanan", "ihai", "kuadran")  # the first is the main map (page 1)
THUMBNAIL_WIDTH = 420


class ReportCheckError(RuntimeError):
    """The rendered report failed its own check; nothing was published."""


@dataclass
class RenderedReport:
    period: str
    scope: str
    files: dict[str, bytes]
    pages: int
    check: check.CheckResult
    facts: dict
    thumbnail_png: bytes
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class ReportOutcome:
    rendered: RenderedReport
    published: publish.PublishedReport


def file_names(period: str) -> dict[str, str]:
    names = {"html": f"laporan_{period}.html", "pdf": f"laporan_{period}.pdf"}
    for key in MAP_KEYS:
        names[f"{key}.svg"] = f"peta_{key}_{period}.svg"
        names[f"{key}.png"] = f"peta_{key}_{period}.png"
    return names


def render(warehouse, period: str, scope: str, *, regions: Regions | None = None, methodology=None,
           boundaries_dir: Path | None = None) -> RenderedReport:
    """Everything of the report in memory, checked (not published)."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    regions = regions or Regions.load()
    methodology = methodology or methodology_mod.load()
    data = content.load(warehouse, regions, period, scope, methodology)
    seconds["read"] = time.perf_counter() - t

    t = time.perf_counter()
    plan = boundaries.plan_map(data.scope, regions.kecamatan_in_scope(data.scope), boundaries_dir)
    palette = themes(methodology)
    svgs, map_data = {}, {}
    for key in MAP_KEYS:
        map_data[key] = maps.MapData(
            key=key, title=MAP_TITLES[key], subtitle=f"{data.scope_label} · {bulan(period)}",
            theme=palette[key], features=content.map_features(data, plan.units, plan.level, key),
            footer=map_footer(data, plan), show_alerts=key == "kerawanan",
            alert_label=("Alert merah (kejadian merah ≤ 89 hari)" if plan.level == "kecamatan"
                         else "Kabupaten/kota dengan kecamatan beralert merah"),
        )
        svgs[key] = maps.render_svg(plan.layer, map_data[key], plan.outline, uid=f"peta-{key}")
    pngs = {key: maps.svg_to_png(svg) for key, svg in svgs.items()}
    thumbnail = maps.svg_to_png(svgs[MAP_KEYS[0]], THUMBNAIL_WIDTH)
    seconds["maps"] = time.perf_counter() - t

    t = time.perf_counter()
    html = render_html(build_context(data, plan, svgs, map_data))
    seconds["html"] = time.perf_counter() - t
    t = time.perf_counter()
    pdf_bytes, pages = pdf.render_pdf(html)
    seconds["pdf"] = time.perf_counter() - t

    result = check.check_report(regions.kecamatan_in_scope(data.scope)["kode"], plan.units, set(plan.layer.codes),
                                html, {f"{k}.svg": v for k, v in svgs.items()}, pages)
    names = file_names(period)
    files = {names["html"]: html.encode("utf-8"), names["pdf"]: pdf_bytes}
    for key in MAP_KEYS:
        files[names[f"{key}.svg"]] = svgs[key].encode("utf-8")
        files[names[f"{key}.png"]] = pngs[key]
    return RenderedReport(period, data.scope, files, pages, result, facts(data, plan, pages), thumbnail, seconds)


MAP_TITLES = {
    "kerawanan": "Peta kerawanan: tingkat kerawanan IKN",
    "ihai": "Peta harmoni: kategori IHaI",
    "kuadran": "Peta kuadran IHaI × IKN",
}


def map_footer(data: content.ReportData, plan: boundaries.MapPlan) -> tuple[str, ...]:
    m = data.methodology
    runs = ", ".join(sorted({r[:8] for r in data.runs["run_id"].dropna()})) or "–"
    return (
        f"Sumber: marts harmoni periode {data.period} (run {runs}); batas wilayah: {plan.layer.path.name}"
        + (" (wilayah_boundaries, MIT, © cahya dsn)" if plan.layer.path.parent == boundaries.PACKAGED_DIR else ""),
        f"Metodologi {m.version} (SHA-256 {m.sha256[:12]}…). IKN {m.version} bukan angka resmi IKN Kemendagri.",
    )


def facts(data: content.ReportData, plan: boundaries.MapPlan, pages: int) -> dict:
    kec = data.kecamatan
    return {
        "scope": data.scope,
        "map_level": plan.level,
        "kecamatan": int(len(kec)),
        "tingkat_kerawanan": {label: n for label, n in content.level_counts(data)},
        "alert_merah": int(kec["alert_merah"].fillna(False).astype(bool).sum()),
        "methodology_version": data.methodology.version,
        "methodology_sha256": data.methodology.sha256,
        "mart_runs": sorted(data.runs["run_id"].dropna().unique().tolist()),
        "pdf_pages": pages,
        "ketidakpastian": bool(data.uncertainty is not None and data.uncertainty.available),
    }


def render_and_publish(warehouse, period: str, scope: str, **kwargs) -> ReportOutcome:
    """Render, write into a temporary folder, check, then publish; raises
    :class:`ReportCheckError` (nothing published) when the check fails."""
    rendered = render(warehouse, period, scope, **kwargs)
    with publish.staging_folder(warehouse.tmp_dir, period) as folder:
        written = publish.write_files(folder, rendered.files)
        html = written[file_names(period)["html"]].read_text(encoding="utf-8")
        svgs = {n: p.read_text(encoding="utf-8") for n, p in written.items() if n.endswith(".svg")}
        again = check.check_report(pd.Series([], dtype=str), pd.DataFrame({"kode": [], "unit": []}), set(), html, svgs,
                                   rendered.pages)
        problems = rendered.check.problems + again.problems
        if problems:
            raise ReportCheckError(f"report {period} not published: " + "; ".join(problems))
        published = publish.publish(warehouse.root if warehouse.storage.is_local else warehouse.url(warehouse.root),
                                    period, written, rendered.facts)
    return ReportOutcome(rendered, published)


def thumbnail_markdown(png: bytes, alt: str = "peta kerawanan") -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
