"""Every table of the warehouse catalog and its Arrow schema, in one registry.

Room: names and schemas only (data-contracts §4); the layout of files is the
warehouse's, the contents are the layers'.
"""

from __future__ import annotations

import pyarrow as pa

from harmoni_pipeline.ingest.audit import AUDIT_TABLES
from harmoni_pipeline.ingest.schemas import staging_schema
from harmoni_pipeline.notify.audit import NOTIFICATIONS_SCHEMA
from harmoni_pipeline.quality.results import VALIDATION_RESULTS_SCHEMA
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.warehouse import PUBLICATIONS_SCHEMA

STAGING_TABLES = {
    "survey": "staging.survey_responses",
    "fkdm": "staging.fkdm_reports",
    "stats": "staging.statistics",
}


def catalog_tables() -> dict[str, pa.Schema]:
    tables = {STAGING_TABLES[s]: staging_schema(s) for s in STAGING_TABLES}
    tables.update(AUDIT_TABLES)
    tables["audit.publications"] = PUBLICATIONS_SCHEMA
    tables["audit.validation_results"] = VALIDATION_RESULTS_SCHEMA
    tables["audit.notifications"] = NOTIFICATIONS_SCHEMA
    tables.update(MART_SCHEMAS)
    return tables
