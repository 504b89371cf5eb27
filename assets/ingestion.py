"""Landing and staging assets: each source's landing folder (external) and its canonical
staging table, one partition per arrival month (statistics: per arrival year)."""

import dagster as dg

from harmoni_pipeline import memory
from harmoni_pipeline import trail
from harmoni_pipeline.ingest.runner import IngestError, ingest_partition
from harmoni_pipeline.metadata import column_schema, source_files_table
from harmoni_pipeline.defs.partitions import monthly_partitions, yearly_partitions
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline import registry
from harmoni_pipeline.registry import STAGING_TABLES

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


def _materialize(context, harmoni: HarmoniResource, source: str, parsed: dict | None = None) -> dg.MaterializeResult:
    memory.release()
    settings = harmoni.settings()
    warehouse = harmoni.warehouse()
    try:
        report = ingest_partition(
            source, context.partition_key, settings=settings, run_id=context.run_id, warehouse=warehouse, publish=False,
            parsed=parsed,
        )
    except IngestError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    for warning in report.warnings:
        context.log.warning(warning)
    # the run saw the landing partition: its files (with the format detected) on landing/<source>'s page
    # the landing zone's own place (a folder or a URL such as s3://…), not a worker's copy of it
    folder_uri = trail.landing_uri(settings.landing_dir, f"{source}/{context.partition_key}")
    context.log_event(trail.landing_observation(source, context.partition_key, report.files,
                                                folder_uri=folder_uri,
                                                seen_by=f"run {context.run_id} ({STAGING_TABLES[source]})"))
    table = STAGING_TABLES[source]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.rows_accepted,
            "dagster/column_schema": column_schema(report.schema),
            # stays valid: the partition's folder, where the candidate is published as the current version
            "dagster/uri": warehouse.url(warehouse.partition_dir(table, context.partition_key)),
            "candidate": str(report.candidate),  # text, not a link: moved into place when the check passes
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
    schema_name, table_name = registry.asset_path(STAGING_TABLES[source])

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


def sharded_staging_asset(source: str) -> dg.AssetsDefinition:
    """The same staging asset with its parse split into one step per province shard
    (:mod:`harmoni_pipeline.ingest.shards`): ``shards`` fans out, ``parse_shard`` runs once
    per province folder of the month (Dagster's executor spreads the steps over processes
    or, with ``HARMONI_EXECUTOR=k8s``, pods), ``assemble`` writes the candidate in file
    order — the same candidate the one-step asset writes."""
    from harmoni_pipeline.ingest import shards as sharding
    from harmoni_pipeline.regions import Regions

    schema_name, table_name = registry.asset_path(STAGING_TABLES[source])

    @dg.op(name=f"{table_name}__shards", out=dg.DynamicOut(str))
    def list_shards(context: dg.OpExecutionContext, harmoni: HarmoniResource):
        shards = sharding.partition_shards(source, context.partition_key, settings=harmoni.settings(),
                                           warehouse=harmoni.warehouse(), regions=Regions.load())
        context.log.info(f"{len(shards)} shard(s): {', '.join(shards)}")
        for shard in shards:
            yield dg.DynamicOutput(shard, mapping_key=shard)

    @dg.op(name=f"{table_name}__parse_shard", retry_policy=RETRY)
    def parse_shard(context: dg.OpExecutionContext, harmoni: HarmoniResource, shard: str) -> str:
        count = sharding.parse_shard(source, context.partition_key, shard, settings=harmoni.settings(),
                                     warehouse=harmoni.warehouse(), regions=Regions.load(), run_id=context.run_id)
        context.log.info(f"shard {shard}: {count} file(s) parsed")
        return shard

    @dg.op(name=f"{table_name}__assemble", ins={"landing": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing),
           retry_policy=RETRY)
    def assemble(context: dg.OpExecutionContext, harmoni: HarmoniResource, shards: list[str]) -> None:
        warehouse = harmoni.warehouse()
        parsed = sharding.collect_shards(source, context.partition_key, shards, warehouse=warehouse, run_id=context.run_id)
        result = _materialize(context, harmoni, source, parsed=parsed)
        sharding.discard_shards(source, context.partition_key, shards, warehouse=warehouse, run_id=context.run_id)
        context.add_output_metadata({**result.metadata, "shards": ", ".join(sorted(shards))})

    @dg.graph_asset(
        name=table_name,
        key_prefix=[schema_name],
        description=STAGING_DESCRIPTIONS[source],
        ins={"landing": dg.AssetIn(key=["landing", source], dagster_type=dg.Nothing)},
        partitions_def=monthly_partitions,
        group_name="staging",
        kinds={"parquet", "duckdb"},
        owners=OWNERS,
        tags={"source": source, "harmoni/split": "province"},
        code_version=INGEST_CODE_VERSION,
    )
    def _asset(landing):
        return assemble(landing=landing, shards=list_shards().map(parse_shard).collect())

    return _asset


def build_ingestion_assets(split: str | None = None) -> list[dg.AssetsDefinition]:
    """The three staging assets; ``split="province"`` splits the survey and FKDM parse
    into one step per province shard (statistics are small: one step)."""
    if split not in (None, "", "province"):
        raise ValueError(f"HARMONI_SPLIT={split!r}: expected 'province' or nothing")
    monthly = sharded_staging_asset if split == "province" else staging_asset
    return [monthly("survey"), monthly("fkdm"), staging_asset("stats")]


ingestion_assets = build_ingestion_assets()
