"""Non-blocking (WARN) survey diagnostics on ``staging/survey_responses``: straight-lining,
fast completion, Cronbach's alpha per PPA block, repeated respondent keys. Thresholds in
``checks/diagnostics.yaml``; a warning never stops publication."""

import dagster as dg

from harmoni_pipeline import memory
from harmoni_pipeline.checks.common import candidate_runs, partitioned_check
from harmoni_pipeline import methodology, registry
from harmoni_pipeline.defs.partitions import monthly_partitions
from harmoni_pipeline.quality import diagnostics
from harmoni_pipeline.quality.gate import record
from harmoni_pipeline.quality.gx_runner import Outcome
from harmoni_pipeline.registry import STAGING_TABLES
from harmoni_pipeline.defs.resources import HarmoniResource

TABLE = STAGING_TABLES["survey"]
ASSET = "staging/survey_responses"
DESCRIPTIONS = {
    "straight_lining": "Share of respondents (≥ 10 items answered) who gave one answer to every item.",
    "fast_completion": "Share of timed (Kobo start/end) responses completed implausibly fast.",
    "cronbach_alpha": "Cronbach's alpha of each PPA block (the three items of a variable), warn below 0.6.",
    "repeated_respondents": "Share of respondent keys (pseudonymised NIK/e-mail/phone) behind several responses.",
}


def _partition(harmoni: HarmoniResource, period: str, runs: list[str], columns: list[str]):
    """This run's candidate (in a retry: its parent's or root's), or — once the blocking
    check has published it — the partition; only ``columns`` (what the diagnostic reads:
    each of the four checks would otherwise read and convert the whole partition)."""
    warehouse = harmoni.warehouse()
    for run_id in runs:
        data = warehouse.read_pending(TABLE, period, run_id, columns=columns)
        if data is not None:
            return warehouse, data
    return warehouse, warehouse.read_partition(TABLE, period, columns=columns)


def diagnostic_check(name: str) -> dg.AssetChecksDefinition:
    @partitioned_check(
        asset=dg.AssetKey(registry.asset_path(TABLE)),
        name=name,
        blocking=False,
        partitions_def=monthly_partitions,
        description=DESCRIPTIONS[name] + " Non-blocking (WARN).",
    )
    def _check(context: dg.AssetCheckExecutionContext, harmoni: HarmoniResource) -> dg.AssetCheckResult:
        memory.release()
        period, run_id = context.partition_key, context.run.run_id
        rules = methodology.load()
        warehouse, data = _partition(harmoni, period, candidate_runs(context), diagnostics.columns(name, rules))
        if data is None:
            return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN, description="no survey partition to diagnose")
        result = diagnostics.run_diagnostic(name, data.to_pandas(), rules)
        outcome = Outcome(suite="diagnostics", batch="rows", expectation=name, column=None, guards=DESCRIPTIONS[name],
                          success=result.passed, unexpected_count=None, unexpected_sample=result.samples,
                          observed=result.summary)
        record(warehouse, [outcome], run_id=run_id, asset=ASSET, partition=period, check_name=name, blocking=False)
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=result.summary,
            metadata={"summary": result.summary, "measures": dg.MetadataValue.json(result.measures),
                      "examples": ", ".join(result.samples) or "none"},
        )

    return _check


diagnostic_checks = [diagnostic_check(name) for name in diagnostics.NAMES]
