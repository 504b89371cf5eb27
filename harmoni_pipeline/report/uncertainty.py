"""The report's section "Seberapa yakin angka ini?": the month's published uncertainty,
sensitivity and group marts → what the section shows.

Room: reading ``marts.ihai_ketidakpastian``, ``marts.ikn_ketidakpastian``,
``marts.sensitivitas``, ``marts.ihai_kelompok`` and ``marts.ikn_kelompok`` of the month
through :meth:`~harmoni_pipeline.warehouse.Warehouse.query` (the published snapshot, like
every other table of the report), and shaping them into plain values: per kecamatan the
5–95 % interval of IHaI and IKN, the median rank and rank band within the kabupaten and a
plain-language stability label; which methodological choice moves the ranks most (Sobol
indices); the scores by respondent group with suppressed cells marked as suppressed.
A month without these tables (an older snapshot, an analysis that did not run) gives
``available = False`` for the missing part, and the template says so. Nothing is
recomputed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from harmoni_pipeline.report.numbers import angka

IHAI, IKN = "marts.ihai_ketidakpastian", "marts.ikn_ketidakpastian"
SENSITIVITAS = "marts.sensitivitas"
KELOMPOK = {"ihai": "marts.ihai_kelompok", "ikn": "marts.ikn_kelompok"}
TABLES = (IHAI, IKN, SENSITIVITAS, *KELOMPOK.values())  # what the section reads

STABLE_WIDTH = 1        # shown rank band (p95 − p05, rounded) of at most one place: "stabil"
FAIRLY_STABLE_WIDTH = 3  # up to three places: "cukup stabil"; wider: "tidak stabil"
UNCERTAIN_TOP = (0.2, 0.8)  # P(tingkat_kerawanan = Tinggi) in this range: the level is not settled
GROUP_COLUMNS = 6       # a dimension with more groups in scope shows its largest six
GROUP_ROWS_WIDE = 20    # at a province or national scope the group tables follow the 20 most urgent kecamatan

INPUT_NAMES = {
    "sampel": "sampel responden (siapa yang kebetulan disurvei)",
    "bobot": "bobot variabel IHaI",
    "eksponen": "pangkat pilar IKN (survei, peristiwa, konteks)",
    "agregasi": "cara merata-ratakan (geometrik atau aritmetik)",
    "batas_konteks": "batas normalisasi indikator konteks BPS",
    "raking": "pembobotan raking menurut jenis kelamin dan umur",
}
INPUT_ADVICE = {
    "sampel": "lebih banyak responden per kecamatan akan membuat peringkat lebih pasti",
    "raking": "komposisi responden menurut jenis kelamin dan umur menentukan; perluas sampel pada kelompok yang kurang",
}
DEFAULT_ADVICE = "peringkat bergantung pada pilihan metodologi: bacalah sebagai kelompok, bukan urutan yang pasti"
DIMENSION_NAMES = {"jenis_kelamin": "Jenis kelamin", "kelompok_umur": "Kelompok umur", "pendidikan": "Pendidikan",
                   "pekerjaan": "Pekerjaan"}
GROUP_NAMES = {"L": "Laki-laki", "P": "Perempuan", "tidak_diisi": "tidak diisi"}
COMPLEMENTARY = "complementary_suppression"


@dataclass
class UncertaintyData:
    """The month's published uncertainty tables (each empty when not published)."""

    ihai: pd.DataFrame
    ikn: pd.DataFrame
    sensitivitas: pd.DataFrame
    kelompok: pd.DataFrame  # marts.ihai_kelompok and marts.ikn_kelompok stacked, with ``indeks``

    @property
    def available(self) -> bool:
        return not (self.ihai.empty and self.ikn.empty)


def _read(warehouse, table: str, period: str) -> pd.DataFrame:
    """The month's rows of ``table`` as published; empty when the warehouse does not know
    the table or has no file for it at all (a warehouse older than the table)."""
    if table not in warehouse.tables:
        return pd.DataFrame()
    try:
        return warehouse.query(f"SELECT * FROM {{{table}}} WHERE period = ?", [period]).df()
    except duckdb.IOException:
        return pd.DataFrame()


