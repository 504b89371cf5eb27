"""Hypothesis properties of the scoring modules: ranges, monotonicity, row-order invariance, and
formulas cross-checked by hand.

Unit tests called as plain functions on small in-memory inputs — no warehouse, no Dagster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harmoni_pipeline.scoring import context as context_mod
from harmoni_pipeline.scoring import events as events_mod
from harmoni_pipeline.scoring import ikn as ikn_mod
from harmoni_pipeline.scoring import survey
from tests.scoring_helpers import (
    AGE_OF_BAND, ALL_ITEMS, ASPECTS, ASPEK_COLS, BANDS, CONTEXT_INDICATORS, DIMS, FORWARD, IHAI_ITEMS,
    IHAI_VARS, IKN_DIMS, IKN_ITEMS, K1, K2, K3, KAB, LAST, M, M1, PERIOD, PROPERTY_HEAVY, PROPERTY_SURVEY,
    REVERSED, SEXES, context_row, direct_population, even_cells, idx, kecamatan_frame, pop_table,
    population_rows, report, reports_frame, run_ihai, stats_frame, total_row, uniform_answers, window_frame,
)


def test_direct_population_matches_population_table():
    cells = np.arange(1.0, 9.0).reshape(2, 4) * 10
    rows = population_rows(K1, {(s, b): cells[i, j] for i, s in enumerate(SEXES) for j, b in enumerate(BANDS)})
    rows += population_rows(K1, {("L", "0-16"): 7.0, ("P", "0-16"): 3.0}) + [total_row(K2, 500)]
    made = pop_table([K1, K2, K3], rows)
    direct = direct_population([K1, K2, K3], {K1: cells}, {K1: cells.sum() + 10, K2: 500.0})
    pd.testing.assert_frame_equal(made[direct.columns], direct, check_index_type=False, check_dtype=False)


@st.composite
def survey_cases(draw, max_kec: int = 3, max_n: int = 8):
    """A window over up to ``max_kec`` kecamatan, each with sex × band margins or none.
    Respondent 0 always answers an item of each index (a window without any respondent
    has its own test)."""
    k = draw(st.integers(1, max_kec))
    n = draw(st.integers(1, max_n))
    codes = [f"{KAB}.{i + 1:02d}" for i in range(k)]
    raw = draw(hnp.arrays(np.int64, (n, len(ALL_ITEMS)), elements=st.integers(1, 6)))  # 6 = missing
    answers = np.where(raw == 6, np.nan, raw.astype(float))
    for item in ("X01_PER", "KN1_PER"):
        col = ALL_ITEMS.index(item)
        answers[0, col] = 3.0 if np.isnan(answers[0, col]) else answers[0, col]
    kec = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    sex = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    band = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 3)))
    margins = {}
    for code in codes:
        if draw(st.booleans()):
            margins[code] = draw(hnp.arrays(float, (2, 4), elements=st.floats(1, 5000)))
    window = pd.DataFrame(answers, columns=ALL_ITEMS)
    window.insert(0, "umur", [AGE_OF_BAND[i] for i in band])
    window.insert(0, "jenis_kelamin", [SEXES[i] for i in sex])
    window.insert(0, "kode_kecamatan", [codes[i] for i in kec])
    pop = direct_population(codes, margins, {c: 1000.0 + 10 * i for i, c in enumerate(codes)})
    return codes, window, pop


@st.composite
def report_lists(draw, codes):
    rows = []
    for i in range(draw(st.integers(0, 6))):
        lapor = LAST - pd.Timedelta(days=draw(st.integers(0, 400)))
        tindak = draw(st.one_of(st.none(), st.integers(0, 90)))
        selesai = draw(st.one_of(st.none(), st.integers(0, 90)))
        rows.append(report(
            f"R{i}", draw(st.sampled_from(codes)), lapor,
            kejadian=lapor - pd.Timedelta(days=draw(st.integers(0, 30))),
            kualifikasi=draw(st.sampled_from(["hijau", "kuning", "merah1", "merah2"])),
            status=draw(st.sampled_from(["baru", "ditangani", "selesai", "ditolak"])),
            tindak=None if tindak is None else lapor + pd.Timedelta(days=tindak),
            selesai=None if selesai is None else lapor + pd.Timedelta(days=selesai),
        ))
    return reports_frame(rows)


@st.composite
def context_lists(draw, codes):
    """Random context values of the kecamatan and their kabupaten; the kabupaten always has
    ``tpt`` (a scope without any context value has its own test)."""
    rows = [context_row(KAB, "tpt", draw(st.floats(0, 100)), 2019)]
    for code in codes + [KAB]:
        for ind in CONTEXT_INDICATORS:
            if draw(st.booleans()):
                rows.append(context_row(code, ind, draw(st.floats(0, 100)), draw(st.integers(2020, 2025))))
    return rows


def in_range(values) -> bool:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return bool(((v >= -1e-9) & (v <= 100 + 1e-9)).all())


FIXED_EVENTS = {k: events_mod.event_pillar(reports_frame([]), idx([f"{KAB}.{i + 1:02d}" for i in range(k)]),
                                           pd.Series(dtype=float), PERIOD, M) for k in (1, 2, 3)}
FIXED_CONTEXT = {k: pd.DataFrame({"pilar_konteks": [35.0] * k}, index=idx([f"{KAB}.{i + 1:02d}" for i in range(k)]))
                 for k in (1, 2, 3)}


@PROPERTY_HEAVY
@given(case=survey_cases(), data=st.data())
def test_property_survey_scores_in_0_100_and_independent_of_row_order(case, data):
    codes, window, pop = case
    perm = np.array(data.draw(st.permutations(range(len(window)))), dtype=int)
    shuffled = window.iloc[perm].reset_index(drop=True)
    ev, ctx = FIXED_EVENTS[len(codes)], FIXED_CONTEXT[len(codes)]
    s0, ih0 = run_ihai(window, codes, pop, M1)
    k0 = survey.score_index(window, IKN_DIMS, idx(codes), pop, M1)
    ik0 = ikn_mod.ikn_kecamatan(k0, ev, ctx, M1)
    # ranges: variables, aspects, IHaI, dimensions, PPA aspects, IKN survey pillar and index
    for sc in (s0, k0):
        assert in_range(sc.variable_score) and in_range(sc.aspect_score)
    assert in_range(ih0[["ihai", *[f"dim_{d}" for d in DIMS], *ASPEK_COLS]].to_numpy())
    assert in_range(ih0["ihai_skala10"].to_numpy() * 10)
    assert in_range(ik0[["pilar_survei", "ikn", "kerawanan"]].to_numpy())
    ok = ih0["status"] == "ok"
    assert ih0.loc[ok, "ihai"].notna().all() and ih0.loc[~ok, "ihai"].isna().all()
    assert (ik0["ikn"].notna() == (ik0["status"] == "ok")).all()
    # row order
    s1, ih1 = run_ihai(shuffled, codes, pop, M1)
    pd.testing.assert_frame_equal(ih0, ih1, check_exact=False, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(s1.variable_score, s0.variable_score, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(s1.aspect_score, s0.aspect_score, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(s1.variable_n, s0.variable_n)
    answered = window[IHAI_ITEMS].notna().any(axis=1).to_numpy()  # each respondent keeps its weight
    w0, w1 = np.full(len(window), np.nan), np.full(len(window), np.nan)
    w0[answered] = s0.weights
    w1[perm[answered[perm]]] = s1.weights
    np.testing.assert_allclose(w1, w0, rtol=1e-9)
    k1 = survey.score_index(shuffled, IKN_DIMS, idx(codes), pop, M1)
    np.testing.assert_allclose(k1.variable_score, k0.variable_score, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(k1.status, k0.status)
    np.testing.assert_allclose(k1.n_eff, k0.n_eff, rtol=1e-9)


@PROPERTY_HEAVY
@given(data=st.data())
def test_property_event_pillar_in_0_100_and_independent_of_row_order(data):
    k = data.draw(st.integers(1, 3))
    codes = [f"{KAB}.{i + 1:02d}" for i in range(k)]
    reports = data.draw(report_lists(codes))
    rperm = data.draw(st.permutations(range(len(reports))))
    p_total = pd.Series({c: data.draw(st.one_of(st.just(np.nan), st.floats(1, 1e6))) for c in codes})
    ev = events_mod.event_pillar(reports, idx(codes), p_total, PERIOD, M)
    assert in_range(ev[["e1", "e2", "e3", "pilar_peristiwa"]].to_numpy())
    assert ev["alert_merah"].dtype == bool and (ev["n_laporan"] >= 0).all()
    ev1 = events_mod.event_pillar(reports.iloc[list(rperm)].reset_index(drop=True), idx(codes), p_total, PERIOD, M)
    pd.testing.assert_frame_equal(ev, ev1, check_exact=False, rtol=1e-12)
    ik = ikn_mod.ikn_kecamatan(FIXED_SURVEY[k], ev, FIXED_CONTEXT[k], M1).set_index("kode_kecamatan")
    assert in_range(ik[["pilar_peristiwa", "e1", "e2", "e3", "ikn", "kerawanan"]].to_numpy())
    assert ik["alert_merah"].notna().all()
    assert (ik.loc[ik["alert_merah"], "tingkat_kerawanan"] == "Tinggi").all()


@PROPERTY_HEAVY
@given(data=st.data())
def test_property_context_pillar_in_0_100_and_independent_of_row_order(data):
    k = data.draw(st.integers(1, 3))
    codes = [f"{KAB}.{i + 1:02d}" for i in range(k)]
    rows = data.draw(context_lists(codes))
    shuffled = [rows[j] for j in data.draw(st.permutations(range(len(rows))))]
    key = ["kode_kecamatan", "indikator"]
    v0 = context_mod.context_values(stats_frame(rows), kecamatan_frame(codes), M)
    assert in_range(v0["skor"].to_numpy())
    ctx = context_mod.context_pillar(v0, idx(codes), M)
    assert in_range(ctx["pilar_konteks"].to_numpy())
    v1 = context_mod.context_values(stats_frame(shuffled), kecamatan_frame(codes), M)
    pd.testing.assert_frame_equal(v0.sort_values(key).reset_index(drop=True), v1.sort_values(key).reset_index(drop=True))
    assert ((ctx["n_konteks"] >= 2) == ctx["pilar_konteks"].notna()).all()


def test_population_table_independent_of_row_order():
    rows = population_rows(K1, {(s, b): 10.0 * (j + 1) for j, (s, b) in enumerate((s, b) for s in SEXES for b in ["0-16"] + BANDS)})
    rows += population_rows(K1, even_cells(3.0), tahun=2022) + [total_row(K2, 700), total_row(K2, 650, tahun=2023)]
    rows += population_rows(K3, {("L", "17-24"): 5.0, ("P", "17-24"): 6.0})
    base = pop_table([K1, K2, K3], rows)
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(len(rows))
        pd.testing.assert_frame_equal(base, pop_table([K1, K2, K3], [rows[j] for j in perm]))


def _fixed_survey(k: int) -> survey.IndexScores:
    codes = [f"{KAB}.{i + 1:02d}" for i in range(k)]
    window = window_frame([(c, "L", 30, uniform_answers(IKN_ITEMS, 25.0 * (i + 1))) for i, c in enumerate(codes)])
    return survey.score_index(window, IKN_DIMS, idx(codes), direct_population(codes, {}, {}), M1)


FIXED_SURVEY = {k: _fixed_survey(k) for k in (1, 2, 3)}


@st.composite
def raise_cases(draw, items):
    codes, window, pop = draw(survey_cases())
    i = draw(st.integers(0, len(window) - 1))
    item = draw(st.sampled_from(items))
    low = draw(st.integers(1, 4))
    high = draw(st.integers(low + 1, 5))
    base = window.copy()
    base.loc[i, item] = float(low)
    raised = base.copy()
    raised.loc[i, item] = float(high)
    return codes, base, raised, pop, i, item


def compare_raise(codes, base, raised, pop, i, item, sign):
    """``sign`` +1: the raised score is ≥ the base; −1: ≤."""
    var, aspect = item.rsplit("_", 1)
    variables = IHAI_VARS if var in IHAI_VARS else IKN_DIMS
    j, a = variables.index(var), ASPECTS.index(aspect)
    g = codes.index(base.loc[i, "kode_kecamatan"])
    s0 = survey.score_index(base, variables, idx(codes), pop, M1)
    s1 = survey.score_index(raised, variables, idx(codes), pop, M1)
    # weights depend on who answered and their sex/age only: raising an answer leaves them
    # fixed, so the property holds for raked kecamatan too, not only unweighted ones
    np.testing.assert_array_equal(s0.weights, s1.weights)
    np.testing.assert_array_equal(s0.status, s1.status)
    for x0, x1 in ((s0.variable_score[g, j], s1.variable_score[g, j]), (s0.aspect_score[g, j, a], s1.aspect_score[g, j, a])):
        assert np.isnan(x0) == np.isnan(x1)
        if not np.isnan(x0):
            assert sign * (x1 - x0) >= -1e-9
    # (IHaI, dimensions and S are positive-weight means of these variable scores, hence monotone too)
    other = [k for k in range(len(codes)) if k != g]
    np.testing.assert_array_equal(s0.variable_score[other], s1.variable_score[other])


@PROPERTY_SURVEY
@given(case=raise_cases(FORWARD))
def test_property_raising_an_answer_never_lowers_its_variable(case):
    compare_raise(*case, sign=+1)


@PROPERTY_SURVEY
@given(case=raise_cases(REVERSED))
def test_property_raising_a_reversed_answer_never_raises_its_variable(case):
    assert "X03_AKS" in REVERSED
    compare_raise(*case, sign=-1)


def test_ihai_formulas_against_a_hand_computation():
    rng = np.random.default_rng(3)
    n = 12
    rows = []
    for i in range(n):
        answers = {item: int(rng.integers(1, 6)) for item in IHAI_ITEMS}
        if i == 0:
            answers["X05_PAR"] = None  # one incomplete respondent: out of H_i, in the other variables
        rows.append((K1, SEXES[i % 2], AGE_OF_BAND[(i // 2) % 4], answers))
    window = window_frame(rows)
    pop = direct_population([K1], {K1: 100.0 + 37 * np.arange(8.0).reshape(2, 4)}, {})
    scores, ih = run_ihai(window, [K1], pop, M.with_min_n(10))
    assert scores.weighting[0] == "raked" and ih.loc[K1, "status"] == "ok"
    w = scores.weights
    W = np.array([M.ihai_weights[v] for v in IHAI_VARS])
    lo, hi = M.scale
    x = window[IHAI_ITEMS].to_numpy(dtype=float).reshape(n, 10, 3)
    s = 100 * (x - lo) / (hi - lo)
    for j, v in enumerate(IHAI_VARS):
        for a, asp in enumerate(ASPECTS):
            if f"{v}_{asp}" in M.reverse_items:
                s[:, j, a] = 100 - s[:, j, a]
    V = s.mean(axis=2)
    Vk = np.array([np.nansum(w * V[:, j]) / w[~np.isnan(V[:, j])].sum() for j in range(10)])
    np.testing.assert_allclose(scores.variable_score[0], Vk, rtol=1e-12)
    ihai = (W * Vk).sum() / W.sum()
    assert ih.loc[K1, "ihai"] == pytest.approx(ihai, rel=1e-12)
    assert ih.loc[K1, "ihai_skala10"] == pytest.approx(ihai / 10, rel=1e-12)
    for dim in DIMS:
        sel = np.array([M.ihai_dimension_of[v] == dim for v in IHAI_VARS])
        assert ih.loc[K1, f"dim_{dim}"] == pytest.approx((W[sel] * Vk[sel]).sum() / W[sel].sum(), rel=1e-12)
    A = np.array([[np.nansum(w * s[:, j, a]) / w[~np.isnan(s[:, j, a])].sum() for a in range(3)] for j in range(10)])
    for a, col in enumerate(ASPEK_COLS):
        assert ih.loc[K1, col] == pytest.approx((W * A[:, a]).sum() / W.sum(), rel=1e-12)
    complete = ~np.isnan(V).any(axis=1)
    H = (V[complete] * W).sum(axis=1) / W.sum()
    wc = w[complete]
    hbar = (wc * H).sum() / wc.sum()
    se = np.sqrt((wc * (H - hbar) ** 2).sum() / wc.sum()) / np.sqrt(wc.sum() ** 2 / (wc ** 2).sum())
    assert ih.loc[K1, "ci_low"] == pytest.approx(ihai - 1.96 * se, rel=1e-12)
    assert ih.loc[K1, "ci_high"] == pytest.approx(ihai + 1.96 * se, rel=1e-12)
    assert ih.loc[K1, "n_efektif"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum(), rel=1e-12)
    gap = ih.loc[K1, "aspek_persepsi"] - ih.loc[K1, "aspek_partisipasi"] >= 15
    assert bool(ih.loc[K1, "gap_persepsi_partisipasi"]) == gap
    assert ih.loc[K1, "kategori"] == M.ihai_bands.classify([ihai]).iloc[0]


def test_gap_flag_and_ci_null_with_one_complete_respondent():
    # PER answers 5 (100) and PAR answers 2 (25) for every variable: gap 75 ≥ 15
    ans = {f"{v}_PER": (1 if f"{v}_PER" in M.reverse_items else 5) for v in IHAI_VARS}
    ans.update({f"{v}_PAR": 2 for v in IHAI_VARS})
    ans.update({f"{v}_AKS": 3 for v in IHAI_VARS})
    window = window_frame([(K1, "L", 30, ans)])
    _, ih = run_ihai(window, [K1], direct_population([K1], {}, {}), M1)
    row = ih.loc[K1]
    assert row["status"] == "ok" and bool(row["gap_persepsi_partisipasi"]) is True
    assert row["aspek_persepsi"] == pytest.approx(100) and row["aspek_partisipasi"] == pytest.approx(25)
    assert np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])  # fewer than 2 complete respondents
