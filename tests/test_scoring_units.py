"""Unit and property tests of the scoring modules (``harmoni_pipeline/scoring``), called as
plain functions on small in-memory pandas/numpy inputs — no warehouse, no Dagster.

Covers methodology HM-2026.1 (``docs/methodology.md``): the §6 worked examples to
the decimal, raking (§1.5) margins, fallbacks, trimming and group independence,
hypothesis properties (ranges, monotonicity, row-order invariance), and the edge cases of
§1.7, §3, §4 and §5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harmoni_pipeline import methodology
from harmoni_pipeline.scoring import context as context_mod
from harmoni_pipeline.scoring import events as events_mod
from harmoni_pipeline.scoring import ihai as ihai_mod
from harmoni_pipeline.scoring import ikn as ikn_mod
from harmoni_pipeline.scoring import integration, population, raking, rollup, survey
from tests import reference_scoring as ref

M = methodology.load()
ASPECTS = M.aspects
IHAI_VARS = list(M.ihai["variables"])
IKN_DIMS = M.ikn_dimensions
IHAI_ITEMS = [f"{v}_{a}" for v in IHAI_VARS for a in ASPECTS]
IKN_ITEMS = [f"{d}_{a}" for d in IKN_DIMS for a in ASPECTS]
ALL_ITEMS = IHAI_ITEMS + IKN_ITEMS
REVERSED = sorted(M.reverse_items)
FORWARD = [i for i in ALL_ITEMS if i not in M.reverse_items]
SEXES = population.sex_labels(M)
BANDS = population.band_labels(M)
AGE_OF_BAND = [20, 30, 45, 60]  # one age inside each band 17-24, 25-39, 40-54, 55+
CONTEXT_INDICATORS = list(M.ikn["context"]["indicators"])
DIMS = list(M.ihai["dimensions"])
ASPEK_COLS = ["aspek_persepsi", "aspek_partisipasi", "aspek_akseptabilitas"]

KAB = "35.13"
K1, K2, K3 = "35.13.01", "35.13.02", "35.13.03"
PERIOD = "2025-06"
LAST = pd.Timestamp("2025-06-30")
RAKE_KW = dict(
    tolerance=float(M.raking["tolerance"]),
    max_rounds=int(M.raking["max_rounds"]),
    trim_low=float(M.raking["trim"]["low"]),
    trim_high=float(M.raking["trim"]["high"]),
)
# Hypothesis budgets: each property test stays around 2 s (every example calls several pandas
# functions of ~10–30 ms); no example database is written.
PROPERTY = settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
PROPERTY_SURVEY = settings(PROPERTY, max_examples=35)
PROPERTY_HEAVY = settings(PROPERTY, max_examples=20)

STATS_COLUMNS = ["kode_wilayah", "tahun", "indikator", "jenis_kelamin", "kelompok_umur", "nilai", "source_path"]
REPORT_COLUMNS = ["no_laporan", "kode_kecamatan", "tgl_lapor", "tgl_kejadian", "kualifikasi", "status",
                  "tgl_tindak_lanjut", "tgl_selesai"]
DATE_COLUMNS = ["tgl_lapor", "tgl_kejadian", "tgl_tindak_lanjut", "tgl_selesai"]


# --------------------------------------------------------------------------------------
# builders of in-memory inputs
# --------------------------------------------------------------------------------------

def idx(codes) -> pd.Index:
    return pd.Index(list(codes), name="kode_kecamatan")


def window_frame(rows: list[tuple[str, str, int, dict]]) -> pd.DataFrame:
    """Survey window rows ``(kode_kecamatan, sex, age, {item: answer})``; other items NaN."""
    records = []
    for kode, sex, age, answers in rows:
        rec = {"kode_kecamatan": kode, "jenis_kelamin": sex, "umur": age}
        rec.update({item: float(answers[item]) if item in answers and answers[item] is not None else np.nan
                    for item in ALL_ITEMS})
        records.append(rec)
    return pd.DataFrame(records, columns=["kode_kecamatan", "jenis_kelamin", "umur"] + ALL_ITEMS)


def uniform_answers(items: list[str], score: float) -> dict:
    """Answers giving every item the item score ``score`` (0, 25, …, 100)."""
    x = 1 + 4 * score / 100
    return {i: (6 - x if i in M.reverse_items else x) for i in items}


def stats_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=STATS_COLUMNS)
    if df.empty:
        df = df.astype({"tahun": "int64", "nilai": "float64"})
    df["source_path"] = df["source_path"].fillna("stats/2024/x.csv")
    return df


def population_rows(kode: str, cells: dict[tuple[str, str], float], tahun: int = 2024) -> list[dict]:
    return [
        {"kode_wilayah": kode, "tahun": tahun, "indikator": "jumlah_penduduk", "jenis_kelamin": sex,
         "kelompok_umur": band, "nilai": float(v)}
        for (sex, band), v in cells.items()
    ]


def total_row(kode: str, value: float, tahun: int = 2024) -> dict:
    return {"kode_wilayah": kode, "tahun": tahun, "indikator": "jumlah_penduduk", "jenis_kelamin": None,
            "kelompok_umur": None, "nilai": float(value)}


def context_row(kode: str, indikator: str, value: float, tahun: int = 2024) -> dict:
    return {"kode_wilayah": kode, "tahun": tahun, "indikator": indikator, "jenis_kelamin": None,
            "kelompok_umur": None, "nilai": float(value)}


def even_cells(per_cell: float) -> dict[tuple[str, str], float]:
    return {(s, b): per_cell for s in SEXES for b in ["0-16"] + BANDS}


def pop_table(codes, rows: list[dict]) -> pd.DataFrame:
    return population.population_table(stats_frame(rows), pd.Series(list(codes)), M)


def reports_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    for col in DATE_COLUMNS:
        df[col] = pd.to_datetime(df[col])
    return df


def report(no, kode, lapor, kejadian=None, kualifikasi="hijau", status="baru", tindak=None, selesai=None) -> dict:
    return {"no_laporan": no, "kode_kecamatan": kode, "tgl_lapor": lapor, "tgl_kejadian": kejadian or lapor,
            "kualifikasi": kualifikasi, "status": status, "tgl_tindak_lanjut": tindak, "tgl_selesai": selesai}


def kecamatan_frame(codes, kab: str = KAB) -> pd.DataFrame:
    return pd.DataFrame({"kode": list(codes), "kode_kabupaten": [kab] * len(codes)})


def full_context(codes) -> list[dict]:
    """Context values giving every indicator the score 100."""
    out = []
    for k in codes:
        out += [context_row(k, "pct_penduduk_miskin", 0), context_row(k, "tpt", 0),
                context_row(k, "pct_desa_konflik", 0), context_row(k, "pct_desa_poskamling_aktif", 100)]
    return out


def run_ihai(window, codes, pop, m=M):
    scores = survey.score_index(window, IHAI_VARS, idx(codes), pop, m)
    return scores, ihai_mod.ihai_kecamatan(scores, m).set_index("kode_kecamatan")


def run_ikn(window, codes, pop, reports, stats_rows, m=M):
    codes = idx(codes)
    scores = survey.score_index(window, IKN_DIMS, codes, pop, m)
    ev = events_mod.event_pillar(reports, codes, pop["p_total"], PERIOD, m)
    values = context_mod.context_values(stats_frame(stats_rows), kecamatan_frame(codes), m)
    ctx = context_mod.context_pillar(values, codes, m)
    return scores, ev, values, ikn_mod.ikn_kecamatan(scores, ev, ctx, m).set_index("kode_kecamatan")


def respondents(kode: str, n: int, answers_of, sexes=None, bands=None) -> list[tuple]:
    """``n`` respondents of ``kode``; sex and band cycle unless given."""
    rows = []
    for i in range(n):
        sex = SEXES[i % 2] if sexes is None else sexes[i]
        band = i % 4 if bands is None else bands[i]
        rows.append((kode, sex, AGE_OF_BAND[band], answers_of(i)))
    return rows


# --------------------------------------------------------------------------------------
# 1. Methodology §6 worked examples
# --------------------------------------------------------------------------------------

EXAMPLE_ROWS = [
    (K1, "L", 30, {"X03_PER": 5, "X03_PAR": 4, "X03_AKS": 2}),   # 100, 75, 75  → 83.33
    (K1, "P", 45, {"X03_PER": 3, "X03_PAR": 3, "X03_AKS": 3}),   # 50, 50, 50   → 50
    (K1, "L", 60, {"X03_PER": 4, "X03_PAR": None, "X03_AKS": 1}),  # PAR missing → V missing
]


def example_population():
    # a total but no sex × age margins → the kecamatan is `unweighted` (equal weights)
    return pop_table([K1], [total_row(K1, 40_000)])


def test_worked_example_single_variable_value_and_counts():
    assert "X03_AKS" in M.reverse_items and "X03_PER" not in M.reverse_items
    scores = survey.score_index(window_frame(EXAMPLE_ROWS), ["X03"], idx([K1]), example_population(), M.with_min_n(2))
    assert scores.weighting[0] == "unweighted"
    np.testing.assert_array_equal(scores.weights, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(scores.respondent_variable[:, 0], [250 / 3, 50.0, np.nan])
    assert scores.variable_score[0, 0] == pytest.approx(66.6666666667, abs=1e-9)
    assert round(scores.variable_score[0, 0], 2) == 66.67
    assert scores.n[0] == 3
    assert scores.variable_n[0, 0] == 2
    assert scores.n_eff[0] == pytest.approx(3.0)
    assert scores.status[0] == "ok"
    # aspects: PER over all 3 (100, 50, 75), PAR over 2, AKS over 3 (75, 50, 100: AKS reversed)
    np.testing.assert_allclose(scores.aspect_score[0, 0], [75.0, 62.5, 75.0])
    np.testing.assert_array_equal(scores.aspect_n[0, 0], [3, 2, 3])


def test_worked_example_with_all_ihai_variables():
    """The same respondents scored against the real ten-variable IHaI: X03 carries the example."""
    scores = survey.score_index(window_frame(EXAMPLE_ROWS), IHAI_VARS, idx([K1]), example_population(), M.with_min_n(2))
    j = IHAI_VARS.index("X03")
    assert scores.variable_score[0, j] == pytest.approx(200 / 3, abs=1e-9)
    assert scores.n[0] == 3 and scores.variable_n[0, j] == 2
    others = [k for k in range(len(IHAI_VARS)) if k != j]
    assert np.isnan(scores.variable_score[0, others]).all() and (scores.variable_n[0, others] == 0).all()
    assert scores.status[0] == "insufficient_sample"  # the other nine variables have no respondent


@pytest.mark.parametrize("min_n", [3, 30])
def test_worked_example_insufficient_sample(min_n):
    m = M.with_min_n(min_n) if min_n != M.min_n else M
    scores = survey.score_index(window_frame(EXAMPLE_ROWS), ["X03"], idx([K1]), example_population(), m)
    assert scores.status[0] == "insufficient_sample"
    assert scores.n[0] == 3 and scores.variable_n[0, 0] == 2
    assert scores.long("variabel").empty  # suppressed variable rows


def test_min_n_default_is_30():
    assert M.min_n == 30 and M.with_min_n(2).min_n == 2 and M.min_n == 30


def example_reports() -> pd.DataFrame:
    return reports_frame([
        # merah1, follow-up after 2 days, selesai after 10 days
        report("A", K1, "2025-05-01", kualifikasi="merah1", status="selesai", tindak="2025-05-03", selesai="2025-05-11"),
        # hijau, follow-up after 5 days, selesai after 40 days
        report("B", K1, "2025-03-01", kualifikasi="hijau", status="selesai", tindak="2025-03-06", selesai="2025-04-10"),
        # hijau, open, reported 20 days before the end of M
        report("C", K1, "2025-06-10", kualifikasi="hijau", status="baru"),
    ])


def test_worked_example_event_pillar():
    out = events_mod.event_pillar(example_reports(), idx([K1]), pd.Series({K1: 40_000.0}), PERIOD, M)
    row = out.loc[K1]
    assert row["n_laporan"] == 3
    assert row["e1"] == pytest.approx(92.5, abs=1e-9)
    assert row["e2"] == pytest.approx(100 / 3, abs=1e-9)
    assert row["e3"] == pytest.approx(100 * (1 - 5 / 60), abs=1e-9)
    assert round(row["e3"], 2) == 91.67
    assert row["pilar_peristiwa"] == pytest.approx(77.5, abs=1e-9)
    assert bool(row["alert_merah"]) is True  # the merah1 happened 2025-05-01, within 89 days


# --------------------------------------------------------------------------------------
# 2. Raking
# --------------------------------------------------------------------------------------

def cells_to_rows(counts: dict[tuple[int, int], int], group: int = 0):
    """Respondent codes (group, sex, band) from a count per (sex, band) cell."""
    g, s, b = [], [], []
    for (sex, band), k in counts.items():
        g += [group] * k
        s += [sex] * k
        b += [band] * k
    return np.array(g), np.array(s), np.array(b)


def margin_totals(group, cell, cells, groups, w):
    return np.bincount(group * cells + cell, weights=w, minlength=groups * cells).reshape(groups, cells)


# several rounds: sex and age strongly associated in the sample, not in the population
MULTI_COUNTS = {(0, 0): 6, (0, 1): 3, (0, 2): 1, (0, 3): 2, (1, 0): 1, (1, 1): 3, (1, 2): 5, (1, 3): 4}
MULTI_SEX, MULTI_BAND = np.array([480.0, 520.0]), np.array([150.0, 300.0, 300.0, 250.0])
# trim binds: one respondent alone in a band holding 60 % of the population
TRIM_COUNTS = {(0, 0): 5, (0, 1): 4, (0, 2): 1, (1, 0): 4, (1, 1): 4, (1, 2): 1, (1, 3): 1}
TRIM_SEX, TRIM_BAND = np.array([300.0, 700.0]), np.array([100.0, 150.0, 150.0, 600.0])
# sex_only: band 55+ has population but no respondent
SEXONLY_COUNTS = {(0, 0): 3, (0, 1): 2, (0, 2): 2, (1, 0): 1, (1, 1): 4, (1, 2): 3}
SEXONLY_SEX, SEXONLY_BAND = np.array([400.0, 600.0]), np.array([200.0, 300.0, 300.0, 200.0])


def rake_one(counts, sex_m, band_m, has=True):
    g, s, b = cells_to_rows(counts)
    return g, s, b, raking.rake(g, s, b, np.array([sex_m]), np.array([band_m]), np.array([has]), **RAKE_KW)


def test_raking_reproduces_margins_before_trimming_after_several_rounds():
    g, s, b, res = rake_one(MULTI_COUNTS, MULTI_SEX, MULTI_BAND)
    assert res.weighting[0] == "raked"
    assert res.rounds[0] > 1
    assert bool(res.converged[0])
    np.testing.assert_allclose(margin_totals(g, s, 2, 1, res.untrimmed)[0], MULTI_SEX, rtol=1e-6)
    np.testing.assert_allclose(margin_totals(g, b, 4, 1, res.untrimmed)[0], MULTI_BAND, rtol=1e-6)
    # this case needs no trimming: final weights equal the untrimmed ones and sum to the adult population
    mean = res.untrimmed.mean()
    assert res.untrimmed.max() <= 5 * mean and res.untrimmed.min() >= 0.2 * mean
    np.testing.assert_allclose(res.weights, res.untrimmed, rtol=1e-12)
    assert res.weights.sum() == pytest.approx(1000.0, rel=1e-12)


def test_raking_stops_after_max_rounds_without_convergence():
    # infeasible: band 55+ (one P respondent) holds 600 but P only 500 → cannot converge
    g, s, b = cells_to_rows(TRIM_COUNTS)
    res = raking.rake(g, s, b, np.array([[500.0, 500.0]]), np.array([TRIM_BAND]), np.array([True]), **RAKE_KW)
    assert res.weighting[0] == "raked"
    assert res.rounds[0] == RAKE_KW["max_rounds"]
    assert not bool(res.converged[0])
    assert res.weights.sum() == pytest.approx(1000.0)


def test_raking_sex_only_when_a_populated_band_has_no_respondent():
    g, s, b, res = rake_one(SEXONLY_COUNTS, SEXONLY_SEX, SEXONLY_BAND)
    assert res.weighting[0] == "sex_only"
    assert res.rounds[0] == 0
    assert bool(res.converged[0])
    np.testing.assert_allclose(margin_totals(g, s, 2, 1, res.untrimmed)[0], SEXONLY_SEX, rtol=1e-12)
    # within a sex all weights are equal (one sex step only)
    for sex in (0, 1):
        assert np.ptp(res.untrimmed[s == sex]) == pytest.approx(0.0, abs=1e-9)
    assert res.weights.sum() == pytest.approx(1000.0, rel=1e-12)


def test_raking_band_without_population_and_without_respondent_is_still_raked():
    counts = {k: v for k, v in SEXONLY_COUNTS.items()}
    band_m = np.array([300.0, 400.0, 300.0, 0.0])
    g, s, b, res = rake_one(counts, SEXONLY_SEX, band_m)
    assert res.weighting[0] == "raked"
    np.testing.assert_allclose(margin_totals(g, b, 4, 1, res.untrimmed)[0][:3], band_m[:3], rtol=1e-6)


def test_raking_unweighted_when_a_sex_has_no_respondent():
    counts = {(0, 0): 3, (0, 1): 3, (0, 2): 3, (0, 3): 3}  # men only
    g, s, b, res = rake_one(counts, MULTI_SEX, MULTI_BAND)
    assert res.weighting[0] == "unweighted"
    assert res.rounds[0] == 0
    np.testing.assert_array_equal(res.weights, np.ones(12))
    np.testing.assert_array_equal(res.untrimmed, np.ones(12))


def test_raking_unweighted_without_margins():
    g, s, b, res = rake_one(MULTI_COUNTS, np.zeros(2), np.zeros(4), has=False)
    assert res.weighting[0] == "unweighted"
    np.testing.assert_array_equal(res.weights, np.ones(len(g)))
    assert res.weights.sum() == len(g)


def test_raking_trim_binds_then_rescales_to_the_adult_population():
    g, s, b, res = rake_one(TRIM_COUNTS, TRIM_SEX, TRIM_BAND)
    assert res.weighting[0] == "raked" and bool(res.converged[0])
    np.testing.assert_allclose(margin_totals(g, b, 4, 1, res.untrimmed)[0], TRIM_BAND, rtol=1e-6)
    np.testing.assert_allclose(margin_totals(g, s, 2, 1, res.untrimmed)[0], TRIM_SEX, rtol=1e-6)
    mean = res.untrimmed.mean()
    assert res.untrimmed.max() > 5 * mean  # the trim binds
    clipped = np.clip(res.untrimmed, 0.2 * mean, 5 * mean)
    expected = clipped * 1000.0 / clipped.sum()
    np.testing.assert_allclose(res.weights, expected, rtol=1e-12)
    assert res.weights.sum() == pytest.approx(1000.0, rel=1e-12)
    # after the rescale the clipped weight may exceed 5× the mean (intended); margins now only approximate
    lone = np.flatnonzero(b == 3)[0]
    assert res.weights[lone] == pytest.approx(5 * mean * 1000.0 / clipped.sum())
    assert res.weights[lone] > 5 * res.weights.mean()
    assert margin_totals(g, b, 4, 1, res.weights)[0][3] < TRIM_BAND[3]


def test_raking_groups_are_processed_independently():
    specs = [
        (MULTI_COUNTS, MULTI_SEX, MULTI_BAND, True),
        (TRIM_COUNTS, TRIM_SEX, TRIM_BAND, True),
        (SEXONLY_COUNTS, SEXONLY_SEX, SEXONLY_BAND, True),
        (MULTI_COUNTS, np.zeros(2), np.zeros(4), False),
        ({(0, 0): 2, (0, 1): 2}, MULTI_SEX, MULTI_BAND, True),   # one sex only
        ({}, MULTI_SEX, MULTI_BAND, True),                      # no respondent
    ]
    # the empty group cannot be raked alone (see test_rake_without_any_respondent)
    alone = [rake_one(c, sm, bm, h) for c, sm, bm, h in specs[:-1]]
    g = np.concatenate([cells_to_rows(c, i)[0] for i, (c, *_r) in enumerate(specs)])
    s = np.concatenate([cells_to_rows(c, i)[1] for i, (c, *_r) in enumerate(specs)])
    b = np.concatenate([cells_to_rows(c, i)[2] for i, (c, *_r) in enumerate(specs)])
    order = np.random.default_rng(7).permutation(len(g))  # interleave the groups' rows
    res = raking.rake(
        g[order], s[order], b[order], np.array([sp[1] for sp in specs]), np.array([sp[2] for sp in specs]),
        np.array([sp[3] for sp in specs]), **RAKE_KW,
    )
    weights, untrimmed = np.empty(len(g)), np.empty(len(g))
    weights[order], untrimmed[order] = res.weights, res.untrimmed  # back to the unshuffled rows
    for i, (_g, _s, _b, one) in enumerate(alone):
        mine = g == i
        np.testing.assert_allclose(weights[mine], one.weights, rtol=1e-10)
        np.testing.assert_allclose(untrimmed[mine], one.untrimmed, rtol=1e-10)
        assert res.weighting[i] == one.weighting[0]
        assert res.rounds[i] == one.rounds[0]
        assert res.converged[i] == one.converged[0]
    assert list(res.weighting) == ["raked", "raked", "sex_only", "unweighted", "unweighted", None]
    assert res.rounds[5] == 0 and (g != 5).all()


def test_rake_without_any_respondent():
    empty = np.array([], dtype=np.int64)
    res = raking.rake(empty, empty, empty, np.array([MULTI_SEX]), np.array([MULTI_BAND]), np.array([True]), **RAKE_KW)
    assert list(res.weighting) == [None] and len(res.weights) == 0


@PROPERTY
@given(
    counts=hnp.arrays(np.int64, (2, 4), elements=st.integers(1, 6)),
    sex_m=hnp.arrays(float, 2, elements=st.floats(50, 5000)),
    band_share=hnp.arrays(float, 4, elements=st.floats(0.05, 1.0)),
)
def test_raking_property_margins_met_when_converged(counts, sex_m, band_share):
    cells = {(i, j): int(counts[i, j]) for i in range(2) for j in range(4)}
    band_m = band_share / band_share.sum() * sex_m.sum()
    g, s, b, res = rake_one(cells, sex_m, band_m)
    assert res.weighting[0] == "raked"
    if res.converged[0]:
        np.testing.assert_allclose(margin_totals(g, s, 2, 1, res.untrimmed)[0], sex_m, rtol=1.01e-6)
        np.testing.assert_allclose(margin_totals(g, b, 4, 1, res.untrimmed)[0], band_m, rtol=1.01e-6)
    assert res.weights.sum() == pytest.approx(sex_m.sum(), rel=1e-9)
    assert (res.weights > 0).all()


# --------------------------------------------------------------------------------------
# population table
# --------------------------------------------------------------------------------------

def test_population_table_margins_adult_and_total():
    """Complete breakdown (both sexes × all five bands) in the latest year: margins and
    P_adult from its adult cells, P_total its sum; an older year is not used."""
    cells = {(s, b): 10.0 * (i + 1) for i, (s, b) in enumerate((s, b) for s in SEXES for b in ["0-16"] + BANDS)}
    rows = population_rows(K1, cells, 2024) + population_rows(K1, even_cells(1.0), 2023) + [total_row(K2, 5000)]
    pop = pop_table([K1, K2, K3], rows)
    assert int(pop.loc[K1, "tahun_margins"]) == 2024 and int(pop.loc[K1, "tahun_total"]) == 2024
    assert bool(pop.loc[K1, "has_margins"]) and not bool(pop.loc[K2, "has_margins"])
    adult = sum(v for (s, b), v in cells.items() if b != "0-16")
    assert pop.loc[K1, "p_adult"] == pytest.approx(adult)
    assert pop.loc[K1, "p_total"] == pytest.approx(sum(cells.values()))
    assert pop.loc[K1, "m_sex_L"] == pytest.approx(sum(v for (s, b), v in cells.items() if s == "L" and b != "0-16"))
    assert pop.loc[K1, "m_band_55+"] == pytest.approx(cells[("L", "55+")] + cells[("P", "55+")])
    assert np.isnan(pop.loc[K2, "p_adult"]) and pop.loc[K2, "p_total"] == 5000
    assert pd.isna(pop.loc[K2, "tahun_margins"]) and int(pop.loc[K2, "tahun_total"]) == 2024
    assert np.isnan(pop.loc[K3, "p_total"]) and pd.isna(pop.loc[K3, "tahun_total"])


def adult_cells(per_cell: float) -> dict[tuple[str, str], float]:
    return {(s, b): per_cell for s in SEXES for b in BANDS}


def test_population_stated_total_and_adult_cells_issue_example():
    """Issue 11 item 6: a stated kecamatan total of 20 000 and eight adult sex × band cells
    of 100. The cells are the margins and P_adult (800), the stated total is P_total —
    never the cells' sum. Two kuning reports (severity 2 → 2^1 each): r = 4 / 20 000 ·
    10 000 = 2, so E1 = 100 · (1 − 2/20) = 90 (with P_total = 800 it would be 0)."""
    pop = pop_table([K1], [total_row(K1, 20_000)] + population_rows(K1, adult_cells(100.0)))
    assert pop.loc[K1, "p_total"] == 20_000 and pop.loc[K1, "p_adult"] == pytest.approx(800)
    assert bool(pop.loc[K1, "has_margins"]) and pop.loc[K1, "m_sex_P"] == pytest.approx(400)
    assert pop.loc[K1, "m_band_17-24"] == pytest.approx(200)
    reps = reports_frame([report("A", K1, "2025-03-01", kualifikasi="kuning"),
                          report("B", K1, "2025-05-10", kualifikasi="kuning")])
    out = events_mod.event_pillar(reps, idx([K1]), pop["p_total"], PERIOD, M)
    assert out.loc[K1, "n_laporan"] == 2
    assert out.loc[K1, "e1"] == pytest.approx(90.0)


def test_population_older_complete_breakdown_and_newer_total():
    """The margins stay with the older year's cells (a newer total does not remove them);
    P_total is the newer year's stated total."""
    rows = population_rows(K1, even_cells(100.0), 2023) + [total_row(K1, 1_500, 2024)]
    pop = pop_table([K1], rows)
    assert bool(pop.loc[K1, "has_margins"]) and pop.loc[K1, "p_adult"] == pytest.approx(800)
    assert pop.loc[K1, "m_sex_L"] == pytest.approx(400) and pop.loc[K1, "m_band_55+"] == pytest.approx(200)
    assert pop.loc[K1, "p_total"] == 1_500
    assert int(pop.loc[K1, "tahun_margins"]) == 2023 and int(pop.loc[K1, "tahun_total"]) == 2024


