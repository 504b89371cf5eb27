"""Pull assets: KoboToolbox, Google Sheets and the BPS WebAPI write new landing files
(thin declarations over :mod:`harmoni_pipeline.connectors`; ``docs/connectors.md``).

Each materialisation is one pull into the current month (Asia/Jakarta); the landing
sensor then stages the files it wrote. A failed target fails the run (and so alerts,
like any run failure) after the other targets were pulled and every outcome recorded in
``audit.pulls``. Schedules are off by default: turn them on once the source's settings
are in place. Their jobs and schedules are in :mod:`harmoni_pipeline.defs.jobs` and
:mod:`harmoni_pipeline.defs.schedules`.
"""

import dagster as dg

from harmoni_pipeline.connectors.http import PullError
from harmoni_pipeline.connectors.pull import pull
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.registry import PULL_SOURCES

OWNERS = ["team:data-engineering"]
PULL_CODE_VERSION = "pull-1"
DESCRIPTIONS = {
    "kobo": "New KoboToolbox submissions (HARMONI_KOBO_ASSETS, HARMONI_KOBO_FKDM_ASSETS) as Kobo CSV files "
            "in landing/survey/YYYY-MM/ and landing/fkdm/YYYY-MM/.",
    "sheets": "New Google Forms responses of the sheets HARMONI_SHEETS_URLS names, as Google Forms CSV files "
              "in landing/survey/YYYY-MM/.",
    "bps": "The BPS WebAPI bodies of the variables of stats_sources.yaml (this year and the last), as BPS JSON "
           "files in landing/stats/YYYY/ when they changed.",
}


def pull_asset(source: str) -> dg.AssetsDefinition:
    @dg.asset(key=["pulls", source], group_name="pulls", description=DESCRIPTIONS[source], owners=OWNERS,
              kinds={"python"}, tags={"source": source}, code_version=PULL_CODE_VERSION)
    def _pull(context: dg.AssetExecutionContext, harmoni: HarmoniResource) -> dg.MaterializeResult:
        settings = harmoni.settings()
        try:
            rows = pull(source, settings=settings, warehouse=harmoni.warehouse(), run_id=context.run_id)
        except PullError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        for row in rows:
            (context.log.error if row.error else context.log.info)(row.line())
        metadata = {
            "files_written": dg.MetadataValue.json([r.path for r in rows if r.path]),
            "records": sum(r.records for r in rows if r.path),
            "bytes": sum(r.bytes for r in rows if r.path),
            "pulls": dg.MetadataValue.md("\n".join(
                ["| target | url | records | sha256 | cursor before | cursor after | outcome |", "|---|---|---|---|---|---|---|"]
                + [f"| {r.target} | {r.url} | {r.records} | {(r.sha256 or '')[:12]} | {r.cursor_before or ''} | "
                   f"{r.cursor_after or ''} | {r.error or r.path or 'nothing new'} |".replace("\n", " ")
                   for r in rows])),
            "audit": "audit.pulls",
        }
        failed = [r.line() for r in rows if r.error]
        if failed:
            raise dg.Failure(description="; ".join(failed), metadata=metadata, allow_retries=False)
        return dg.MaterializeResult(metadata=metadata)

    _pull.__name__ = f"pull_{source}"
    return _pull


pull_assets = [pull_asset(source) for source in PULL_SOURCES]
