"""Blocking expectation checks on the staging tables: a month's (statistics: a year's)
candidate is published only when its suite passes (write-audit-publish); warning-level
expectations (survey coverage) are reported by a non-blocking ``warnings`` check."""

import dagster as dg

from harmoni_pipeline.checks.common import publication_gate
from harmoni_pipeline import methodology
from harmoni_pipeline.defs.partitions import monthly_partitions, yearly_partitions
from harmoni_pipeline.quality.validate import docs_dir, validate_staging
from harmoni_pipeline.regions import Regions
from harmoni_pipeline import registry
from harmoni_pipeline.registry import SOURCES, STAGING_TABLES


def staging_check(source: str) -> dg.AssetChecksDefinition:
    table = STAGING_TABLES[source]
    asset = registry.asset_slug(table)

    def validate(context, harmoni, candidates):
        settings, warehouse = harmoni.settings(), harmoni.warehouse()
        period, run_id = context.partition_key, context.run.run_id
        return validate_staging(
            source, period, candidates[table], warehouse=warehouse, regions=Regions.load(),
            scope=settings.scope, methodology=methodology.load(), run_name=run_id,
            docs=docs_dir(warehouse, asset, period, run_id),
        )

    return publication_gate(
        f"{registry.table(table).short_name}__gate", [table], yearly_partitions if source == "stats" else monthly_partitions,
        validate,
        description=f"GX suite checks/suites/{table}.json on the partition's candidate (schema, required fields, "
        "value sets, uniqueness, rejected share, population totals); publishes it only when all pass.",
    )


staging_checks = [staging_check(source) for source in SOURCES]