def test_population_adult_cells_only():
    """Adult cells without the 0-16 band are margins and P_adult, not a total."""
    pop = pop_table([K1], population_rows(K1, adult_cells(100.0)))
    assert bool(pop.loc[K1, "has_margins"]) and pop.loc[K1, "p_adult"] == pytest.approx(800)
    assert np.isnan(pop.loc[K1, "p_total"]) and pd.isna(pop.loc[K1, "tahun_total"])


def test_population_sex_totals_and_total():
    """Sex totals are no cells: no margins, P_adult unknown; P_total is the stated total."""
    rows = population_rows(K1, {("L", None): 9_000.0, ("P", None): 9_500.0}) + [total_row(K1, 20_000)]
    pop = pop_table([K1], rows)
    assert not bool(pop.loc[K1, "has_margins"]) and np.isnan(pop.loc[K1, "p_adult"])
    assert pop.loc[K1, "p_total"] == 20_000


def test_population_partial_totals_alone_give_nothing():
    """Sex totals alone, or adult band rows without sex, are an incomplete breakdown: never
    summed into P_total or P_adult."""
    rows = population_rows(K1, {("L", None): 9_000.0, ("P", None): 9_500.0})
    rows += population_rows(K2, {(None, b): 1_000.0 for b in ["0-16"] + BANDS})
    pop = pop_table([K1, K2], rows)
    assert np.isnan(pop["p_total"]).all() and np.isnan(pop["p_adult"]).all() and not pop["has_margins"].any()


