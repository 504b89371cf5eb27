"""Shared inputs of the scoring unit tests (``tests/test_scoring_*.py``): the methodology's
constants, small in-memory frames and the calls that run a scoring module on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings

from harmoni_pipeline import methodology
from harmoni_pipeline.scoring import context as context_mod
from harmoni_pipeline.scoring import events as events_mod
from harmoni_pipeline.scoring import ihai as ihai_mod
from harmoni_pipeline.scoring import ikn as ikn_mod
from harmoni_pipeline.scoring import population, survey

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


def example_reports() -> pd.DataFrame:
    return reports_frame([
        # merah1, follow-up after 2 days, selesai after 10 days
        report("A", K1, "2025-05-01", kualifikasi="merah1", status="selesai", tindak="2025-05-03", selesai="2025-05-11"),
        # hijau, follow-up after 5 days, selesai after 40 days
        report("B", K1, "2025-03-01", kualifikasi="hijau", status="selesai", tindak="2025-03-06", selesai="2025-04-10"),
        # hijau, open, reported 20 days before the end of M
        report("C", K1, "2025-06-10", kualifikasi="hijau", status="baru"),
    ])


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


M1 = M.with_min_n(1)
