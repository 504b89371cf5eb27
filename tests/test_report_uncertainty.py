"""The report's section "Seberapa yakin angka ini?" (harmoni_pipeline/report/uncertainty.py)
on synthetic published marts and uncertainty tables (tests/report_helpers.py) in a real
warehouse: the values shown for a kecamatan whose numbers the test sets, the stability
label, the Sobol headline, suppressed groups shown as suppressed, and a month or a
warehouse without the tables rendering with a note."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.report import build
from harmoni_pipeline.report import uncertainty as report_uncertainty
from harmoni_pipeline.warehouse import Warehouse
from tests.report_helpers import publish_synthetic, publish_with_uncertainty, synthetic_marts, synthetic_uncertainty

PERIOD = "2025-03"
SCOPE = "35.13"


def _section(html: str) -> str:
    found = re.search(r'<section class="bab" id="ketidakpastian">(.*?)</section>', html, re.S)
    assert found, "the report has no uncertainty section"
    return found.group(1)


def _row(section: str, table_class: str, kode: str) -> str:
    table = re.search(rf'<table class="{table_class}">(.*?)</table>', section, re.S)
    assert table, table_class
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S) if f'<span class="catatan">{kode}</span>' in r]
    assert len(rows) == 1, (table_class, kode, len(rows))
    return rows[0]


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """A month of 35.13 with its uncertainty tables; one kecamatan's numbers set by hand."""
    wh = Warehouse(tmp_path_factory.mktemp("warehouse"), catalog_tables())
    marts = synthetic_marts(SCOPE, PERIOD, seed=3, run_id="synthetic-run")
    unc = synthetic_uncertainty(marts, seed=3)
    ihai, ikn = unc["marts.ihai_ketidakpastian"], unc["marts.ikn_ketidakpastian"]
    scored = ihai["skor"].notna() & ikn["skor"].notna()
    kode = ihai.loc[scored, "kode_kecamatan"].iloc[0]
    small = ihai.loc[~ihai["skor"].notna(), "kode_kecamatan"].iloc[0]  # a kecamatan without a published IHaI
    i, k = ihai.index[ihai["kode_kecamatan"] == kode][0], ikn.index[ikn["kode_kecamatan"] == kode][0]
    ihai.loc[i, ["skor_p05", "skor_p95", "peringkat_median", "peringkat_p05", "peringkat_p95"]] = [61.24, 70.06, 3.0, 3.0, 3.4]
    ikn.loc[k, ["skor_p05", "skor_p95", "peringkat_median", "peringkat_p05", "peringkat_p95", "p_kerawanan_tinggi"]] = \
        [40.04, 55.51, 2.5, 1.0, 5.2, 0.45]
    groups = unc["marts.ihai_kelompok"]
    sex = groups.index[(groups["kode_kecamatan"] == kode) & (groups["dimensi_kelompok"] == "jenis_kelamin")]
    for frame, skor, reasons in ((groups, [74.44, float("nan")], [None, "insufficient_sample"]),
                                 (unc["marts.ikn_kelompok"], [float("nan")] * 2,
                                  ["complementary_suppression", "insufficient_sample"])):
        frame.loc[sex, "n"] = [31, 12]  # L, P
        frame.loc[sex, "skor"] = skor
        frame.loc[sex, "alasan_null"] = reasons
    other = ihai.loc[scored, "kode_kecamatan"].iloc[1]
    for name in ("marts.ihai_kelompok", "marts.ikn_kelompok"):
        f = unc[name]
        young = (f["kode_kecamatan"] == kode) & (f["kelompok"] == "17-24")
        f.loc[young, "n"], f.loc[young, "skor"], f.loc[young, "alasan_null"] = 40, 66.64, None
        f = f[~((f["kode_kecamatan"] == other) & (f["kelompok"] == "17-24"))]  # no one aged 17-24 there
        education = pd.DataFrame({"kode_kecamatan": kode, "dimensi_kelompok": "pendidikan", "kelompok": ["tidak_diisi", "SMA"],
                                  "n": [35, 8], "skor": [70.0, None], "alasan_null": [None, "insufficient_sample"]})
        unc[name] = pd.concat([f, education], ignore_index=True)  # only "no answer" is large enough
    publish_with_uncertainty(wh, marts, unc, PERIOD, "synthetic-run")
    rendered = build.render(wh, PERIOD, SCOPE)
    return {"kode": kode, "other": other, "small": small, "rendered": rendered, "ihai": ihai, "ikn": ikn,
            "html": rendered.files[f"laporan_{PERIOD}.html"].decode()}