def test_population_total_year_and_margin_year_are_chosen_apart():
    """Newer adult cells give the margins; the total comes from the latest year with a
    stated total or a complete breakdown: an older total beats a newer incomplete one, a
    newer complete breakdown beats an older total, and within a year the stated total wins."""
    older_total = [total_row(K1, 30_000, 2022)] + population_rows(K1, adult_cells(50.0), 2024)
    one_cell_short = {k: v for k, v in even_cells(10.0).items() if k != ("P", "0-16")}
    incomplete = population_rows(K2, even_cells(100.0), 2022) + population_rows(K2, one_cell_short, 2024)
    newer_complete = [total_row(K3, 30_000, 2022)] + population_rows(K3, even_cells(100.0), 2023)
    k4 = f"{KAB}.04"
    same_year = [total_row(k4, 1_234, 2024)] + population_rows(k4, even_cells(100.0), 2024)
    pop = pop_table([K1, K2, K3, k4], older_total + incomplete + newer_complete + same_year)
    assert pop.loc[K1, "p_total"] == 30_000 and int(pop.loc[K1, "tahun_total"]) == 2022
    assert pop.loc[K1, "p_adult"] == pytest.approx(400) and int(pop.loc[K1, "tahun_margins"]) == 2024
    assert pop.loc[K2, "p_total"] == pytest.approx(1_000) and int(pop.loc[K2, "tahun_total"]) == 2022
    assert pop.loc[K2, "p_adult"] == pytest.approx(80) and int(pop.loc[K2, "tahun_margins"]) == 2024
    assert pop.loc[K3, "p_total"] == pytest.approx(1_000) and int(pop.loc[K3, "tahun_total"]) == 2023
    assert pop.loc[k4, "p_total"] == 1_234 and pop.loc[k4, "p_adult"] == pytest.approx(800)


