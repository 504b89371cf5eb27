"""The publication gate in Dagster: one multi-asset check per group of tables published
together, with an ``expectations`` check (blocking) on every table and a ``warnings``
check (non-blocking) on every table whose suites hold warning-level expectations.

Room: turning the gate's outcome (:mod:`harmoni_pipeline.quality.gate`) into
``AssetCheckResult``s — per table its own expectations, GX statistics and Data Docs —
so that every table's page shows its check. Validation and publishing are the domain's.
"""

import warnings
from typing import Callable

import dagster as dg

from harmoni_pipeline import memory
from harmoni_pipeline import registry
from harmoni_pipeline.quality.gate import GateResult, MissingCandidate, gate
from harmoni_pipeline.quality.gx_runner import ValidationReport
from harmoni_pipeline.quality.suites import has_warnings
from harmoni_pipeline.defs.resources import HarmoniResource

CHECK_NAME = "expectations"
WARNINGS_CHECK = "warnings"
# Steps that publish into the warehouse queue in this Dagster concurrency pool (its limit
# is `pools.default_limit` in dagster.yaml, 1, or `dagster instance concurrency set`).
PUBLISH_POOL = "warehouse_publish"


def key_of(table: str) -> dg.AssetKey:
    return dg.AssetKey(registry.asset_path(table))


def partitioned_check(**kwargs):
    """``@dg.asset_check`` with a ``partitions_def`` (a preview feature in Dagster 1.13 that
    partitioned checks need: the check reads its partition's candidate)."""

    def decorate(fn):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.PreviewWarning)
            return dg.asset_check(**kwargs)(fn)

    return decorate


def outcomes_table(report: ValidationReport) -> dg.TableMetadataValue:
    cols = ["suite", "expectation", "column", "guards", "severity", "success", "unexpected_count", "unexpected_sample"]
    records = [
        dg.TableRecord({
            "suite": o.suite, "expectation": o.expectation, "column": o.column or "", "guards": o.guards,
            "severity": o.severity, "success": o.success,
            "unexpected_count": o.unexpected_count if o.unexpected_count is not None else -1,
            "unexpected_sample": "; ".join(o.unexpected_sample),
        })
        for o in sorted(report.outcomes, key=lambda o: (o.success, o.blocking))
    ]
    types = {"success": "bool", "unexpected_count": "int"}
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=[dg.TableColumn(c, types.get(c, "string")) for c in cols]))


def candidate_runs(context) -> list[str]:
    """Runs whose candidates this check may judge: its own, then — in a retry, which
    re-executes only the failed steps — its parent's and its root's."""
    run = context.run
    return [r for r in (run.run_id, run.parent_run_id, run.root_run_id) if r]


def warning_description(asset: str, period: str, report: ValidationReport) -> str:
    """The ``warnings`` check's one line: a failed warning-level expectation reads as a
    warning that did not stop publication, not as a failure."""
    if not report.warnings():
        return f"{asset} {period}: no warnings"
    return f"{asset} {period}: warning, not blocking (published all the same) — {report.warning_summary()}"


def _table_metadata(result: GateResult, table: str) -> dict:
    report = result.report.for_table(table)
    metadata = {
        "summary": report.summary(),
        "statistics": dg.MetadataValue.json(report.statistics),
        "expectations": outcomes_table(report),
        "failed_expectations": len(report.failures()),
        "warnings": report.warning_summary(),
    }
    published = result.published.get(table)
    metadata["published"] = (published.uri if published else
                             "nothing (blocked: the period's last good snapshot stays published)")
    if published:
        metadata["published_uri"] = dg.MetadataValue.path(published.uri)
    page = next(iter(report.docs_pages.values()), None) or report.docs_index
    if page is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(page))
        metadata["data_docs_url"] = dg.MetadataValue.url(page.as_uri())
    return metadata


def publication_gate(
    name: str,
    tables: list[str],
    partitions_def: dg.PartitionsDefinition,
    validate: Callable[[dg.AssetCheckExecutionContext, object, dict], ValidationReport],
    description: str,
) -> dg.AssetChecksDefinition:
    """The gate of ``tables`` (published together): ``expectations`` (blocking) on each
    table, ``warnings`` (non-blocking) on each whose suites declare warning-level
    expectations. ``validate(context, harmoni, candidates)`` runs the suites."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        specs = [dg.AssetCheckSpec(CHECK_NAME, asset=key_of(t), blocking=True, partitions_def=partitions_def,
                                   description=description) for t in tables]
        warned = [t for t in tables if has_warnings(t)]
        specs += [dg.AssetCheckSpec(WARNINGS_CHECK, asset=key_of(t), blocking=False, partitions_def=partitions_def,
                                    description="Warning, not blocking: the warning-level expectations of the same "
                                    "suites (e.g. survey coverage ≥ 50 %), reported, never stopping publication.") for t in warned]

    @dg.multi_asset_check(name=name, specs=specs, pool=PUBLISH_POOL, can_subset=False)
    def _check(context: dg.AssetCheckExecutionContext, harmoni: HarmoniResource):
        memory.release()
        period = context.partition_key
        try:
            result = gate(tables, period, run_id=context.run.run_id, warehouse=harmoni.warehouse(),
                          validate=lambda candidates: validate(context, harmoni, candidates),
                          check_name=CHECK_NAME, candidate_runs=candidate_runs(context))
        except MissingCandidate as exc:
            for t in tables:
                yield dg.AssetCheckResult(asset_key=key_of(t), check_name=CHECK_NAME, passed=False,
                                          severity=dg.AssetCheckSeverity.ERROR, description=str(exc))
            return
        if not result.passed:
            context.log.error(f"{', '.join(registry.asset_slug(t) for t in tables)} {period}: blocked by check "
                              f"'{CHECK_NAME}': {result.report.summary()}")
        for t in tables:
            report = result.report.for_table(t)
            summary = report.summary()
            if report.success and not result.passed:
                summary += " — not published: another table of the group was blocked"
            yield dg.AssetCheckResult(
                asset_key=key_of(t), check_name=CHECK_NAME, passed=report.success, severity=dg.AssetCheckSeverity.ERROR,
                metadata=_table_metadata(result, t), description=f"{registry.asset_slug(t)} {period}: {summary}",
            )
        for t in warned:
            report = result.report.for_table(t)
            if report.warnings():
                context.log.warning(f"{registry.asset_slug(t)} {period}: warning: {report.warning_summary()}")
            yield dg.AssetCheckResult(
                asset_key=key_of(t), check_name=WARNINGS_CHECK, passed=not report.warnings(),
                severity=dg.AssetCheckSeverity.WARN, description=warning_description(registry.asset_slug(t), period, report),
                metadata={"warnings": report.warning_summary(), "blocking": False},
            )

    return _check
