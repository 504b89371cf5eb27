"""Edge cases of methodology §1.7, §3, §4 and §5: events, context, statuses, bands, the IKN mean,
integration and roll-ups (``scoring/events.py``, ``context.py``, ``ikn.py``, ``integration.py``, ``rollup.py``).

Unit tests called as plain functions on small in-memory inputs — no warehouse, no Dagster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmoni_pipeline.scoring import context as context_mod
from harmoni_pipeline.scoring import events as events_mod
from harmoni_pipeline.scoring import integration, rollup
from tests.scoring_helpers import (
    ALL_ITEMS, ASPEK_COLS, DIMS, IHAI_ITEMS, IHAI_VARS, IKN_ITEMS, K1, K2, K3, KAB, LAST, M, M1, PERIOD,
    context_row, direct_population, even_cells, example_reports, full_context, idx, kecamatan_frame,
    pop_table, population_rows, report, reports_frame, respondents, run_ihai, run_ikn, stats_frame,
    total_row, uniform_answers, window_frame,
)


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


@pytest.mark.parametrize("overwrite", [False, True])
def test_item_scores_in_place_are_the_formula_bit_for_bit(overwrite):
    """Item scores computed in the caller's array (the marts step's memory, issue 19) are
    exactly ``100·(x − min)/(max − min)``, reversed items ``100 − that``, NaN kept; without
    ``overwrite`` the answers given are left as they were."""
    from harmoni_pipeline import methodology as methodology_mod
    from harmoni_pipeline.scoring.survey import item_scores

    m = methodology_mod.load()
    items = ["X06_AKS", "X01_PER", "KN3_PER", "X03_AKS", "X02_PAR"]
    rng = np.random.default_rng(4)
    answers = rng.integers(1, 6, size=(500, len(items))).astype(float)
    answers[rng.random(answers.shape) < 0.1] = np.nan
    given = answers.copy()
    lo, hi = m.scale
    plain = 100.0 * (given - lo) / (hi - lo)
    reverse = np.array([i in m.reverse_items for i in items])
    expected = np.where(reverse[None, :], 100.0 - plain, plain)
    got = item_scores(answers, items, m, overwrite=overwrite)
    np.testing.assert_array_equal(got, expected)  # NaN in the same places, every value exact
    assert reverse.any() and (~reverse).any()
    if overwrite:
        assert got is answers
    else:
        np.testing.assert_array_equal(answers, given)