ALL_CELLS = [(s, b) for s in SEXES for b in ["0-16"] + BANDS]


@st.composite
def population_years(draw):
    """Population rows of three kecamatan over 2022–2024: per kecamatan and year any
    subset of the ten cells (often all, the adult eight or none), a stated total, sex
    totals and band totals, each maybe."""
    rows = []
    for kode in (K1, K2, K3):
        for tahun in (2022, 2023, 2024):
            pick = draw(st.sampled_from(["none", "all", "adult", "some"]))
            cells = {"none": [], "all": ALL_CELLS, "adult": [c for c in ALL_CELLS if c[1] != "0-16"],
                     "some": draw(st.lists(st.sampled_from(ALL_CELLS), unique=True))}[pick]
            keys = list(cells)
            if draw(st.booleans()):
                keys.append((None, None))
            if draw(st.booleans()):
                keys += [(s, None) for s in SEXES]
            if draw(st.booleans()):
                keys += [(None, b) for b in ["0-16"] + BANDS]
            values = draw(st.lists(st.integers(1, 5000), min_size=len(keys), max_size=len(keys)))
            rows += population_rows(kode, dict(zip(keys, map(float, values))), tahun)
    return rows


@PROPERTY
@given(rows=population_years())
def test_population_table_agrees_with_the_reference(rows):
    """Production and the independent reference (tests/reference_scoring.py) read the
    same rows the same way: margins, P_adult, P_total."""
    pop = pop_table([K1, K2, K3], rows)
    for kode in (K1, K2, K3):
        want = ref.population(rows, kode, M.raw)
        got = pop.loc[kode]
        for name, value in (("p_total", want["p_total"]), ("p_adult", want["p_adult"])):
            assert (value is None) == bool(np.isnan(got[name])), (kode, name)
            assert value is None or got[name] == pytest.approx(value)
        assert bool(got["has_margins"]) == (want["sex_margin"] is not None)
        for s in SEXES:
            assert got[f"m_sex_{s}"] == pytest.approx((want["sex_margin"] or {}).get(s, 0.0))
        for b in BANDS:
            assert got[f"m_band_{b}"] == pytest.approx((want["band_margin"] or {}).get(b, 0.0))


