"""What every blocking expectations check does in Dagster: run the publication gate and
turn its outcome into an ``AssetCheckResult`` with GX statistics, per-expectation
results and the Data Docs path as metadata."""

import dagster as dg

from harmoni_pipeline.quality.gate import GateResult, MissingCandidate, gate

CHECK_NAME = "expectations"
# Steps that publish into the warehouse queue in this Dagster concurrency pool (its limit
# is `pools.default_limit` in dagster.yaml, 1, or `dagster instance concurrency set`).
PUBLISH_POOL = "warehouse_publish"


def partitioned_check(**kwargs):
    """``@dg.asset_check`` with a ``partitions_def`` (a preview feature in Dagster 1.13 that
    partitioned checks need: the check reads its partition's candidate)."""
    import warnings

    def decorate(fn):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.PreviewWarning)
            return dg.asset_check(**kwargs)(fn)

    return decorate


def outcomes_table(result: GateResult) -> dg.TableMetadataValue:
    cols = ["suite", "expectation", "column", "guards", "success", "unexpected_count", "unexpected_sample"]
    records = [
        dg.TableRecord({
            "suite": o.suite, "expectation": o.expectation, "column": o.column or "", "guards": o.guards,
            "success": o.success, "unexpected_count": o.unexpected_count if o.unexpected_count is not None else -1,
            "unexpected_sample": "; ".join(o.unexpected_sample),
        })
        for o in sorted(result.report.outcomes, key=lambda o: o.success)
    ]
    types = {"success": "bool", "unexpected_count": "int"}
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=[dg.TableColumn(c, types.get(c, "string")) for c in cols]))


def candidate_runs(context) -> list[str]:
    """Runs whose candidates this check may judge: its own, then — in a retry, which
    re-executes only the failed steps — its parent's and its root's."""
    run = context.run
    return [r for r in (run.run_id, run.parent_run_id, run.root_run_id) if r]


def run_gate(context, tables: list[str], asset: str, harmoni, validate) -> dg.AssetCheckResult:
    """Validate the run's candidates of ``tables``; publish them if every expectation passes."""
    period = context.partition_key
    warehouse = harmoni.warehouse()
    try:
        result = gate(tables, period, run_id=context.run.run_id, warehouse=warehouse, validate=validate,
                      asset=asset, check_name=CHECK_NAME, candidate_runs=candidate_runs(context))
    except MissingCandidate as exc:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, description=str(exc))
    report = result.report
    summary = report.summary()
    metadata = {
        "summary": summary,
        "statistics": dg.MetadataValue.json(report.statistics),
        "expectations": outcomes_table(result),
        "failed_expectations": len(report.failures()),
        "published": ", ".join(sorted(result.published)) or "nothing (blocked: the last good partition stays published)",
    }
    if report.docs_index is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(report.docs_index))
        metadata["data_docs_url"] = dg.MetadataValue.url(report.docs_index.as_uri())
    for table, pub in result.published.items():
        metadata[f"uri {table}"] = dg.MetadataValue.path(pub.uri)
    if not result.passed:
        context.log.error(f"{asset} {period}: blocked by check '{CHECK_NAME}': {summary}")
    return dg.AssetCheckResult(
        passed=result.passed, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata,
        description=f"{asset} {period}: {summary}",
    )