def test_the_section_shows_intervals_rank_bands_and_the_chance_of_tinggi(month):
    assert month["rendered"].check.passed, str(month["rendered"].check)
    assert month["rendered"].facts["ketidakpastian"] is True
    section = _section(month["html"])
    row = _row(section, "yakin", month["kode"])
    assert "61,2–70,1" in row and "40,0–55,5" in row  # IHaI and IKN 5–95 % intervals, Indonesian decimals
    assert "3<br><span class=\"catatan\">(selalu 3 dari" in row  # 3.0–3.4 rounds to rank 3 in every variant
    # the IKN rank shown as kerawanan rank n + 1 − rank: median 2.5 → n − 1.5 → n − 1, band 1–5.2 → n − 4.2 … n
    n = int(month["ikn"].set_index("kode_kecamatan").loc[month["kode"], "n_peringkat"])
    assert f'<td class="n rb">{n - 1}<br><span class="catatan">({n - 4}–{n} dari {n})</span>' in row
    assert "45 %" in row and 'title="tingkat belum pasti"' in row
    assert "tidak stabil" in row  # the IKN band spans four places
    assert f'<span class="catatan">{month["small"]}</span>' not in section  # not a row: listed without a score
    assert re.search(rf"Tanpa skor \(tidak cukup data\), jadi tanpa rentang: [^<]*\({month['small']}\)", section)


def test_the_caption_counts_stable_ranks_and_says_it_in_plain_words(month):
    section = _section(month["html"])
    counts = re.search(r"Dari (\d+) kecamatan dengan skor, peringkat <b>(\d+)</b> kecamatan <b>stabil</b>.*?"
                       r"<b>(\d+)</b> cukup stabil.*?<b>(\d+)</b> <b>tidak stabil</b>", section, re.S)
    assert counts, "no plain-language stability sentence"
    total, stable, fair, unstable = map(int, counts.groups())
    scored = int((month["ihai"]["skor"].notna() | month["ikn"]["skor"].notna()).sum())
    assert total == stable + fair + unstable == scored
    assert unstable >= 1
    assert re.search(r'<p class="utama">Kecamatan .+?, yang paling mendesak, berada di peringkat kerawanan \d+ dari \d+ '
                     r"kecamatan di .+? \(1 = paling rawan\); .+?: peringkat ini (stabil|cukup stabil|tidak stabil)\.", section)
    assert "berada di dalam rentang 5–95 %-nya sendiri pada" in section


def test_the_choice_that_matters_most_is_named_with_its_sobol_indices(month):
    section = _section(month["html"])
    assert "Peringkat <b>IHaI</b> paling dipengaruhi oleh <b>sampel responden" in section
    assert "(indeks total 0,70): lebih banyak responden" in section
    assert "Peringkat <b>IKN</b> paling dipengaruhi oleh <b>pangkat pilar IKN" in section and "0,41" in section
    row = _row(section, "sensitivitas", "eksponen")
    assert re.findall(r'<td class="n">([^<]*)</td>', row) == ["–", "–", "0,30", "0,41"]  # not an IHaI input
    rows = re.findall(r'<span class="catatan">(\w+)</span></td>', re.search(
        r'<table class="sensitivitas">(.*?)</table>', section, re.S).group(1))
    assert rows[0] == "sampel" and rows[1] == "eksponen"  # the largest total index first


