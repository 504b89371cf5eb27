"""Survey exports (data-contracts §3.1, §3.4): layouts, rules, stable ids, personal data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import xlsxwriter

from harmoni_pipeline.ingest.common import RULES, ParsedFile, UnreadableFile
from harmoni_pipeline.ingest.readers import read_table
from harmoni_pipeline.ingest.schemas import SURVEY_PARSED
from harmoni_pipeline.ingest.survey import detect_survey_format, parse_survey_file
from harmoni_pipeline.ingest.survey_timestamps import _parse_timestamps
from harmoni_pipeline.methodology import all_items
from harmoni_pipeline.pii import Pseudonymizer
from harmoni_pipeline.regions import Regions

FIXTURES = Path(__file__).parent / "fixtures" / "survey"
SCOPE = "35.13"
PERSONAL_HEADERS = {"email", "no_hp", "nik", "email address", "alamat email", "nomor hp"}
PARSED_COLUMNS = [name for name, _ in SURVEY_PARSED] + ["line"]


@pytest.fixture(scope="module")
def regions():
    return Regions.load()


@pytest.fixture(scope="module")
def pseudonymizer():
    return Pseudonymizer("test-key-for-harmoni")


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def _parse(path: Path, regions, pseudonymizer, period="2025-12", scope=SCOPE) -> ParsedFile:
    parsed = parse_survey_file(
        path,
        display_path=f"survey/{period}/{path.name}",
        regions=regions,
        scope=scope,
        period=period,
        pseudonymizer=pseudonymizer,
    )
    _check_invariants(path, parsed)
    return parsed


def _personal_values(path: Path) -> set[str]:
    """Raw e-mails, phones and NIKs of a file, and their digit-only forms."""
    frame = read_table(path, path.name).frame
    values: set[str] = set()
    for column in frame.columns:
        if column.strip().casefold() in PERSONAL_HEADERS:
            for value in frame[column].dropna():
                values.add(value)
                digits = re.sub(r"\D", "", value)
                if len(digits) >= 8:
                    values.add(digits)
    return values


def _check_invariants(path: Path, parsed: ParsedFile) -> None:
    """Accounting identity, schema and the absence of raw personal data."""
    accepted, rejected = parsed.accepted, parsed.rejected
    distinct_rejected = rejected["line"].nunique()
    assert parsed.rows_read == len(accepted) + distinct_rejected
    assert parsed.rows_rejected == distinct_rejected
    assert not set(accepted["line"]) & set(rejected["line"])
    assert set(rejected["rule"]) <= set(RULES)
    assert list(accepted.columns) == PARSED_COLUMNS
    assert str(accepted["submitted_at"].dtype) == "datetime64[us, UTC]"
    assert str(accepted["umur"].dtype) == "Int16"
    assert all(str(accepted[item].dtype) == "Int8" for item in all_items())
    # the frame converts to the staging schema without loss
    pa.Table.from_pandas(accepted[[n for n, _ in SURVEY_PARSED]], schema=pa.schema(SURVEY_PARSED), preserve_index=False)
    if path.suffix == ".csv":
        raw = _personal_values(path)
        for frame in (accepted, rejected):
            for column in frame.columns:
                cells = frame[column].dropna().astype(str)
                for value in raw:
                    assert not cells.str.contains(value, regex=False).any(), f"raw personal value in {column}"


def _rules_by_line(parsed: ParsedFile) -> dict[int, set[str]]:
    grouped = parsed.rejected.groupby("line")["rule"].apply(set)
    return {int(k): v for k, v in grouped.items()}


# --------------------------------------------------------------------------- layouts


def test_detect_survey_format():
    assert detect_survey_format(["response_id", "submitted_at", "kode_kecamatan", "jenis_kelamin", "umur", "X01_PER"]) == "canonical"
    assert detect_survey_format(["Stempel waktu", "Kecamatan", "Jenis Kelamin", "Usia", "Ekonomi [X01_PER]"]) == "google_forms"
    assert (
        detect_survey_format(["start", "_uuid", "_submission_time", "identitas/kecamatan", "identitas/jk", "identitas/umur", "ikn/KN1_PER"])
        == "kobo"
    )
    with pytest.raises(ValueError, match=r"unknown survey layout: lacks columns jenis kelamin, item columns .*google_forms"):
        detect_survey_format(["Timestamp", "Kecamatan", "Usia"])


def test_other_layout_is_unreadable_naming_what_it_lacks(tmp_path):
    path = tmp_path / "laporan.csv"
    path.write_text("no_laporan,tgl_lapor,kecamatan,desa,bidang\nFK-1,2025-12-01,Dringu,Pabean,sosial-budaya\n")
    with pytest.raises(UnreadableFile, match=r"^survey/2025-12/laporan.csv: unknown survey layout: lacks columns "):
        parse_survey_file(path, display_path="survey/2025-12/laporan.csv", regions=None, scope=SCOPE,
                          period="2025-12", pseudonymizer=Pseudonymizer("k"))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.csv", "empty file"),
        ("garbage.csv", "binary"),
        ("duplicate_headers.csv", "duplicate column names"),
    ],
)
def test_unreadable_files(name, reason, regions, pseudonymizer):
    with pytest.raises(UnreadableFile, match=reason):
        _parse(FIXTURES / name, regions, pseudonymizer)


def test_header_only_file_is_zero_rows(regions, pseudonymizer):
    parsed = _parse(FIXTURES / "header_only.csv", regions, pseudonymizer)
    assert parsed.format == "canonical" and parsed.rows_read == 0
    assert parsed.accepted.empty and parsed.rejected.empty


def test_an_item_carried_by_two_columns_is_unreadable(tmp_path, regions, pseudonymizer):
    path = tmp_path / "gf.csv"
    path.write_text(
        "Timestamp,Kecamatan,Jenis Kelamin,Usia,[X01_PER] Pangan,Ekonomi [X01_PER]\n"
        "2025/12/03 10:15:22 GMT+7,Dringu,Laki-laki,40,Setuju,Setuju\n"
    )
    with pytest.raises(UnreadableFile, match="several columns carry item X01_PER"):
        _parse(path, regions, pseudonymizer)


# --------------------------------------------------------------------------- canonical


def test_canonical_bom_crlf(regions, pseudonymizer):
    parsed = _parse(FIXTURES / "canonical_bom_crlf.csv", regions, pseudonymizer)
    a = parsed.accepted
    assert parsed.format == "canonical" and parsed.rows_read == 4 and parsed.rejected.empty
    assert a["line"].tolist() == [2, 3, 6, 7]
    assert a["response_id"].tolist() == ["SRV-2025-000101", "SRV-2025-000102", "SRV-2025-000103", "SRV-2025-000104"]
    assert a["submitted_at"].tolist() == [
        _utc("2025-12-01T00:45:10"),  # +07:00
        _utc("2025-12-01T01:02:55"),  # no offset: Asia/Jakarta
        _utc("2025-12-01T01:10:00"),  # Z
        _utc("2025-12-02T02:30:00.250"),
    ]
    assert a["started_at"].isna().all() and a["ended_at"].isna().all()
    assert a["kode_desa"].tolist()[:2] == ["35.13.19.2004", "35.13.14.2013"] and pd.isna(a["kode_desa"].iloc[2])
    assert a["pekerjaan"].iloc[1].replace("\r\n", "\n") == "Guru honorer,\nSD Negeri Asembakor"
    # NIK wins over the phone; e-mail only → e-mail; nothing → NULL
    assert a["respondent_key"].iloc[0] == pseudonymizer.pseudonym("3513191203800003", "nik")
    assert a["respondent_key"].iloc[2] == pseudonymizer.pseudonym("sri.w@gmail.com", "email")
    assert pd.isna(a["respondent_key"].iloc[1])
    assert a[["X01_PER", "X01_PAR", "X01_AKS", "X10_PER", "KN3_PER"]].iloc[0].tolist() == [4, 3, 4, 2, 3]
    assert a["X02_PER"].isna().all()  # items absent from the file are NULL


def test_canonical_cp1252(regions, pseudonymizer):
    parsed = _parse(FIXTURES / "canonical_cp1252.csv", regions, pseudonymizer)
    assert parsed.accepted["pekerjaan"].tolist() == ["Pedagang kue – keliling", "Pemilik café"]


def test_canonical_every_survey_rule(regions, pseudonymizer):
    parsed = _parse(FIXTURES / "canonical_rules.csv", regions, pseudonymizer)
    assert parsed.rows_read == 19
    assert parsed.accepted["line"].tolist() == [2, 19]
    assert _rules_by_line(parsed) == {
        3: {"missing_field"},  # response_id
        4: {"missing_field"},  # submitted_at
        5: {"invalid_date"},  # month 13
        6: {"invalid_date"},  # after the arrival month (Asia/Jakarta)
        7: {"missing_field"},  # kode_kecamatan
        8: {"unknown_region"},  # 35.13.99
        9: {"out_of_scope"},  # Kota Probolinggo
        10: {"unknown_region"},  # desa of Dringu given for Tongas
        11: {"invalid_value"},  # jenis_kelamin X
        12: {"missing_field"},  # umur
        13: {"invalid_value"},  # umur "tiga puluh"
        14: {"age_out_of_range"},  # 12
        15: {"out_of_scale"},  # 0 and 6
        16: {"invalid_value"},  # 3.5 and a word
        17: {"empty_response"},
        18: {"duplicate_in_file"},  # HRM-0001 again
        20: {"invalid_date", "missing_field", "invalid_value", "age_out_of_range", "out_of_scale"},
    }
    r = parsed.rejected.set_index(["line", "rule"])
    assert r.loc[(3, "missing_field"), "column"] == "response_id"
    assert r.loc[(10, "unknown_region"), "column"] == "kode_desa"
    assert r.loc[(15, "out_of_scale"), ["column", "value"]].tolist() == ["X01_PER", "0"]
    assert "X01_AKS=6" in r.loc[(15, "out_of_scale"), "message"]
    assert r.loc[(16, "invalid_value"), ["column", "value"]].tolist() == ["X01_PER", "3.5"]
    assert "KN1_PER=sedang" in r.loc[(16, "invalid_value"), "message"]
    assert r.loc[(18, "duplicate_in_file"), "value"] == "HRM-0001"
    assert "2025-12" in r.loc[(6, "invalid_date"), "message"]
    ok = parsed.accepted.set_index("line")
    assert ok.loc[19, "KN1_PER"] == 3  # "3.0" is 3
    assert ok.loc[19, "submitted_at"] == _utc("2025-12-02T11:00:00")
    assert ok.loc[2, "respondent_key"] == pseudonymizer.pseudonym("3513190101850001", "nik")
    assert ok.loc[19, "respondent_key"] == pseudonymizer.pseudonym("lina.m@gmail.com", "email")
    assert ok.loc[2, "pendidikan"] == "SMA" and ok.loc[2, "jenis_kelamin"] == "L" and ok.loc[2, "umur"] == 40


def test_duplicate_id_counts_only_among_rows_passing_other_rules(tmp_path, regions, pseudonymizer):
    path = tmp_path / "c.csv"
    path.write_text(
        "response_id,submitted_at,kode_kecamatan,jenis_kelamin,umur,X01_PER\n"
        "A,2025-12-01T08:00:00,35.13.19,L,12,4\n"  # rejected for age: not the kept copy
        "A,2025-12-01T08:00:00,35.13.19,L,40,4\n"
        "A,2025-12-01T08:00:00,35.13.19,L,40,4\n"
    )
    parsed = _parse(path, regions, pseudonymizer)
    assert parsed.accepted["line"].tolist() == [3]
    assert _rules_by_line(parsed) == {2: {"age_out_of_range"}, 4: {"duplicate_in_file"}}


def test_bad_period_is_a_programming_error(regions, pseudonymizer):
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_survey_file(FIXTURES / "header_only.csv", display_path="x", regions=regions, scope=SCOPE,
                          period="2025-1", pseudonymizer=pseudonymizer)  # fmt: skip


# --------------------------------------------------------------------------- kobo


def test_kobo_semicolon_csv(regions, pseudonymizer):
    parsed = _parse(FIXTURES / "kobo_2025-12.csv", regions, pseudonymizer)
    a = parsed.accepted
    assert parsed.format == "kobo" and parsed.rows_read == 9
    assert a["line"].tolist() == [2, 3, 8]
    assert a["response_id"].tolist() == [
        "6f1c2b9e-3a47-4d7e-9b0a-1e2f3a4b5c6d",
        "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
        "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70",
    ]
    assert a["submitted_at"].iloc[0] == _utc("2025-12-02T02:20:51")  # Kobo writes UTC
    assert a["submitted_at"].iloc[2] == _utc("2025-12-31T16:59:59")  # 23:59:59 WIB: still December
    assert a["started_at"].iloc[0] == _utc("2025-12-02T02:12:01.512")
    assert a["ended_at"].iloc[0] == _utc("2025-12-02T02:20:45.001")
    assert a["kode_kecamatan"].tolist() == ["35.13.19", "35.13.14", "35.13.16"]
    assert a["kode_desa"].tolist() == ["35.13.19.2013", "35.13.14.1005", "35.13.16.2010"]
    assert a["jenis_kelamin"].tolist() == ["L", "P", "P"] and a["umur"].tolist() == [42, 29, 23]
    assert a.loc[0, ["X01_PER", "X01_PAR", "X01_AKS", "X03_AKS", "KN1_PER", "KN3_PER"]].tolist() == [4, 3, 2, 1, 5, 4]
    assert pd.isna(a.loc[1, "X01_PAR"]) and a["respondent_key"].isna().all()
    assert _rules_by_line(parsed) == {
        4: {"out_of_scale"},
        5: {"missing_field"},
        6: {"duplicate_in_file"},
        7: {"unknown_region"},
        9: {"invalid_date"},
        10: {"age_out_of_range"},
    }
    r = parsed.rejected.set_index("line")
    assert r.loc[5, "column"] == "identitas/jk" and r.loc[7, "column"] == "identitas/desa"
    assert r.loc[9, "column"] == "_submission_time"


def _kobo_workbook(path: Path, *, data_first: bool = True) -> Path:
    header = ["start", "end", "identitas/kecamatan", "identitas/desa", "identitas/jk", "identitas/umur",
              "ihai/X01_PER", "ihai/X01_PAR", "ikn/KN1_PER", "meta/instanceID", "_id", "_uuid",
              "_submission_time", "_validation_status", "_index"]  # fmt: skip
    rows = [
        ["2025-12-06T08:01:10.100+07:00", "2025-12-06T08:09:40.300+07:00", "35_13_23", "35_13_23_2008", "p", 35.0,
         3.0, 4.0, 5.0, "uuid:11111111-aaaa-4bbb-8ccc-000000000001", 412000201.0,
         "11111111-aaaa-4bbb-8ccc-000000000001", dt.datetime(2025, 12, 6, 1, 9, 48), None, 1.0],
        ["2025-12-06T09:15:00.000+07:00", "2025-12-06T09:20:00.000+07:00", "35_13_01", "35_13_01_2009", "l", 44.0,
         4.0, 2.5, 3.0, "uuid:11111111-aaaa-4bbb-8ccc-000000000002", 412000202.0,
         "11111111-aaaa-4bbb-8ccc-000000000002", dt.datetime(2025, 12, 6, 2, 20, 5), None, 2.0],
        ["2025-12-07T10:00:00.000+07:00", "2025-12-07T10:06:00.000+07:00", "35_13_14", "35_13_14_2012", "l", 61.0,
         5.0, 5.0, None, "uuid:11111111-aaaa-4bbb-8ccc-000000000003", 412000203.0,
         "11111111-aaaa-4bbb-8ccc-000000000003", dt.datetime(2025, 12, 7, 3, 6, 30), None, 3.0],
    ]  # fmt: skip
    wb = xlsxwriter.Workbook(str(path))
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    if not data_first:
        wb.add_worksheet("Petunjuk").write(0, 0, "Data survei ada di sheet berikutnya")
    ws = wb.add_worksheet("Survei IHaI-IKN Probolinggo")
    ws.write_row(0, 0, header)
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write_datetime(i, j, value, stamp)
            elif value is not None:
                ws.write(i, j, value)
    group = wb.add_worksheet("anggota_keluarga")  # a repeat group sheet, as Kobo exports it
    group.write_row(0, 0, ["anggota_keluarga/nama", "_parent_index", "_index"])
    group.write_row(1, 0, ["Siti", 1, 1])
    if data_first:
        wb.add_worksheet("Petunjuk").write(0, 0, "catatan")
    wb.close()
    return path


@pytest.mark.parametrize("data_first", [True, False])
def test_kobo_xlsx_native_dates_and_float_cells(tmp_path, regions, pseudonymizer, data_first):
    path = _kobo_workbook(tmp_path / "kobo.xlsx", data_first=data_first)
    parsed = _parse(path, regions, pseudonymizer)
    a = parsed.accepted
    assert parsed.format == "kobo" and parsed.rows_read == 3
    assert a["line"].tolist() == [2, 4]
    assert a["submitted_at"].tolist() == [_utc("2025-12-06T01:09:48"), _utc("2025-12-07T03:06:30")]
    assert a["X01_PER"].tolist() == [3, 5] and a["umur"].tolist() == [35, 61]
    assert a["kode_desa"].tolist() == ["35.13.23.2008", "35.13.14.2012"]
    assert pd.isna(a["KN1_PER"].iloc[1])
    assert _rules_by_line(parsed) == {3: {"invalid_value"}}  # 2.5 is not an answer
    assert parsed.rejected["value"].tolist() == ["2.5"]


def test_workbook_without_a_survey_sheet_is_unreadable(tmp_path, regions, pseudonymizer):
    path = tmp_path / "lain.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Rekap").write_row(0, 0, ["kecamatan", "jumlah"])
    wb.close()
    with pytest.raises(UnreadableFile, match="unknown survey layout: lacks columns"):
        _parse(path, regions, pseudonymizer)


# --------------------------------------------------------------------------- google forms


def test_google_forms_indonesian_day_first(regions, pseudonymizer):
    parsed = _parse(FIXTURES / "gf_id_dayfirst.csv", regions, pseudonymizer)
    a = parsed.accepted
    assert parsed.format == "google_forms" and parsed.rows_read == 9
    assert a["line"].tolist() == [2, 3]
    assert a["submitted_at"].tolist() == [_utc("2025-12-03T03:15:22"), _utc("2025-12-15T01:02:11")]
    # Tamansari exists in Dringu and in Kraksaan: the row's kecamatan decides
    assert a["kode_desa"].tolist() == ["35.13.19.2007", "35.13.16.2010"]
    assert a["kode_kecamatan"].tolist() == ["35.13.19", "35.13.16"]  # Pejarakan → Pajarakan
    assert a["jenis_kelamin"].tolist() == ["P", "L"] and a["umur"].tolist() == [34, 51]
    items = ["X01_PER", "X01_PAR", "X01_AKS", "X03_AKS", "KN1_PER", "KN3_PER"]
    assert a.loc[0, items].tolist() == [4, 5, 3, 2, 4, 1]
    assert a.loc[1, items].tolist() == [4, 4, 4, 1, 3, 4]  # labels in any case
    assert a["response_id"].str.fullmatch(r"gf-[0-9a-f]{64}").all()
    assert a["respondent_key"].tolist() == [
        pseudonymizer.pseudonym("siti.aminah@gmail.com", "email"),
        pseudonymizer.pseudonym("budi.santoso@yahoo.co.id", "email"),
    ]
    assert _rules_by_line(parsed) == {
        4: {"age_out_of_range"},
        5: {"out_of_scope"},  # Kanigaran, Kota Probolinggo
        6: {"unknown_region"},
        7: {"invalid_value"},  # "Setuju sekali"
        8: {"empty_response"},
        9: {"unknown_region"},  # Ngadisari is in Sukapura, not Dringu
        10: {"missing_field"},
    }
    r = parsed.rejected.set_index("line")
    assert r.loc[7, "column"] == "Ekonomi [X01_PER]" and r.loc[7, "value"] == "Setuju sekali"
    assert r.loc[9, "column"] == "Desa/Kelurahan" and r.loc[10, "column"] == "Jenis Kelamin"


def test_google_forms_month_first_am_pm(regions, pseudonymizer):
    parsed = _parse(FIXTURES / "gf_en_monthfirst.csv", regions, pseudonymizer)
    a = parsed.accepted
    assert parsed.rejected.empty
    assert a["submitted_at"].tolist() == [
        _utc("2025-12-03T03:15:22"),
        _utc("2025-12-13T09:05:09"),
        _utc("2025-11-30T14:58:01"),
    ]
    assert a["kode_desa"].tolist() == ["35.13.19.2009", "35.13.23.2005", "35.13.14.2014"]
    assert a["X01_AKS"].tolist() == [5, 4, 3] and a["KN1_PER"].tolist() == [3, 4, 4]


def test_google_forms_gmt_offset_and_end_of_month(regions, pseudonymizer):
    parsed = _parse(FIXTURES / "gf_gmt.csv", regions, pseudonymizer)
    a = parsed.accepted
    assert a["submitted_at"].tolist() == [
        _utc("2025-12-03T03:15:22"),
        _utc("2025-12-04T01:00:00"),
        _utc("2025-12-31T16:30:00"),  # 23:30 WIB on the last day: in the month
    ]
    assert a["respondent_key"].iloc[0] == pseudonymizer.pseudonym("yusuf.h@gmail.com", "email")
    assert _rules_by_line(parsed) == {5: {"invalid_date"}}  # 00:10 WIB on 1 January


def test_cumulative_re_export_keeps_ids(regions, pseudonymizer):
    november = _parse(FIXTURES / "gf_cumulative_2025-11.csv", regions, pseudonymizer, period="2025-11")
    december = _parse(FIXTURES / "gf_cumulative_2025-12.csv", regions, pseudonymizer, period="2025-12")
    assert november.rejected.empty and december.rejected.empty
    first, again = november.accepted, december.accepted
    assert len(first) == 3 and len(again) == 5
    assert again["response_id"].iloc[:3].tolist() == first["response_id"].tolist()
    assert not set(again["response_id"].iloc[3:]) & set(first["response_id"])
    assert again["response_id"].is_unique
    compared = ["submitted_at", "kode_kecamatan", "kode_desa", "umur", "respondent_key", "X01_PER", "KN1_PER"]
    pd.testing.assert_frame_equal(first[compared], again[compared].iloc[:3])


def test_google_forms_ids_follow_the_answers(tmp_path, regions, pseudonymizer):
    path = tmp_path / "gf.csv"
    head = "Timestamp,Kecamatan,Desa/Kelurahan,Jenis Kelamin,Usia,[X01_PER] Pangan,[X01_PAR] Lumbung\n"
    path.write_text(
        head
        + "2025/12/03 10:15:22 GMT+7,Dringu,Pabean,Laki-laki,40,Setuju,Setuju\n"
        + "2025/12/03 10:15:22 GMT+7,Dringu,Pabean,Laki-laki,40,Setuju,Ragu-ragu\n"
        + "03/12/2025 10:15:22,Kec. Dringu,Desa Pabean,laki-laki,40,setuju,setuju\n"
    )
    parsed = _parse(path, regions, pseudonymizer)
    assert parsed.accepted["line"].tolist() == [2, 3]
    assert parsed.accepted["response_id"].nunique() == 2
    assert _rules_by_line(parsed) == {4: {"duplicate_in_file"}}  # same response, other formatting


def test_kabupaten_column_and_ambiguity_in_a_province_scope(tmp_path, regions, pseudonymizer):
    path = tmp_path / "gf.csv"
    path.write_text(
        "Timestamp,Kabupaten/Kota,Kecamatan,Jenis Kelamin,Usia,[KN1_PER] Konflik\n"
        "2025/12/03 10:15:22 GMT+7,,Lumbang,Perempuan,40,Setuju\n"  # Probolinggo and Pasuruan
        "2025/12/03 10:16:22 GMT+7,Kab. Probolinggo,Lumbang,Perempuan,41,Setuju\n"
        "2025/12/03 10:17:22 GMT+7,35.14,Lumbang,Perempuan,42,Setuju\n"
    )
    parsed = _parse(path, regions, pseudonymizer, scope="35")
    assert _rules_by_line(parsed) == {2: {"ambiguous_region"}}
    assert parsed.accepted["kode_kecamatan"].tolist() == ["35.13.24", "35.14.04"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025/12/03 10:15:22 GMT+7", "2025-12-03T03:15:22"),
        ("2025/12/03 10:15:22 GMT+07:00", "2025-12-03T03:15:22"),
        ("03/12/2025 10:15:22", "2025-12-03T03:15:22"),
        ("03/12/2025 10.15.22", "2025-12-03T03:15:22"),
        ("3/12/2025 0:05:00", "2025-12-02T17:05:00"),
        ("2025-12-03T10:15:22", "2025-12-03T03:15:22"),  # an XLSX date cell rendered by the reader
        ("2025-12-03 10:15:22Z", "2025-12-03T10:15:22"),
        ("31/02/2025 10:15:22", None),
        ("03/12/2025 25:00:00", None),
        ("2025/12/03", None),
        ("kemarin", None),
    ],
)
def test_google_forms_timestamp_forms(text, expected):
    parsed = _parse_timestamps(pd.Series([text], dtype="string"), ("ymd", "aby", "iso"), "Asia/Jakarta")
    if expected is None:
        assert pd.isna(parsed.iloc[0])
    else:
        assert parsed.iloc[0] == _utc(expected)


def test_day_or_month_first_is_decided_per_file():
    undecided = pd.Series(["03/04/2025 10:00:00", "05/06/2025 10:00:00"], dtype="string")
    assert _parse_timestamps(undecided, ("aby",), "UTC").tolist() == [_utc("2025-04-03T10:00"), _utc("2025-06-05T10:00")]
    month_first = pd.Series(["03/04/2025 10:00:00", "12/31/2025 10:00:00"], dtype="string")
    assert _parse_timestamps(month_first, ("aby",), "UTC").tolist() == [_utc("2025-03-04T10:00"), _utc("2025-12-31T10:00")]
    # a first field > 12 wins; a second field > 12 in the same file is then an invalid month
    both = pd.Series(["13/04/2025 10:00:00", "04/13/2025 10:00:00"], dtype="string")
    parsed = _parse_timestamps(both, ("aby",), "UTC")
    assert parsed.iloc[0] == _utc("2025-04-13T10:00") and pd.isna(parsed.iloc[1])


# --------------------------------------------------------------------------- speed


@pytest.mark.slow
def test_parse_speed_200k_rows(tmp_path, regions, pseudonymizer):
    n = 200_000
    rng = np.random.default_rng(7)
    desa = regions.desa[regions.desa["kode"].str.startswith("35.13.")].sample(n, replace=True, random_state=7)
    stamps = pd.Timestamp("2025-12-01") + pd.to_timedelta(rng.integers(0, 30 * 86400, n), unit="s")
    frame = pd.DataFrame(
        {
            "response_id": [f"R{i:07d}" for i in range(n)],
            "submitted_at": stamps.strftime("%Y-%m-%dT%H:%M:%S"),
            "kode_kecamatan": desa["kode_kecamatan"].to_numpy(),
            "kode_desa": desa["kode"].to_numpy(),
            "jenis_kelamin": rng.choice(["L", "P"], n),
            "umur": rng.integers(17, 90, n),
            "email": [f"responden{i}@contoh.id" for i in range(n)],
        }
    )
    for item in all_items():
        frame[item] = rng.integers(1, 6, n)
    path = tmp_path / "besar.csv"
    frame.to_csv(path, index=False)
    parsed = parse_survey_file(path, display_path="besar.csv", regions=regions, scope=SCOPE, period="2025-12",
                               pseudonymizer=pseudonymizer)  # fmt: skip
    assert parsed.rows_read == n and len(parsed.accepted) == n


def test_item_rules_name_the_first_offending_item_and_list_all(regions, pseudonymizer, tmp_path):
    """Out-of-scale and invalid answers among clean rows: one audit row per (row, rule),
    the first offending item (in catalog order) in column/value, every one in the message;
    a row breaking both rules gets both; clean rows none."""
    head = "response_id,submitted_at,kode_kecamatan,kode_desa,jenis_kelamin,umur,X01_PER,X01_PAR,X01_AKS,X02_PER,KN1_PER,KN5_AKS"
    answers = [
        "4,4,3,5,4,3",  # line 2: clean
        "4,4,6,5,0,3",  # line 3: X01_AKS=6, KN1_PER=0
        "4,4,3,5,4,9",  # line 4: KN5_AKS=9 only
        "2.5,4,7,x,4,3",  # line 5: invalid X01_PER and X02_PER, out of scale X01_AKS
        "5,5,5,5,5,5",  # line 6: clean
        ",,,,,8",  # line 7: only KN5_AKS, out of scale
    ]
    rows = [f"R-{i},2025-12-01T08:0{i}:00,35.13.19,,L,40,{a}" for i, a in enumerate(answers)]
    path = tmp_path / "items.csv"
    path.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    parsed = _parse(path, regions, pseudonymizer)
    assert parsed.accepted["line"].tolist() == [2, 6]
    got = {(r["line"], r["rule"]): (r["column"], r["value"], r["message"]) for r in parsed.rejected.to_dict("records")}
    scale = "item answer outside the scale 1–5: "
    invalid = "item answer that is neither a whole number nor a Likert label: "
    assert got == {
        (3, "out_of_scale"): ("X01_AKS", "6", scale + "X01_AKS=6, KN1_PER=0"),
        (4, "out_of_scale"): ("KN5_AKS", "9", scale + "KN5_AKS=9"),
        (5, "out_of_scale"): ("X01_AKS", "7", scale + "X01_AKS=7"),
        (5, "invalid_value"): ("X01_PER", "2.5", invalid + "X01_PER=2.5, X02_PER=x"),
        (7, "out_of_scale"): ("KN5_AKS", "8", scale + "KN5_AKS=8"),
    }
