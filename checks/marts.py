"""Blocking expectation checks on the marts: the month's ten candidates are validated
together and published together, as the period's one snapshot, only when every suite
passes (one ``expectations`` check on every mart)."""

import dagster as dg

from harmoni_pipeline.checks.common import publication_gate
from harmoni_pipeline import methodology
from harmoni_pipeline.defs.partitions import monthly_partitions
from harmoni_pipeline.quality.validate import docs_dir, validate_marts
from harmoni_pipeline.scoring.marts import ALL_TABLES


def validate(context, harmoni, candidates):
    warehouse = harmoni.warehouse()
    period, run_id = context.partition_key, context.run.run_id
    return validate_marts(candidates, period, methodology=methodology.load(), run_name=run_id,
                          docs=docs_dir(warehouse, "marts", period, run_id))


mart_gate: dg.AssetChecksDefinition = publication_gate(
    "marts__gate", ALL_TABLES, monthly_partitions, validate,
    description="GX suites checks/suites/marts.*.json on the month's candidates of all ten marts (scores within "
    "0–100, one row per key, categories consistent with the bands, NULL exactly where status says); the ten are "
    "published together, as the month's one snapshot, only when every expectation passes.",
)
mart_checks = [mart_gate]