def test_suppressed_groups_are_shown_as_suppressed_never_as_zero(month):
    section = _section(month["html"])
    table = re.search(r"<h4>Jenis kelamin</h4>\s*<table class=\"kelompok\">(.*?)</table>", section, re.S).group(1)
    assert "<th class=\"n\">Laki-laki</th><th class=\"n\">Perempuan</th>" in table
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", table, re.S) if month["kode"] in r]
    assert len(rows) == 1
    cells = re.findall(r'<td class="n">(.*?)</td>', rows[0], re.S)
    assert cells[0].startswith("74,4 / <span class=\"disembunyikan\">disembunyikan<sup>b</sup></span>")
    assert "n 31" in cells[0]
    assert cells[1].count("disembunyikan<sup>a</sup>") == 1 and " / " not in cells[1] and "n 12" in cells[1]
    assert "0,0" not in rows[0]
    # ages: 17-24 published in one kecamatan, absent in another; the older bands suppressed everywhere (synthetic n < 30)
    ages = re.search(r"<h4>Kelompok umur</h4>\s*<table class=\"kelompok\">(.*?)</table>\s*(<p.*?</p>)", section, re.S)
    assert re.findall(r'<th class="n">([^<]*)</th>', ages.group(1)) == ["17-24"]
    rows = {k: r for r in re.findall(r"<tr>(.*?)</tr>", ages.group(1), re.S) for k in (month["kode"], month["other"])
            if f'<span class="catatan">{k}</span>' in r}
    assert "66,6 / 66,6<br><span class=\"catatan\">n 40</span>" in rows[month["kode"]]
    assert '<span class="catatan">tidak ada responden</span>' in rows[month["other"]]
    assert "Disembunyikan di setiap kecamatan yang ditampilkan" in ages.group(2) and "25-39, 40-54" in ages.group(2)
    assert re.search(rf"Kecamatan tanpa skor juga tanpa skor kelompok: [^<]*\({month['small']}\)", section)
    assert "Sel yang disembunyikan tidak bernilai nol" in section
    education = re.search(r"<h4>Pendidikan</h4>(.*?)(<h4>|<p class=\"catatan\"><sup>a)", section, re.S).group(1)
    assert "<table" not in education and "Hanya responden yang tidak mengisi pendidikan" in education
    assert "(kelompok terlalu kecil): <span class=\"disembunyikan\">SMA</span>" in education


def test_a_month_without_uncertainty_tables_renders_with_a_note(tmp_path):
    wh = Warehouse(tmp_path / "wh", catalog_tables())
    publish_synthetic(wh, SCOPE, [PERIOD], seed=1)  # the ten marts only
    out = build.render(wh, PERIOD, SCOPE)
    assert out.check.passed, str(out.check)
    section = _section(out.files[f"laporan_{PERIOD}.html"].decode())
    assert "Analisis ketidakpastian untuk Maret 2025 tidak tersedia" in section
    assert "<table" not in section
    assert out.facts["ketidakpastian"] is False


def test_a_warehouse_older_than_the_uncertainty_tables_renders_with_a_note(tmp_path):
    wh = Warehouse(tmp_path / "wh", catalog_tables())
    publish_synthetic(wh, SCOPE, [PERIOD], seed=1)
    for table in ("marts.ihai_ketidakpastian", "marts.ikn_ketidakpastian", "marts.sensitivitas",
                  "marts.ihai_kelompok", "marts.ikn_kelompok"):
        shutil.rmtree(Path(wh.table_dir(table)))  # not even the empty placeholder file
    data = report_uncertainty.load(wh, PERIOD, pd.Series(["3513010"]))
    assert not data.available and data.kelompok.empty and data.sensitivitas.empty
    out = build.render(wh, PERIOD, SCOPE)
    assert "tidak tersedia" in _section(out.files[f"laporan_{PERIOD}.html"].decode())


def test_a_province_report_lists_the_most_urgent_and_follows_twenty_in_the_group_tables(tmp_path):
    wh = Warehouse(tmp_path / "wh", catalog_tables())
    marts = synthetic_marts("35", PERIOD, seed=2, run_id="synthetic-run")
    publish_with_uncertainty(wh, marts, synthetic_uncertainty(marts, seed=2), PERIOD, "synthetic-run")
    out = build.render(wh, PERIOD, "35")
    section = _section(out.files[f"laporan_{PERIOD}.html"].decode())
    yakin = re.search(r'<table class="yakin">(.*?)</table>', section, re.S).group(1)
    assert len(re.findall(r"<tr>", yakin)) == 1 + 50  # header + the 50 most urgent
    assert "ditampilkan 50 teratas dari" in section
    sex = re.search(r"<h4>Jenis kelamin</h4>\s*<table class=\"kelompok\">(.*?)</table>", section, re.S).group(1)
    assert len(re.findall(r"<tr>", sex)) == 1 + report_uncertainty.GROUP_ROWS_WIDE
