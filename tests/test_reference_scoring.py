"""Unit tests of the test oracle ``tests/reference_scoring.py`` on the worked examples of
methodology §6, plus raking, FKDM versioning and the red-alert override."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from harmoni_pipeline import methodology
from harmoni_pipeline.methodology import all_items
from tests import reference_scoring as ref

M = methodology.load("HM-2026.1").raw
PERIOD = "2025-06"
KEC = "35.13.01"
SCOPE = pd.DataFrame([{"kode": KEC, "nama": "Sukapura", "kode_kabupaten": "35.13", "kode_provinsi": "35"}])

SURVEY_COLUMNS = ["period", "file_order", "line", "response_id", "kode_kecamatan",
                  "jenis_kelamin", "umur"] + all_items()
FKDM_COLUMNS = ["period", "file_order", "line", "no_laporan", "tgl_lapor", "tgl_kejadian",
                "tgl_tindak_lanjut", "tgl_selesai", "kode_kecamatan", "kualifikasi", "status"]
STATS_COLUMNS = ["period", "file_order", "line", "kode_wilayah", "tahun", "indikator",
                 "jenis_kelamin", "kelompok_umur", "nilai"]


def survey_df(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=SURVEY_COLUMNS)


def fkdm_df(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=FKDM_COLUMNS)


def stats_df(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=STATS_COLUMNS)


def population_rows(kode: str, per_cell: float, tahun: int = 2024) -> list[dict]:
    """Cross rows L/P × 0-16, 17-24, 25-39, 40-54, 55+ of ``per_cell`` each."""
    out, line = [], 2
    for sex in ("L", "P"):
        for band in ("0-16", "17-24", "25-39", "40-54", "55+"):
            out.append({"period": str(tahun), "file_order": 0, "line": line, "kode_wilayah": kode,
                        "tahun": tahun, "indikator": "jumlah_penduduk", "jenis_kelamin": sex,
                        "kelompok_umur": band, "nilai": per_cell})
            line += 1
    return out


def d(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


# --------------------------------------------------------------------------------------
# §6 worked example 1: three respondents, one variable X
# --------------------------------------------------------------------------------------

def one_variable_methodology() -> dict:
    """HM-2026.1 with a single IHaI variable X (= X01, AKS reversed), as in §6."""
    m = copy.deepcopy(M)
    m["ihai"]["variables"] = {"X01": ["ekonomi", "X", 100.0]}
    m["ihai"]["dimensions"] = ["ekonomi"]
    m["reverse_items"] = ["X01_AKS"]
    return m


def three_respondents() -> pd.DataFrame:
    answers = {"R1": (5, 4, 2), "R2": (3, 3, 3), "R3": (4, None, 1)}
    rows = []
    for line, (rid, (per, par, aks)) in enumerate(answers.items(), start=2):
        rows.append({"period": PERIOD, "file_order": 0, "line": line, "response_id": rid,
                     "kode_kecamatan": KEC, "jenis_kelamin": "L" if line % 2 else "P", "umur": 30,
                     "X01_PER": per, "X01_PAR": par, "X01_AKS": aks})
    return survey_df(rows)


def test_worked_example_respondent_scores():
    m = one_variable_methodology()
    expected = {"R1": ({"PER": 100, "PAR": 75, "AKS": 75}, 250 / 3),
                "R2": ({"PER": 50, "PAR": 50, "AKS": 50}, 50.0),
                "R3": ({"PER": 75, "PAR": None, "AKS": 100}, None)}
    for row in three_respondents().to_dict("records"):
        aspects, v = ref.respondent_unit_scores(row, "X01", m)
        exp_aspects, exp_v = expected[row["response_id"]]
        for aspect, exp in exp_aspects.items():
            assert aspects[aspect] == (None if exp is None else pytest.approx(exp))
        assert v == (None if exp_v is None else pytest.approx(exp_v))


def test_worked_example_min_n_2_gives_66_67():
    m = one_variable_methodology()
    marts = ref.reference_marts(three_respondents(), fkdm_df([]), stats_df([]), PERIOD, SCOPE, m, min_n=2)
    row = marts["ihai_kecamatan"].iloc[0]
    assert row["status"] == "ok"
    assert row["n_responden"] == 3
    assert row["weighting"] == "unweighted"          # no population margins
    assert row["n_efektif"] == pytest.approx(3.0)
    assert row["ihai"] == pytest.approx(200 / 3)      # (83.33 + 50) / 2
    assert round(row["ihai"], 2) == 66.67
    assert row["kategori"] == "Sedang"
    assert row["dim_ekonomi"] == pytest.approx(200 / 3)
    # Aspect scores use every respondent with that aspect (R3 counts for PER and AKS).
    assert row["aspek_persepsi"] == pytest.approx((100 + 50 + 75) / 3)
    assert row["aspek_partisipasi"] == pytest.approx((75 + 50) / 2)
    assert row["aspek_akseptabilitas"] == pytest.approx((75 + 50 + 100) / 3)
    assert row["gap_persepsi_partisipasi"] == False  # noqa: E712  (75 − 62.5 < 15)
    # CI over R1, R2: sd = 16.67, n_eff = 2 → se = 11.785.
    se = (50 / 3) / 2 ** 0.5
    assert row["ci_low"] == pytest.approx(200 / 3 - 1.96 * se)
    assert row["ci_high"] == pytest.approx(200 / 3 + 1.96 * se)


@pytest.mark.parametrize("min_n", [3, None])
def test_worked_example_insufficient_at_min_n_3_and_30(min_n):
    m = one_variable_methodology()
    marts = ref.reference_marts(three_respondents(), fkdm_df([]), stats_df([]), PERIOD, SCOPE, m, min_n=min_n)
    row = marts["ihai_kecamatan"].iloc[0]
    assert row["status"] == "insufficient_sample"
    assert row["n_responden"] == 3
    assert pd.isna(row["ihai"]) and pd.isna(row["ci_low"]) and pd.isna(row["aspek_persepsi"])
    assert pd.isna(row["gap_persepsi_partisipasi"])
    harmoni = marts["harmoni_kewaspadaan"].iloc[0]
    assert pd.isna(harmoni["kuadran"])
    assert harmoni["alasan_null"] == "ihai:insufficient_sample; ikn:no_data"


def test_full_catalog_needs_every_variable():
    # Same three respondents under the real ten-variable catalog: X02…X10 have nobody.
    marts = ref.reference_marts(three_respondents(), fkdm_df([]), stats_df([]), PERIOD, SCOPE, M, min_n=2)
    assert marts["ihai_kecamatan"].iloc[0]["status"] == "insufficient_sample"
    # No KN item answered: the IKN survey has no respondent.
    ikn = marts["ikn_kecamatan"].iloc[0]
    assert ikn["n_responden"] == 0 and ikn["status"] == "no_data"


# --------------------------------------------------------------------------------------
# §6 worked example 2: event pillar
# --------------------------------------------------------------------------------------

def event_reports() -> list[dict]:
    # Period 2025-06: last day of M = 2025-06-30.
    return [
        # merah1: follow-up after 2 days, selesai after 10 days
        {"period": "2025-03", "file_order": 0, "line": 2, "no_laporan": "F-1",
         "tgl_lapor": d("2025-03-01"), "tgl_kejadian": d("2025-02-27"),
         "tgl_tindak_lanjut": d("2025-03-03"), "tgl_selesai": d("2025-03-11"),
         "kode_kecamatan": KEC, "kualifikasi": "merah1", "status": "selesai"},
        # hijau: follow-up after 5 days, selesai after 40 days
        {"period": "2025-02", "file_order": 0, "line": 2, "no_laporan": "F-2",
         "tgl_lapor": d("2025-01-10"), "tgl_kejadian": d("2025-01-09"),
         "tgl_tindak_lanjut": d("2025-01-15"), "tgl_selesai": d("2025-02-19"),
         "kode_kecamatan": KEC, "kualifikasi": "hijau", "status": "selesai"},
        # hijau: open, no follow-up, reported 20 days before the end of M
        {"period": "2025-06", "file_order": 0, "line": 2, "no_laporan": "F-3",
         "tgl_lapor": d("2025-06-10"), "tgl_kejadian": d("2025-06-10"),
         "tgl_tindak_lanjut": None, "tgl_selesai": None,
         "kode_kecamatan": KEC, "kualifikasi": "hijau", "status": "baru"},
    ]


def test_event_pillar_worked_example():
    reports = ref.latest_reports(fkdm_df(event_reports()), PERIOD, M)
    window = ref.reports_in_window(reports, PERIOD, M)
    e = ref.event_pillar(window, 40_000.0, PERIOD, M)
    assert e["n_laporan"] == 3
    assert e["e1"] == pytest.approx(92.5)
    assert e["e2"] == pytest.approx(100 / 3)
    assert e["e3"] == pytest.approx(100 * (1 - 5 / 60))
    assert round(e["e3"], 2) == 91.67
    assert e["pilar_peristiwa"] == pytest.approx(77.5)


def test_event_pillar_end_to_end_with_population_40000():
    stats = stats_df(population_rows(KEC, 4_000.0))  # 10 cells × 4 000 = 40 000
    marts = ref.reference_marts(survey_df([]), fkdm_df(event_reports()), stats, PERIOD, SCOPE, M)
    ikn = marts["ikn_kecamatan"].iloc[0]
    assert ikn["n_laporan"] == 3
    assert ikn["e1"] == pytest.approx(92.5)
    assert ikn["pilar_peristiwa"] == pytest.approx(77.5)
    assert ikn["status"] == "no_data"                 # S comes first
    assert pd.isna(ikn["ikn"]) and pd.isna(ikn["tingkat_kerawanan"])
    assert ikn["alert_merah"] == False  # noqa: E712  (merah1 happened > 89 days ago)


def test_no_reports_gives_100_without_population():
    e = ref.event_pillar([], None, PERIOD, M)
    assert (e["e1"], e["e2"], e["e3"], e["pilar_peristiwa"]) == (100, 100, 100, 100)


def test_reports_without_population_null_e1_and_e():
    reports = ref.reports_in_window(ref.latest_reports(fkdm_df(event_reports()), PERIOD, M), PERIOD, M)
    e = ref.event_pillar(reports, None, PERIOD, M)
    assert e["e1"] is None and e["pilar_peristiwa"] is None
    assert e["e2"] == pytest.approx(100 / 3)


def test_latest_version_ditolak_removes_report_and_red_alert():
    rows = event_reports() + [
        # F-4: merah2 that happened 10 days before the end of M → red alert.
        {"period": "2025-06", "file_order": 1, "line": 2, "no_laporan": "F-4",
         "tgl_lapor": d("2025-06-21"), "tgl_kejadian": d("2025-06-20"),
         "tgl_tindak_lanjut": None, "tgl_selesai": None,
         "kode_kecamatan": KEC, "kualifikasi": "merah2", "status": "baru"},
        # F-5: accepted as baru in May, then its June version is ditolak → gone.
        {"period": "2025-05", "file_order": 0, "line": 3, "no_laporan": "F-5",
         "tgl_lapor": d("2025-05-02"), "tgl_kejadian": d("2025-05-01"),
         "tgl_tindak_lanjut": None, "tgl_selesai": None,
         "kode_kecamatan": KEC, "kualifikasi": "merah2", "status": "baru"},
        {"period": "2025-06", "file_order": 0, "line": 9, "no_laporan": "F-5",
         "tgl_lapor": d("2025-05-02"), "tgl_kejadian": d("2025-05-01"),
         "tgl_tindak_lanjut": None, "tgl_selesai": None,
         "kode_kecamatan": KEC, "kualifikasi": "merah2", "status": "ditolak"},
    ]
    # In May the F-5 baru version is the latest: it counts and raises the alert.
    may = ref.latest_reports(fkdm_df(rows), "2025-05", M)
    assert {r["no_laporan"] for r in may} == {"F-1", "F-2", "F-5"}
    june = ref.latest_reports(fkdm_df(rows), PERIOD, M)
    assert {r["no_laporan"] for r in june} == {"F-1", "F-2", "F-3", "F-4"}

    marts = ref.reference_marts(survey_df([]), fkdm_df(rows), stats_df(population_rows(KEC, 4_000.0)),
                                PERIOD, SCOPE, M)
    ikn = marts["ikn_kecamatan"].iloc[0]
    assert ikn["n_laporan"] == 4
    assert ikn["alert_merah"] == True  # noqa: E712
    assert ikn["tingkat_kerawanan"] == "Tinggi" and pd.isna(ikn["ikn"])
    assert marts["ikn_kabupaten"].iloc[0]["n_kecamatan_tinggi"] == 1
    harmoni = marts["harmoni_kewaspadaan"].iloc[0]
    assert harmoni["alasan_null"] == "ihai:no_data"   # tingkat is set by the override


# --------------------------------------------------------------------------------------
# Raking
# --------------------------------------------------------------------------------------

def raking_sample():
    # 12 respondents, deliberately unbalanced against the population.
    sexes = ["L"] * 8 + ["P"] * 4
    bands = ["17-24", "17-24", "17-24", "25-39", "25-39", "40-54", "55+", "55+",
             "17-24", "25-39", "40-54", "55+"]
    sex_margin = {"L": 5_000.0, "P": 5_400.0}
    band_margin = {"17-24": 2_000.0, "25-39": 3_400.0, "40-54": 2_900.0, "55+": 2_100.0}
    return sexes, bands, sex_margin, band_margin


def test_raking_meets_margins_before_trimming():
    sexes, bands, sex_margin, band_margin = raking_sample()
    weights, case = ref.rake(sexes, bands, sex_margin, band_margin, M)
    assert case == "raked"
    tol = M["survey"]["raking"]["tolerance"]
    for groups, margins in ((sexes, sex_margin), (bands, band_margin)):
        for g, m in margins.items():
            t = sum(w for w, gi in zip(weights, groups) if gi == g)
            assert abs(t - m) <= tol * m, (g, t, m)

    p_adult = sum(sex_margin.values())
    trimmed = ref.trim(weights, p_adult, M)
    assert sum(trimmed) == pytest.approx(p_adult)
    # Before the rescale the clipped weights lie in [0.2, 5] × mean: ratios are bounded by 25.
    assert max(trimmed) / min(trimmed) <= 25 + 1e-9


def test_raking_cases():
    sexes, bands, sex_margin, band_margin = raking_sample()
    # An age band with population but no respondent → sex only (one sex step).
    bands_no_young = [b if b != "17-24" else "25-39" for b in bands]
    w, case = ref.rake(sexes, bands_no_young, sex_margin, band_margin, M)
    assert case == "sex_only"
    assert sum(x for x, s in zip(w, sexes) if s == "L") == pytest.approx(5_000.0)
    assert sum(x for x, s in zip(w, sexes) if s == "P") == pytest.approx(5_400.0)
    # A sex without respondent → unweighted.
    w, case = ref.rake(["L"] * 12, bands, sex_margin, band_margin, M)
    assert (case, w) == ("unweighted", [1.0] * 12)
    # No margins → unweighted.
    w, case = ref.rake(sexes, bands, None, None, M)
    assert case == "unweighted"


def test_trim_clips_then_rescales():
    weights = [1.0, 1.0, 1.0, 97.0]                   # mean 25 → clip to [5, 125]
    out = ref.trim(weights, 200.0, M)
    assert sum(out) == pytest.approx(200.0)
    assert out[0] / out[3] == pytest.approx(5.0 / 97.0)


def test_population_margins_and_totals():
    rows = ref.dedup_statistics(stats_df(population_rows(KEC, 1_000.0)), PERIOD)
    pop = ref.population(rows, KEC, M)
    assert pop["sex_margin"] == {"L": 4_000.0, "P": 4_000.0}
    assert pop["band_margin"] == {"17-24": 2_000.0, "25-39": 2_000.0, "40-54": 2_000.0, "55+": 2_000.0}
    assert pop["p_adult"] == 8_000.0 and pop["p_total"] == 10_000.0
    # The kabupaten's population is never inherited.
    assert ref.population(rows, "35.13.02", M)["p_total"] is None


def stat_row(kode: str, tahun: int, sex: str | None, band: str | None, nilai: float) -> dict:
    return {"period": str(tahun), "file_order": 0, "line": 2, "kode_wilayah": kode, "tahun": tahun,
            "indikator": "jumlah_penduduk", "jenis_kelamin": sex, "kelompok_umur": band, "nilai": nilai}


def adult_rows(kode: str, per_cell: float, tahun: int = 2024) -> list[dict]:
    return [stat_row(kode, tahun, s, b, per_cell) for s in ("L", "P") for b in ("17-24", "25-39", "40-54", "55+")]


def oracle_population(rows: list[dict]) -> dict:
    return ref.population(ref.dedup_statistics(stats_df(rows), PERIOD), KEC, M)


def test_population_stated_total_with_adult_cells():
    """Issue 11 item 6: total 20 000 + eight adult cells of 100 → P_total 20 000, and two
    kuning reports give r = (2 + 2) / 20 000 · 10 000 = 2 → E1 = 100 · (1 − 2/20) = 90."""
    pop = oracle_population([stat_row(KEC, 2024, None, None, 20_000.0)] + adult_rows(KEC, 100.0))
    assert pop["p_total"] == 20_000.0 and pop["p_adult"] == 800.0
    assert pop["sex_margin"] == {"L": 400.0, "P": 400.0}
    kuning = [dict(r, no_laporan=f"K-{i}", kualifikasi="kuning", status="baru", tgl_tindak_lanjut=None,
                   tgl_selesai=None) for i, r in enumerate(event_reports()[:2])]
    window = ref.reports_in_window(ref.latest_reports(fkdm_df(kuning), PERIOD, M), PERIOD, M)
    assert ref.event_pillar(window, pop["p_total"], PERIOD, M)["e1"] == pytest.approx(90.0)


def test_population_older_complete_breakdown_newer_total():
    pop = oracle_population(population_rows(KEC, 100.0, 2023) + [stat_row(KEC, 2024, None, None, 1_500.0)])
    assert pop["p_adult"] == 800.0 and pop["band_margin"]["55+"] == 200.0  # the 2023 cells
    assert pop["p_total"] == 1_500.0                                        # the 2024 total


def test_population_adult_cells_only_and_sex_totals():
    only_adult = oracle_population(adult_rows(KEC, 100.0))
    assert only_adult["p_adult"] == 800.0 and only_adult["p_total"] is None
    sex_totals = oracle_population([stat_row(KEC, 2024, "L", None, 9_000.0), stat_row(KEC, 2024, "P", None, 9_500.0)])
    assert sex_totals == {"sex_margin": None, "band_margin": None, "p_adult": None, "p_total": None}
    with_total = oracle_population([stat_row(KEC, 2024, "L", None, 9_000.0), stat_row(KEC, 2024, "P", None, 9_500.0),
                                    stat_row(KEC, 2024, None, None, 20_000.0)])
    assert with_total["p_total"] == 20_000.0 and with_total["p_adult"] is None


def test_population_total_year_walks_back_past_incomplete_years():
    """A newer incomplete breakdown gives the margins, not the total; an older complete
    breakdown gives the total; in one year a stated total beats a complete breakdown."""
    newer_incomplete = [r for r in population_rows(KEC, 10.0, 2024) if (r["jenis_kelamin"], r["kelompok_umur"]) != ("P", "0-16")]
    pop = oracle_population(population_rows(KEC, 100.0, 2022) + newer_incomplete)
    assert pop["p_total"] == 1_000.0 and pop["p_adult"] == 80.0
    same_year = oracle_population(population_rows(KEC, 100.0) + [stat_row(KEC, 2024, None, None, 1_234.0)])
    assert same_year["p_total"] == 1_234.0


def test_survey_window_first_copy_wins():
    base = {"kode_kecamatan": KEC, "jenis_kelamin": "L", "umur": 40, "X01_PER": 5}
    rows = [
        dict(base, period="2024-06", file_order=0, line=5, response_id="A"),   # first copy of A
        dict(base, period="2024-07", file_order=0, line=2, response_id="A"),   # re-export
        dict(base, period="2025-06", file_order=1, line=2, response_id="A"),   # re-export
        dict(base, period="2024-07", file_order=0, line=3, response_id="B"),   # in window
        dict(base, period="2025-07", file_order=0, line=2, response_id="C"),   # after M
    ]
    kept = ref.survey_window(survey_df(rows), PERIOD, M)
    assert [r["response_id"] for r in kept] == ["B"]


# --------------------------------------------------------------------------------------
# Whole path: raked kecamatan, context inheritance, integration and roll-ups
# --------------------------------------------------------------------------------------

def test_full_path_and_rollups():
    rng = np.random.default_rng(7)
    kecs = ["35.13.01", "35.13.02", "35.13.03"]
    scope = pd.DataFrame([{"kode": k, "nama": k, "kode_kabupaten": "35.13", "kode_provinsi": "35"}
                          for k in kecs])
    rows = []
    for k, n in zip(kecs, (40, 40, 10)):
        for i in range(n):
            r = {"period": f"2025-0{rng.integers(1, 7)}", "file_order": 0, "line": i + 2,
                 "response_id": f"{k}-{i}", "kode_kecamatan": k,
                 "jenis_kelamin": "L" if i % 3 else "P", "umur": 17 + (i * 7) % 60}
            for item in all_items():
                r[item] = int(rng.integers(1, 6))
            rows.append(r)
    stats = population_rows("35.13.01", 3_000.0) + population_rows("35.13.02", 1_500.0)
    for kode, ind, value in (("35.13", "pct_penduduk_miskin", 12.0), ("35.13", "tpt", 6.0),
                             ("35.13.01", "tpt", 3.0)):
        stats.append({"period": "2024", "file_order": 1, "line": 2, "kode_wilayah": kode, "tahun": 2024,
                      "indikator": ind, "jenis_kelamin": None, "kelompok_umur": None, "nilai": value})
    marts = ref.reference_marts(survey_df(rows), fkdm_df([]), stats_df(stats), PERIOD, scope, M)

    ihai = marts["ihai_kecamatan"].set_index("kode_kecamatan")
    assert list(ihai["weighting"]) == ["raked", "raked", "unweighted"]
    assert list(ihai["status"]) == ["ok", "ok", "insufficient_sample"]
    ikn = marts["ikn_kecamatan"].set_index("kode_kecamatan")
    # Own tpt (3 %) for 35.13.01, the kabupaten's (6 %) elsewhere.
    assert ikn.loc["35.13.01", "pilar_konteks"] == pytest.approx((60 + 80) / 2)
    assert ikn.loc["35.13.02", "pilar_konteks"] == pytest.approx((60 + 60) / 2)
    assert list(ikn["status"]) == ["ok", "ok", "insufficient_sample"]
    s, e, c = ikn.loc["35.13.01", ["pilar_survei", "pilar_peristiwa", "pilar_konteks"]]
    assert ikn.loc["35.13.01", "ikn"] == pytest.approx(s ** 0.5 * e ** 0.3 * c ** 0.2)

    kab = marts["ihai_kabupaten"].iloc[0]
    expected = (8 * 3_000 * ihai.loc["35.13.01", "ihai"] + 8 * 1_500 * ihai.loc["35.13.02", "ihai"]) / 36_000
    assert kab["ihai"] == pytest.approx(expected)
    assert kab["coverage"] == pytest.approx(1.0)       # 35.13.03 has no known population
    assert kab["n_kecamatan_ok"] == 2
    kab_ikn = marts["ikn_kabupaten"].iloc[0]
    expected = (10 * 3_000 * ikn.loc["35.13.01", "ikn"] + 10 * 1_500 * ikn.loc["35.13.02", "ikn"]) / 45_000
    assert kab_ikn["ikn"] == pytest.approx(expected)

    harmoni = marts["harmoni_kewaspadaan"].set_index("kode_kecamatan")
    assert harmoni.loc["35.13.01", "kuadran"] in M["integration"]["quadrants"]
    assert pd.isna(harmoni.loc["35.13.01", "alasan_null"])
    assert harmoni.loc["35.13.03", "alasan_null"] == "ihai:insufficient_sample; ikn:insufficient_sample"
