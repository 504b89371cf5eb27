"""Mart assets: IHaI, IKN and their integration per kecamatan, kabupaten/kota and province,
one partition per reporting month (methodology ``DEFAULT_VERSION``), computed in one step and
published as one snapshot per month."""

import warnings

import dagster as dg

from harmoni_pipeline import memory
from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline import registry, trail
from harmoni_pipeline.metadata import column_lineage, column_schema
from harmoni_pipeline.defs.partitions import monthly_partitions
from harmoni_pipeline.quality import standing
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.registry import STAGING_TABLES
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.scoring import marts
from harmoni_pipeline.scoring.inputs import MixedKeysError
from harmoni_pipeline.scoring.integration import AssignmentError
from harmoni_pipeline.scoring.lineage import mart_lineage
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.trace.schemas import TRAIL_SCHEMAS, TRAIL_TABLES
from harmoni_pipeline.warehouse.pending import Written

SCORING_CODE_VERSION = f"{methodology_mod.DEFAULT_VERSION.lower()}-1"  # hm-2026.1-1
OWNERS = ["team:data-engineering"]
NOT_OFFICIAL = f"The {methodology_mod.DEFAULT_VERSION} IKN adds FKDM and BPS evidence pillars: it is not the official Kemendagri IKN figure."

# The survey and event windows are the partition's month and the eleven before it; the
# response dedup and the latest report versions also look at every earlier staged month.
with warnings.catch_warnings():  # allow_nonexistent_upstream_partitions is beta in 1.13, and needed
    warnings.simplefilter("ignore", dg.BetaWarning)
    WINDOW = dg.TimeWindowPartitionMapping(start_offset=-11, end_offset=0, allow_nonexistent_upstream_partitions=True)
    SAME_YEAR = dg.TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)
SURVEY = dg.AssetDep(dg.AssetKey(registry.asset_path(STAGING_TABLES["survey"])), partition_mapping=WINDOW)
FKDM = dg.AssetDep(dg.AssetKey(registry.asset_path(STAGING_TABLES["fkdm"])), partition_mapping=WINDOW)
STATS = dg.AssetDep(dg.AssetKey(registry.asset_path(STAGING_TABLES["stats"])), partition_mapping=SAME_YEAR)

DESCRIPTIONS = {
    "marts.ihai_kecamatan": "IHaI per kecamatan (0–100 and 0–10), category, 95 % CI, four dimensions, PPA aspects, "
    "PER–PAR gap flag; raked survey weights over the 12-month window; NULL scores unless status = ok (n ≥ min_n).",
    "marts.ihai_variabel": "IHaI variable × aspect (PER, PAR, AKS, ALL) scores with their n, for kecamatan with status = ok.",
    "marts.ihai_kabupaten": "IHaI per kabupaten/kota: adult-population-weighted mean over kecamatan with status = ok, with coverage.",
    "marts.ihai_provinsi": "IHaI per province over the kecamatan in scope, adult-population-weighted, with coverage.",
    "marts.ikn_kecamatan": "IKN per kecamatan: survey (S), event (E = E1, E2, E3 from FKDM) and context (C, BPS) pillars, "
    "weighted geometric mean, category, kerawanan with the red-alert override, status. " + NOT_OFFICIAL,
    "marts.ikn_dimensi": "IKN survey dimensions KN1–KN5 × aspect scores with their n, for kecamatan whose survey pillar is reported.",
    "marts.ikn_konteks": "Context indicators behind each kecamatan's C pillar: value, year, normalised score, and whether it "
    "was inherited from the kabupaten.",
    "marts.ikn_kabupaten": "IKN per kabupaten/kota: total-population-weighted mean with coverage; kecamatan at Tinggi. " + NOT_OFFICIAL,
    "marts.ikn_provinsi": "IKN per province over the kecamatan in scope. " + NOT_OFFICIAL,
    "marts.harmoni_kewaspadaan": "IHaI × IKN quadrant per kecamatan with its recommendation and the responsible position "
    "(landing/reference/penanggung_jawab.csv); alasan_null says why a quadrant is missing.",
    # the auditor's trail, published in the same snapshot as the marts (docs/auditor.md)
    "audit.score_sources": "Trail: per kecamatan and index, every landing file (path, SHA-256, arrival period) whose rows "
    "the month's score used, with how many, and the file's rejected rows by rule.",
    "audit.score_respondents": "Trail: per kecamatan and index, every respondent counted (response id as staged, "
    "file and line of the copy that counts, raking weight). No personal data.",
    "audit.score_reports": "Trail: per kecamatan, every latest FKDM report version the IKN event pillar (in_window) or "
    "red alert used, with its file and line.",
    "audit.score_statistics": "Trail: per kecamatan and index, every statistics value used (raking margins, total "
    "population, context indicators; inherited from the kabupaten or not), with its file and line.",
    "audit.score_runs": "Trail: per kecamatan and index, the staging partitions read and the Dagster run that published "
    "each (the scoring run is run_id).",
}


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey(registry.asset_path(table))


def _spec(table: str, deps: list) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=_key(table),
        description=DESCRIPTIONS[table],
        deps=deps,
        group_name="marts",
        kinds={"parquet", "duckdb"},
        owners=OWNERS,
        tags={"index": registry.table(table).short_name.split("_")[0]},
        code_version=SCORING_CODE_VERSION,
        partitions_def=monthly_partitions,
        metadata={"dagster/column_schema": column_schema({**MART_SCHEMAS, **TRAIL_SCHEMAS}[table]),
                  "methodology_version": methodology_mod.load().version},
    )


