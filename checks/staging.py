"""Blocking expectation checks on the staging tables: a month's (statistics: a year's)
candidate is published only when its suite passes (write-audit-publish)."""

import dagster as dg

from checks.common import CHECK_NAME, PUBLISH_POOL, partitioned_check, run_gate
from harmoni_pipeline import methodology
from harmoni_pipeline.partitions import monthly_partitions, yearly_partitions
from harmoni_pipeline.quality.validate import docs_dir, validate_staging
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.resources import HarmoniResource
from harmoni_pipeline.tables import STAGING_TABLES


def staging_check(source: str) -> dg.AssetChecksDefinition:
    table = STAGING_TABLES[source]
    asset = table.replace(".", "/")

    @partitioned_check(
        asset=dg.AssetKey(table.split(".")),
        name=CHECK_NAME,
        blocking=True,
        pool=PUBLISH_POOL,
        partitions_def=yearly_partitions if source == "stats" else monthly_partitions,
        description=f"GX suite checks/suites/{table}.json on the partition's candidate (schema, required fields, "
        "value sets, uniqueness, rejected share, coverage/population totals); publishes it only when all pass.",
    )
    def _check(context: dg.AssetCheckExecutionContext, harmoni: HarmoniResource) -> dg.AssetCheckResult:
        settings = harmoni.settings()
        warehouse = harmoni.warehouse()
        period, run_id = context.partition_key, context.run.run_id

        def validate(candidates):
            return validate_staging(
                source, period, candidates[table], warehouse=warehouse, regions=Regions.load(),
                scope=settings.scope, methodology=methodology.load(), run_name=run_id,
                docs=docs_dir(warehouse, asset, period, run_id),
            )

        return run_gate(context, [table], asset, harmoni, validate)

    return _check


staging_checks = [staging_check(source) for source in ("survey", "fkdm", "stats")]