# --------------------------------------------------------------------------------------
# 3. Hypothesis properties
# --------------------------------------------------------------------------------------

def direct_population(codes, margins: dict, totals: dict) -> pd.DataFrame:
    """The columns :func:`population.population_table` returns, built directly (fast, for
    the property tests): ``margins[code]`` a 2×4 array of adult sex × band cells (or
    absent: no margins), ``totals[code]`` the total population (or absent: unknown)."""
    cells = np.array([margins.get(c, np.zeros((2, 4))) for c in codes], dtype=float).reshape(len(codes), 2, 4)
    adult = cells.sum(axis=(1, 2))
    columns = {"tahun_margins": pd.array([2024 if c in margins else None for c in codes], dtype="Int16"),
               "tahun_total": pd.array([2024 if c in totals else None for c in codes], dtype="Int16")}
    columns.update({f"m_sex_{s}": cells[:, i, :].sum(axis=1) for i, s in enumerate(SEXES)})
    columns.update({f"m_band_{b}": cells[:, :, j].sum(axis=1) for j, b in enumerate(BANDS)})
    columns.update(has_margins=adult > 0, p_adult=np.where(adult > 0, adult, np.nan),
                   p_total=np.array([totals.get(c, np.nan) for c in codes], dtype=float))
    return pd.DataFrame(columns, index=pd.Index(list(codes), name="kode_kecamatan"))


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


M1 = M.with_min_n(1)
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


# --------------------------------------------------------------------------------------
# formulas cross-checked by hand (IHaI composite, CI, gap)
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# 4. Edge cases
# --------------------------------------------------------------------------------------

def test_no_fkdm_report_gives_100_even_without_population():
    empty = reports_frame([])
    out = events_mod.event_pillar(empty, idx([K1, K2]), pd.Series({K1: 40_000.0}), PERIOD, M)
    for k in (K1, K2):  # K2 has no known population: not needed without reports
        assert out.loc[k, "n_laporan"] == 0
        assert [out.loc[k, c] for c in ("e1", "e2", "e3", "pilar_peristiwa")] == [100.0] * 4
        assert out.loc[k, "alert_merah"] == False  # noqa: E712
    # reports that do not count: ditolak, outside the 12-month window, after M, other kecamatan
    others = reports_frame([
        report("X1", K1, "2025-06-01", kualifikasi="merah2", status="ditolak"),
        report("X2", K1, "2024-06-30", kualifikasi="kuning"),
        report("X3", K1, "2025-07-01", kualifikasi="kuning"),
        report("X4", K3, "2025-06-01", kualifikasi="kuning"),
    ])
    out = events_mod.event_pillar(others, idx([K1]), pd.Series({K1: 40_000.0}), PERIOD, M)
    assert out.loc[K1, "n_laporan"] == 0 and out.loc[K1, "pilar_peristiwa"] == 100.0
    assert out.loc[K1, "alert_merah"] == False  # noqa: E712 — the merah2 is ditolak


def test_event_window_first_month_boundary_counts():
    rep = reports_frame([report("W", K1, "2024-07-01", kualifikasi="kuning", status="selesai",
                                tindak="2024-07-01", selesai="2024-07-31")])
    out = events_mod.event_pillar(rep, idx([K1]), pd.Series({K1: 10_000.0}), PERIOD, M)
    assert out.loc[K1, "n_laporan"] == 1
    assert out.loc[K1, "e1"] == pytest.approx(100 * (1 - 2 / 20))
    assert out.loc[K1, "e2"] == pytest.approx(100.0)  # exactly 30 days counts as resolved in time
    assert out.loc[K1, "e3"] == pytest.approx(100.0)


def test_event_caps_median_and_unresolved_rules():
    reps = reports_frame([
        # open for > 60 days: counts 60 days
        report("A", K1, "2025-01-10", kualifikasi="merah2", status="ditangani"),
        # selesai without tgl_selesai, follow-up after 10 days: not resolved in time
        report("B", K1, "2025-05-01", kualifikasi="merah2", status="selesai", tindak="2025-05-11"),
        # no follow-up but selesai after 20 days: follow-up date is tgl_selesai
        report("C", K1, "2025-04-01", kualifikasi="merah2", status="selesai", selesai="2025-04-21"),
        # follow-up after 40 days
        report("D", K1, "2025-03-01", kualifikasi="merah2", status="eskalasi", tindak="2025-04-10"),
    ])
    out = events_mod.event_pillar(reps, idx([K1]), pd.Series({K1: 1_000.0}), PERIOD, M)
    row = out.loc[K1]
    assert row["e1"] == pytest.approx(0.0)   # r = 4·8 / 1000 · 10 000 = 320 > 20
    assert row["e2"] == pytest.approx(25.0)  # only C
    assert row["e3"] == pytest.approx(100 * (1 - 30 / 60))  # days {60, 10, 20, 40} → median 30
    assert row["pilar_peristiwa"] == pytest.approx(0.25 * 25 + 0.25 * 50)


def test_event_with_reports_but_no_population_is_null():
    out = events_mod.event_pillar(example_reports(), idx([K1]), pd.Series({K1: np.nan}), PERIOD, M)
    assert np.isnan(out.loc[K1, "e1"]) and np.isnan(out.loc[K1, "pilar_peristiwa"])
    assert out.loc[K1, "e2"] == pytest.approx(100 / 3) and out.loc[K1, "n_laporan"] == 3


