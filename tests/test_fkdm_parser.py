"""FKDM report parser (harmoni_pipeline.ingest.fkdm) against hand-written fixtures.

The CSV fixture ``fixtures/fkdm/fkdm_probolinggo_2025-03.csv`` is a Kesbangpol-style
export (UTF-8 with BOM, CRLF, a quoted multi-line ``ringkasan``) of Kabupaten
Probolinggo; every FKDM rule of data-contracts §3.4 is broken at least once. Line map
(header = line 1):

    2  0001 first version  → duplicate_in_file (line 4 is its update)
    3  0002 names "Kec. Sukapura"/"Ngadisari", DD/MM/YYYY, "tantangan", "KUNING" → accepted
    4  0001 update, "Sosial Budaya", "ancaman", "MERAH1", ditangani → accepted
    5  no no_laporan → missing_field          6  2025-02-30 → invalid_date
    7  kejadian after lapor → date_order      8  selesai before lapor → date_order
    9  bidang olahraga → invalid_value       10  jenis_athg X → invalid_value
   11  kualifikasi "merah 3" → invalid_value 12  status proses → invalid_value
   13  Kota Probolinggo desa → out_of_scope  14  kecamatan Atlantis → unknown_region
   15  Ngadisari is not in Dringu → unknown_region
   16  kecamatan empty → missing_field       17  tgl_kejadian empty → missing_field
   18  kode_desa "Dringu-Pabean" → invalid_value
   19  0017 → accepted (its later line 20 breaks a rule, so it is not a duplicate)
   20  0017 status "dibatalkan" → invalid_value
   21-22 0018 "Pejarakan" (known variant), "Merah 2", "Gangguan", 17/3/2025 → accepted
   23  0019 compact code 3513232003, "h", no reporter → accepted
   24  0020 "32/01/2025" and an empty bidang → invalid_date + missing_field
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import xlsxwriter

from harmoni_pipeline.ingest.common import RULES, UnreadableFile
from harmoni_pipeline.ingest.fkdm import parse_dates, parse_fkdm_file
from harmoni_pipeline.ingest.schemas import FKDM_PARSED, staging_schema
from harmoni_pipeline.pii import Pseudonymizer
from harmoni_pipeline.regions import Regions

FIXTURES = Path(__file__).parent / "fixtures" / "fkdm"
CSV_FIXTURE = FIXTURES / "fkdm_probolinggo_2025-03.csv"

# Personal data and free text of the CSV fixture: none of it may leave the parser.
RAW_PERSONAL = [
    "Siti Aminah", "Budi Santoso", "Ahmad Fauzi", "Dewi Lestari", "Rudi Hartono", "Yuliana Putri",
    "Agus Salim", "Lina Marlina", "0812-3456-7890", "+62 812 3456 7890", "081233344455", "085711122233",
    "081299988877", "0856 7788 9900", "081355566677", "08123456789",
]
RINGKASAN_FRAGMENTS = [
    "Slamet Riyadi", "Haji Mukhlis", "Bapak Sutrisno", "Antrean pupuk", "Baliho dirusak", "Limbah PLTU",
    "kabut asap", "Banjir rob", "Dua kesalahan", "Perusakan makam",
]


@pytest.fixture(scope="module")
def regions() -> Regions:
    return Regions.load()


@pytest.fixture(scope="module")
def pseudonymizer() -> Pseudonymizer:
    return Pseudonymizer("test-key-for-harmoni")


def parse(path, regions, pseudonymizer, *, scope="35.13", period="2025-03"):
    return parse_fkdm_file(
        Path(path), display_path=f"fkdm/{period}/{Path(path).name}", regions=regions, scope=scope, period=period,
        pseudonymizer=pseudonymizer,
    )


def distinct_rejected_rows(parsed) -> int:
    return int(parsed.rejected["line"].nunique())


def assert_accounting(parsed) -> None:
    assert parsed.rows_read == len(parsed.accepted) + distinct_rejected_rows(parsed)
    assert parsed.rows_rejected == distinct_rejected_rows(parsed)
    assert set(parsed.rejected["rule"]) <= set(RULES)


def all_text(parsed) -> str:
    frames = [parsed.accepted.astype("string"), parsed.rejected.astype("string")]
    return "\n".join(f.fillna("").to_csv(index=False) for f in frames)


def assert_no_personal_data(parsed, personal=RAW_PERSONAL, ringkasan=RINGKASAN_FRAGMENTS) -> None:
    text = all_text(parsed)
    for value in [*personal, *ringkasan]:
        assert value not in text, value
    assert "ringkasan" not in parsed.accepted.columns
    assert not {"pelapor_nama", "pelapor_hp"} & set(parsed.accepted.columns)


# ---------------------------------------------------------------------- the CSV fixture


@pytest.fixture(scope="module")
def csv_parsed(regions, pseudonymizer):
    return parse(CSV_FIXTURE, regions, pseudonymizer)


def test_fixture_is_a_real_export_shape():
    raw = CSV_FIXTURE.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw


def test_csv_counts_and_accounting(csv_parsed):
    assert csv_parsed.format == "fkdm_csv"
    assert csv_parsed.rows_read == 22
    assert len(csv_parsed.accepted) == 5
    assert csv_parsed.rows_rejected == 17
    assert_accounting(csv_parsed)
    assert_no_personal_data(csv_parsed)


def test_csv_rules_per_line(csv_parsed):
    got = set(zip(csv_parsed.rejected["line"].astype(int), csv_parsed.rejected["rule"], csv_parsed.rejected["column"]))
    assert got == {
        (2, "duplicate_in_file", "no_laporan"),
        (5, "missing_field", "no_laporan"),
        (6, "invalid_date", "tgl_lapor"),
        (7, "date_order", "tgl_kejadian"),
        (8, "date_order", "tgl_selesai"),
        (9, "invalid_value", "bidang"),
        (10, "invalid_value", "jenis_athg"),
        (11, "invalid_value", "kualifikasi"),
        (12, "invalid_value", "status"),
        (13, "out_of_scope", "kode_desa"),
        (14, "unknown_region", "kecamatan"),
        (15, "unknown_region", "desa"),
        (16, "missing_field", "kecamatan"),
        (17, "missing_field", "tgl_kejadian"),
        (18, "invalid_value", "kode_desa"),
        (20, "invalid_value", "status"),
        (24, "invalid_date", "tgl_lapor"),
        (24, "missing_field", "bidang"),
    }
    every_fkdm_rule = {"missing_field", "invalid_value", "invalid_date", "unknown_region", "out_of_scope",
                       "date_order", "duplicate_in_file"}
    assert every_fkdm_rule <= set(csv_parsed.rejected["rule"])
    dup = csv_parsed.rejected[csv_parsed.rejected["rule"] == "duplicate_in_file"].iloc[0]
    assert dup["value"] == "FKDM/3513/2025/0001" and "line 4" in dup["message"]


def test_csv_accepted_values(csv_parsed):
    acc = csv_parsed.accepted.set_index("line")
    assert list(acc.index) == [3, 4, 19, 21, 23]  # the multi-line ringkasan shifts line 23
    r = acc.loc[3]
    assert (r["kode_kecamatan"], r["kode_desa"]) == ("35.13.01", "35.13.01.2001")
    assert (r["bidang"], r["jenis_athg"], r["kualifikasi"], r["status"]) == ("ekonomi", "T", "kuning", "terverifikasi")
    assert r["tgl_lapor"] == pd.Timestamp("2025-03-05") and r["tgl_tindak_lanjut"] == pd.Timestamp("2025-03-06")
    assert pd.isna(r["tgl_selesai"])
    r = acc.loc[4]  # the update of 0001 wins over line 2
    assert (r["no_laporan"], r["status"], r["bidang"], r["jenis_athg"], r["kualifikasi"]) == (
        "FKDM/3513/2025/0001", "ditangani", "sosial-budaya", "A", "merah1")
    r = acc.loc[21]  # "Pejarakan" is a known variant of Pajarakan (35.13.16)
    assert (r["kode_kecamatan"], r["kode_desa"], r["kualifikasi"], r["jenis_athg"]) == (
        "35.13.16", "35.13.16.2010", "merah2", "G")
    assert r["tgl_lapor"] == pd.Timestamp("2025-03-17") and r["tgl_selesai"] == pd.Timestamp("2025-03-20")
    r = acc.loc[23]
    assert (r["kode_kecamatan"], r["kode_desa"], r["jenis_athg"], r["status"]) == (
        "35.13.23", "35.13.23.2003", "H", "eskalasi")
    assert pd.isna(r["pelapor_key"])
    assert acc.loc[19, "no_laporan"] == "FKDM/3513/2025/0017"


def test_csv_reporter_pseudonym(csv_parsed, pseudonymizer):
    acc = csv_parsed.accepted.set_index("line")
    # phone first: the same number written two ways gives one pseudonym
    assert acc.loc[4, "pelapor_key"] == acc.loc[21, "pelapor_key"] == pseudonymizer.pseudonym("0812-3456-7890", "phone")
    # no phone: the name
    assert acc.loc[3, "pelapor_key"] == pseudonymizer.pseudonym("Budi Santoso", "name")
    assert acc["pelapor_key"].dropna().str.startswith("pii:").all()


def test_csv_columns_and_types_fit_the_staging_schema(csv_parsed):
    acc = csv_parsed.accepted
    assert list(acc.columns) == [name for name, _ in FKDM_PARSED] + ["line"]
    schema = staging_schema("fkdm")
    table = pa.Table.from_pandas(acc.reindex(columns=schema.names), schema=schema, preserve_index=False)
    assert table.column("tgl_lapor").type == pa.date32()
    assert table.column("tgl_lapor")[0].as_py() == dt.date(2025, 3, 5)


def test_out_of_scope_for_another_scope(regions, pseudonymizer):
    parsed = parse(CSV_FIXTURE, regions, pseudonymizer, scope="35.74")
    assert_accounting(parsed)
    assert_no_personal_data(parsed)
    # the Kota Probolinggo report is now the one in scope (if it passes the other rules)
    assert list(parsed.accepted["kode_desa"]) == ["35.74.01.1001"]
    assert (parsed.rejected["rule"] == "out_of_scope").sum() >= 4


# ---------------------------------------------------------------------- XLSX with native dates


def write_fkdm_xlsx(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Laporan FKDM")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    datetime_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    header = ["No. Laporan", "Tgl Lapor", "Tgl Kejadian", "Kode Desa", "Bidang", "Jenis ATHG", "Kualifikasi",
              "Status", "Tgl Tindak Lanjut", "Tgl Selesai", "Ringkasan", "Pelapor Nama", "Pelapor HP"]
    ws.write_row(0, 0, header)
    rows = [
        # native date cells, a datetime cell, a numeric desa code
        ["FKDM/3513/2025/0101", dt.date(2025, 4, 2), dt.datetime(2025, 4, 1, 21, 30), 3513192013, "Politik",
         "Hambatan", "Merah 1", "Ditangani", dt.date(2025, 4, 3), None, "Spanduk caleg dirobek, saksi Pak Wiryo",
         "Wahyu Hidayat", "0813-1111-2222"],
        # dates typed as text in both documented forms
        ["FKDM/3513/2025/0102", "2025-04-05", "04/04/2025", "35.13.01.2004", "lingkungan", "g", "hijau", "selesai",
         "05/04/2025", "2025-04-06", "Longsor kecil di jalur Ngadas", "Wahyu Hidayat", ""],
        # a native date that breaks the order rule
        ["FKDM/3513/2025/0103", dt.date(2025, 4, 7), dt.date(2025, 4, 9), "35.13.01.2004", "ekonomi", "A",
         "kuning", "baru", None, None, "Harga bawang naik", "Rina Wulandari", "0857-3333-4444"],
        # a number that is not a date cell
        ["FKDM/3513/2025/0104", 45757, dt.date(2025, 4, 1), "35.13.01.2004", "ekonomi", "A", "kuning", "baru",
         None, None, "Nomor seri, bukan tanggal", "Rina Wulandari", "0857-3333-4444"],
    ]
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write_datetime(i, j, value, datetime_fmt)
            elif isinstance(value, dt.date):
                ws.write_datetime(i, j, dt.datetime.combine(value, dt.time()), date_fmt)
            elif value is None:
                continue
            else:
                ws.write(i, j, value)
    wb.close()


def test_xlsx_native_dates(tmp_path, regions, pseudonymizer):
    path = tmp_path / "fkdm_april.xlsx"
    write_fkdm_xlsx(path)
    parsed = parse(path, regions, pseudonymizer, period="2025-04")
    assert parsed.format == "fkdm_xlsx"
    assert parsed.rows_read == 4
    assert_accounting(parsed)
    assert_no_personal_data(
        parsed,
        personal=["Wahyu Hidayat", "Rina Wulandari", "0813-1111-2222", "0857-3333-4444"],
        ringkasan=["Pak Wiryo", "Spanduk", "Longsor", "bawang", "Nomor seri"],
    )
    acc = parsed.accepted.set_index("line")
    assert list(acc.index) == [2, 3]
    assert acc.loc[2, "tgl_lapor"] == pd.Timestamp("2025-04-02")
    assert acc.loc[2, "tgl_kejadian"] == pd.Timestamp("2025-04-01")  # the time part is dropped
    assert acc.loc[2, "kode_desa"] == "35.13.19.2013" and acc.loc[2, "kualifikasi"] == "merah1"
    assert acc.loc[3, "tgl_kejadian"] == pd.Timestamp("2025-04-04")
    assert acc.loc[3, "tgl_selesai"] == pd.Timestamp("2025-04-06")
    assert acc.loc[2, "pelapor_key"] == pseudonymizer.pseudonym("+62 813 1111 2222", "phone")
    assert acc.loc[3, "pelapor_key"] == pseudonymizer.pseudonym("wahyu hidayat", "name")
    got = set(zip(parsed.rejected["line"].astype(int), parsed.rejected["rule"], parsed.rejected["column"]))
    assert got == {(4, "date_order", "tgl_kejadian"), (5, "invalid_date", "tgl_lapor")}


# ---------------------------------------------------------------------- layouts and helpers


def test_unknown_layout_names_missing_columns(tmp_path, regions, pseudonymizer):
    path = tmp_path / "rekap.csv"
    path.write_text("nomor,tanggal,kecamatan,bidang\n1,2025-03-01,Dringu,politik\n", encoding="utf-8")
    with pytest.raises(UnreadableFile) as err:
        parse(path, regions, pseudonymizer)
    message = str(err.value)
    assert "fkdm/2025-03/rekap.csv" in message
    for column in ("no_laporan", "tgl_lapor", "tgl_kejadian", "jenis_athg", "kualifikasi", "status"):
        assert column in message
    assert "desa" in message


def test_semicolon_names_only_layout(tmp_path, regions, pseudonymizer):
    """An export without kode_desa (names only, ';' as Indonesian Excel writes it)."""
    path = tmp_path / "fkdm_nama.csv"
    path.write_text(
        "No Laporan;Tanggal Lapor;Tanggal Kejadian;Kecamatan;Desa/Kelurahan;Bidang;Jenis ATHG;Kualifikasi;Status;"
        "Ringkasan;Nama Pelapor;HP Pelapor\n"
        "A-1;2025-03-02;2025-03-01;Kraksaan;Kel. Semampir;sosial budaya;T;Kuning;baru;Rapat RT memanas;Joko Widodo;\n"
        "A-2;2025-03-02;2025-03-01;Probolinggo;Semampir;sosial budaya;T;Kuning;baru;Nama kecamatan salah;Joko Widodo;\n"
        "A-3;2025-03-03;2025-03-01;;;ekonomi;A;hijau;baru;Tanpa wilayah;Joko Widodo;\n",
        encoding="utf-8",
    )
    parsed = parse(path, regions, pseudonymizer)
    assert_accounting(parsed)
    assert_no_personal_data(parsed, personal=["Joko Widodo"], ringkasan=["Rapat RT", "Tanpa wilayah"])
    assert list(parsed.accepted["kode_desa"]) == ["35.13.14.1003"]
    got = set(zip(parsed.rejected["line"].astype(int), parsed.rejected["rule"], parsed.rejected["column"]))
    assert (3, "unknown_region", "kecamatan") in got
    assert {(4, "missing_field", "kecamatan"), (4, "missing_field", "desa")} <= got


def test_parse_dates():
    raw = pd.Series(["2025-03-01", "1/3/2025", "01/03/2025", "2025-03-01T10:15:00", "2025-02-29", "31/04/2025",
                     "2025/03/01", "45757", None, "1899-12-31"], dtype="string")
    dates, invalid = parse_dates(raw)
    assert list(dates[:4]) == [pd.Timestamp("2025-03-01")] * 4
    assert list(invalid) == [False] * 4 + [True] * 4 + [False, True]


def test_hundred_thousand_reports_parse_in_seconds(tmp_path, regions, pseudonymizer):
    n = 100_000
    i = pd.RangeIndex(n)
    frame = pd.DataFrame(
        {
            "no_laporan": "FKDM/" + pd.Series(i).astype(str),
            "tgl_lapor": pd.Series(["2025-03-10", "10/03/2025"] * (n // 2)),
            "tgl_kejadian": "2025-03-09",
            "kode_desa": pd.Series(["35.13.19.2001", "", "35.13.01.2004", "35.74.01.1001"] * (n // 4)),
            "kecamatan": pd.Series(["", "Dringu", "", ""] * (n // 4)),
            "desa": pd.Series(["", "Pabean", "", ""] * (n // 4)),
            "bidang": pd.Series(["ekonomi", "Sosial Budaya", "SARA", "politik"] * (n // 4)),
            "jenis_athg": pd.Series(["A", "tantangan", "H", "x"] * (n // 4)),
            "kualifikasi": pd.Series(["hijau", "Merah 1", "KUNING", "merah2"] * (n // 4)),
            "status": "baru",
            "ringkasan": "teks bebas",
            "pelapor_nama": "Nama " + pd.Series(i % 5000).astype(str),
            "pelapor_hp": "08" + (pd.Series(i) % 20000 + 10**9).astype(str),
        }
    )
    path = tmp_path / "besar.csv"
    frame.to_csv(path, index=False)
    parsed = parse(path, regions, pseudonymizer)
    assert parsed.rows_read == n
    assert_accounting(parsed)
    assert len(parsed.accepted) == 3 * n // 4 - 0  # every 4th row: Kota Probolinggo + bad jenis_athg


def test_known_desa_codes_skip_the_resolver_with_the_same_outcome(tmp_path, regions, pseudonymizer):
    """Canonical in-scope desa codes are looked up in a cached index instead of the
    resolver; every code form must still give the resolver's code, rule and message."""
    from harmoni_pipeline.ingest.fkdm import _desa_codes_in_scope

    codes = ["35.13.19.2001", " 35.13.19.2001 ", "3513192001", "35_13_19_2001", "35.13.19", "35.74.01.1001",
             "35.13.19.9999", "35.13.19.2001.5", "99.99.99.9999"]
    path = tmp_path / "kode.csv"
    rows = [f"FK/{i},2025-03-02,2025-03-01,{c},politik,A,hijau,baru" for i, c in enumerate(codes)]
    path.write_text("no_laporan,tgl_lapor,tgl_kejadian,kode_desa,bidang,jenis_athg,kualifikasi,status\n"
                    + "\n".join(rows) + "\n")
    for scope in ("35.13", "ALL"):
        parsed = parse(path, regions, pseudonymizer, scope=scope)
        expected = regions.resolve_desa(pd.Series([c.strip() for c in codes], dtype="string"),
                                        pd.Series(pd.NA, index=range(len(codes)), dtype="string"), scope,
                                        required=True)
        got = parsed.accepted.set_index("line")["kode_desa"].reindex(range(2, 2 + len(codes)))
        assert list(got.fillna("-")) == list(expected["kode"].fillna("-"))
        rejected = parsed.rejected.set_index("line").reindex(range(2, 2 + len(codes)))
        assert list(rejected["rule"].fillna("-")) == list(expected["rule"].fillna("-"))
        assert list(rejected["message"].fillna("-")) == list(expected["message"].fillna("-"))
    assert _desa_codes_in_scope(regions, "ALL") is _desa_codes_in_scope(regions, "ALL")
    assert "35.74.01.1001" in _desa_codes_in_scope(regions, "ALL")
    assert "35.74.01.1001" not in _desa_codes_in_scope(regions, "35.13")
