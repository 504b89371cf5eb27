"""Statistics deliveries per arrival year (data-contracts §3.3), all synthetic.

Room: the ``stats/YYYY/`` files of a sample — long CSVs (kecamatan population by sex and
methodology age band; one file in five-year groups for a few kecamatan; context
indicators, with ``tpt`` only at kabupaten level so that inheritance is exercised and
three planted bad values), a BPS WebAPI ``list/model/data`` JSON (poverty by BPS
kecamatan code, bridged) and a BPS "Dalam Angka" workbook (titles, merged two-row
headers, ``010. Sukapura`` names in BPS order, Indonesian number text, ``-``/``…``, a
``Jumlah`` row, a ``Sumber`` footnote). One kecamatan per kabupaten-with-a-workbook has
no context value of its own at all (only the inherited ``tpt``: too few indicators, so
the pipeline reports ``missing_context``). Values derive from the kecamatan profiles
(less prepared kecamatan: more poverty and conflict, fewer active poskamling). The
BPS variable ids are the ones ``config/stats_sources.yaml`` maps for domain 3513.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa

from harmoni_pipeline.sample.context import SampleContext, slug
from harmoni_pipeline.sample.population import BANDS, FIVE_YEAR_GROUPS, SEXES, SOURCE, Population
from harmoni_pipeline.sample.writer import LandingWriter

LONG_HEAD = ["kode_wilayah", "tahun", "indikator", "jenis_kelamin", "kelompok_umur", "nilai", "satuan", "sumber"]
CONTEXT_SOURCE = "sintetis (sampel HARMONI) — bukan data BPS"
#: the domain whose WebAPI variable ids ``stats_sources.yaml`` maps
WEBAPI_DOMAIN = "3513"
WEBAPI_VAR_MISKIN = 102

TITLES = {
    "tpt": ("3.2.4", "Tingkat Pengangguran Terbuka (TPT) Menurut Kecamatan di {kab}, {year}",
            "Open Unemployment Rate by Subdistrict in {kab_en}, {year}", "TPT (%)"),
    "pct_penduduk_miskin": ("3.5.1", "Persentase Penduduk Miskin Menurut Kecamatan di {kab}, {year}",
                            "Percentage of Poor Population by Subdistrict in {kab_en}, {year}",
                            "Persentase Penduduk Miskin (%)"),
    "pct_desa_konflik": ("4.2.3", "Persentase Desa yang Mengalami Konflik Massal Menurut Kecamatan di {kab}, {year}",
                         "Percentage of Villages with Mass Conflict by Subdistrict in {kab_en}, {year}",
                         "Persentase Desa yang Mengalami Konflik Massal (%)"),
    "pct_desa_poskamling_aktif": ("4.1.1", "Persentase Desa dengan Poskamling Aktif Menurut Kecamatan di {kab}, {year}",
                                  "Percentage of Villages with Active Security Posts by Subdistrict in {kab_en}, {year}",
                                  "Persentase Desa dengan Poskamling Aktif (%)"),
}  # fmt: skip


SURVEY_OF = {
    "tpt": "Survei Angkatan Kerja Nasional (Sakernas)",
    "pct_penduduk_miskin": "Survei Sosial Ekonomi Nasional (Susenas)",
    "pct_desa_konflik": "Pendataan Potensi Desa (Podes)",
    "pct_desa_poskamling_aktif": "Pendataan Potensi Desa (Podes)",
}


class Context:
    """Synthetic context indicators per kecamatan and year (and ``tpt`` per kabupaten)."""

    def __init__(self, ctx: SampleContext, population: Population):
        self.ctx = ctx
        rng = ctx.rng("context")
        k = ctx.n_kec
        badness = np.clip((90.0 - ctx.profiles.ikn_level) / 64.0, 0.0, 1.0)
        self.badness = badness
        self.miskin_base = np.clip(7.0 + 18.0 * badness + rng.normal(0, 2.5, k), 2.0, 38.0)
        self.p_konflik = np.clip(0.01 + 0.22 * badness ** 1.5 + rng.normal(0, 0.02, k), 0.0, 0.5)
        self.p_poskamling = np.clip(0.92 - 0.5 * badness + rng.normal(0, 0.05, k), 0.1, 1.0)
        kabs = sorted(ctx.kab_names)
        self.tpt_base = {kab: float(v) for kab, v in zip(kabs, rng.uniform(2.5, 8.0, len(kabs)))}
        self.n_desa = np.maximum(ctx.desa_count, 1)
        self.population = population
        # one kecamatan per kabupaten with a Dalam Angka workbook has no own context at all
        self.missing = np.zeros(k, dtype=bool)

    def values(self, year: int) -> dict[str, np.ndarray]:
        rng = self.ctx.rng("context-year", year)
        k = self.ctx.n_kec
        konflik = rng.binomial(self.n_desa, self.p_konflik) / self.n_desa * 100.0
        poskamling = rng.binomial(self.n_desa, self.p_poskamling) / self.n_desa * 100.0
        miskin = np.clip(self.miskin_base * (1 - 0.03 * (year - 2020)) + rng.normal(0, 0.4, k), 1.0, 40.0)
        return {
            "pct_penduduk_miskin": np.round(miskin, 2),
            "pct_desa_konflik": np.round(konflik, 2),
            "pct_desa_poskamling_aktif": np.round(poskamling, 2),
            "konflik_count": np.rint(konflik * self.n_desa / 100.0),
            "poskamling_count": np.rint(poskamling * self.n_desa / 100.0),
        }

    def tpt(self, kab: str, year: int) -> float:
        return round(self.tpt_base[kab] + 0.3 * np.sin(year), 2)


def indonesian(x: float, decimals: int = 2) -> str:
    """``1234.5`` → ``1.234,50``; 0 → ``-`` (as BPS prints zero)."""
    if x == 0:
        return "-"
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "§").replace(".", ",").replace("§", ".")


def _long_csv(writer: LandingWriter, rel: str, frame: pd.DataFrame, rules: dict | None = None) -> None:
    cols = [
        pa.array(frame[c].astype(str).to_numpy(dtype=object), mask=frame[c].isna().to_numpy(), type=pa.string())
        for c in LONG_HEAD
    ]
    writer.csv(rel, LONG_HEAD, cols, kind="stats/long_csv", rules=rules)


def _population_frames(ctx: SampleContext, population: Population, year: int, five_year: np.ndarray):
    bands = population.scaled(year, "bands")
    groups = population.scaled(year, "groups")
    parts = []
    for name, values, labels, sel in (("bands", bands, BANDS, ~five_year), ("groups", groups, FIVE_YEAR_GROUPS, five_year)):
        k = np.flatnonzero(sel)
        kk, s, g = np.meshgrid(k, np.arange(2), np.arange(len(labels)), indexing="ij")
        parts.append(
            pd.DataFrame(
                {
                    "kode_wilayah": ctx.kec_code[kk.ravel()],
                    "tahun": year,
                    "indikator": "jumlah_penduduk",
                    "jenis_kelamin": np.array(SEXES, dtype=object)[s.ravel()],
                    "kelompok_umur": np.array(labels, dtype=object)[g.ravel()],
                    "nilai": values[kk.ravel(), s.ravel(), g.ravel()],
                    "satuan": "jiwa",
                    "sumber": SOURCE,
                }
            )
        )
    return parts


def _bps_order(ctx: SampleContext, kab: str) -> list[tuple[int, str | None]]:
    """Kecamatan of ``kab`` in BPS order: (context index, 7-digit BPS code or None when
    the 2020 bridge does not know the kecamatan; those come last)."""
    members = np.flatnonzero(ctx.kec_kab == kab).tolist()
    bps = ctx.bps_codes
    order = sorted(members, key=lambda i: (bps[i] is None, bps[i] or "", ctx.kec_code[i]))
    return [(i, bps[i]) for i in order]


def _dalam_angka(ctx, writer, context: Context, kab: str, year: int, with_poverty: bool) -> None:
    """One workbook for kabupaten ``kab`` published in ``year`` (data of ``year - 1``)."""
    data_year = year - 1
    kab_name = ctx.kab_names[kab]
    if kab_name.startswith("Kabupaten"):
        kab_en = kab_name.replace("Kabupaten ", "") + " Regency"
    else:
        kab_en = kab_name.replace("Kota ", "") + " Municipality"
    order = _bps_order(ctx, kab)
    this = context.values(data_year)
    prev = context.values(data_year - 1)
    rows_total = 0

    def build(workbook) -> int:
        nonlocal rows_total
        title_f = workbook.add_format({"bold": True})
        italic = workbook.add_format({"italic": True})
        head = workbook.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1, "text_wrap": True})
        num = workbook.add_format({"align": "right"})
        bold_num = workbook.add_format({"align": "right", "bold": True})
        sheets = ["3.2.4"] + (["3.5.1"] if with_poverty else []) + ["4.1.1", "4.2.3"]
        indicator_of = {"3.2.4": "tpt", "3.5.1": "pct_penduduk_miskin", "4.1.1": "pct_desa_poskamling_aktif",
                        "4.2.3": "pct_desa_konflik"}  # fmt: skip
        for sheet in sheets:
            ind = indicator_of[sheet]
            number, title, title_en, value_label = TITLES[ind]
            ws = workbook.add_worksheet(sheet)
            ws.set_column(0, 0, 28)
            ws.set_column(1, 3, 16)
            ws.write(0, 0, f"Tabel {number} " + title.format(kab=kab_name, year=data_year), title_f)
            ws.write(1, 0, f"Table {number} " + title_en.format(kab_en=kab_en, year=data_year), italic)
            two_years = ind == "pct_desa_poskamling_aktif"
            ws.merge_range(3, 0, 4, 0, "Kecamatan\nSubdistrict", head)
            if two_years:
                ws.merge_range(3, 1, 3, 2, value_label, head)
                ws.write(4, 1, str(data_year - 1), head)
                ws.write(4, 2, str(data_year), head)
                ws.write_row(5, 0, ["(1)", "(2)", "(3)"], head)
            else:
                ws.merge_range(3, 1, 4, 1, value_label, head)
                ws.write_row(5, 0, ["(1)", "(2)"], head)
            r = 6
            weights, sums = [], {}
            for i, bps in order:
                label = f"{bps[-3:]}. {ctx.kec_name[i]}" if bps else str(ctx.kec_name[i])
                ws.write_string(r, 0, label)
                cells = []
                years = [(prev, data_year - 1), (this, data_year)] if two_years else [(this, data_year)]
                for values, _y in years:
                    if ind == "tpt" or context.missing[i]:
                        cells.append("…")
                    else:
                        cells.append(indonesian(float(values[ind][i])))
                for j, cell in enumerate(cells):
                    ws.write_string(r, 1 + j, cell, num)
                r += 1
                weights.append(i)
            # Jumlah: the kabupaten's own rate (desa-weighted), as BPS prints it
            idx = np.array([i for i in weights if not context.missing[i]], dtype=np.int64)
            totals = []
            years = [(prev, data_year - 1), (this, data_year)] if two_years else [(this, data_year)]
            for values, y in years:
                if ind == "tpt":
                    totals.append(indonesian(context.tpt(kab, y)))
                elif ind == "pct_penduduk_miskin":
                    pop = context.population.total[idx].astype(float)
                    totals.append(indonesian(float((values[ind][idx] * pop).sum() / pop.sum())))
                else:
                    count = values["konflik_count" if ind == "pct_desa_konflik" else "poskamling_count"][idx].sum()
                    totals.append(indonesian(float(100.0 * count / context.n_desa[idx].sum())))
            # BPS labels the TPT total with the kabupaten ("Kabupaten Probolinggo"); a kota's
            # table says "Jumlah" (a row starting "Kota ..." would read as a kecamatan)
            total_label = kab_name if ind == "tpt" and kab_name.startswith("Kabupaten") else "Jumlah"
            ws.write_string(r, 0, total_label, title_f)
            for j, cell in enumerate(totals):
                ws.write_string(r, 1 + j, cell, bold_num)
            src = SURVEY_OF[ind]
            ws.write_string(r + 2, 0, f"Sumber: BPS {kab_name}, {src} — angka sintetis (sampel HARMONI), bukan data BPS")
            if ind == "tpt":
                ws.write_string(r + 3, 0, "Catatan: TPT tidak tersedia menurut kecamatan (…)")
            rows_total += len(order)
        return rows_total

    rel = f"stats/{year}/{slug(kab_name)}_dalam_angka_{year}.xlsx"
    writer.xlsx(rel, build, kind="stats/dalam_angka", created=dt.datetime(year, 2, 26, 8, 0, 0),
                title=f"{kab_name} Dalam Angka {year}", constant_memory=False)  # fmt: skip


def _webapi_json(ctx, writer, context: Context, kab: str, year: int) -> None:
    data_year = year - 1
    values = context.values(data_year)["pct_penduduk_miskin"]
    order = [(i, b) for i, b in _bps_order(ctx, kab) if b is not None]
    th = data_year - 1900
    var, turvar, turth = WEBAPI_VAR_MISKIN, 0, 3
    content = {}
    vervar = []
    for i, bps in order:
        vervar.append({"val": int(bps), "label": str(ctx.kec_name[i]).upper()})
        if context.missing[i]:
            continue
        content[f"{bps}{var}{turvar}{th}{turth}"] = float(values[i])
    body = {
        "status": "OK",
        "data-availability": "available",
        "last_update": f"{year}-02-14 09:12:31",
        "subject": [{"val": 23, "label": "Kemiskinan dan Ketimpangan"}],
        "var": [{"val": var, "label": "Persentase Penduduk Miskin Menurut Kecamatan", "unit": "Persen",
                 "subj": "Kemiskinan dan Ketimpangan", "def": "Persentase penduduk yang berada di bawah garis kemiskinan",
                 "decimal": "2", "note": "Angka sintetis (sampel HARMONI) — bukan data BPS"}],  # fmt: skip
        "turvar": [{"val": turvar, "label": "Tidak ada"}],
        "labelvervar": "Kecamatan",
        "vervar": vervar,
        "tahun": [{"val": th, "label": str(data_year)}],
        "turtahun": [{"val": turth, "label": "Maret"}],
        "datacontent": content,
    }
    rel = f"stats/{year}/bps_webapi_{WEBAPI_DOMAIN}_var{var}_{data_year}.json"
    writer.json(rel, body, kind="stats/bps_json", rows=len(content))


def write_stats(ctx: SampleContext, writer: LandingWriter, population: Population) -> None:
    context = Context(ctx, population)
    rng = ctx.rng("stats-layout")
    # where the workbooks and the WebAPI JSON go: the kabupaten of a kabupaten scope;
    # for wide scopes Kabupaten Probolinggo when in scope, else the first kabupaten
    kabs = sorted(ctx.kab_names)
    showcase = "35.13" if "35.13" in ctx.kab_names else kabs[0]
    for kab in [showcase]:
        members = np.flatnonzero(ctx.kec_kab == kab)
        context.missing[rng.choice(members)] = True
    five_year = np.zeros(ctx.n_kec, dtype=bool)
    n_five = max(2, int(round(0.03 * ctx.n_kec))) if ctx.n_kec > 4 else 0
    five_year[rng.choice(ctx.n_kec, n_five, replace=False)] = True
    webapi = showcase == "35.13"

    for y_i, year in enumerate(ctx.years):
        data_year = year - 1
        bands, groups = _population_frames(ctx, population, year, five_year)
        _long_csv(writer, f"stats/{year}/penduduk_kecamatan_{year}.csv", bands)
        if len(groups):
            _long_csv(writer, f"stats/{year}/penduduk_kelompok_umur_5tahunan_{year}.csv", groups)

        # context: tpt per kabupaten only; other indicators per kecamatan outside the showcase
        values = context.values(data_year)
        rows = [
            {"kode_wilayah": kab, "tahun": data_year, "indikator": "tpt", "jenis_kelamin": None, "kelompok_umur": None,
             "nilai": f"{context.tpt(kab, data_year):.2f}", "satuan": "persen", "sumber": CONTEXT_SOURCE}
            for kab in kabs
        ]  # fmt: skip
        others = np.flatnonzero((ctx.kec_kab != showcase) & ~context.missing)
        indicators = ["pct_penduduk_miskin", "pct_desa_konflik", "pct_desa_poskamling_aktif"]
        frame = pd.DataFrame(rows)
        if len(others):
            k, j = np.meshgrid(others, np.arange(len(indicators)), indexing="ij")
            names = np.array(indicators, dtype=object)[j.ravel()]
            vals = np.stack([values[i] for i in indicators], axis=1)[k.ravel(), j.ravel()]
            frame = pd.concat([frame, pd.DataFrame({
                "kode_wilayah": ctx.kec_code[k.ravel()], "tahun": data_year, "indikator": names,
                "jenis_kelamin": None, "kelompok_umur": None, "nilai": np.char.mod("%.2f", vals),
                "satuan": "persen", "sumber": CONTEXT_SOURCE})], ignore_index=True)  # fmt: skip
        if not webapi:  # no WebAPI body for this domain: poverty of the showcase comes as rows
            sc = np.flatnonzero((ctx.kec_kab == showcase) & ~context.missing)
            frame = pd.concat([frame, pd.DataFrame({
                "kode_wilayah": ctx.kec_code[sc], "tahun": data_year, "indikator": "pct_penduduk_miskin",
                "jenis_kelamin": None, "kelompok_umur": None,
                "nilai": np.char.mod("%.2f", values["pct_penduduk_miskin"][sc]), "satuan": "persen",
                "sumber": CONTEXT_SOURCE})], ignore_index=True)  # fmt: skip
        planted = Counter()
        if y_i == 0:
            # three bad values: a percentage of 130, a negative rate, a decimal comma
            members = np.flatnonzero((ctx.kec_kab == showcase) & ~context.missing)
            a, b, c = (members.tolist() * 3)[:3]
            bad = pd.DataFrame({
                "kode_wilayah": [ctx.kec_code[a], ctx.kec_code[b], ctx.kec_code[c]],
                "tahun": data_year, "indikator": ["pct_desa_konflik", "tpt", "pct_penduduk_miskin"],
                "jenis_kelamin": None, "kelompok_umur": None, "nilai": ["130", "-2.5", "12,5"],
                "satuan": "persen", "sumber": CONTEXT_SOURCE})  # fmt: skip
            frame = pd.concat([frame, bad], ignore_index=True)
            planted.update({"out_of_scale": 2, "invalid_value": 1})
        _long_csv(writer, f"stats/{year}/indikator_konteks_{data_year}.csv", frame, planted)
        if webapi:
            _webapi_json(ctx, writer, context, showcase, year)
        _dalam_angka(ctx, writer, context, showcase, year, with_poverty=not webapi)
