"""Uncertainty, sensitivity and group marts: one partition per month, computed from the
month's inputs and its published IHaI and IKN marts, and published into the month's
marts snapshot by their own gate (thin declaration over
:func:`harmoni_pipeline.scoring.uncertainty_marts.build_uncertainty`)."""

import dagster as dg

from harmoni_pipeline import memory
from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline.assets.marts import FKDM, OWNERS, STATS, SURVEY, _context, _write_candidates
from harmoni_pipeline.defs.partitions import monthly_partitions
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.metadata import column_schema
from harmoni_pipeline.scoring import marts
from harmoni_pipeline.scoring.inputs import MixedKeysError
from harmoni_pipeline.scoring.uncertainty_marts import PUBLISHED, build_uncertainty
from harmoni_pipeline.scoring.uncertainty_schemas import UNCERTAINTY_SCHEMAS, UNCERTAINTY_TABLES

UNCERTAINTY_CODE_VERSION = "uncertainty-1"
PUBLISHED_KEYS = [dg.AssetKey(table.split(".")) for table, _ in PUBLISHED.values()]
DESCRIPTIONS = {
    "marts.ihai_ketidakpastian": "IHaI per kecamatan under the methodology's uncertain choices (sampling with raking "
    "redone, variable weights, aggregation, raking on/off): median score and 5–95 % interval, rank within the "
    "kabupaten, province and scope with its 5–95 % band, probability of each category (docs/uncertainty.md).",
    "marts.ikn_ketidakpastian": "IKN per kecamatan under the methodology's uncertain choices (sampling, pillar "
    "exponents, aggregation, context goalposts, raking on/off): median, 5–95 % interval, rank bands, category "
    "probabilities and the probability of tingkat_kerawanan = Tinggi.",
    "marts.sensitivitas": "First-order and total Sobol indices of each kecamatan's rank within its kabupaten, per "
    "uncertain input, averaged over the kecamatan whose rank moves: which choice matters.",
    "marts.sensitivitas_kecamatan": "The Sobol indices of marts.sensitivitas per kecamatan (kecamatan whose rank moves).",
    "marts.ihai_kelompok": "IHaI per kecamatan by respondent group (sex, age band, education and profession where "
    "coded), with the published weights; groups under min_n, and their complements, suppressed.",
    "marts.ikn_kelompok": "IKN survey pillar per kecamatan by respondent group, suppressed like marts.ihai_kelompok.",
}


def _spec(table: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=dg.AssetKey(table.split(".")),
        description=DESCRIPTIONS[table],
        deps=[*PUBLISHED_KEYS, SURVEY, FKDM, STATS],
        group_name="marts",
        kinds={"parquet", "duckdb"},
        owners=OWNERS,
        tags={"index": "uncertainty"},
        code_version=UNCERTAINTY_CODE_VERSION,
        partitions_def=monthly_partitions,
        metadata={"dagster/column_schema": column_schema(UNCERTAINTY_SCHEMAS[table]),
                  "methodology_version": methodology_mod.load().version},
    )


@dg.multi_asset(name="marts_uncertainty", specs=[_spec(t) for t in UNCERTAINTY_TABLES], partitions_def=monthly_partitions)
def period_uncertainty(context: dg.AssetExecutionContext, harmoni: HarmoniResource):
    """The month's uncertainty, sensitivity and group tables, from the month's published
    IHaI and IKN kecamatan marts (this run's, once their gate published them)."""
    memory.release()
    ctx = _context(context, harmoni)
    published = {}
    for table, _ in PUBLISHED.values():
        data = ctx.warehouse.read_partition(table, ctx.period)
        if data is None:
            raise dg.Failure(f"{table} {ctx.period}: not published, nothing to analyse", allow_retries=False)
        published[table] = data.to_pandas()
    try:
        result = build_uncertainty(ctx, marts.read_inputs(ctx), published)
    except MixedKeysError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc
    yield from _write_candidates(context, ctx, {"uncertainty": result}, publication=(
        "into the period's marts snapshot, with the other uncertainty tables, by their blocking checks "
        "'expectations' when every suite passes (write-audit-publish)"))


uncertainty_assets = [period_uncertainty]
