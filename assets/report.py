"""The monthly report asset: the peta kerawanan and the report (HTML, PDF, maps) of one
month, rendered from the month's published marts (thin declaration over
:mod:`harmoni_pipeline.report`)."""

import dagster as dg

from harmoni_pipeline import memory
from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline import registry
from harmoni_pipeline.defs.partitions import monthly_partitions
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.report import build
from harmoni_pipeline.report import uncertainty as report_uncertainty
from harmoni_pipeline.report.boundaries import boundaries_dir
from harmoni_pipeline.report.content import ReportDataError
from harmoni_pipeline.defs.resources import HarmoniResource

REPORT_CODE_VERSION = "report-2"
MART_KEYS = [dg.AssetKey(registry.asset_path(table)) for table in registry.MART_TABLES]
# the section "Seberapa yakin angka ini?": after the month's uncertainty tables are published (absent: a note)
UNCERTAINTY_KEYS = [dg.AssetKey(registry.asset_path(table)) for table in report_uncertainty.TABLES]
REPORT_KEY = dg.AssetKey(["report"])
CHECK = "report_check"


@dg.asset(
    key=REPORT_KEY,
    description="Monthly report of the scope in force: peta kerawanan (IHaI category, IKN risk level with red alerts, "
    "IHaI × IKN quadrant), what changed, priority list with rekomendasi and penanggung_jawab, 12-month trends, "
    "ranked tables, how sure the numbers are (intervals, rank bands, Sobol indices, scores by respondent group), "
    "PER–PAR gaps, IKN pillars, data quality, methodology appendix. Written to "
    "reports/period=YYYY-MM/ (laporan_YYYY-MM.html, .pdf, peta_*.svg/.png) only when the report's own check passes; "
    "read-only over the published marts: a failed report never blocks or changes them (its check "
    f"'{CHECK}' fails, the run goes on).",
    deps=[*MART_KEYS, *UNCERTAINTY_KEYS],
    partitions_def=monthly_partitions,
    group_name="reports",
    kinds={"html", "pdf", "svg"},
    owners=["team:data-engineering"],
    code_version=REPORT_CODE_VERSION,
    check_specs=[dg.AssetCheckSpec(CHECK, asset=REPORT_KEY, description="Every kecamatan in scope appears once in the "
                                   "map data, the HTML and SVG files refer to no remote resource, the PDF has pages; "
                                   "the report is published only when this passes (non-blocking for the marts).")],
)
def report(context: dg.AssetExecutionContext, harmoni: HarmoniResource) -> dg.MaterializeResult:
    """Render and publish the month's report; a report that cannot be rendered or fails
    its check is not published, and its check says why (the run, and the marts, go on)."""
    memory.release()
    settings = harmoni.settings()
    try:
        outcome = build.render_and_publish(harmoni.warehouse(), context.partition_key, settings.scope,
                                           regions=Regions.load(), methodology=methodology_mod.load(),
                                           boundaries_dir=boundaries_dir())
    except Exception as exc:  # noqa: BLE001 — a report failure must not fail the run the marts are in
        if not isinstance(exc, (ReportDataError, build.ReportCheckError)):
            context.log.exception("report: unexpected error")
        context.log.error(str(exc))
        return dg.MaterializeResult(
            metadata={"published": False, "reason": str(exc), "scope": settings.scope},
            check_results=[dg.AssetCheckResult(check_name=CHECK, passed=False, severity=dg.AssetCheckSeverity.ERROR,
                                               description=str(exc))],
        )
    rendered, published = outcome.rendered, outcome.published
    names = build.file_names(context.partition_key)
    return dg.MaterializeResult(metadata={
        "published": True,
        "peta": dg.MetadataValue.md(build.thumbnail_markdown(rendered.thumbnail_png)),
        "tingkat_kerawanan": dg.MetadataValue.json(rendered.facts["tingkat_kerawanan"]),
        "alert_merah": rendered.facts["alert_merah"],
        "kecamatan": rendered.facts["kecamatan"],
        "scope": rendered.scope,
        "map_level": rendered.facts["map_level"],
        "pdf_pages": rendered.pages,
        "ketidakpastian": rendered.facts["ketidakpastian"],  # the uncertainty section had its tables
        "html": dg.MetadataValue.url(published.urls[names["html"]]),
        "pdf": dg.MetadataValue.url(published.urls[names["pdf"]]),
        "folder": dg.MetadataValue.path(str(published.folder)),
        "seconds": dg.MetadataValue.json({k: round(v, 2) for k, v in rendered.seconds.items()}),
        "methodology_version": rendered.facts["methodology_version"],
        "mart_runs": ", ".join(rendered.facts["mart_runs"]),
    }, check_results=[dg.AssetCheckResult(check_name=CHECK, passed=True, description=str(rendered.check))])


report_assets = [report]
