"""The uncertainty, sensitivity and group marts of one period, from the period's inputs
and its published IHaI and IKN kecamatan marts.

Room: assembling :mod:`.uncertainty` (models, draws, Sobol), :mod:`.bootstrap` and
:mod:`.groups` over one period and shaping their results into the tables of
:mod:`.uncertainty_schemas`. Publishing is the Dagster asset's; no Dagster here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from harmoni_pipeline.scoring import bootstrap, context as context_mod, events as events_mod, groups, survey
from harmoni_pipeline.scoring import uncertainty as unc
from harmoni_pipeline.scoring.marts import MartSet, PeriodContext, PeriodInputs, to_table
from harmoni_pipeline.scoring.uncertainty_schemas import LEVELS, UNCERTAINTY_SCHEMAS, slug

PUBLISHED = {"ihai": ("marts.ihai_kecamatan", "ihai"), "ikn": ("marts.ikn_kecamatan", "ikn")}


def _table(frame: pd.DataFrame, name: str, ctx: PeriodContext) -> pa.Table:
    return to_table(frame, name, ctx, UNCERTAINTY_SCHEMAS[name])


def _replicates(scores: survey.IndexScores, ctx: PeriodContext, settings: unc.Settings, rng) -> bootstrap.Replicates:
    if settings.bootstrap_draws > 0:
        return bootstrap.resample(scores, ctx.methodology, settings.bootstrap_draws, rng)
    return bootstrap.published(scores)


def _units(kecamatan: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        "": pd.factorize(kecamatan["kode_kabupaten"], sort=True)[0],
        "_provinsi": pd.factorize(kecamatan["kode_provinsi"], sort=True)[0],
        "_nasional": np.zeros(len(kecamatan), dtype=np.int64),
    }


def _quantiles(draws: np.ndarray, qs: list[float], method: str = "linear") -> np.ndarray:
    """Quantiles over draws (axis 0) ignoring NaN: columns without NaN in one vectorised
    call (``np.nanquantile`` walks columns one by one), NaN for columns without a value."""
    out = np.full((len(qs), draws.shape[1]), np.nan)
    nan = np.isnan(draws)
    full, partial = ~nan.any(axis=0), nan.any(axis=0) & ~nan.all(axis=0)
    if full.any():
        out[:, full] = np.quantile(draws[:, full], qs, axis=0, method=method)
    if partial.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[:, partial] = np.nanquantile(draws[:, partial], qs, axis=0, method=method)
    return out


def summarise(outcome: unc.Outcome, skor: np.ndarray, kecamatan: pd.DataFrame, bands, settings: unc.Settings) -> pd.DataFrame:
    """One row per kecamatan: published score and rank, draws' median and 5–95 % interval
    of the score and of the rank at each level, category probabilities."""
    lo, hi = settings.quantiles
    units = _units(kecamatan)
    has = ~np.isnan(skor)
    out = pd.DataFrame({c: kecamatan[c].to_numpy() for c in ("kode_kabupaten", "kode_provinsi")})
    out.insert(0, "kode_kecamatan", kecamatan["kode"].to_numpy())
    out["skor"] = skor
    q = _quantiles(outcome.scores, [0.5, lo, hi])
    out["skor_median"], out["skor_p05"], out["skor_p95"] = q[0], q[1], q[2]
    tolerance = 1e-9 * np.maximum(1.0, np.abs(skor))
    inside = (skor >= q[1] - tolerance) & (skor <= q[2] + tolerance)
    out["skor_dalam_interval"] = pd.array(np.where(has, inside, None), dtype="boolean")
    for level, unit in units.items():
        out[f"peringkat{level}"] = unc.ranks(skor, unit)[0]
        r = _quantiles(outcome.ranks[level].astype(float), [0.5, lo, hi], method="inverted_cdf")
        out[f"peringkat{level}_median"], out[f"peringkat{level}_p05"], out[f"peringkat{level}_p95"] = r[0], r[1], r[2]
        ranked = np.bincount(unit, weights=has.astype(float), minlength=int(unit.max()) + 1)
        out[f"n_peringkat{level}"] = ranked[unit].astype(np.int64)
    band = unc.band_index(outcome.scores, bands)
    valid = (band >= 0).sum(axis=0)
    for i, label in enumerate(bands.labels):
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"p_kategori_{slug(label)}"] = np.where(has & (valid > 0), (band == i).sum(axis=0) / valid, np.nan)
    out["n_draws"] = settings.n_draws
    out["seed"] = settings.seed
    return out


def _sensitivity(indeks: str, outcome: unc.Outcome, codes: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, per = [], []
    for i, name in enumerate(outcome.inputs):
        s1, st = outcome.s1[i], outcome.st[i]
        defined = ~np.isnan(st)
        if defined.any():  # an input under which no kecamatan's rank moves has no indices: no row
            rows.append({"indeks": indeks, "input": name, "s1": float(np.mean(s1[defined])),
                         "st": float(np.mean(st[defined])), "n_kecamatan": int(defined.sum())})
        per.append(pd.DataFrame({"kode_kecamatan": codes.to_numpy()[defined], "indeks": indeks, "input": name,
                                 "s1": s1[defined], "st": st[defined]}))
    summary = pd.DataFrame(rows, columns=["indeks", "input", "s1", "st", "n_kecamatan"])
    return summary, (pd.concat(per, ignore_index=True) if per else pd.DataFrame(columns=["kode_kecamatan", "indeks", "input", "s1", "st"]))


def _published(frames: dict[str, pd.DataFrame], index: str, codes: pd.Index) -> np.ndarray:
    table, column = PUBLISHED[index]
    frame = frames[table]
    return frame.set_index("kode_kecamatan")[column].reindex(codes).to_numpy(dtype=float, na_value=np.nan)


def ikn_parts(scores: survey.IndexScores, replicates: bootstrap.Replicates, read: PeriodInputs, ctx: PeriodContext) -> tuple[unc.IknParts, pd.Series]:
    """The IKN model's parts: survey pillar per replicate, event pillar, context values
    with their goalposts; and the red-alert flag per kecamatan."""
    m, codes = ctx.methodology, ctx.codes()
    events = events_mod.event_pillar(read.reports, codes, read.population["p_total"], ctx.period, m)
    values = context_mod.context_values(read.stats, ctx.kecamatan(), m)
    spec = m.ikn["context"]["indicators"]
    matrix = values.pivot_table(index="kode_kecamatan", columns="indikator", values="nilai", aggfunc="first")
    matrix = matrix.reindex(index=codes, columns=list(spec)).to_numpy(dtype=float, na_value=np.nan)
    index = m.ikn["index"]
    parts = unc.IknParts(
        survey=replicates.stacked().mean(axis=-1), events=events["pilar_peristiwa"].to_numpy(dtype=float, na_value=np.nan),
        context=matrix, direction=np.array([1.0 if v[0] == "+" else -1.0 for v in spec.values()]),
        lo=np.array([float(v[1]) for v in spec.values()]), hi=np.array([float(v[2]) for v in spec.values()]),
        min_indicators=int(m.ikn["context"]["min_indicators"]),
        exponents=np.array([float(index["exponents"][p]) for p in ("S", "E", "C")]), floor=float(index["floor"]),
        replicates=replicates.count,
    )
    return parts, events["alert_merah"].fillna(False).astype(bool)


@dataclass
class _Analysed:
    """One index's part of the period's tables; what it was computed from is let go when
    the index is done, so the step holds one index's replicates at a time (issue 19)."""

    table: pd.DataFrame
    sensitivity: tuple[pd.DataFrame, pd.DataFrame]
    groups: pd.DataFrame
    inputs: list[str]
    dimensions: list[str]