@pytest.mark.parametrize(
    ("kejadian", "kualifikasi", "status", "alert"),
    [
        (LAST - pd.Timedelta(days=89), "merah1", "baru", True),
        (LAST - pd.Timedelta(days=90), "merah1", "baru", False),
        (LAST, "merah2", "selesai", True),
        (LAST - pd.Timedelta(days=10), "kuning", "baru", False),
        (LAST - pd.Timedelta(days=10), "merah2", "ditolak", False),
    ],
)
def test_red_alert_window_and_severity(kejadian, kualifikasi, status, alert):
    # an old tgl_lapor outside the 12-month event window still raises the alert
    rep = reports_frame([report("R", K1, kejadian, kejadian=kejadian, kualifikasi=kualifikasi, status=status)])
    out = events_mod.event_pillar(rep, idx([K1]), pd.Series({K1: 5_000.0}), PERIOD, M)
    assert bool(out.loc[K1, "alert_merah"]) is alert


def test_context_from_remaining_indicators_and_missing_context():
    rows = [
        context_row(K1, "pct_penduduk_miskin", 15),        # 50
        context_row(K1, "tpt", 3),                         # 80
        context_row(K1, "pct_desa_poskamling_aktif", 70),  # 70
        context_row(K2, "pct_desa_konflik", 10),           # 80 — alone: C NULL
        context_row(K3, "pct_penduduk_miskin", 45),        # clipped to 0
        context_row(K3, "pct_desa_poskamling_aktif", 120),  # clipped to 100
    ]
    codes = idx([K1, K2, K3])
    values = context_mod.context_values(stats_frame(rows), kecamatan_frame(codes), M)
    out = context_mod.context_pillar(values, codes, M)
    assert out.loc[K1, "n_konteks"] == 3 and out.loc[K1, "pilar_konteks"] == pytest.approx((50 + 80 + 70) / 3)
    assert out.loc[K2, "n_konteks"] == 1 and np.isnan(out.loc[K2, "pilar_konteks"])
    assert out.loc[K3, "pilar_konteks"] == pytest.approx(50.0)
    assert not values["diwarisi"].any()


def test_context_inherits_from_kabupaten_only_without_own_value():
    rows = [
        context_row(K1, "pct_penduduk_miskin", 6, tahun=2021),   # own (older) value wins over the kabupaten's
        context_row(KAB, "pct_penduduk_miskin", 27, tahun=2024),
        context_row(KAB, "tpt", 7.5, tahun=2023),
        context_row(KAB, "tpt", 3, tahun=2024),                  # the kabupaten's latest
        context_row("35.14", "pct_desa_konflik", 0, tahun=2024),  # another kabupaten: never used
    ]
    codes = idx([K1, K2])
    values = context_mod.context_values(stats_frame(rows), kecamatan_frame(codes), M).set_index(["kode_kecamatan", "indikator"])
    own = values.loc[(K1, "pct_penduduk_miskin")]
    assert not bool(own["diwarisi"]) and own["kode_wilayah_sumber"] == K1 and own["skor"] == pytest.approx(80.0)
    inh = values.loc[(K1, "tpt")]
    assert bool(inh["diwarisi"]) and inh["kode_wilayah_sumber"] == KAB and inh["skor"] == pytest.approx(80.0)
    assert int(inh["tahun"]) == 2024
    k2 = values.loc[(K2, "pct_penduduk_miskin")]
    assert bool(k2["diwarisi"]) and k2["skor"] == pytest.approx(10.0)
    assert (K1, "pct_desa_konflik") not in values.index
    out = context_mod.context_pillar(values.reset_index(), codes, M)
    assert out.loc[K1, "pilar_konteks"] == pytest.approx(80.0)
    assert out.loc[K2, "pilar_konteks"] == pytest.approx(45.0)


def test_population_is_never_inherited():
    pop = pop_table([K1], population_rows(KAB, even_cells(100.0)) + [total_row(KAB, 9999)])
    assert np.isnan(pop.loc[K1, "p_total"]) and not bool(pop.loc[K1, "has_margins"])


def test_missing_context_status_in_ikn():
    window = window_frame(respondents(K1, 2, lambda i: uniform_answers(IKN_ITEMS, 75)))
    pop = direct_population([K1], {}, {K1: float(40_000)})
    _, _, _, ik = run_ikn(window, [K1], pop, reports_frame([]), [context_row(K1, "tpt", 0)], M1)
    row = ik.loc[K1]
    assert row["status"] == "missing_context"
    assert np.isnan(row["pilar_konteks"]) and np.isnan(row["ikn"]) and np.isnan(row["kerawanan"])
    assert pd.isna(row["kategori"]) and pd.isna(row["tingkat_kerawanan"])
    assert row["pilar_survei"] == pytest.approx(75.0) and row["pilar_peristiwa"] == 100.0


def test_no_population_status_names_the_event_pillar():
    window = window_frame(respondents(K1, 2, lambda i: uniform_answers(IKN_ITEMS, 75)))
    pop = direct_population([K1], {}, {})
    _, _, _, ik = run_ikn(window, [K1], pop, example_reports(), [context_row(K1, "tpt", 3)], M1)  # C NULL too
    row = ik.loc[K1]
    assert row["status"] == "no_population"  # E is named before C
    assert np.isnan(row["e1"]) and np.isnan(row["pilar_peristiwa"]) and np.isnan(row["ikn"])
    assert row["e2"] == pytest.approx(100 / 3) and row["n_laporan"] == 3
    assert bool(row["alert_merah"]) and row["tingkat_kerawanan"] == "Tinggi"


@pytest.mark.parametrize("rows", [[], [(K2, "L", 30, {"X01_PER": 3, "KN1_PER": 3})]], ids=["empty", "other-kecamatan"])
def test_score_index_without_any_respondent_in_scope(rows):
    pop = direct_population([K1], {K1: np.full((2, 4), 10.0)}, {K1: 10 * 10.0})
    scores, ih = run_ihai(window_frame(rows), [K1], pop)
    assert list(scores.status) == ["no_data"] and ih.loc[K1, "n_efektif"] == 0.0


def test_context_values_without_any_context_value():
    window = window_frame(respondents(K1, 2, lambda i: uniform_answers(IKN_ITEMS, 75)))
    stats_rows = population_rows(K1, even_cells(100.0))
    pop = direct_population([K1], {K1: np.full((2, 4), 100.0)}, {K1: 1000.0})
    _, _, values, ik = run_ikn(window, [K1], pop, reports_frame([]), stats_rows, M1)
    assert values.empty
    assert ik.loc[K1, "status"] == "missing_context" and np.isnan(ik.loc[K1, "pilar_konteks"])


IHAI_NULL_COLUMNS = ["ihai", "ihai_skala10", "kategori", "ci_low", "ci_high", *[f"dim_{d}" for d in DIMS],
                     *ASPEK_COLS, "gap_persepsi_partisipasi"]


@pytest.mark.parametrize(("n", "status"), [(29, "insufficient_sample"), (30, "ok")])
def test_fewer_than_30_respondents_is_insufficient(n, status):
    rng = np.random.default_rng(n)
    rows = respondents(K1, n, lambda i: {item: int(rng.integers(1, 6)) for item in IHAI_ITEMS})
    pop = direct_population([K1], {K1: np.full((2, 4), 250.0)}, {K1: 10 * 250.0})
    scores, ih = run_ihai(window_frame(rows), [K1], pop)
    row = ih.loc[K1]
    assert row["status"] == status
    assert row["n_responden"] == n and row["weighting"] == "raked"
    assert row["n_efektif"] == pytest.approx(scores.weights.sum() ** 2 / (scores.weights ** 2).sum())
    assert 0 < row["n_efektif"] <= n + 1e-9
    if status == "ok":
        assert row[IHAI_NULL_COLUMNS].notna().all()
        assert len(scores.long("variabel")) == 10 * 4
    else:
        assert row[IHAI_NULL_COLUMNS].isna().all()
        assert scores.long("variabel").empty


