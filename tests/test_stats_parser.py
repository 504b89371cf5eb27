"""Statistics parser (harmoni_pipeline.ingest.stats): long CSV, BPS WebAPI JSON and BPS
"Dalam Angka" XLSX, against hand-written fixtures of Kabupaten Probolinggo (35.13).

Fixtures
- ``fixtures/stats/statistik_kecamatan_2024.csv`` (long CSV, 54 lines): population of
  Sukapura (35.13.01) in five-year groups for L and P (lines 2–33), Dringu (35.13.19) L
  already in bands (34–38), four context indicators (39–42, the tpt of the kabupaten
  35.13), then one broken rule per line 43–55 (line 53 is a valid BPS 7-digit code).
- ``fixtures/stats/bps_webapi_3513_var101.json``: a ``list/model/data`` body of
  population by kecamatan and sex, BPS codes 3513010 Sukapura, 3513060 Tegalsiwalan
  (Kemendagri 35.13.20) and 3513170 Pajarakan (35.13.16), 2023–2024, with a total
  turvar, a ``…`` value, a string value and one stray key.
- The Dalam Angka workbook is written by :func:`write_dalam_angka` below with
  xlsxwriter (merged header cells, ``010. Sukapura`` names, Indonesian numbers).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import xlsxwriter

from harmoni_pipeline.ingest.common import RULES, UnreadableFile
from harmoni_pipeline.ingest.schemas import STATS_PARSED, staging_schema
from harmoni_pipeline.ingest.stats import load_sources, parse_stats_file
from harmoni_pipeline.regions import Regions

FIXTURES = Path(__file__).parent / "fixtures" / "stats"
LONG_CSV = FIXTURES / "statistik_kecamatan_2024.csv"
BPS_JSON = FIXTURES / "bps_webapi_3513_var101.json"


@pytest.fixture(scope="module")
def regions() -> Regions:
    return Regions.load()


def parse(path, regions, scope="35.13"):
    return parse_stats_file(Path(path), display_path=f"stats/2024/{Path(path).name}", regions=regions, scope=scope)


def distinct_rejected_rows(rej: pd.DataFrame) -> int:
    """Distinct input rows of a rejected frame: the line (and sheet, for a workbook),
    or the datacontent key for JSON."""
    if rej.empty:
        return 0
    if rej["line"].isna().all():  # JSON: the datacontent key
        return int(rej["column"].nunique())
    sheet = rej["column"].str.extract(r"^(.*)!", expand=False).fillna("")
    return int(pd.DataFrame({"line": rej["line"], "sheet": sheet}).drop_duplicates().shape[0])


def assert_accounting(parsed, *, staged_per_row: bool) -> None:
    """rows_read == accepted input rows + distinct rejected rows. Where one input row is
    one staged row (no age groups spread, one value per row), len(accepted) is the count
    of accepted input rows too."""
    rejected = distinct_rejected_rows(parsed.rejected)
    assert parsed.rows_rejected == rejected
    assert parsed.rows_read == parsed.rows_accepted + rejected
    if staged_per_row:
        assert parsed.rows_read == len(parsed.accepted) + rejected
    assert set(parsed.rejected["rule"]) <= set(RULES)
    assert list(parsed.accepted.columns) == [name for name, _ in STATS_PARSED] + ["line"]
    schema = staging_schema("stats")
    pa.Table.from_pandas(parsed.accepted.reindex(columns=schema.names), schema=schema, preserve_index=False)


def value(parsed, **where) -> float:
    acc = parsed.accepted
    mask = pd.Series(True, index=acc.index)
    for col, v in where.items():
        mask &= acc[col].isna() if v is None else (acc[col] == v).fillna(False)
    hits = acc[mask]
    assert len(hits) == 1, (where, hits)
    return float(hits["nilai"].iloc[0])


# ---------------------------------------------------------------------- long CSV


@pytest.fixture(scope="module")
def long_parsed(regions):
    return parse(LONG_CSV, regions)


def test_long_csv_accounting(long_parsed):
    assert long_parsed.format == "long_csv"
    assert long_parsed.rows_read == 54
    # 32 five-year lines become 10 band rows: staged rows differ from accepted lines
    assert long_parsed.rows_accepted == 43
    assert long_parsed.rows_rejected == 11
    assert len(long_parsed.accepted) == 5 + 6 + 10
    assert_accounting(long_parsed, staged_per_row=False)
    assert long_parsed.warnings == []


def test_long_csv_five_year_groups_become_bands(long_parsed):
    def pop(jk, band):
        return value(long_parsed, kode_wilayah="35.13.01", indikator="jumlah_penduduk", jenis_kelamin=jk,
                     kelompok_umur=band)

    # 15-19 gives 2/5 to 0-16 and 3/5 to 17-24; 75+ goes to 55+
    assert pop("L", "0-16") == pytest.approx(3000 + 0.4 * 1000)
    assert pop("L", "17-24") == pytest.approx(0.6 * 1000 + 1000)
    assert pop("L", "25-39") == pytest.approx(3000)
    assert pop("L", "40-54") == pytest.approx(3000)
    assert pop("L", "55+") == pytest.approx(4 * 1000 + 500)
    assert pop("P", "0-16") == pytest.approx(950 + 900 + 1100 + 0.4 * 1050)
    assert pop("P", "17-24") == pytest.approx(0.6 * 1050 + 980)
    assert pop("P", "55+") == pytest.approx(760 + 640 + 520 + 380 + 410)
    # nothing is lost: the bands sum to the groups
    sukapura = long_parsed.accepted[long_parsed.accepted["kode_wilayah"] == "35.13.01"]
    assert sukapura.loc[sukapura["indikator"] == "jumlah_penduduk", "nilai"].sum() == pytest.approx(15500 + 13330)
    bands = set(long_parsed.accepted["kelompok_umur"].dropna())
    assert bands == {"0-16", "17-24", "25-39", "40-54", "55+"}
    # a band row points at the first line that contributed to it
    row = long_parsed.accepted[(long_parsed.accepted["kode_wilayah"] == "35.13.01")
                               & (long_parsed.accepted["jenis_kelamin"] == "L")
                               & (long_parsed.accepted["kelompok_umur"] == "17-24")]
    assert int(row["line"].iloc[0]) == 5  # the 15-19 line
    # Dringu's rows were already bands: passed through
    assert value(long_parsed, kode_wilayah="35.13.19", jenis_kelamin="L", kelompok_umur="17-24") == 6480


def test_long_csv_context_rows(long_parsed):
    assert value(long_parsed, kode_wilayah="35.13.01", indikator="pct_penduduk_miskin") == 18.25
    assert value(long_parsed, kode_wilayah="35.13", indikator="tpt") == 3.08  # a kabupaten value
    assert value(long_parsed, kode_wilayah="35.13.19", indikator="pct_desa_konflik") == 7.14
    poskamling = long_parsed.accepted[long_parsed.accepted["indikator"] == "pct_desa_poskamling_aktif"]
    assert poskamling["satuan"].tolist() == ["persen"]  # the indicator's unit when the row has none
    assert value(long_parsed, kode_wilayah="35.13.20", indikator="pct_desa_konflik") == 0  # BPS code 3513060
    assert value(long_parsed, kode_wilayah="35.13.24", indikator="tpt") == 3.1  # the later duplicate wins
    assert long_parsed.accepted["tahun"].dropna().astype(int).isin([2023, 2024]).all()


def test_long_csv_rules(long_parsed):
    got = set(zip(long_parsed.rejected["line"].astype(int), long_parsed.rejected["rule"],
                  long_parsed.rejected["column"]))
    assert got == {
        (43, "invalid_value", "nilai"),
        (44, "invalid_value", "nilai"),
        (45, "out_of_scale", "nilai"),
        (46, "missing_field", "tahun"),
        (47, "invalid_value", "tahun"),
        (48, "out_of_scope", "kode_wilayah"),
        (49, "unknown_region", "kode_wilayah"),
        (50, "invalid_value", "indikator"),
        (51, "duplicate_in_file", "kode_wilayah"),
        (54, "invalid_value", "jenis_kelamin"),
        (55, "invalid_value", "kelompok_umur"),
    }


def test_long_csv_incomplete_groups_warn(tmp_path, regions):
    path = tmp_path / "penduduk.csv"
    path.write_text(
        "kode_wilayah,tahun,indikator,jenis_kelamin,kelompok_umur,nilai\n"
        "35.13.05,2024,jumlah_penduduk,L,0-14,3000\n"
        "35.13.05,2024,jumlah_penduduk,L,15-64,9800\n"
        "35.13.05,2024,jumlah_penduduk,L,65+,1100\n"
        "35.13.05,2024,jumlah_penduduk,P,0-14,2900\n"
        "35.13.05,2024,jumlah_penduduk,P,20-64,abc\n"
        "35.13.05,2024,jumlah_penduduk,P,65+,1200\n",
        encoding="utf-8",
    )
    parsed = parse(path, regions)
    assert_accounting(parsed, staged_per_row=False)
    assert parsed.rows_accepted == 5
    # 15-64 spread evenly over 50 ages: 2/50 to 0-16, 8/50 to 17-24, 15/50, 15/50, 10/50 to 55+
    assert value(parsed, jenis_kelamin="L", kelompok_umur="0-16") == pytest.approx(3000 + 9800 * 2 / 50)
    assert value(parsed, jenis_kelamin="L", kelompok_umur="55+") == pytest.approx(9800 * 10 / 50 + 1100)
    assert any("do not cover all ages" in w and "35.13.05 2024 jumlah_penduduk P" in w for w in parsed.warnings)


def test_long_csv_population_totals_are_checked_and_staged(tmp_path, regions):
    path = tmp_path / "penduduk_total.csv"
    path.write_text(
        "kode_wilayah,tahun,indikator,jenis_kelamin,nilai\n"
        "35.13.06,2024,jumlah_penduduk,L,20000\n"
        "35.13.06,2024,jumlah_penduduk,P,21000\n"
        "35.13.06,2024,jumlah_penduduk,,42000\n"
        "35.13.07,2024,jumlah_penduduk,,61000\n",
        encoding="utf-8",
    )
    parsed = parse(path, regions)
    assert_accounting(parsed, staged_per_row=True)
    assert parsed.rows_accepted == 4 and len(parsed.accepted) == 4
    # 35.13.06's total has both sex totals in the file: checked (2.4 % off → warning) and staged
    assert value(parsed, kode_wilayah="35.13.06", jenis_kelamin=None) == 42000
    assert value(parsed, kode_wilayah="35.13.06", jenis_kelamin="L") == 20000
    assert len(parsed.warnings) == 1 and "differ from the sum of their complete parts" in parsed.warnings[0]
    assert "35.13.06 2024 jumlah_penduduk: total 42000, parts 41000" in parsed.warnings[0]
    # 35.13.07 has only a total: staged as a total (jenis_kelamin NULL)
    assert value(parsed, kode_wilayah="35.13.07", jenis_kelamin=None) == 61000


def population_csv(tmp_path, lines: list[str]):
    path = tmp_path / "penduduk.csv"
    path.write_text("kode_wilayah,tahun,indikator,jenis_kelamin,kelompok_umur,nilai\n" + "".join(
        f"{line}\n" for line in lines), encoding="utf-8")
    return path


ADULT_BANDS = ("17-24", "25-39", "40-54", "55+")


def test_long_csv_stated_total_with_incomplete_parts_is_kept(tmp_path, regions):
    """Issue 11 item 6: a stated kecamatan total of 20 000 and eight adult sex × band cells
    of 100 — the cells are not a breakdown of the total, so the total is staged as stated
    and not compared with their sum (800)."""
    lines = ["35.13.06,2024,jumlah_penduduk,,,20000"]
    lines += [f"35.13.06,2024,jumlah_penduduk,{sex},{band},100" for sex in "LP" for band in ADULT_BANDS]
    parsed = parse(population_csv(tmp_path, lines), regions)
    assert_accounting(parsed, staged_per_row=True)
    assert parsed.rows_read == parsed.rows_accepted == 9 and len(parsed.accepted) == 9
    assert value(parsed, kode_wilayah="35.13.06", jenis_kelamin=None, kelompok_umur=None) == 20000
    assert value(parsed, kode_wilayah="35.13.06", jenis_kelamin="P", kelompok_umur="55+") == 100
    # only the usual note that the bands do not start at age 0; no total check
    assert len(parsed.warnings) == 1 and "do not cover all ages" in parsed.warnings[0]


def test_long_csv_stated_total_with_complete_breakdown_is_kept_and_checked(tmp_path, regions):
    """A complete breakdown (both sexes × all five bands, here partly in five-year groups)
    and a stated total: both are staged; the total is compared with the cells' sum, and so
    is a sex total with its five band cells. A band total with one sex only is not."""
    lines = ["35.13.06,2024,jumlah_penduduk,,,10300",                 # cells sum to 10 000: 3 % off
             "35.13.06,2024,jumlah_penduduk,L,,5000",                 # L's cells sum to 5 000: agrees
             "35.13.06,2024,jumlah_penduduk,L,0-14,600",
             "35.13.06,2024,jumlah_penduduk,L,15-19,1000"]            # 2/5 → 0-16, 3/5 → 17-24
    lines += [f"35.13.06,2024,jumlah_penduduk,L,{band},{v}" for band, v in
              (("20-24", 400), ("25-39", 1000), ("40-54", 1000), ("55+", 1000))]
    lines += [f"35.13.06,2024,jumlah_penduduk,P,{band},1000" for band in ("0-16",) + ADULT_BANDS]
    lines += ["35.13.07,2024,jumlah_penduduk,,17-24,999",              # P 17-24 is missing: no check
              "35.13.07,2024,jumlah_penduduk,L,17-24,500"]
    parsed = parse(population_csv(tmp_path, lines), regions)
    assert_accounting(parsed, staged_per_row=False)
    assert parsed.rows_accepted == len(lines)
    assert value(parsed, kode_wilayah="35.13.06", jenis_kelamin=None, kelompok_umur=None) == 10300
    assert value(parsed, kode_wilayah="35.13.06", jenis_kelamin="L", kelompok_umur=None) == 5000
    assert value(parsed, kode_wilayah="35.13.07", jenis_kelamin=None, kelompok_umur="17-24") == 999
    assert value(parsed, kode_wilayah="35.13.06", jenis_kelamin="L", kelompok_umur="17-24") == pytest.approx(1000)
    cells = parsed.accepted[parsed.accepted["jenis_kelamin"].notna() & parsed.accepted["kelompok_umur"].notna()
                            & (parsed.accepted["kode_wilayah"] == "35.13.06")]
    assert len(cells) == 10 and cells["nilai"].sum() == pytest.approx(10000)
    checked = [w for w in parsed.warnings if "differ from the sum" in w]
    assert len(checked) == 1 and checked[0].startswith("1 total(s) differ from the sum of their complete parts")
    assert "35.13.06 2024 jumlah_penduduk: total 10300, parts 10000" in checked[0]
    # 35.13.07's single band does not cover all ages: the usual coverage warning
    assert [w for w in parsed.warnings if w not in checked] == [
        w for w in parsed.warnings if "do not cover all ages" in w and "35.13.07" in w]


def test_long_csv_unknown_layout(tmp_path, regions):
    path = tmp_path / "lain.csv"
    path.write_text("wilayah;tahun;nilai\n35.13.01;2024;5\n", encoding="utf-8")
    with pytest.raises(UnreadableFile) as err:
        parse(path, regions)
    assert "stats/2024/lain.csv" in str(err.value)
    assert "kode_wilayah" in str(err.value) and "indikator" in str(err.value)


# ---------------------------------------------------------------------- BPS WebAPI JSON


@pytest.fixture(scope="module")
def json_parsed(regions):
    return parse(BPS_JSON, regions)


def test_bps_json_fixture_shape():
    body = json.loads(BPS_JSON.read_text(encoding="utf-8"))
    for key in ("status", "data-availability", "var", "turvar", "labelvervar", "vervar", "tahun", "turtahun",
                "datacontent"):
        assert key in body
    assert "351301010111240" in body["datacontent"]  # 3513010 · 101 · 1 · 124 · 0


def test_bps_json(json_parsed):
    assert json_parsed.format == "bps_json"
    assert json_parsed.rows_read == 19
    assert json_parsed.rows_rejected == 1
    assert json_parsed.rows_accepted == 18
    # totals (turvar Jumlah) are checked against L + P and staged; the … is no value
    assert len(json_parsed.accepted) == 12 + 5
    assert value(json_parsed, kode_wilayah="35.13.16", tahun=2024, jenis_kelamin=None) == 37500
    assert not ((json_parsed.accepted["kode_wilayah"] == "35.13.20") & (json_parsed.accepted["tahun"] == 2023)
                & json_parsed.accepted["jenis_kelamin"].isna()).any()
    assert_accounting(json_parsed, staged_per_row=False)
    assert json_parsed.accepted["line"].isna().all()
    assert value(json_parsed, kode_wilayah="35.13.20", tahun=2024, jenis_kelamin="L") == 19873  # a string value
    assert value(json_parsed, kode_wilayah="35.13.16", tahun=2023, jenis_kelamin="P") == 18400  # BPS 3513170
    assert set(json_parsed.accepted["satuan"]) == {"jiwa"}
    assert json_parsed.accepted["sumber"].str.startswith("BPS WebAPI var 101").all()
    rej = json_parsed.rejected.iloc[0]
    assert pd.isna(rej["line"]) and rej["column"] == "35139991011240" and rej["rule"] == "invalid_value"
    # Pajarakan 2024: L + P = 36 800 against a total of 37 500 (1.9 %)
    assert len(json_parsed.warnings) == 1 and "35.13.16 2024" in json_parsed.warnings[0]


def poverty_body() -> dict:
    """A real-shaped body of a percentage with a sub-annual turtahun (Maret/September)."""
    maret = {
        (3513010, "Sukapura"): "12.5",  # a number as a string
        (3513200, "Dringu"): 120,  # not a percentage
        (3513990, "Tidak Dikenal"): 18.5,  # not in the BPS–Kemendagri bridge
        (3513230, "Tongas"): "18,5",  # a comma decimal is not a WebAPI number
    }
    content = {}
    for (vv, _), v in maret.items():
        content[f"{vv}102" + "0" + "124" + "1"] = v  # vervar · var · turvar · th · turth
        content[f"{vv}102" + "0" + "124" + "2"] = 17.9  # September
    content["3513200102012419"] = 1.0  # a stray key
    return {
        "status": "OK",
        "data-availability": "available",
        "var": [{"val": 102, "label": "Persentase Penduduk Miskin", "unit": "Persen", "subj": "Kemiskinan",
                 "def": "", "note": ""}],
        "turvar": [{"val": 0, "label": "Tidak ada"}],
        "labelvervar": "Kecamatan",
        "vervar": [{"val": v, "label": label} for v, label in maret],
        "tahun": [{"val": 124, "label": "2024"}],
        "turtahun": [{"val": 1, "label": "Maret"}, {"val": 2, "label": "September"}],
        "datacontent": content,
    }


def test_bps_json_turtahun_scope_and_values(tmp_path, regions):
    path = tmp_path / "miskin.json"
    path.write_text(json.dumps(poverty_body()), encoding="utf-8")
    parsed = parse(path, regions)
    assert parsed.rows_read == 9
    assert_accounting(parsed, staged_per_row=True)
    maret = parsed.rejected[parsed.rejected["column"].str.endswith("01241")]
    assert dict(zip(maret["column"], maret["rule"])) == {
        "351320010201241": "out_of_scale",
        "351399010201241": "unknown_region",
        "351323010201241": "invalid_value",
    }
    assert dict(zip(parsed.rejected["column"], parsed.rejected["rule"]))["3513200102012419"] == "invalid_value"
    # September is another sub-annual period: the YAML names Maret as the one used
    september = parsed.rejected[parsed.rejected["column"].str.endswith("01242")]
    assert len(september) == 4 and september["message"].str.contains("September").all()
    assert september["rule"].eq("invalid_value").all()
    assert len(parsed.accepted) == 1
    assert value(parsed, indikator="pct_penduduk_miskin", kode_wilayah="35.13.01") == 12.5
    assert parsed.accepted["tahun"].tolist() == [2024]
    assert parsed.accepted["satuan"].tolist() == ["persen"]
    # read for Kota Probolinggo, every bridged kecamatan of 35.13 is out of scope
    other = parse(path, regions, scope="35.74")
    assert_accounting(other, staged_per_row=True)
    assert other.accepted.empty
    outside = other.rejected[other.rejected["rule"] == "out_of_scope"]
    assert set(outside["column"]) == {"351301010201241", "351320010201241", "351323010201241"}


def test_bps_json_unmapped_variable(tmp_path, regions):
    body = json.loads(BPS_JSON.read_text(encoding="utf-8"))
    body["var"][0]["val"] = 999
    body["datacontent"] = {k.replace("101", "999", 1) if k.startswith("3513") else k: v
                           for k, v in body["datacontent"].items()}
    path = tmp_path / "var999.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    parsed = parse(path, regions)
    assert_accounting(parsed, staged_per_row=True)
    assert parsed.accepted.empty and parsed.rows_rejected == 19
    assert parsed.rejected["rule"].eq("invalid_value").all()
    assert parsed.rejected["message"].str.contains("not mapped|matches no").all()


def test_bps_json_error_and_unavailable_bodies(tmp_path, regions):
    path = tmp_path / "kosong.json"
    path.write_text(json.dumps({"status": "OK", "data-availability": "list-not-available"}), encoding="utf-8")
    parsed = parse(path, regions)
    assert parsed.rows_read == 0 and parsed.accepted.empty and parsed.warnings
    path.write_text(json.dumps({"status": "Error", "message": "Invalid key"}), encoding="utf-8")
    with pytest.raises(UnreadableFile, match="Error"):
        parse(path, regions)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="invalid JSON"):
        parse(path, regions)


# ---------------------------------------------------------------------- Dalam Angka XLSX


def write_dalam_angka(path: Path, *, jumlah_laki="69.564,5") -> None:
    """A BPS "Kabupaten Probolinggo Dalam Angka" workbook: a table of contents and two
    tables laid out as BPS publishes them (bilingual title, merged header, column
    numbers, Indonesian number text, a Jumlah row, a Sumber footnote)."""
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1})
    cell = wb.add_format({"align": "right", "border": 1})

    toc = wb.add_worksheet("Daftar Tabel")
    toc.write(0, 0, "Kabupaten Probolinggo Dalam Angka 2025 - Daftar Tabel", bold)
    toc.write(2, 0, "4.1.1 Persentase Desa dengan Poskamling Aktif Menurut Kecamatan")

    ws = wb.add_worksheet("4.1.1")
    ws.merge_range("A1:C1", "Tabel 4.1.1 Persentase Desa dengan Poskamling Aktif Menurut Kecamatan di "
                            "Kabupaten Probolinggo, 2024", bold)
    ws.merge_range("A2:C2", "Table 4.1.1 Percentage of Villages with Active Security Posts by Subdistrict in "
                            "Probolinggo Regency, 2024")
    ws.merge_range("A4:A5", "Kecamatan\nSubdistrict", head)
    ws.merge_range("B4:C4", "Persentase Desa dengan Poskamling Aktif (%)\nPercentage of Villages with Active "
                            "Security Posts (%)", head)
    ws.write_string("B5", "2023", head)
    ws.write_number("C5", 2024, head)
    ws.write_row(5, 0, ["(1)", "(2)", "(3)"], head)
    rows = [
        ("010. Sukapura", "45,50", "50,00"),  # sheet row 7
        ("020. Sumber", "-", "12,5"),
        ("030. Kuripan", "…", 60.25),
        ("040. Bantaran", "33,3", "33,3"),
        ("050. Leces", "70", "..."),
        ("999. Atlantis", "10,0", "10,0"),  # row 12: unknown kecamatan
        ("060. Tegalsiwalan", "12,5x", "20"),  # row 13: not a number
        ("070. Banyuanyar", "101,5", "40"),  # row 14: not a percentage
    ]
    for i, (name, a, b) in enumerate(rows):
        ws.write_string(6 + i, 0, name, cell)
        for j, v in ((1, a), (2, b)):
            if isinstance(v, float):
                ws.write_number(6 + i, j, v, cell)
            else:
                ws.write_string(6 + i, j, v, cell)
    ws.write_row(14, 0, ["Kabupaten Probolinggo", "40,2", "42,1"], bold)  # row 15
    ws.write(16, 0, "Sumber/Source: BPS Kabupaten Probolinggo, Pendataan Potensi Desa (Podes) 2024")

    ws = wb.add_worksheet("3.1.2")
    ws.write("A1", "Tabel 3.1.2 Jumlah Penduduk Menurut Kecamatan dan Jenis Kelamin di Kabupaten Probolinggo, 2024",
             bold)
    ws.write("A2", "Table 3.1.2 Population by Subdistrict and Sex in Probolinggo Regency, 2024")
    ws.merge_range("A4:A5", "Kecamatan\nSubdistrict", head)
    ws.merge_range("B4:D4", "Jenis Kelamin/Sex", head)
    ws.write_row(4, 1, ["Laki-laki/Male", "Perempuan/Female", "Jumlah/Total"], head)
    population = [
        ("010. Sukapura", "25.120", "24.880", "50.000"),  # sheet row 6
        ("020. Sumber", "14.234,5", "14.100", "28.334,5"),
        ("080. Tiris", 30210, 30790, 61000),
    ]
    for i, row in enumerate(population):
        for j, v in enumerate(row):
            if isinstance(v, (int, float)):
                ws.write_number(5 + i, j, v, cell)
            else:
                ws.write_string(5 + i, j, v, cell)
    ws.write_row(8, 0, ["Jumlah/Total", jumlah_laki, "69.770", "139.334,5"], bold)
    ws.write(10, 0, "Sumber: Proyeksi Penduduk Interim 2020-2023 (Pertengahan Tahun/Juni)")
    wb.close()


@pytest.fixture
def dalam_angka(tmp_path) -> Path:
    path = tmp_path / "probolinggo_dalam_angka_2025.xlsx"
    write_dalam_angka(path)
    return path


def test_dalam_angka(dalam_angka, regions):
    parsed = parse(dalam_angka, regions)
    assert parsed.format == "dalam_angka"
    assert parsed.rows_read == 8 + 3  # kecamatan rows only
    assert parsed.rows_rejected == 3 and parsed.rows_accepted == 8
    assert_accounting(parsed, staged_per_row=False)
    # one value per kecamatan × year; "…"/"..." give none; "-" is 0
    poskamling = parsed.accepted[parsed.accepted["indikator"] == "pct_desa_poskamling_aktif"]
    assert len(poskamling) == 4 + 4
    pk = "pct_desa_poskamling_aktif"
    assert value(parsed, indikator=pk, kode_wilayah="35.13.01", tahun=2023) == 45.5
    assert value(parsed, indikator=pk, kode_wilayah="35.13.02", tahun=2023) == 0.0
    assert value(parsed, indikator=pk, kode_wilayah="35.13.02", tahun=2024) == 12.5
    assert value(parsed, indikator=pk, kode_wilayah="35.13.03", tahun=2024) == 60.25
    assert not ((poskamling["kode_wilayah"] == "35.13.03") & (poskamling["tahun"] == 2023)).any()
    assert not ((poskamling["kode_wilayah"] == "35.13.05") & (poskamling["tahun"] == 2024)).any()
    assert poskamling["sumber"].str.startswith("BPS Kabupaten Probolinggo, Pendataan Potensi Desa").all()
    assert set(poskamling["satuan"]) == {"persen"}
    sukapura = poskamling[poskamling["kode_wilayah"] == "35.13.01"]
    assert sukapura["line"].astype(int).tolist() == [7, 7]
    # population by sex and the Jumlah column (the stated total, checked against L + P)
    pop = parsed.accepted[parsed.accepted["indikator"] == "jumlah_penduduk"]
    assert len(pop) == 3 * 3 and pop["kelompok_umur"].isna().all() and pop["jenis_kelamin"].notna().sum() == 6
    assert value(parsed, kode_wilayah="35.13.02", jenis_kelamin="L") == 14234.5
    assert value(parsed, kode_wilayah="35.13.07", jenis_kelamin="P") == 30790
    assert pop["tahun"].astype(int).eq(2024).all()
    # the rules, with the cell as column
    got = set(zip(parsed.rejected["line"].astype(int), parsed.rejected["rule"], parsed.rejected["column"]))
    assert got == {
        (12, "unknown_region", "4.1.1!A12"),
        (13, "invalid_value", "4.1.1!B13"),
        (14, "out_of_scale", "4.1.1!B14"),
    }
    # the table of contents is skipped with a warning; the Jumlah rows agree
    assert len(parsed.warnings) == 1 and "Daftar Tabel" in parsed.warnings[0]


def test_dalam_angka_jumlah_mismatch_warns(tmp_path, regions):
    path = tmp_path / "dalam_angka_salah.xlsx"
    write_dalam_angka(path, jumlah_laki="70.100")  # 0.77 % above the sum of the rows
    parsed = parse(path, regions)
    assert_accounting(parsed, staged_per_row=False)
    mismatch = [w for w in parsed.warnings if "Jumlah row" in w]
    assert len(mismatch) == 1 and "Laki-laki/Male" in mismatch[0] and "3.1.2" in mismatch[0]
    assert len(parsed.accepted) == 17  # a warning rejects nothing


def test_dalam_angka_other_kabupaten_is_out_of_scope(dalam_angka, regions):
    parsed = parse(dalam_angka, regions, scope="35.74")
    assert_accounting(parsed, staged_per_row=False)
    assert parsed.accepted.empty
    assert parsed.rows_rejected == 11
    # every row is out of scope (rows with a bad value also say so)
    outside = parsed.rejected[parsed.rejected["rule"] == "out_of_scope"]
    assert distinct_rejected_rows(outside) == 11
    assert set(outside["column"].str.split("!").str[0]) == {"4.1.1", "3.1.2"}


def test_dalam_angka_without_known_table_is_unreadable(tmp_path, regions):
    path = tmp_path / "lain.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("5.1.1")
    ws.write("A1", "Tabel 5.1.1 Luas Panen Padi Menurut Kecamatan di Kabupaten Probolinggo, 2024")
    ws.write("A3", "Kecamatan")
    ws.write("B3", "Luas Panen (ha)")
    ws.write("A4", "010. Sukapura")
    ws.write("B4", "1.234,5")
    wb.close()
    with pytest.raises(UnreadableFile, match="no sheet of this workbook"):
        parse(path, regions)


def test_sources_yaml_is_consistent():
    config = load_sources()
    indicators = config["indicators"]
    assert {"jumlah_penduduk", "pct_penduduk_miskin", "tpt", "pct_desa_konflik",
            "pct_desa_poskamling_aktif"} <= set(indicators)
    for name, spec in indicators.items():
        assert spec["scale"] == ("percent" if name.startswith("pct_") or name == "tpt" else "count")
    for entry in config["bps_webapi"] + config["dalam_angka"]:
        assert entry["indikator"] in indicators
    assert [b[0] for b in config["_bands"]] == ["0-16", "17-24", "25-39", "40-54", "55+"]
    titles = [
        "Tabel 4.1.1 Persentase Desa dengan Poskamling Aktif Menurut Kecamatan di Kabupaten Probolinggo, 2024",
        "Tabel 3.2.4 Tingkat Pengangguran Terbuka (TPT) Menurut Kecamatan di Kabupaten Probolinggo, 2024",
        "Tabel 3.5.1 Persentase Penduduk Miskin Menurut Kecamatan di Kabupaten Probolinggo, 2024",
        "Tabel 4.2.3 Persentase Desa yang Mengalami Konflik Massal Menurut Kecamatan di Kabupaten Probolinggo, 2024",
        "Jumlah Penduduk Menurut Kecamatan dan Jenis Kelamin di Kabupaten Probolinggo, 2024",
    ]
    matched = [next(m["indikator"] for m in config["dalam_angka"] if m["_regex"].search(t)) for t in titles]
    assert matched == ["pct_desa_poskamling_aktif", "tpt", "pct_penduduk_miskin", "pct_desa_konflik",
                       "jumlah_penduduk"]