def _context(context: dg.AssetExecutionContext, harmoni: HarmoniResource) -> marts.PeriodContext:
    settings = harmoni.settings()
    return marts.PeriodContext(
        period=context.partition_key,
        warehouse=harmoni.warehouse(),
        regions=Regions.load(),
        scope=settings.scope,
        methodology=methodology_mod.load(),
        run_id=context.run_id,
    )


def _write_candidates(context: dg.AssetExecutionContext, ctx: marts.PeriodContext, sets: dict[str, marts.MartSet],
                      publication: str = "with the period's other marts, by the blocking checks 'expectations' when "
                      "every suite passes (write-audit-publish, one snapshot per period)"):
    """Write every table of the period as the run's pending candidate; the blocking check
    'expectations' validates all ten and publishes them together as the period's snapshot
    when every suite passes (write-audit-publish)."""
    lineages = mart_lineage(ctx.methodology)
    notes = trail.lineage_notes(ctx.methodology)
    window = trail.window_months(ctx.period, ctx.methodology.window_months)
    reads = trail.upstream_reads(ctx.staging or {}, ctx.period)
    manifest_uri = ctx.warehouse.url(ctx.warehouse.manifest_path("marts", ctx.period))
    for result in sets.values():
        for warning in result.warnings:
            context.log.warning(warning)
        for table in list(result.tables):
            data = result.tables.pop(table)  # each table let go once written: the trail alone is ≈ 0.7 GB nationally
            path = data.path if isinstance(data, Written) else ctx.warehouse.write_pending(table, ctx.period, data,
                                                                                            ctx.run_id)
            yield dg.MaterializeResult(
                asset_key=_key(table),
                metadata={
                    "dagster/row_count": data.num_rows,
                    **({"dagster/column_lineage": column_lineage(lineages[table]),
                        "computed_from": dg.MetadataValue.md(trail.computed_from_markdown(lineages[table], notes))}
                       if table in lineages else {}),
                    # stays valid: the candidate under .pending/<run_id>/ is moved into place on publication
                    "dagster/uri": manifest_uri,
                    "trail": dg.MetadataValue.md(trail.mart_trail_markdown(
                        table, ctx.period, methodology=ctx.methodology, window=window, reads=reads,
                        manifest_uri=manifest_uri, run_id=ctx.run_id)),
                    "window_months": ", ".join(window),
                    "upstream_partitions": dg.MetadataValue.json(trail.upstream_partitions(reads)),
                    "published_snapshot": manifest_uri,
                    "partition_location": ctx.warehouse.url(ctx.warehouse.partition_dir(table, ctx.period)),
                    "publication": f"{publication}: the snapshot manifest (published_snapshot, dagster/uri) then "
                    "names this table's file; the check's result shows it as published_uri",
                    "methodology_version": ctx.methodology.version,
                    "methodology_sha256": ctx.methodology.sha256,
                    "scope": ctx.scope,
                    "content_sha256": ctx.warehouse.content_hash(path),
                    "candidate": str(path),  # text, not a link: removed when published
                    "facts": dg.MetadataValue.json(result.facts),
                    "warnings": "\n".join(result.warnings) or "none",
                },
            )


ASSIGNMENTS = dg.AssetSpec(
    key=["landing", "penanggung_jawab"],
    description="Maintained assignment table landing/reference/penanggung_jawab.csv: the responsible position "
    "and unit per kecamatan (kode_kecamatan, penanggung_jawab; see docs/scoring.md).",
    group_name="landing",
    kinds={"csv"},
    owners=OWNERS,
    tags={"source": "reference"},
)

DEPS = {
    **{t: [SURVEY, STATS] for t in marts.IHAI_TABLES},
    **{t: [SURVEY, FKDM, STATS] for t in marts.IKN_TABLES},
    "marts.harmoni_kewaspadaan": [_key("marts.ihai_kecamatan"), _key("marts.ikn_kecamatan"), ASSIGNMENTS.key],
    **{t: [SURVEY, FKDM, STATS] for t in TRAIL_TABLES},
}


@dg.multi_asset(
    name="marts",
    specs=[_spec(t, DEPS[t]) for t in marts.SNAPSHOT_TABLES],
    partitions_def=monthly_partitions,
)
def period_marts(context: dg.AssetExecutionContext, harmoni: HarmoniResource):
    """Every mart of one month — IHaI, IKN and their quadrant — from one read of the
    staged inputs (thin declaration over :func:`harmoni_pipeline.scoring.marts.build_period`)."""
    memory.release()
    ctx = _context(context, harmoni)
    try:
        sets = marts.build_period(ctx, harmoni.settings().landing_root(), write_early=True)
    except (AssignmentError, MixedKeysError) as exc:  # not transient: a file or a re-staging fixes it
        raise dg.Failure(str(exc), allow_retries=False) from exc
    for held_back in standing.blocked(ctx.warehouse, marts.input_partitions(ctx)):
        context.log.warning(held_back.describe())
    yield from _write_candidates(context, ctx, sets)


mart_assets = [period_marts]
mart_specs = [ASSIGNMENTS]