def load(warehouse, period: str, codes: pd.Series) -> UncertaintyData:
    """Read the month's uncertainty, sensitivity and group marts for the kecamatan ``codes``."""
    keep = set(codes)

    def in_scope(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["kode_kecamatan"].isin(keep)].reset_index(drop=True) if len(frame) else frame

    groups = [in_scope(_read(warehouse, table, period)).assign(indeks=index) for index, table in KELOMPOK.items()]
    groups = [g for g in groups if len(g)]
    return UncertaintyData(
        ihai=in_scope(_read(warehouse, IHAI, period)), ikn=in_scope(_read(warehouse, IKN, period)),
        sensitivitas=_read(warehouse, SENSITIVITAS, period),
        kelompok=pd.concat(groups, ignore_index=True) if groups else pd.DataFrame(),
    )


# ---- ranks and intervals --------------------------------------------------------------------

def rank_text(value) -> int | None:
    """A rank quantile as the reader sees it: the nearest whole place (half up)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return int(math.floor(float(value) + 0.5))


def stability(p05, p95) -> str | None:
    """``stabil`` / ``cukup stabil`` / ``tidak stabil`` from the shown rank band."""
    lo, hi = rank_text(p05), rank_text(p95)
    if lo is None or hi is None:
        return None
    width = hi - lo
    return "stabil" if width <= STABLE_WIDTH else "cukup stabil" if width <= FAIRLY_STABLE_WIDTH else "tidak stabil"


def _index_columns(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    cols = ["skor", "skor_p05", "skor_p95", "skor_dalam_interval", "peringkat", "peringkat_median", "peringkat_p05",
            "peringkat_p95", "n_peringkat"] + (["p_kerawanan_tinggi"] if prefix == "ikn" else [])
    if frame.empty:
        return pd.DataFrame(columns=["kode_kecamatan", *(f"{prefix}_{c}" for c in cols)])
    return frame[["kode_kecamatan", *cols]].rename(columns={c: f"{prefix}_{c}" for c in cols})


STABILITY = ("stabil", "cukup stabil", "tidak stabil")


def _whole(values: pd.Series) -> pd.Series:
    return np.floor(values.astype("float") + 0.5)


def kecamatan_frame(data, order: pd.DataFrame) -> pd.DataFrame:
    """One row per kecamatan of ``order`` (in that order): both indices' intervals and
    rank quantiles, the shown rank band in whole places, and ``stabilitas`` — the label
    of the wider of the two bands (kecamatan without a published score: none). The IKN
    rank is shown as a kerawanan rank, ``n_peringkat + 1 − peringkat`` (1 = paling
    rawan), its band turned around with it; the IHaI rank as published (1 = tertinggi)."""
    u = data.uncertainty
    frame = (order[["kode_kecamatan", "nama_kecamatan", "nama_kabupaten"]]
             .merge(_index_columns(u.ihai, "ihai"), on="kode_kecamatan", how="left")
             .merge(_index_columns(u.ikn, "ikn"), on="kode_kecamatan", how="left"))
    # the IKN rank turned around: 1 = the lowest IKN of the kabupaten, "paling rawan"
    n = frame["ikn_n_peringkat"].astype("float") + 1.0
    p05, p95 = frame["ikn_peringkat_p05"].astype("float"), frame["ikn_peringkat_p95"].astype("float")
    frame["ikn_peringkat"] = n - frame["ikn_peringkat"].astype("float")
    frame["ikn_peringkat_median"] = n - frame["ikn_peringkat_median"].astype("float")
    frame["ikn_peringkat_p05"], frame["ikn_peringkat_p95"] = n - p95, n - p05
    levels = []
    for index in ("ihai", "ikn"):
        for q in ("peringkat", "peringkat_median", "peringkat_p05", "peringkat_p95"):
            frame[f"{index}_{q}"] = _whole(frame[f"{index}_{q}"])
        width = frame[f"{index}_peringkat_p95"] - frame[f"{index}_peringkat_p05"]
        level = np.select([width <= STABLE_WIDTH, width <= FAIRLY_STABLE_WIDTH, width > FAIRLY_STABLE_WIDTH],
                          [0.0, 1.0, 2.0], default=np.nan)
        levels.append(np.where(frame[f"{index}_skor"].notna(), level, np.nan))
    both = np.vstack(levels)
    worst = np.where(np.isnan(both).all(axis=0), np.nan, np.nanmax(np.where(np.isnan(both), -1.0, both), axis=0))
    frame["stabilitas"] = pd.Series(worst).map(dict(enumerate(STABILITY))).astype(object).to_numpy()
    p = frame["ikn_p_kerawanan_tinggi"].astype("float")
    frame["tinggi_belum_pasti"] = p.between(*UNCERTAIN_TOP)
    return frame


def kecamatan_rows(frame: pd.DataFrame) -> list[dict]:
    """The shown rows of :func:`kecamatan_frame` as nested dicts for the template."""
    rows = []
    for r in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        out = {"kode": r["kode_kecamatan"], "nama": r["nama_kecamatan"], "kabupaten": r["nama_kabupaten"],
               "p_tinggi": r["ikn_p_kerawanan_tinggi"], "stabilitas": r["stabilitas"],
               "tinggi_belum_pasti": bool(r["tinggi_belum_pasti"])}
        for index in ("ihai", "ikn"):
            whole = {k: (None if r[f"{index}_{q}"] is None else int(r[f"{index}_{q}"])) for k, q in (
                ("peringkat", "peringkat"), ("median", "peringkat_median"), ("lo", "peringkat_p05"),
                ("hi", "peringkat_p95"), ("dari", "n_peringkat"))}
            out[index] = {"skor": r[f"{index}_skor"], "p05": r[f"{index}_skor_p05"], "p95": r[f"{index}_skor_p95"],
                          **whole}
        rows.append(out)
    return rows


def _inside(frame: pd.DataFrame) -> dict:
    flags = frame["skor_dalam_interval"].dropna() if len(frame) else pd.Series([], dtype=bool)
    return {"inside": int(flags.astype(bool).sum()), "of": int(len(flags))}


def _counts(frame: pd.DataFrame) -> dict:
    counts = frame["stabilitas"].value_counts()
    return {label: int(counts.get(label, 0)) for label in STABILITY} | {"dengan_skor": int(counts.sum())}


def headline(row: dict | None) -> str | None:
    """The sentence for the most urgent kecamatan: its IKN rank, the band and whether it is stable."""
    if row is None or row["ikn"]["lo"] is None or row["ikn"]["hi"] is None:
        return None
    ikn = row["ikn"]
    band = f"{ikn['lo']}" if ikn["lo"] == ikn["hi"] else f"antara {ikn['lo']} dan {ikn['hi']}"
    verdict = {"stabil": "peringkat ini stabil", "cukup stabil": "peringkat ini cukup stabil",
               "tidak stabil": "peringkat ini tidak stabil"}[stability(ikn["lo"], ikn["hi"])]
    text = (f"Kecamatan {row['nama']}, yang paling mendesak, berada di peringkat kerawanan {ikn['peringkat']} dari "
            f"{ikn['dari']} kecamatan di {row['kabupaten']} (1 = paling rawan); pada 90 % variasi perhitungan "
            f"peringkatnya {band}: {verdict}.")
    if row["p_tinggi"] is not None:
        text += (f" Peluang tingkat kerawanannya Tinggi: {angka(100 * row['p_tinggi'], 0)} %"
                 + (" — tingkatnya belum pasti." if row["tinggi_belum_pasti"] else "."))
    return text


# ---- sensitivity ---------------------------------------------------------------------------

def sensitivity(frame: pd.DataFrame) -> dict:
    """Per input: first-order and total Sobol indices of the rank for IHaI and IKN, the
    input that matters most per index, and what that means for the office."""
    if frame.empty:
        return {"rows": [], "top": []}
    wide = frame.pivot_table(index="input", columns="indeks", values=["s1", "st"], aggfunc="first")
    wide.columns = [f"{index}_{stat}" for stat, index in wide.columns]
    for col in ("ihai_s1", "ihai_st", "ikn_s1", "ikn_st"):
        if col not in wide:
            wide[col] = np.nan
    wide["urut"] = wide[["ihai_st", "ikn_st"]].max(axis=1)
    wide = wide.sort_values("urut", ascending=False).reset_index()
    rows = [{"input": r["input"], "nama": INPUT_NAMES.get(r["input"], r["input"]),
             **{c: (None if pd.isna(r[c]) else float(r[c])) for c in ("ihai_s1", "ihai_st", "ikn_s1", "ikn_st")}}
            for r in wide.to_dict("records")]
    top = []
    for index, label in (("ihai", "IHaI"), ("ikn", "IKN")):
        part = frame[frame["indeks"] == index].sort_values(["st", "input"], ascending=[False, True])
        if len(part):
            best = part.iloc[0]
            top.append({"indeks": label, "input": best["input"], "nama": INPUT_NAMES.get(best["input"], best["input"]),
                        "st": float(best["st"]), "n_kecamatan": int(best["n_kecamatan"]),
                        "saran": INPUT_ADVICE.get(best["input"], DEFAULT_ADVICE)})
    return {"rows": rows, "top": top}


# ---- scores by group -------------------------------------------------------------------------

def _cell(value, reason) -> dict:
    if value is not None:
        return {"nilai": value, "disembunyikan": None}
    return {"nilai": None, "disembunyikan": "b" if reason == COMPLEMENTARY else "a"}


def group_tables(kelompok: pd.DataFrame, order: pd.DataFrame, dimensions: list[str], missing: str) -> list[dict]:
    """Per dimension present: the groups shown (all, or the ``GROUP_COLUMNS`` largest in
    scope; age bands in their order) and one row per kecamatan of ``order`` with a score,
    with, per group, IHaI and the IKN survey pillar or the suppression mark and ``n``. A
    group suppressed in every kecamatan shown is not a column of marks but named in
    ``semua_disembunyikan``; a dimension whose only published group is ``missing`` (no
    answer) gets no table (``hanya_tidak_diisi``)."""
    if kelompok.empty:
        return []
    shown_codes = order["kode_kecamatan"]
    scored = (order["ihai"].notna() | order["ikn"].notna()).set_axis(order["kode_kecamatan"])
    out = []
    for dim in dimensions:
        part = kelompok[(kelompok["dimensi_kelompok"] == dim) & kelompok["kode_kecamatan"].isin(shown_codes)]
        if part.empty:
            continue
        sizes = part[part["indeks"] == "ihai"].groupby("kelompok")["n"].sum()
        ranked = sizes.sort_values(ascending=False, kind="stable")
        groups = sorted(ranked.index) if dim == "kelompok_umur" or len(ranked) <= GROUP_COLUMNS else \
            sorted(ranked.index[:GROUP_COLUMNS], key=lambda g: (-sizes[g], g))
        cells = part[part["kelompok"].isin(groups)].pivot_table(
            index=["kode_kecamatan", "kelompok"], columns="indeks", values=["skor", "n", "alasan_null"],
            aggfunc="first", dropna=False)
        cells = cells.astype(object).where(cells.notna(), None)
        rows = []
        for code, name in zip(order["kode_kecamatan"], order["nama_kecamatan"]):
            if not scored.get(code, False):
                continue
            row = {"kode": code, "nama": name, "sel": []}
            for g in groups:
                if (code, g) not in cells.index:
                    row["sel"].append(None)
                    continue
                c = cells.loc[(code, g)]
                n = c.get(("n", "ihai")) if c.get(("n", "ihai")) is not None else c.get(("n", "ikn"))
                if n is None:  # the pivot's full grid: no respondent of this group in this kecamatan
                    row["sel"].append(None)
                    continue
                row["sel"].append({"n": n, "ihai": _cell(c.get(("skor", "ihai")), c.get(("alasan_null", "ihai"))),
                                   "ikn": _cell(c.get(("skor", "ikn")), c.get(("alasan_null", "ikn")))})
            rows.append(row)
        # a group suppressed (or absent) in every kecamatan shown is named once under the table, not as a column
        published = [any(r["sel"][j] and (r["sel"][j]["ihai"]["nilai"] is not None
                                          or r["sel"][j]["ikn"]["nilai"] is not None) for r in rows)
                     for j in range(len(groups))]
        only_missing = [g for g, keep in zip(groups, published) if keep] == [missing]
        if only_missing:  # a table of "tidak diisi" alone says nothing about the groups: one sentence instead
            published = [False] * len(groups)
        for r in rows:
            r["sel"] = [c for c, keep in zip(r["sel"], published) if keep]
        out.append({"dimensi": dim, "nama": DIMENSION_NAMES.get(dim, dim),
                    "kelompok": [GROUP_NAMES.get(g, g) for g, keep in zip(groups, published) if keep],
                    "semua_disembunyikan": [GROUP_NAMES.get(g, g) for g, keep in zip(groups, published)
                                            if not keep and g != missing],
                    "hanya_tidak_diisi": only_missing, "n_dipilih": len(groups),
                    "tidak_ditampilkan": len(ranked) - len(groups), "rows": rows})
    return out


def without_score(order: pd.DataFrame) -> list[dict]:
    """The kecamatan of ``order`` without a published IHaI or IKN: no interval, no group."""
    rest = order[order["ihai"].isna() & order["ikn"].isna()]
    return [{"kode": k, "nama": n} for k, n in zip(rest["kode_kecamatan"], rest["nama_kecamatan"])]


# ---- the section ------------------------------------------------------------------------------

def section(data, wide: bool, limit: int | None) -> dict:
    """The context of the section for the report's scope (see the module docstring)."""
    u = data.uncertainty
    kec = data.kecamatan.sort_values("urgensi", kind="stable")
    m = data.methodology
    dimensions = list(m.raw["groups"]["dimensions"])
    if u is None:
        u = UncertaintyData(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    frame = kecamatan_frame(data, kec[kec["ihai"].notna() | kec["ikn"].notna()]) if u.available else None
    shown = kecamatan_rows(frame.head(limit) if limit else frame) if u.available else []
    group_order = kec.head(GROUP_ROWS_WIDE) if wide else kec
    draws = u.ihai if len(u.ihai) else u.ikn
    return {
        "available": u.available,
        "rows": shown,
        "n_rows": 0 if frame is None else int(len(frame)),
        "counts": _counts(frame) if u.available else {},
        "headline": headline(shown[0]) if shown else None,
        "inside": {"ihai": _inside(u.ihai), "ikn": _inside(u.ikn)},
        "n_draws": int(draws["n_draws"].iloc[0]) if len(draws) else None,
        "seed": int(draws["seed"].iloc[0]) if len(draws) else None,
        "runs": sorted({str(r)[:8] for r in draws["run_id"].dropna()}) if len(draws) else [],
        "sensitivitas": sensitivity(u.sensitivitas),
        "tanpa_skor": [] if wide else without_score(kec),
        "n_tanpa_skor": int((kec["ihai"].isna() & kec["ikn"].isna()).sum()),
        "kelompok": group_tables(u.kelompok, group_order, dimensions, str(m.raw["groups"]["missing_label"])),
        "kelompok_tanpa_skor": without_score(group_order),
        "kelompok_available": not u.kelompok.empty,
        "group_rows_wide": GROUP_ROWS_WIDE,
        "stable_width": STABLE_WIDTH, "fairly_stable_width": FAIRLY_STABLE_WIDTH,
        "uncertain_top": [round(100 * p) for p in UNCERTAIN_TOP],
        "min_n": m.min_n,
    }