def _score(window: pd.DataFrame, variables: list[str], ctx: PeriodContext, read: PeriodInputs) -> survey.IndexScores:
    """Score one index; its design then keeps of the window only the columns the groups
    label respondents by (the bootstrap reads the design's codes, not the window), so the
    step need not hold the whole window through the analysis (issue 19)."""
    scores = survey.score_index(window, variables, ctx.codes(), read.population, ctx.methodology)
    kept = [c for c in ctx.methodology.raw["groups"]["dimensions"] if c in window.columns]
    return replace(scores, design=replace(scores.design, window=window[kept]))


def _ihai(ctx: PeriodContext, scores: survey.IndexScores, published: dict[str, pd.DataFrame], settings: unc.Settings,
          units: dict[str, np.ndarray], streams: list) -> _Analysed:
    m, kecamatan, codes = ctx.methodology, ctx.kecamatan(), ctx.codes()
    skor = _published(published, "ihai", codes)
    weights = np.array([m.ihai_weights[v] for v in scores.variables])
    model = unc.ihai_model(_replicates(scores, ctx, settings, streams[0]), weights, skor, settings,
                           float(m.ikn["index"]["floor"]))
    out = unc.analyse(model, units, settings, streams[1], sobol_level="")
    del model
    labels = groups.group_labels(scores, m)
    return _Analysed(summarise(out, skor, kecamatan, m.ihai_bands, settings), _sensitivity("ihai", out, codes),
                     groups.group_scores(scores, labels, weights, m.min_n), out.inputs, sorted(labels))


