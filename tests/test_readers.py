"""Generic table readers: strings only, physical line numbers, clear refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from harmoni_pipeline.ingest.common import UnreadableFile
from harmoni_pipeline.ingest.readers import (
    RawTable,
    read_csv_table,
    read_table,
    read_xlsx_cells,
    read_xlsx_table,
    xlsx_sheet_names,
)

FIXTURES = Path(__file__).parent / "fixtures" / "survey"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _assert_shape(table: RawTable) -> None:
    assert all(str(dtype) == "string" for dtype in table.frame.dtypes)
    assert table.lines.dtype == "int64" and len(table.lines) == len(table.frame)
    assert list(table.frame.index) == list(range(len(table.frame)))


# --------------------------------------------------------------------------- CSV


def test_bom_crlf_multiline_cell_and_blank_line_keep_physical_lines():
    table = read_csv_table(FIXTURES / "canonical_bom_crlf.csv", "survey/2025-12/canonical_bom_crlf.csv")
    _assert_shape(table)
    assert table.kind == "csv" and table.sheet is None
    assert table.frame.columns[0] == "response_id"  # BOM stripped
    # header 1; row 2; a two-line quoted cell on 3–4; blank line 5; rows on 6 and 7
    assert table.lines.tolist() == [2, 3, 6, 7]
    assert table.frame.loc[1, "pekerjaan"].replace("\r\n", "\n") == "Guru honorer,\nSD Negeri Asembakor"
    assert pd.isna(table.frame.loc[1, "email"]) and pd.isna(table.frame.loc[2, "X10_PER"])
    assert table.frame.loc[3, "submitted_at"] == "2025-12-02T09:30:00.250+07:00"


def test_semicolon_is_sniffed_and_quotes_removed():
    table = read_csv_table(FIXTURES / "kobo_2025-12.csv", "kobo.csv")
    _assert_shape(table)
    assert {"_uuid", "_index", "meta/instanceID", "__version__", "ihai/X01_PER"} <= set(table.frame.columns)
    assert table.lines.tolist() == list(range(2, 11))
    assert table.frame.loc[0, "identitas/kecamatan"] == "35_13_19"
    assert pd.isna(table.frame.loc[0, "_validation_status"])  # "" → NA


def test_cp1252_fallback():
    table = read_csv_table(FIXTURES / "canonical_cp1252.csv", "cp.csv")
    assert table.frame["pekerjaan"].tolist() == ["Pedagang kue – keliling", "Pemilik café"]


def test_header_only_is_zero_rows_not_an_error():
    table = read_csv_table(FIXTURES / "header_only.csv", "h.csv")
    _assert_shape(table)
    assert len(table.frame) == 0 and "umur" in table.frame.columns


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.csv", "empty file"),
        ("garbage.csv", "binary"),
        ("duplicate_headers.csv", "duplicate column names in the header: umur"),
    ],
)
def test_unreadable_fixtures(name, reason):
    with pytest.raises(UnreadableFile, match=reason) as info:
        read_csv_table(FIXTURES / name, f"survey/2025-12/{name}")
    assert str(info.value).startswith(f"survey/2025-12/{name}: ")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"  \r\n\r\n \t \n", "empty file"),
        (b"a,b\n\x81\x8d,2\n", "neither UTF-8 nor cp1252"),
        (b"PK\x03\x04\x14\x00\x06\x00", "zip/XLSX"),
        (b"\xff\xfea\x00,\x00b\x00", "UTF-16"),
        (b"a,b\n1,2,3\n", "3 fields where the header has 2"),
        (b" a ,b,a\n1,2,3\n", "duplicate column names in the header: a"),
    ],
)
def test_unreadable_bytes(tmp_path, data, reason):
    with pytest.raises(UnreadableFile, match=reason):
        read_csv_table(_write(tmp_path, "x.csv", data), "x.csv")


def test_cells_are_stripped_and_empty_rows_are_not_rows(tmp_path):
    data = b"\n id ; nama ;\n1; Dringu ;\n;;\n  \n2;;\n"
    table = read_csv_table(_write(tmp_path, "t.csv", data), "t.csv")
    _assert_shape(table)
    assert list(table.frame.columns) == ["id", "nama"]  # trailing empty header, empty column: dropped
    assert table.frame["nama"].tolist()[0] == "Dringu" and pd.isna(table.frame["nama"].iloc[1])
    assert table.lines.tolist() == [3, 6]


def test_unnamed_column_with_values_is_kept(tmp_path):
    table = read_csv_table(_write(tmp_path, "t.csv", b"a,,b\n1,x,2\n"), "t.csv")
    assert list(table.frame.columns) == ["a", "Unnamed: 1", "b"]


def test_stray_quote_inside_a_field_keeps_line_numbers(tmp_path):
    data = b'a,b\n12" monitor,x\n3,"4\n5"\n6,7\n'
    table = read_csv_table(_write(tmp_path, "t.csv", data), "t.csv")
    assert table.frame["a"].tolist() == ['12" monitor', "3", "6"]
    assert table.lines.tolist() == [2, 3, 5]


def test_columns_cleaned_in_small_groups_read_as_in_one(tmp_path, monkeypatch):
    """The columns are cleaned in groups of bounded size (one Arrow call per group, each
    group sliced back into columns): groups of one column each read the same table."""
    from harmoni_pipeline.ingest import readers

    data = b"id;  nama ;x;;kosong;y\n1; Dringu ;  ;;;a\n;;;;;\n2;; b ;;; \n 3 ;Pasuruan;c;;;\n"
    path = _write(tmp_path, "t.csv", data)
    whole = read_csv_table(path, "t.csv")
    monkeypatch.setattr(readers, "_CLEAN_GROUP_BYTES", 1)
    grouped = read_csv_table(path, "t.csv")
    pd.testing.assert_frame_equal(whole.frame, grouped.frame)
    pd.testing.assert_series_equal(whole.lines, grouped.lines)
    assert list(whole.frame.columns) == ["id", "nama", "x", "kosong", "y"]
    assert whole.frame["x"].tolist()[1] == "b" and pd.isna(whole.frame["x"].iloc[0])
    assert whole.frame["nama"].tolist()[2] == "Pasuruan" and whole.frame["id"].tolist() == ["1", "2", "3"]
    assert whole.lines.tolist() == [2, 4, 5]


def test_read_table_dispatches_on_extension(tmp_path):
    assert read_table(FIXTURES / "header_only.csv", "h.csv").kind == "csv"
    with pytest.raises(UnreadableFile, match="unsupported file type"):
        read_table(_write(tmp_path, "x.json", b"{}"), "x.json")


@pytest.mark.slow
def test_large_csv_reads_whole(tmp_path):
    """600,000 rows × 55 columns (the size of a national year of survey exports)."""
    header = ",".join(f"col{i}" for i in range(55)).encode() + b"\n"
    row = ",".join(["3"] * 50 + ['"Dringu"', "2025-12-01T08:00:00", "", "L", "35.13.19"]).encode() + b"\n"
    path = _write(tmp_path, "big.csv", header + row * 600_000)
    table = read_csv_table(path, "big.csv")
    assert table.frame.shape == (600_000, 55) and int(table.lines.iloc[-1]) == 600_001


# --------------------------------------------------------------------------- XLSX


def _workbook(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    notes = wb.add_worksheet("Catatan")
    notes.write(0, 0, "Ekspor data survei — jangan diubah")
    ws = wb.add_worksheet("data")  # rows 1–2 empty: the header is the first non-empty row
    ws.write_row(2, 0, [" kode ", "nilai", "tanggal", "waktu", "aktif", "catatan"])
    ws.write_row(3, 0, ["35.13.19", 3.0, None, None, True, "  ok "])
    ws.write_number(4, 1, 2.5)
    ws.write_datetime(4, 2, dt.datetime(2025, 12, 3), wb.add_format({"num_format": "dd/mm/yyyy"}))
    ws.write_datetime(4, 3, dt.datetime(2025, 12, 3, 10, 15, 22), wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}))
    ws.write_number(4, 0, 3513192001)
    # row 6 (index 5) left blank; row 7 has one value
    ws.write(6, 5, "terakhir")
    wb.close()
    return path


def test_xlsx_table_renders_cells_as_text_with_sheet_rows(tmp_path):
    path = _workbook(tmp_path / "w.xlsx")
    assert xlsx_sheet_names(path, "w.xlsx") == ["Catatan", "data"]
    table = read_xlsx_table(path, "w.xlsx", "data")
    _assert_shape(table)
    assert table.kind == "xlsx" and table.sheet == "data"
    assert list(table.frame.columns) == ["kode", "nilai", "tanggal", "waktu", "aktif", "catatan"]
    assert table.lines.tolist() == [4, 5, 7]  # header on sheet row 3; blank row 6 skipped
    f = table.frame
    assert f["kode"].tolist()[:2] == ["35.13.19", "3513192001"]
    assert f["nilai"].tolist()[:2] == ["3", "2.5"]
    assert f.loc[1, "tanggal"] == "2025-12-03"
    assert f.loc[1, "waktu"] == "2025-12-03T10:15:22"
    assert f.loc[0, "aktif"] == "TRUE" and f.loc[0, "catatan"] == "ok"
    assert pd.isna(f.loc[0, "tanggal"]) and f.loc[2, "catatan"] == "terakhir"


def test_xlsx_cells_are_raw_values(tmp_path):
    path = _workbook(tmp_path / "w.xlsx")
    cells = read_xlsx_cells(path, "w.xlsx", 1)
    assert cells[0][0] is None and cells[2][0] == " kode "
    assert cells[3][1] == 3.0 and cells[4][3] == dt.datetime(2025, 12, 3, 10, 15, 22)


def test_xlsx_default_sheet_is_the_first(tmp_path):
    table = read_xlsx_table(_workbook(tmp_path / "w.xlsx"), "w.xlsx")
    assert table.sheet == "Catatan" and len(table.frame) == 0


@pytest.mark.parametrize(
    ("sheet", "reason"), [("tidak ada", "no sheet named 'tidak ada'"), (7, "no sheet number 7")]
)
def test_xlsx_missing_sheet(tmp_path, sheet, reason):
    with pytest.raises(UnreadableFile, match=reason):
        read_xlsx_table(_workbook(tmp_path / "w.xlsx"), "w.xlsx", sheet)


def test_truncated_or_fake_xlsx_is_unreadable(tmp_path):
    good = _workbook(tmp_path / "w.xlsx").read_bytes()
    for name, data in [("cut.xlsx", good[: len(good) // 2]), ("fake.xlsx", b"response_id,umur\n1,2\n")]:
        with pytest.raises(UnreadableFile, match="not a readable XLSX workbook"):
            read_xlsx_table(_write(tmp_path, name, data), name)


def test_xlsx_duplicate_headers_and_empty_sheet(tmp_path):
    path = tmp_path / "d.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("kosong")
    wb.add_worksheet("dup").write_row(0, 0, ["umur", "umur "])
    wb.close()
    with pytest.raises(UnreadableFile, match="is empty"):
        read_xlsx_table(path, "d.xlsx", "kosong")
    with pytest.raises(UnreadableFile, match="duplicate column names in the header: umur"):
        read_xlsx_table(path, "d.xlsx", "dup")
