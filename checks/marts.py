"""Blocking expectation checks on the marts: each scoring step's tables for the month are
validated together and published together, only when every suite passes."""

import dagster as dg

from checks.common import CHECK_NAME, PUBLISH_POOL, partitioned_check, run_gate
from harmoni_pipeline import methodology
from harmoni_pipeline.partitions import monthly_partitions
from harmoni_pipeline.quality.validate import docs_dir, validate_marts
from harmoni_pipeline.resources import HarmoniResource
from harmoni_pipeline.scoring.marts import IHAI_TABLES, IKN_TABLES, INTEGRATION_TABLES


def marts_check(tables: list[str]) -> dg.AssetChecksDefinition:
    head, rest = tables[0], tables[1:]
    asset = head.replace(".", "/")

    @partitioned_check(
        asset=dg.AssetKey(head.split(".")),
        name=CHECK_NAME,
        blocking=True,
        pool=PUBLISH_POOL,
        partitions_def=monthly_partitions,
        additional_deps=[dg.AssetKey(t.split(".")) for t in rest],
        description="GX suites checks/suites/<table>.json on the month's candidates of "
        + ", ".join(tables)
        + " (scores within 0–100, one row per key, categories consistent with the bands, NULL exactly where "
        "status says); all are published together only when every expectation passes.",
    )
    def _check(context: dg.AssetCheckExecutionContext, harmoni: HarmoniResource) -> dg.AssetCheckResult:
        warehouse = harmoni.warehouse()
        period, run_id = context.partition_key, context.run.run_id

        def validate(candidates):
            return validate_marts(candidates, period, methodology=methodology.load(), run_name=run_id,
                                  docs=docs_dir(warehouse, asset, period, run_id))

        return run_gate(context, tables, asset, harmoni, validate)

    return _check


mart_checks = [marts_check(t) for t in (IHAI_TABLES, IKN_TABLES, INTEGRATION_TABLES)]