def test_a_variable_below_min_n_makes_the_kecamatan_insufficient():
    def answers(i):
        a = uniform_answers(IHAI_ITEMS, 50)
        if i >= 29:
            return a
        return {**a, "X10_AKS": None}  # only 1 respondent has X10
    rows = respondents(K1, 40, answers)
    scores, ih = run_ihai(window_frame(rows), [K1], direct_population([K1], {}, {}))
    assert ih.loc[K1, "status"] == "insufficient_sample" and ih.loc[K1, "n_responden"] == 40
    assert scores.variable_n[0, IHAI_VARS.index("X10")] == 11
    assert ih.loc[K1, "weighting"] == "unweighted" and ih.loc[K1, "n_efektif"] == pytest.approx(40)


def test_red_alert_where_ikn_is_null():
    window = window_frame(respondents(K1, 5, lambda i: uniform_answers(IKN_ITEMS + IHAI_ITEMS, 75)))
    pop = direct_population([K1], {}, {K1: float(40_000)})
    rep = reports_frame([report("M", K1, LAST - pd.Timedelta(days=5), kejadian=LAST - pd.Timedelta(days=10),
                                kualifikasi="merah2", status="ditangani", tindak=LAST - pd.Timedelta(days=4))])
    _, ev, _, ik = run_ikn(window, [K1], pop, rep, full_context([K1]))  # min_n 30: S insufficient
    row = ik.loc[K1]
    assert row["status"] == "insufficient_sample"
    assert np.isnan(row["ikn"]) and np.isnan(row["kerawanan"]) and pd.isna(row["kategori"])
    assert np.isnan(row["pilar_survei"])
    assert row["tingkat_kerawanan"] == "Tinggi" and bool(row["alert_merah"]) is True
    assert row["pilar_peristiwa"] == pytest.approx(ev.loc[K1, "pilar_peristiwa"])
    assert row["pilar_konteks"] == pytest.approx(100.0)
    # the integration quadrant is still set when IHaI is known
    ihai_frame = pd.DataFrame({"kode_kecamatan": [K1], "ihai": [72.0], "status": ["ok"]})
    hk = integration.harmoni_kewaspadaan(ihai_frame, ik.reset_index(), {K1: "Camat Sukapura"}, M).set_index("kode_kecamatan")
    assert hk.loc[K1, "kuadran"] == "harmonis-rawan"
    assert hk.loc[K1, "rekomendasi"] == M.integration["quadrants"]["harmonis-rawan"]
    assert pd.isna(hk.loc[K1, "alasan_null"]) and pd.isna(hk.loc[K1, "ikn"])
    assert hk.loc[K1, "penanggung_jawab"] == "Camat Sukapura"


def test_red_alert_overrides_a_low_risk_ikn():
    window = window_frame(respondents(K1, 2, lambda i: uniform_answers(IKN_ITEMS, 100)))
    pop = direct_population([K1], {}, {K1: float(1e9)})
    rep = reports_frame([report("M", K1, LAST, kualifikasi="merah1", status="selesai", tindak=LAST, selesai=LAST)])
    _, _, _, ik = run_ikn(window, [K1], pop, rep, full_context([K1]), M1)
    row = ik.loc[K1]
    assert row["status"] == "ok" and row["kerawanan"] < 30  # would be Rendah
    assert row["tingkat_kerawanan"] == "Tinggi" and bool(row["alert_merah"])


def test_kecamatan_without_any_data():
    window = window_frame(respondents(K1, 2, lambda i: uniform_answers(ALL_ITEMS, 75)))
    pop = direct_population([K1, K2], {}, {K1: 40_000.0})
    scores, ih = run_ihai(window, [K1, K2], pop, M1)
    row = ih.loc[K2]
    assert row["status"] == "no_data" and row["n_responden"] == 0
    assert row["n_efektif"] == 0.0 and pd.isna(row["weighting"])
    assert row[IHAI_NULL_COLUMNS].isna().all()
    assert ih.loc[K1, "status"] == "ok"
    _, _, _, ik = run_ikn(window, [K1, K2], pop, reports_frame([]), full_context([K1]), M1)
    r = ik.loc[K2]
    assert r["status"] == "no_data" and np.isnan(r["ikn"]) and np.isnan(r["pilar_survei"])
    assert r["pilar_peristiwa"] == 100.0 and r["e1"] == 100.0 and r["n_laporan"] == 0
    assert not pd.isna(r["alert_merah"]) and not bool(r["alert_merah"])  # False, not NULL
    assert ik["alert_merah"].dtype == bool
    assert pd.isna(r["tingkat_kerawanan"]) and pd.isna(r["kategori"]) and np.isnan(r["pilar_konteks"])
    hk = integration.harmoni_kewaspadaan(ih.reset_index(), ik.reset_index(), {}, M).set_index("kode_kecamatan")
    assert hk.loc[K2, "alasan_null"] == "ihai:no_data; ikn:no_data"
    assert pd.isna(hk.loc[K2, "kuadran"]) and pd.isna(hk.loc[K2, "rekomendasi"])
    assert pd.isna(hk.loc[K2, "penanggung_jawab"]) and pd.isna(hk.loc[K1, "penanggung_jawab"])


@pytest.mark.parametrize(("value", "label"), [(80.0, "Tinggi"), (79.999, "Sedang"), (60.0, "Sedang"),
                                              (59.999999, "Rendah"), (100.0, "Tinggi"), (0.0, "Rendah")])
def test_ihai_band_edges(value, label):
    assert M.ihai_bands.classify([value]).iloc[0] == label


@pytest.mark.parametrize(("value", "label"), [(50.0, "Tinggi"), (49.999, "Sedang"), (30.0, "Sedang"),
                                              (29.999, "Rendah"), (100.0, "Tinggi")])
def test_risk_band_edges(value, label):
    assert M.risk_bands.classify([value]).iloc[0] == label


@pytest.mark.parametrize(("value", "label"), [(80.0, "Sangat baik"), (79.99, "Baik"), (60.0, "Baik"),
                                              (40.0, "Kurang"), (39.99, "Rawan")])
def test_ikn_band_edges(value, label):
    assert M.ikn_bands.classify([value]).iloc[0] == label


def test_bands_keep_null():
    assert M.ihai_bands.classify([np.nan, 70.0]).isna().tolist() == [True, False]


def test_ihai_exactly_80_is_tinggi_through_ihai_kecamatan():
    # five respondents whose V are 83.33 ×3 and 75 ×2 for every variable → V_k = 80 exactly
    def answers(i):
        return uniform_answers(IHAI_ITEMS, 75) if i >= 3 else {
            **uniform_answers([f"{v}_PER" for v in IHAI_VARS], 100),
            **uniform_answers([f"{v}_{a}" for v in IHAI_VARS for a in ("PAR", "AKS")], 75)}
    _, ih = run_ihai(window_frame(respondents(K1, 5, answers)), [K1], direct_population([K1], {}, {}), M1)
    assert ih.loc[K1, "ihai"] == 80.0
    assert ih.loc[K1, "kategori"] == "Tinggi"


def test_kerawanan_exactly_50_is_tinggi_through_ikn_kecamatan():
    # S = 100 (unweighted), E = 100 (no report), C from poskamling ≈ 6.25 and konflik 50 →
    # IKN ≈ 50. Which float gives exactly 50.0 depends on the platform's pow(): walk the
    # neighbouring floats of 6.25 until the pipeline's kerawanan is exactly 50.0.
    window = window_frame(respondents(K1, 2, lambda i: uniform_answers(IKN_ITEMS, 100)))
    poskamling = np.nextafter(6.25, 0.0)
    for _ in range(64):
        ctx = [context_row(K1, "pct_desa_poskamling_aktif", poskamling), context_row(K1, "pct_desa_konflik", 50)]
        _, _, _, ik = run_ikn(window, [K1], direct_population([K1], {}, {}), reports_frame([]), ctx, M1)
        row = ik.loc[K1]
        if row["kerawanan"] <= 50.0:
            break
        poskamling = np.nextafter(poskamling, 100.0)
    assert row["kerawanan"] == 50.0, row["kerawanan"]
    assert row["tingkat_kerawanan"] == "Tinggi" and not bool(row["alert_merah"])
    assert row["kategori"] == "Kurang"


