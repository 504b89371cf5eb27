"""The jobs of the code location, by the names in :mod:`harmoni_pipeline.registry`.

Room: asset selections and job definitions only; what runs is the assets' and checks'.
"""

from __future__ import annotations

import dagster as dg

from harmoni_pipeline import registry
from harmoni_pipeline.registry import (
    HARMONI_MONTHLY,
    INGEST_MONTHLY,
    INGEST_STATISTICS,
    SCORE_MONTHLY,
    STAGING_JOBS,
    STAGING_TABLES,
)

MONTHLY_STAGING = dg.AssetSelection.assets(*(registry.asset_path(STAGING_TABLES[s]) for s in STAGING_JOBS[INGEST_MONTHLY]))
ingest_monthly_job = dg.define_asset_job(
    INGEST_MONTHLY,
    selection=MONTHLY_STAGING,
    description="Ingest one month of survey exports and FKDM reports.",
)
MARTS = dg.AssetSelection.groups("marts")
REPORT = dg.AssetSelection.groups("reports")

harmoni_monthly_job = dg.define_asset_job(
    HARMONI_MONTHLY,
    selection=MONTHLY_STAGING | MARTS | REPORT,
    description="Ingest one month's survey exports and FKDM reports, then score the month (every mart).",
)
score_monthly_job = dg.define_asset_job(
    SCORE_MONTHLY,
    selection=MARTS | REPORT,
    description="Score one month from what is staged (after a statistics delivery or a methodology change).",
)
ingest_statistics_job = dg.define_asset_job(
    INGEST_STATISTICS,
    selection=dg.AssetSelection.assets(registry.asset_path(STAGING_TABLES["stats"])),
    description="Ingest one arrival year of statistics tables.",
)
