"""Blocking expectation checks on the marts: the month's ten mart candidates and the five
tables of their trail (``audit.score_*``) are validated together and published together,
as the period's one snapshot, only when every suite passes (one ``expectations`` check on
every table); the six uncertainty, sensitivity and group tables, computed from the
published marts, are validated and published together into the same snapshot by a
second gate."""

import dagster as dg

from harmoni_pipeline import methodology
from harmoni_pipeline.checks.common import publication_gate
from harmoni_pipeline.defs.partitions import monthly_partitions
from harmoni_pipeline.quality.validate import docs_dir, validate_marts
from harmoni_pipeline.scoring.marts import SNAPSHOT_TABLES
from harmoni_pipeline.scoring.uncertainty_schemas import UNCERTAINTY_TABLES


def validator(docs_name: str):
    """The gate's validation, its Data Docs under ``data_docs/<docs_name>/<period>/<run>``
    (each gate its own folder: a site built later would replace an earlier one's pages)."""

    def validate(context, harmoni, candidates):
        warehouse = harmoni.warehouse()
        period, run_id = context.partition_key, context.run.run_id
        return validate_marts(candidates, period, methodology=methodology.load(), run_name=run_id,
                              docs=docs_dir(warehouse, docs_name, period, run_id))

    return validate


mart_gate: dg.AssetChecksDefinition = publication_gate(
    "marts__gate", SNAPSHOT_TABLES, monthly_partitions, validator("marts"),
    # one asterisk only: the UI renders the description as Markdown, and two would make italics
    description="GX suites checks/suites/marts.*.json (and the trail's audit.score_ suites) on the month's candidates "
    "of all ten marts and the five trail tables (scores within 0–100, one row per key, categories consistent with the bands, NULL "
    "exactly where status says; trail keys, weights and file hashes); the fifteen are published together, as the "
    "month's one snapshot, only when every expectation passes.",
)
mart_checks = [mart_gate]


uncertainty_gate: dg.AssetChecksDefinition = publication_gate(
    "marts_uncertainty__gate", UNCERTAINTY_TABLES, monthly_partitions, validator("marts_uncertainty"),
    description="GX suites checks/suites/marts.*.json on the month's uncertainty, sensitivity and group candidates "
    "(intervals and bands present exactly where a score is published, probabilities within 0–1, groups with a score "
    "have n ≥ min_n); the six are published together into the month's marts snapshot only when every expectation "
    "passes. Warning (never blocking): each published score inside its own 5–95 % interval.",
)
mart_checks.append(uncertainty_gate)
