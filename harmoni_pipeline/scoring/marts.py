"""The mart tables (data-contracts §4) and the builders that compute one period of them.

Room: schemas (pyarrow, exactly the contract's columns plus ``period``,
``methodology_version`` and ``run_id``), reading a period's inputs from the warehouse,
calling the formula modules, and shaping their results into Arrow tables with region
names. Publishing is the Dagster asset's (through the warehouse); no Dagster here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from harmoni_pipeline import memory
from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.periods import parse_period
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.scoring import context as context_mod
from harmoni_pipeline.scoring import events as events_mod
from harmoni_pipeline.scoring import ihai as ihai_mod
from harmoni_pipeline.scoring import ikn as ikn_mod
from harmoni_pipeline.scoring import inputs, integration, population, survey
from harmoni_pipeline.scoring.rollup import weighted_rollup
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.trace.build import WINDOW_COLUMNS, build_trail, respondents, respondents_table
from harmoni_pipeline.trace.schemas import RESPONDENTS, TRAIL_TABLES
from harmoni_pipeline.warehouse import Warehouse
from harmoni_pipeline.warehouse.pending import Written
from harmoni_pipeline.scoring.arrays import member

IHAI_TABLES = ["marts.ihai_kecamatan", "marts.ihai_variabel", "marts.ihai_kabupaten", "marts.ihai_provinsi"]
IKN_TABLES = ["marts.ikn_kecamatan", "marts.ikn_dimensi", "marts.ikn_konteks", "marts.ikn_kabupaten", "marts.ikn_provinsi"]
INTEGRATION_TABLES = ["marts.harmoni_kewaspadaan"]
ALL_TABLES = IHAI_TABLES + IKN_TABLES + INTEGRATION_TABLES
SNAPSHOT_TABLES = ALL_TABLES + TRAIL_TABLES  # published together: the marts and their trail
FIRST_YEAR = 2022  # the first partition (data contract §3: periods start at 2022-01)


@dataclass
class PeriodContext:
    """Everything a period's builders share: where to read, what is in scope, the rules."""

    period: str
    warehouse: Warehouse
    regions: Regions
    scope: str
    methodology: Methodology
    run_id: str
    staging: inputs.Listing | None = None  # one listing of the staging files; None: list when read

    @property
    def year(self) -> int:
        return parse_period(self.period)[0]

    def kecamatan(self) -> pd.DataFrame:
        """Kecamatan in scope: ``kode, nama, kode_kabupaten, kode_provinsi``, sorted by code."""
        kec = self.regions.kecamatan_in_scope(self.scope)
        return kec.sort_values("kode").reset_index(drop=True)

    def codes(self) -> pd.Index:
        return pd.Index(self.kecamatan()["kode"].astype(str), name="kode_kecamatan")


@dataclass
class MartSet:
    """One period of one group of marts, ready to publish, with what auditors want to see."""

    tables: dict[str, pa.Table]
    facts: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    evidence: dict = field(default_factory=dict)  # what the scores used, for the auditor's trail


BOUNDS = (0.0, 100.0)
ROUNDING = 1e-9


def snap_to_bounds(values: np.ndarray) -> np.ndarray:
    """A value beyond 0 or 100 by less than :data:`ROUNDING` is float rounding of that
    bound (a weighted mean of scores that are all 100 can come out 100.00000000000001,
    which the 0–100 checks would refuse): it becomes the bound. Anything farther out is
    left for the checks to catch."""
    lo, hi = BOUNDS
    out = values.copy()
    out[(out > hi) & (out <= hi + ROUNDING)] = hi
    out[(out < lo) & (out >= lo - ROUNDING)] = lo
    return out


