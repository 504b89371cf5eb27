"""The Dagster code location: every asset, job and resource of harmoni in one
``Definitions`` (``dg list defs``, ``dagster dev -m harmoni_pipeline.definitions``)."""

from __future__ import annotations

import dagster as dg

from assets.ingestion import ingestion_assets, landing_specs
from harmoni_pipeline.resources import HarmoniResource

ingest_monthly_job = dg.define_asset_job(
    "ingest_monthly",
    selection=dg.AssetSelection.assets(["staging", "survey_responses"], ["staging", "fkdm_reports"]),
    description="Ingest one month of survey exports and FKDM reports.",
)
ingest_statistics_job = dg.define_asset_job(
    "ingest_statistics",
    selection=dg.AssetSelection.assets(["staging", "statistics"]),
    description="Ingest one arrival year of statistics tables.",
)


def build_defs(resource_overrides: dict | None = None) -> dg.Definitions:
    resources = {"harmoni": HarmoniResource()}
    resources.update(resource_overrides or {})
    return dg.Definitions(
        assets=[*landing_specs, *ingestion_assets],
        jobs=[ingest_monthly_job, ingest_statistics_job],
        resources=resources,
    )


defs = build_defs()