def _ikn(ctx: PeriodContext, scores: survey.IndexScores, read: PeriodInputs, published: dict[str, pd.DataFrame],
         settings: unc.Settings, units: dict[str, np.ndarray], streams: list) -> _Analysed:
    m, kecamatan, codes = ctx.methodology, ctx.kecamatan(), ctx.codes()
    skor = _published(published, "ikn", codes)
    parts, alert = ikn_parts(scores, _replicates(scores, ctx, settings, streams[2]), read, ctx)
    out = unc.analyse(unc.ikn_model(parts, skor, settings), units, settings, streams[3], sobol_level="")
    del parts
    table = summarise(out, skor, kecamatan, m.ikn_bands, settings)
    top = m.risk_bands.lower[0]
    risky = ((100.0 - out.scores) >= top) | alert.to_numpy()[None, :]
    valid = (~np.isnan(out.scores)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["p_kerawanan_tinggi"] = np.where(~np.isnan(skor) & (valid > 0),
                                               (risky & ~np.isnan(out.scores)).sum(axis=0) / valid, np.nan)
    labels = groups.group_labels(scores, m)
    return _Analysed(table, _sensitivity("ikn", out, codes),
                     groups.group_scores(scores, labels, np.ones(len(scores.variables)), m.min_n), out.inputs,
                     sorted(labels))


def build_uncertainty(ctx: PeriodContext, read: PeriodInputs, published: dict[str, pd.DataFrame],
                      settings: unc.Settings | None = None) -> MartSet:
    """The six tables of the period. ``published``: the period's published
    ``marts.ihai_kecamatan`` and ``marts.ikn_kecamatan`` as frames. Both indices are
    scored first, then ``read``'s survey window is let go (``read.window`` is ``None``
    after the call): it is the step's largest input (≈ 0.35 GB on a national month) and
    nothing after reads it. Then one index's analysis after the other, each with its own
    random streams (IHaI: bootstrap, analysis; IKN: the same)."""
    settings = settings or unc.Settings.of(ctx.methodology)
    m = ctx.methodology
    window, read.window = read.window, None
    scored = {"ihai": _score(window, list(m.ihai["variables"]), ctx, read),
              "ikn": _score(window, m.ikn_dimensions, ctx, read)}
    del window
    units = _units(ctx.kecamatan())
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(settings.seed).spawn(4)]
    ihai = _ihai(ctx, scored.pop("ihai"), published, settings, units, streams)
    ikn = _ikn(ctx, scored.pop("ikn"), read, published, settings, units, streams)
    frames = {
        "marts.ihai_ketidakpastian": ihai.table,
        "marts.ikn_ketidakpastian": ikn.table,
        "marts.sensitivitas": pd.concat([ihai.sensitivity[0], ikn.sensitivity[0]], ignore_index=True),
        "marts.sensitivitas_kecamatan": pd.concat([ihai.sensitivity[1], ikn.sensitivity[1]], ignore_index=True),
        "marts.ihai_kelompok": ihai.groups,
        "marts.ikn_kelompok": ikn.groups,
    }
    inside = ihai.table["skor_dalam_interval"].dropna()
    facts = {
        "n_draws": settings.n_draws, "bootstrap_draws": settings.bootstrap_draws, "seed": settings.seed,
        "inputs": {"ihai": ihai.inputs, "ikn": ikn.inputs},
        "ihai_inside_interval": float(inside.mean()) if len(inside) else None,
        "ikn_inside_interval": float(ikn.table["skor_dalam_interval"].dropna().mean()) if ikn.table["skor_dalam_interval"].notna().any() else None,
        "group_dimensions": ihai.dimensions,
    }
    return MartSet({name: _table(frame, name, ctx) for name, frame in frames.items()}, facts)