def to_table(frame: pd.DataFrame, name: str, ctx: PeriodContext, schema: pa.Schema | None = None) -> pa.Table:
    """Shape a frame into the mart's schema (``schema``, default the mart's of
    :data:`MART_SCHEMAS`): add ``period``, ``methodology_version``, ``run_id``; NaN →
    NULL; a float within rounding of 0 or 100 becomes it (:func:`snap_to_bounds`);
    refuse a missing column."""
    schema = schema or MART_SCHEMAS[name]
    frame = frame.copy()
    frame["period"] = ctx.period
    frame["methodology_version"] = ctx.methodology.version
    frame["run_id"] = ctx.run_id
    missing = [c for c in schema.names if c not in frame.columns]
    if missing:
        raise KeyError(f"{name}: columns missing from the computed frame: {missing}")
    arrays = []
    for f in schema:
        col = frame[f.name]
        if pa.types.is_floating(f.type):
            col = pd.to_numeric(col, errors="raise").astype("float64")
            arrays.append(pa.array(snap_to_bounds(col.to_numpy()), type=f.type, from_pandas=True))
        else:
            arrays.append(pa.array(col.astype(object).where(col.notna(), None).tolist(), type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _names(ctx: PeriodContext, frame: pd.DataFrame) -> pd.DataFrame:
    kec = ctx.kecamatan().rename(columns={"kode": "kode_kecamatan", "nama": "nama_kecamatan"})
    return frame.merge(kec[["kode_kecamatan", "nama_kecamatan", "kode_kabupaten", "kode_provinsi"]], on="kode_kecamatan", how="left")


def _rollups(ctx: PeriodContext, frame: pd.DataFrame, value: str, weight: str, counted: pd.Series, bands, count_name: str, count_of: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kabupaten and province roll-ups of a kecamatan frame with names, category and count."""
    out = []
    for level, names in (("kode_kabupaten", ctx.regions.kabupaten), ("kode_provinsi", ctx.regions.provinsi)):
        rolled = weighted_rollup(frame, level, value, weight, counted)
        counts = count_of.fillna(False).astype(bool).astype(int).groupby(frame[level]).sum()
        rolled[count_name] = rolled[level].map(counts).fillna(0).astype("int64")
        rolled["kategori"] = bands.classify(rolled[value])
        label = "nama_kabupaten" if level == "kode_kabupaten" else "nama_provinsi"
        rolled[label] = rolled[level].map(names.set_index("kode")["nama"]).astype("string")
        out.append(rolled)
    return out[0], out[1]


@dataclass
class PeriodInputs:
    """What a period's scores read from staging, read once and shared by IHaI and IKN:
    the survey window (every item), current statistics, population, FKDM reports."""

    window: pd.DataFrame
    stats: pd.DataFrame
    population: pd.DataFrame
    reports: pd.DataFrame


def read_inputs(ctx: PeriodContext) -> PeriodInputs:
    """The period's inputs, from one listing of the staging files (``ctx.staging``,
    taken here when not given) so every input comes from the same publications."""
    if ctx.staging is None:
        ctx.staging = inputs.staging_listing(ctx.warehouse)
    m = ctx.methodology
    items = [f"{v}_{a}" for v in [*m.ihai["variables"], *m.ikn_dimensions] for a in m.aspects]
    window = inputs.survey_window(ctx.warehouse, ctx.period, items, m.window_months, ctx.staging)
    stats = inputs.statistics_current(ctx.warehouse, ctx.year, ctx.staging)
    pop = population.population_table(stats, pd.Series(ctx.codes()), m)
    reports = inputs.fkdm_latest(ctx.warehouse, ctx.period, ctx.staging)
    return PeriodInputs(window=window, stats=stats, population=pop, reports=reports)


def build_ihai(ctx: PeriodContext, period_inputs: PeriodInputs | None = None) -> MartSet:
    m = ctx.methodology
    codes = ctx.codes()
    variables = list(m.ihai["variables"])
    read = period_inputs or read_inputs(ctx)
    window, pop = read.window, read.population
    scores = survey.score_index(window, variables, codes, pop, m)
    kec = _names(ctx, ihai_mod.ihai_kecamatan(scores, m))
    kec["p_adult"] = kec["kode_kecamatan"].map(pop["p_adult"])
    ok = kec["status"] == survey.OK
    kab, prov = _rollups(ctx, kec, "ihai", "p_adult", ok, m.ihai_bands, "n_kecamatan_ok", ok)
    variabel = scores.long("variabel")
    tables = {name: to_table(frame, name, ctx) for name, frame in zip(IHAI_TABLES, (kec, variabel, kab, prov))}
    facts = _survey_facts(window, scores, kec)
    return MartSet(tables, facts, evidence={"scores": scores})


def _survey_facts(window: pd.DataFrame, scores: survey.IndexScores, kec: pd.DataFrame) -> dict:
    rake = scores.raking
    has = scores.n > 0
    return {
        "window_responses": int(len(window)),
        "respondents": int(scores.n.sum()),
        "status_counts": {str(k): int(v) for k, v in kec["status"].value_counts().sort_index().items()},
        "weighting_counts": {str(k): int(v) for k, v in pd.Series(scores.weighting[has]).value_counts().sort_index().items()},
        "raking_max_rounds": int(rake.rounds.max()) if len(rake.rounds) else 0,
        "raking_not_converged": int((has & ~rake.converged).sum()),
    }


def build_ikn(ctx: PeriodContext, period_inputs: PeriodInputs | None = None) -> MartSet:
    m = ctx.methodology
    kecamatan = ctx.kecamatan()
    codes = ctx.codes()
    dims = m.ikn_dimensions
    read = period_inputs or read_inputs(ctx)
    window, stats, pop, reports = read.window, read.stats, read.population, read.reports
    scores = survey.score_index(window, dims, codes, pop, m)
    events = events_mod.event_pillar(reports, codes, pop["p_total"], ctx.period, m)
    ctx_values = context_mod.context_values(stats, kecamatan, m)
    ctx_pillar = context_mod.context_pillar(ctx_values, codes, m)
    kec = _names(ctx, ikn_mod.ikn_kecamatan(scores, events, ctx_pillar, m))
    kec["p_total"] = kec["kode_kecamatan"].map(pop["p_total"])
    tinggi = (kec["tingkat_kerawanan"] == m.risk_bands.labels[0]).fillna(False)
    kab, prov = _rollups(ctx, kec, "ikn", "p_total", kec["ikn"].notna(), m.ikn_bands, "n_kecamatan_tinggi", tinggi)
    dimensi = scores.long("dimensi")
    tables = {name: to_table(frame, name, ctx) for name, frame in zip(IKN_TABLES, (kec, dimensi, ctx_values, kab, prov))}
    facts = _survey_facts(window, scores, kec)
    counted = events_mod.counted_reports(reports, m)
    facts.update(
        reports_latest_versions=int(len(reports)),
        reports_in_window=int(kec["n_laporan"].sum()),
        red_alerts=int(kec["alert_merah"].sum()),
        context_inherited=int(ctx_values["diwarisi"].sum()),
        reports_counted=int(len(counted)),
    )
    return MartSet(tables, facts, evidence={"scores": scores, "konteks": ctx_values})


def build_integration(ctx: PeriodContext, landing: Path, ihai: pa.Table, ikn: pa.Table) -> MartSet:
    """The integration mart from the period's IHaI and IKN kecamatan tables (the same
    run's, so the snapshot of the period agrees with itself)."""
    kecamatan = ctx.kecamatan()
    found = integration.read_assignments(landing, set(ctx.regions.kecamatan["kode"].astype(str)))
    frame = integration.harmoni_kewaspadaan(ihai.to_pandas(), ikn.to_pandas(), found.table, ctx.methodology)
    frame = frame[member(frame["kode_kecamatan"], kecamatan["kode"])]
    frame = _names(ctx, frame)
    missing = sorted(set(kecamatan["kode"]) - set(found.table))
    warnings = list(found.warnings)
    if missing and found.path is not None:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        warnings.append(f"{integration.ASSIGNMENT_FILE}: no penanggung_jawab for {len(missing)} kecamatan in scope: {shown}")
    facts = {
        "assignment_file_sha256": found.sha256,
        "kecamatan_without_penanggung_jawab": missing,
        "quadrant_counts": {str(k): int(v) for k, v in frame["kuadran"].value_counts(dropna=False).sort_index(key=lambda s: s.astype(str)).items()},
    }
    return MartSet({"marts.harmoni_kewaspadaan": to_table(frame, "marts.harmoni_kewaspadaan", ctx)}, facts, warnings)



def input_partitions(ctx: PeriodContext) -> dict[str, list[str]]:
    """The staging partitions a period's scores read: the window's months of surveys and
    FKDM reports, and every statistics arrival year up to the period's year."""
    from harmoni_pipeline.periods import month_range, shift

    months = month_range(shift(ctx.period, -(ctx.methodology.window_months - 1)), ctx.period)
    years = [str(y) for y in range(FIRST_YEAR, ctx.year + 1)]
    return {"survey": months, "fkdm": months, "stats": years}


def build_period(ctx: PeriodContext, landing: Path, *, write_early: bool = False) -> dict[str, MartSet]:
    """Every mart of the period, from one read of its inputs, and the auditor's trail of
    its scores: ``{"ihai", "ikn", "integration", "trail"}`` → their tables, facts and
    warnings. Published together as the period's snapshot (or not at all).

    ``write_early``: the respondents' trail — the largest table, two rows per respondent —
    is written as the run's pending candidate (``ctx.run_id``) as soon as it is built and
    comes back as a :class:`~harmoni_pipeline.warehouse.pending.Written`; the rest of the
    trail then reads it from that file instead of holding it (issue 19: a late month of a
    twelve-month range peaked above 2 GB there)."""
    read = read_inputs(ctx)
    ihai = build_ihai(ctx, read)
    ikn = build_ikn(ctx, read)
    integration_set = build_integration(ctx, landing, ihai.tables[IHAI_TABLES[0]], ikn.tables[IKN_TABLES[0]])
    started = time.perf_counter()
    # The respondents' trail takes of the scores their rows and weights, and of the window its
    # WINDOW_COLUMNS: the rest — each index's design (which holds the window) and respondent
    # scores, the window's answers — goes before that table is built beside them (≈ 0.4 GB at
    # a twelve-month window's 1.2 M respondents, issue 19). Then the window goes too, before
    # the rest of the trail is built.
    scores = {name: replace(s.evidence.pop("scores"), design=None, respondent_variable=None)
              for name, s in (("ihai", ihai), ("ikn", ikn))}
    window, read.window = read.window, None
    window.drop(columns=window.columns.difference([source for _, source in WINDOW_COLUMNS]), inplace=True)
    memory.trim()
    used = respondents(window, scores)
    del window, scores
    used = respondents_table(used, ctx)
    if write_early:
        used = Written(ctx.warehouse.write_pending(RESPONDENTS, ctx.period, used, ctx.run_id), used.num_rows)
    memory.trim()  # the window and the scores' designs, let go above, back to the OS before the trail's queries
    trail = build_trail(ctx, read, used, ikn.evidence.pop("konteks"))
    del used
    facts = {"trail_seconds": round(time.perf_counter() - started, 3), **{t: d.num_rows for t, d in trail.items()}}
    return {"ihai": ihai, "ikn": ikn, "integration": integration_set, "trail": MartSet(trail, facts)}
