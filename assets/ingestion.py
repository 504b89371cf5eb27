"""Landing and staging assets: each source's landing folder (external) and its canonical
staging table, one partition per arrival month (statistics: per arrival year)."""


import dagster as dg

from harmoni_pipeline.ingest.runner import IngestError, ingest_partition
from harmoni_pipeline.metadata import column_schema, source_files_table
from harmoni_pipeline.partitions import monthly_partitions, yearly_partitions
from harmoni_pipeline.resources import HarmoniResource
from harmoni_pipeline.tables import STAGING_TABLES

INGEST_CODE_VERSION = "ingest-1"
OWNERS = ["team:data-engineering"]
RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL)

LANDING_DESCRIPTIONS = {
    "survey": "Survey exports (Google Forms CSV, KoboToolbox XLSX/CSV, canonical CSV) in landing/survey/YYYY-MM/.",
    "fkdm": "FKDM early-warning reports (CSV, XLSX) in landing/fkdm/YYYY-MM/.",
    "stats": "Statistics tables (long CSV, BPS WebAPI JSON, BPS 'Dalam Angka' XLSX) in landing/stats/YYYY/.",
}

landing_specs = [
    dg.AssetSpec(
        key=["landing", source],
        description=LANDING_DESCRIPTIONS[source],
        group_name="landing",
        kinds={"csv", "xlsx"} if source != "stats" else {"csv", "xlsx", "json"},
        owners=OWNERS,
        tags={"source": source},
    )
    for source in ("survey", "fkdm", "stats")
]


def _materialize(context: dg.AssetExecutionContext, harmoni: HarmoniResource, source: str) -> dg.MaterializeResult:
    settings = harmoni.settings()
    warehouse = harmoni.warehouse()
    try:
        report = ingest_partition(
            source, context.partition_key, settings=settings, run_id=context.run_id, warehouse=warehouse, publish=False
        )
    except IngestError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    for warning in report.warnings:
        context.log.warning(warning)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.rows_accepted,
            "dagster/column_schema": column_schema(report.schema),
            "candidate": dg.MetadataValue.path(str(report.candidate)),
            "publication": "by the blocking check 'expectations' when its suite passes (write-audit-publish)",
            "scope": settings.scope,
            "rows_read": report.rows_read,
            "rows_accepted": report.rows_accepted,
            "rows_rejected": report.rows_rejected,
            "rejected_by_rule": dg.MetadataValue.json(report.rejected_by_rule),
            "source_files": source_files_table(report.files),
            "table": STAGING_TABLES[source],
        }
    )


STAGING_DESCRIPTIONS = {
    "survey": """Survey responses that arrived in the partition's month, one row per accepted
    input row (cumulative re-exports included: windows deduplicate by ``response_id``), in
    the canonical schema with 45 item columns. Personal data only as keyed pseudonyms
    (``respondent_key``). Rejected rows are in ``audit.rejected_rows``.""",
    "fkdm": """FKDM early-warning reports that arrived in the partition's month, one row per
    accepted report version (a report re-sent later is a newer version). ``ringkasan`` is
    never stored; the reporter only as a pseudonym (``pelapor_key``).""",
    "stats": """Statistics values (population by sex and age band, context indicators) that
    arrived in the partition's year, in Kemendagri codes, one row per value; the value's
    own year is ``tahun``. Partition = arrival year (``YYYY``).""",
}


def staging_asset(source: str) -> dg.AssetsDefinition:
    """The staging asset of one source: ingest its landing partition (thin declaration
    over :func:`harmoni_pipeline.ingest.runner.ingest_partition`)."""
    schema_name, table_name = STAGING_TABLES[source].split(".")

    @dg.asset(
        name=table_name,
        key_prefix=[schema_name],
        description=STAGING_DESCRIPTIONS[source],
        deps=[dg.AssetKey(["landing", source])],
        partitions_def=yearly_partitions if source == "stats" else monthly_partitions,
        group_name="staging",
        kinds={"parquet", "duckdb"},
        owners=OWNERS,
        tags={"source": source},
        code_version=INGEST_CODE_VERSION,
        retry_policy=RETRY,
    )
    def _asset(context: dg.AssetExecutionContext, harmoni: HarmoniResource) -> dg.MaterializeResult:
        return _materialize(context, harmoni, source)

    return _asset


ingestion_assets = [staging_asset(source) for source in ("survey", "fkdm", "stats")]
