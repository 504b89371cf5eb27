"""Uncertainty and sensitivity of scores and ranks (scoring/uncertainty.py, bootstrap.py,
uncertainty_marts.summarise) and scores by respondent group (scoring/groups.py), on small
in-memory inputs built like the scoring unit tests'."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harmoni_pipeline.scoring import bootstrap, groups, survey
from harmoni_pipeline.scoring import uncertainty as unc
from harmoni_pipeline.scoring.marts import PeriodInputs
from harmoni_pipeline.scoring.uncertainty_marts import summarise
from tests.scoring_helpers import (
    IHAI_VARS, IKN_DIMS, IHAI_ITEMS, IKN_ITEMS, KAB, M, even_cells, full_context, idx, pop_table,
    population_rows, reports_frame, respondents, run_ihai, run_ikn, total_row, window_frame,
)

CODES = ["35.13.01", "35.13.02", "35.13.03", "35.13.04"]
QUIET = dict(bootstrap_draws=0, weight_noise=0.0, exponent_noise=0.0, goalpost_noise=0.0, aggregation_switch=0.0,
             raking_off=0.0, draws=50)


def settings(**overrides) -> unc.Settings:
    return unc.Settings.of(M, **{"draws": 200, "bootstrap_draws": 40, **overrides})


def kecamatan(codes=CODES) -> pd.DataFrame:
    return pd.DataFrame({"kode": codes, "kode_kabupaten": KAB, "kode_provinsi": "35"})


def noisy_window(levels: dict[str, float], n: int = 40, seed: int = 0, sexes=None) -> pd.DataFrame:
    """``n`` respondents per kecamatan, answers 1–5 scattered around ``levels`` (0–100)."""
    rng = np.random.default_rng(seed)
    rows = []
    for kode, level in levels.items():
        centre = 1 + 4 * level / 100
        def answers(i, c=centre):
            x = np.clip(np.round(c + rng.normal(0, 0.8, len(IHAI_ITEMS) + len(IKN_ITEMS))), 1, 5)
            return {item: (6 - v if item in M.reverse_items else v) for item, v in zip(IHAI_ITEMS + IKN_ITEMS, x)}
        rows += respondents(kode, n, answers, sexes=sexes)
    return window_frame(rows)


def population(codes=CODES):
    rows = []
    for k in codes:
        rows += population_rows(k, even_cells(1000)) + [total_row(k, 40_000)]
    return pop_table(codes, rows)


def ihai_run(window, s: unc.Settings, codes=CODES, seed=1):
    scores, published = run_ihai(window, codes, population(codes))
    skor = published["ihai"].reindex(codes).to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    reps = bootstrap.resample(scores, M, s.bootstrap_draws, rng) if s.bootstrap_draws else bootstrap.published(scores)
    weights = np.array([M.ihai_weights[v] for v in IHAI_VARS])
    model = unc.ihai_model(reps, weights, skor, s, float(M.ikn["index"]["floor"]))
    kec = kecamatan(codes)
    units = {"": np.zeros(len(codes), dtype=np.int64), "_provinsi": np.zeros(len(codes), dtype=np.int64),
             "_nasional": np.zeros(len(codes), dtype=np.int64)}
    outcome = unc.analyse(model, units, s, np.random.default_rng(seed + 1))
    return outcome, summarise(outcome, skor, kec, M.ihai_bands, s)


LEVELS = {CODES[0]: 60, CODES[1]: 65, CODES[2]: 70, CODES[3]: 72}


def test_without_noise_the_median_is_the_published_score_and_bands_collapse():
    outcome, table = ihai_run(noisy_window(LEVELS), settings(**QUIET))
    assert outcome.inputs == []
    assert np.allclose(table["skor_median"], table["skor"], rtol=0, atol=1e-9)
    assert np.allclose(table["skor_p05"], table["skor"], atol=1e-9) and np.allclose(table["skor_p95"], table["skor"], atol=1e-9)
    assert (table["peringkat_p05"] == table["peringkat"]).all() and (table["peringkat_p95"] == table["peringkat"]).all()
    assert table["skor_dalam_interval"].all()
    assert sorted(table["peringkat"]) == [1, 2, 3, 4]
    assert table.loc[table["skor"].idxmax(), "peringkat"] == 1


def test_ikn_without_noise_reproduces_the_published_ikn():
    window = noisy_window(LEVELS)
    pop = population()
    reports = reports_frame([])
    scores, ev, values, published = run_ikn(window, CODES, pop, reports, full_context(CODES)[:-4])
    from harmoni_pipeline.scoring.uncertainty_marts import ikn_parts

    class Ctx:  # the parts of a PeriodContext ikn_parts reads
        methodology, period = M, "2025-06"
        codes = staticmethod(lambda: idx(CODES))
        kecamatan = staticmethod(lambda: kecamatan())

    from tests.scoring_helpers import stats_frame
    read = PeriodInputs(window=window, stats=stats_frame(full_context(CODES)[:-4]), population=pop, reports=reports)
    s = settings(**QUIET)
    parts, alert = ikn_parts(scores, bootstrap.published(scores), read, Ctx())
    skor = published["ikn"].reindex(CODES).to_numpy(dtype=float)
    outcome = unc.analyse(unc.ikn_model(parts, skor, s), {"": np.zeros(4, dtype=np.int64)}, s, np.random.default_rng(0))
    assert np.isnan(skor[3]) and np.isnan(outcome.scores[:, 3]).all()  # no context for the last: no IKN
    assert np.allclose(outcome.scores[:, :3], skor[None, :3], atol=1e-9)
    noisy = settings(draws=100)
    outcome = unc.analyse(unc.ikn_model(parts, skor, noisy), {"": np.zeros(4, dtype=np.int64)}, noisy, np.random.default_rng(0))
    assert set(outcome.inputs) == {"eksponen", "agregasi", "batas_konteks", "raking"}  # one replicate: no 'sampel'
    assert outcome.scores[:, :3].std(axis=0).min() > 0


def test_a_kecamatan_far_above_the_others_keeps_rank_one_in_every_draw():
    levels = {CODES[0]: 95, CODES[1]: 40, CODES[2]: 45, CODES[3]: 50}
    outcome, table = ihai_run(noisy_window(levels), settings())
    assert (outcome.ranks[""][:, 0] == 1).all()
    row = table.iloc[0]
    assert row["peringkat"] == row["peringkat_median"] == row["peringkat_p05"] == row["peringkat_p95"] == 1
    assert row["p_kategori_tinggi"] == 1.0


def test_separated_ranks_are_narrow_and_a_tie_is_wide():
    window = noisy_window({CODES[0]: 90, CODES[1]: 30}, seed=3)
    twin = window[window["kode_kecamatan"] == CODES[1]].assign(kode_kecamatan=CODES[2])  # same answers as 02
    far = noisy_window({CODES[3]: 10}, seed=4)
    outcome, table = ihai_run(pd.concat([window, twin, far], ignore_index=True), settings())
    table = table.set_index("kode_kecamatan")
    assert table.loc[CODES[0], "peringkat_p05"] == table.loc[CODES[0], "peringkat_p95"] == 1
    assert table.loc[CODES[3], "peringkat_p05"] == table.loc[CODES[3], "peringkat_p95"] == 4
    for tied in CODES[1:3]:  # equal published scores: the draws put either one first
        assert (table.loc[tied, "peringkat_p05"], table.loc[tied, "peringkat_p95"]) == (2, 3)
    assert table["skor_dalam_interval"].all()


def test_more_noise_never_narrows_a_band():
    window = noisy_window(LEVELS)
    widths = []
    for noise in (0.0, 0.1, 0.25, 0.5):
        _, table = ihai_run(window, settings(**{**QUIET, "draws": 300, "weight_noise": noise}))
        widths.append((table["skor_p95"] - table["skor_p05"]).to_numpy())
    for narrow, wide in zip(widths, widths[1:]):
        assert (wide >= narrow - 1e-12).all()
    assert (widths[-1] > widths[0]).all()


def test_same_seed_same_bytes_and_another_seed_differs():
    window = noisy_window(LEVELS)

    def parquet(seed):
        _, table = ihai_run(window, settings(draws=60, bootstrap_draws=10, seed=seed), seed=seed)
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink)
        return sink.getvalue()

    assert parquet(5) == parquet(5)
    assert parquet(5) != parquet(6)


def test_sobol_of_the_rank_names_the_inputs_and_sampling_dominates_a_near_tie():
    window = noisy_window({CODES[0]: 60, CODES[1]: 60.5, CODES[2]: 20, CODES[3]: 95}, seed=9)
    outcome, _ = ihai_run(window, settings(draws=300))
    assert outcome.inputs == ["sampel", "bobot", "agregasi", "raking"]
    near = outcome.st[:, :2].mean(axis=1)
    assert near[0] == near.max() and near[0] > 0.2  # which respondents were drawn moves a near-tie most
    assert np.isnan(outcome.st[:, 3]).all()  # always rank 1: no variance, no index


def test_ranks_within_units():
    scores = np.array([[10.0, 30.0, 20.0, np.nan, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    unit = np.array([0, 0, 0, 1, 1])
    got = unc.ranks(scores, unit)
    assert np.array_equal(got[0], [3, 1, 2, np.nan, 1], equal_nan=True)
    assert np.array_equal(got[1], [3, 2, 1, 2, 1])


# ---------------------------------------------------------------- groups
def group_table(window, codes, m=M, index="ihai"):
    variables = IHAI_VARS if index == "ihai" else IKN_DIMS
    scores = survey.score_index(window, variables, idx(codes), population(codes), m)
    weights = np.array([m.ihai_weights[v] for v in IHAI_VARS]) if index == "ihai" else np.ones(len(IKN_DIMS))
    return scores, groups.group_scores(scores, groups.group_labels(scores, m), weights, m.min_n)


def test_a_single_group_kecamatan_gets_its_overall_score():
    window = noisy_window({CODES[0]: 70}, n=35, sexes=["P"] * 35)
    for index in ("ihai", "ikn"):
        scores, table = group_table(window, CODES[:1], index=index)
        sex = table[table["dimensi_kelompok"] == "jenis_kelamin"]
        assert list(sex["kelompok"]) == ["P"] and sex["n"].item() == 35
        overall = (scores.variable_score * (np.array([M.ihai_weights[v] for v in IHAI_VARS]) if index == "ihai" else 1)).sum() / (
            sum(M.ihai_weights.values()) if index == "ihai" else len(IKN_DIMS))
        assert np.isclose(sex["skor"].item(), overall, atol=1e-9)
    assert set(table["dimensi_kelompok"]) == {"jenis_kelamin", "kelompok_umur"}  # no coded education/profession


def test_suppression_at_min_n_minus_one_and_not_at_min_n_with_its_complement():
    m = M.with_min_n(10)
    for women, suppressed in ((9, True), (10, False)):
        sexes = ["P"] * women + ["L"] * 40
        window = noisy_window({CODES[0]: 70}, n=len(sexes), sexes=sexes)
        _, table = group_table(window, CODES[:1], m=m)
        sex = table[table["dimensi_kelompok"] == "jenis_kelamin"].set_index("kelompok")
        assert (sex.loc["P", "alasan_null"] == "insufficient_sample") == suppressed
        assert pd.isna(sex.loc["P", "skor"]) == suppressed
        # the other sex would give the small one away through the published overall score
        assert (sex.loc["L", "alasan_null"] == groups.COMPLEMENTARY) == suppressed
        assert pd.isna(sex.loc["L", "skor"]) == suppressed


def test_groups_of_an_unpublished_kecamatan_carry_its_status_and_coded_columns_add_dimensions():
    window = noisy_window({CODES[0]: 70, CODES[1]: 50}, n=60)
    window.loc[window["kode_kecamatan"] == CODES[1], IHAI_ITEMS] = np.nan  # 02 answered IKN only
    window["pekerjaan"] = np.where(np.arange(len(window)) % 2, "petani", "guru")
    window["pendidikan"] = None
    _, table = group_table(window, CODES[:2])
    assert set(table["dimensi_kelompok"]) == {"jenis_kelamin", "kelompok_umur", "pekerjaan"}
    assert set(table["kode_kecamatan"]) == {CODES[0]}  # 02 has no IHaI respondent: no rows
    work = table[table["dimensi_kelompok"] == "pekerjaan"]
    assert list(work["kelompok"]) == ["guru", "petani"] and work["skor"].notna().all()
    window = noisy_window({CODES[0]: 70}, n=20)
    _, table = group_table(window, CODES[:1])  # 20 < min_n 30: the kecamatan is not published
    assert (table["alasan_null"] == "insufficient_sample").all() and table["skor"].isna().all()


def test_bootstrap_by_cells_equals_raking_the_resampled_rows():
    """The bootstrap rakes (kecamatan, sex, band) cells with counts; a replicate equals
    raking and averaging the resampled respondents themselves (the published functions)."""
    window = noisy_window(LEVELS, n=45, seed=2)
    window.loc[window.index % 7 == 0, "X04_PAR"] = np.nan  # some answers missing
    scores, _ = run_ihai(window, CODES, population())
    plan = scores.design
    reps = bootstrap.resample(scores, M, 3, np.random.default_rng(11))
    rng = np.random.default_rng(11)  # the same draws, row by row
    order = np.argsort(plan.group, kind="stable")
    group = plan.group[order]
    n = np.bincount(group, minlength=4)
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    for r in range(3):
        pick = start[group] + np.floor(rng.random((1, len(group)))[0] * n[group]).astype(np.int64)
        rows = order[pick]
        w = plan.rake(M, group, plan.sex[rows], plan.band[rows]).weights
        means, _ = survey.variable_means(group, 4, w, scores.respondent_variable[rows])
        plain, _ = survey.variable_means(group, 4, np.ones(len(rows)), scores.respondent_variable[rows])
        assert np.allclose(reps.raked[r], means, atol=1e-9, equal_nan=True)
        assert np.allclose(reps.unweighted[r], plain, atol=1e-9, equal_nan=True)
    assert not np.allclose(reps.raked[0], reps.raked[1])


def test_raking_cells_with_counts_equals_raking_their_rows():
    from harmoni_pipeline.scoring import raking

    rng = np.random.default_rng(4)
    groups, rows = 5, 400
    group, sex, band = rng.integers(0, groups, rows), rng.integers(0, 2, rows), rng.integers(0, 4, rows)
    sex_m, band_m = rng.uniform(500, 1500, (groups, 2)), rng.uniform(200, 900, (groups, 4))
    band_m *= (sex_m.sum(axis=1) / band_m.sum(axis=1))[:, None]
    has = np.array([True, True, True, False, True])
    kw = dict(tolerance=1e-6, max_rounds=50, trim_low=0.2, trim_high=5.0)
    by_row = raking.rake(group, sex, band, sex_m, band_m, has, **kw)
    key = (group * 2 + sex) * 4 + band
    used, index, count = np.unique(key, return_inverse=True, return_counts=True)
    by_cell = raking.rake(used // 8, (used % 8) // 4, used % 4, sex_m, band_m, has, counts=count, **kw)
    assert np.allclose(by_cell.weights[index], by_row.weights, rtol=1e-9)
    assert list(by_cell.weighting) == list(by_row.weighting) and (by_cell.rounds == by_row.rounds).all()


def test_an_input_under_which_no_rank_moves_has_no_sensitivity_row():
    """A month where no kecamatan's rank moves under an input (a small landing zone) has no
    indices for it: the average over no kecamatan is left out, never published as NULL."""
    import pandas as pd

    from harmoni_pipeline.scoring import uncertainty as unc
    from harmoni_pipeline.scoring.uncertainty_marts import _sensitivity

    codes = pd.Index(["35.13.01", "35.13.02"])
    nan = np.full(2, np.nan)
    outcome = unc.Outcome(inputs=["bobot", "sampel"], scores=np.zeros((2, 2)), ranks={},
                          s1=np.array([nan, [0.2, 0.4]]), st=np.array([nan, [0.3, 0.5]]))
    summary, per = _sensitivity("ihai", outcome, codes)
    assert list(summary["input"]) == ["sampel"] and summary["st"].tolist() == [0.4]
    assert summary["n_kecamatan"].tolist() == [2] and set(per["input"]) == {"sampel"}