def test_floor_at_one_inside_the_index_only():
    window = window_frame(respondents(K1, 3, lambda i: uniform_answers(IKN_ITEMS, 0)))
    _, _, _, ik = run_ikn(window, [K1], direct_population([K1], {}, {K1: float(1000)}), reports_frame([]), full_context([K1]), M1)
    row = ik.loc[K1]
    assert row["status"] == "ok"
    assert row["pilar_survei"] == 0.0  # published unfloored
    assert row["ikn"] == pytest.approx(1.0 ** 0.5 * 100.0 ** 0.3 * 100.0 ** 0.2)
    assert row["ikn"] == pytest.approx(10 ** 1.0)
    assert row["kategori"] == "Rawan" and row["tingkat_kerawanan"] == "Tinggi"
    assert row["kerawanan"] == pytest.approx(90.0)


def test_ikn_weighted_geometric_mean():
    window = window_frame(respondents(K1, 2, lambda i: uniform_answers(IKN_ITEMS, 50)))
    pop = direct_population([K1], {}, {K1: float(40_000)})
    ctx = [context_row(K1, "pct_penduduk_miskin", 6), context_row(K1, "tpt", 3)]  # 80, 80
    _, _, _, ik = run_ikn(window, [K1], pop, example_reports(), ctx, M1)
    row = ik.loc[K1]
    assert row["pilar_survei"] == pytest.approx(50.0) and row["pilar_peristiwa"] == pytest.approx(77.5)
    assert row["pilar_konteks"] == pytest.approx(80.0)
    assert row["ikn"] == pytest.approx(50 ** 0.5 * 77.5 ** 0.3 * 80 ** 0.2, rel=1e-12)
    assert row["kerawanan"] == pytest.approx(100 - row["ikn"])


def _integration_frames():
    ihai = pd.DataFrame({
        "kode_kecamatan": ["A", "B", "C", "D", "E", "F", "G"],
        "ihai": [60.0, 59.99, np.nan, 70.0, np.nan, 40.0, 80.0],
        "status": ["ok", "ok", "insufficient_sample", "ok", "no_data", "ok", "ok"],
    })
    ikn = pd.DataFrame({
        "kode_kecamatan": ["A", "B", "C", "D", "E", "F", "G"],
        "ikn": [80.0, 40.0, 70.0, np.nan, np.nan, 75.0, 30.0],
        "kerawanan": [20.0, 60.0, 30.0, np.nan, np.nan, 25.0, 70.0],
        "tingkat_kerawanan": pd.array(["Rendah", "Tinggi", "Sedang", None, None, "Rendah", "Tinggi"], dtype="string"),
        "status": ["ok", "ok", "ok", "missing_context", "no_data", "ok", "ok"],
    })
    return ihai, ikn


def test_integration_quadrants_and_reasons():
    ihai, ikn = _integration_frames()
    hk = integration.harmoni_kewaspadaan(ihai, ikn, {"A": "Camat A", "B": "Kasi Trantib Kec. B"}, M).set_index("kode_kecamatan")
    assert hk["kuadran"].tolist()[:1] == ["harmonis-aman"]  # IHaI exactly 60 is harmonis
    assert hk.loc["B", "kuadran"] == "kurang-harmonis-rawan"
    assert hk.loc["F", "kuadran"] == "kurang-harmonis-aman"
    assert hk.loc["G", "kuadran"] == "harmonis-rawan"
    for k in "ABFG":
        assert hk.loc[k, "rekomendasi"] == M.integration["quadrants"][hk.loc[k, "kuadran"]]
        assert pd.isna(hk.loc[k, "alasan_null"])
    assert hk.loc["C", "alasan_null"] == "ihai:insufficient_sample"
    assert hk.loc["D", "alasan_null"] == "ikn:missing_context"
    assert hk.loc["E", "alasan_null"] == "ihai:no_data; ikn:no_data"
    for k in "CDE":
        assert pd.isna(hk.loc[k, "kuadran"]) and pd.isna(hk.loc[k, "rekomendasi"])
    assert hk.loc["A", "penanggung_jawab"] == "Camat A"
    assert hk.loc["B", "penanggung_jawab"] == "Kasi Trantib Kec. B"
    assert hk.loc[list("CDEFG"), "penanggung_jawab"].isna().all()


def test_integration_insufficient_and_no_data_reason():
    ihai = pd.DataFrame({"kode_kecamatan": ["A"], "ihai": [np.nan], "status": ["insufficient_sample"]})
    ikn = pd.DataFrame({"kode_kecamatan": ["A"], "ikn": [np.nan], "kerawanan": [np.nan],
                        "tingkat_kerawanan": pd.array([None], dtype="string"), "status": ["no_data"]})
    hk = integration.harmoni_kewaspadaan(ihai, ikn, {}, M)
    assert hk.loc[0, "alasan_null"] == "ihai:insufficient_sample; ikn:no_data"
    assert pd.isna(hk.loc[0, "kuadran"]) and pd.isna(hk.loc[0, "penanggung_jawab"])


def test_read_assignments_missing_file_and_unknown_code(tmp_path):
    found = integration.read_assignments(tmp_path, {K1})
    assert found.table == {} and found.path is None and found.warnings
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "penanggung_jawab.csv").write_text(
        "kode_kecamatan,penanggung_jawab\n35.13.01,Camat Sukapura\n99.99.99,Camat X\n", encoding="utf-8")
    found = integration.read_assignments(tmp_path, {K1, K2})
    assert found.table == {K1: "Camat Sukapura"} and len(found.warnings) == 1
    (tmp_path / "reference" / "penanggung_jawab.csv").write_text(
        "kode_kecamatan,penanggung_jawab\n35.13.01,\n", encoding="utf-8")
    with pytest.raises(integration.AssignmentError, match="line 2"):
        integration.read_assignments(tmp_path, {K1})


def test_weighted_rollup_coverage_and_null():
    frame = pd.DataFrame({
        "kab": ["A", "A", "A", "A", "B", "B", "C"],
        "ihai": [80.0, 40.0, np.nan, 10.0, 70.0, np.nan, 50.0],
        "p": [100.0, 300.0, 100.0, np.nan, 200.0, 50.0, np.nan],
    })
    counted = pd.Series([True, True, False, True, False, False, True])
    out = rollup.weighted_rollup(frame, "kab", "ihai", "p", counted).set_index("kab")
    assert out.loc["A", "ihai"] == pytest.approx((80 * 100 + 40 * 300) / 400)
    assert out.loc["A", "coverage"] == pytest.approx(400 / 500)  # the unknown-population row is left out
    assert np.isnan(out.loc["B", "ihai"]) and out.loc["B", "coverage"] == 0.0  # nothing counted
    assert np.isnan(out.loc["C", "ihai"]) and np.isnan(out.loc["C", "coverage"])  # no known population
    assert list(out.columns) == ["ihai", "coverage"]


def test_weighted_rollup_zero_population_counts_as_unknown():
    frame = pd.DataFrame({"kab": ["A", "A"], "v": [90.0, 30.0], "p": [0.0, 10.0]})
    out = rollup.weighted_rollup(frame, "kab", "v", "p", pd.Series([True, True])).set_index("kab")
    assert out.loc["A", "v"] == pytest.approx(30.0) and out.loc["A", "coverage"] == pytest.approx(1.0)
