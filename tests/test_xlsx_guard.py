"""The XLSX guard (``ingest/xlsx_guard.py``): what a workbook really holds bounds what the
reader may allocate. Real files (xlsxwriter, edited at the zip / XML level).

A file whose far cells would make python-calamine abort the process is only ever given
to the guard in this process (the guard never calls calamine); reading such a file
through calamine happens in a child process (:func:`isolated`), so a regression fails a
test instead of killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harmoni_pipeline.ingest.common import UnreadableFile
from harmoni_pipeline.ingest.limits import MB, InputLimits
from harmoni_pipeline.ingest.readers import read_xlsx_table, xlsx_merged_ranges
from harmoni_pipeline.ingest.xlsx_guard import check_workbook_bytes, checked_workbook
from tests.hostile_files import (
    SHEET,
    far_cell_xlsx,
    member,
    patch_declared_size,
    raw_zip,
    replace_member,
    with_sheet,
    xlsx_bytes,
    zip_bomb,
)

LIMITS = InputLimits()
TABLE = [["a", "b", "c"], [1, "x", 1.5], [2, "y", 2.5]]


def refused(data: bytes, limits: InputLimits = LIMITS) -> str:
    with pytest.raises(ValueError) as info:
        check_workbook_bytes(data, limits)
    reason = str(info.value)
    assert "\n" not in reason
    return reason


def isolated(code: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (an abort there is an exit code here)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, cwd=Path(__file__).resolve().parents[1])  # fmt: skip


def read_in_child(*paths: Path) -> list[dict]:
    """``read_xlsx_table`` of each path in one child process: its values, or its one-line
    error."""
    proc = isolated(f"""
        import json
        from pathlib import Path
        from harmoni_pipeline.ingest.common import UnreadableFile
        from harmoni_pipeline.ingest.readers import read_xlsx_table
        for path in {[str(p) for p in paths]!r}:
            try:
                t = read_xlsx_table(Path(path), "f.xlsx")
                print(json.dumps({{"columns": list(t.frame.columns), "rows": t.frame.astype(object).where(
                    t.frame.notna(), None).values.tolist(), "lines": t.lines.tolist()}}))
            except UnreadableFile as exc:
                print(json.dumps({{"error": str(exc)}}))
    """)
    assert proc.returncode == 0 and proc.stderr == "", (proc.returncode, proc.stderr[-2000:])
    return [json.loads(line) for line in proc.stdout.splitlines()]


# --------------------------------------------------------------------------- far cells


def test_far_whitespace_cell_is_emptied_and_the_table_read(tmp_path):
    paths = []
    for kind, constant_memory in (("shared_string", False), ("inline_string", True)):
        plain, far = tmp_path / f"plain_{kind}.xlsx", tmp_path / f"far_{kind}.xlsx"
        plain.write_bytes(xlsx_bytes(TABLE, constant_memory=constant_memory))
        far.write_bytes(xlsx_bytes(TABLE, far=(999_999, 15_999, " "), constant_memory=constant_memory))
        checked = check_workbook_bytes(far.read_bytes(), LIMITS)
        assert checked != far.read_bytes()  # a trimmed copy …
        assert check_workbook_bytes(checked, LIMITS) == checked  # … that needs no more trimming
        paths += [plain, far]
    tables = read_in_child(*paths)
    expected = {"columns": ["a", "b", "c"], "rows": [["1", "x", "1.5"], ["2", "y", "2.5"]], "lines": [2, 3]}
    assert tables == [expected] * 4


def test_far_value_is_refused_naming_sheet_extent_and_setting():
    reason = refused(far_cell_xlsx("x"))
    assert reason == (
        "sheet 'data': its values span A1:WQJ1000000 (1,000,000 rows × 16,000 columns), "
        "more than the limit of 200 columns (HARMONI_XLSX_MAX_COLUMNS)"
    )


def test_far_value_through_the_reader_is_one_line_unreadable(tmp_path):
    path = tmp_path / "far.xlsx"
    path.write_bytes(far_cell_xlsx(0))
    (result,) = read_in_child(path)
    assert result["error"].startswith("f.xlsx: sheet 'data': its values span A1:WQJ1000000")


def test_limits_are_the_settings_given(tmp_path):
    rows = [[f"h{j}" for j in range(4)]] + [[i * 10 + j for j in range(4)] for i in range(4)]  # A1:D5
    data = xlsx_bytes(rows)
    assert check_workbook_bytes(data, InputLimits(xlsx_max_columns=4, xlsx_max_rows=5, xlsx_max_cells=20)) == data
    assert "limit of 3 columns (HARMONI_XLSX_MAX_COLUMNS)" in refused(data, InputLimits(xlsx_max_columns=3))
    assert "limit of 4 rows (HARMONI_XLSX_MAX_ROWS)" in refused(data, InputLimits(xlsx_max_rows=4))
    assert "limit of 19 cells (HARMONI_XLSX_MAX_CELLS)" in refused(data, InputLimits(xlsx_max_cells=19))
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)
    with pytest.raises(UnreadableFile, match="HARMONI_XLSX_MAX_COLUMNS"):
        read_xlsx_table(path, "t.xlsx", limits=InputLimits(xlsx_max_columns=3))
    assert read_xlsx_table(path, "t.xlsx", limits=InputLimits(xlsx_max_columns=4)).frame.shape == (4, 4)


def test_styled_far_cell_and_lying_dimension_are_harmless(tmp_path):
    styled = replace_member(xlsx_bytes(TABLE), transform=lambda xml: xml.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>').replace(
        b'<dimension ref="A1:C3"/>', b'<dimension ref="A1:XFD1048576"/>'))  # fmt: skip
    assert b"XFD1048576" in member(styled)
    assert check_workbook_bytes(styled, LIMITS) == styled  # beyond the bound, but an empty cell is no value
    path = tmp_path / "styled.xlsx"
    path.write_bytes(styled)
    assert read_xlsx_table(path, "styled.xlsx").frame.shape == (2, 3)


# --------------------------------------------------------------------------- sheets written otherwise


def _inline(ref: str | None, text: str, prefix: str = "") -> bytes:
    r = f' r="{ref}"' if ref else ""
    return f'<{prefix}c{r} t="inlineStr"><{prefix}is><{prefix}t>{text}</{prefix}t></{prefix}is></{prefix}c>'.encode()


def test_cells_without_references_are_placed_as_calamine_places_them(tmp_path):
    body = (b'<row r="2">' + _inline(None, "a") + b'<c r="E2"/>' + _inline(None, "b") + b"</row>"
            b"<row>" + _inline(None, "c") + b"</row>")  # fmt: skip
    data = with_sheet(body)
    assert check_workbook_bytes(data, InputLimits(xlsx_max_columns=6, xlsx_max_rows=3)) == data
    assert "limit of 5 columns" in refused(data, InputLimits(xlsx_max_columns=5))
    path = tmp_path / "rless.xlsx"
    path.write_bytes(data)
    table = read_xlsx_table(path, "rless.xlsx")  # header: row 2 (a at A2, b at F2); data: c at A3
    assert list(table.frame.columns) == ["a", "b"]
    assert table.frame.astype(object).where(table.frame.notna(), None).values.tolist() == [["c", None]]
    assert table.lines.tolist() == [3]


def test_a_row_of_cells_without_references_counts_its_columns():
    row = b'<row r="1">' + _inline(None, "v") * 201 + b"</row>"
    assert "201 columns" in refused(with_sheet(row))
    ok = with_sheet(b'<row r="1">' + _inline(None, "v") * 200 + b"</row>")
    assert check_workbook_bytes(ok, LIMITS) == ok


def test_prefixed_single_quoted_and_spaced_sheets_are_scanned_exactly(tmp_path):
    prefixed = with_sheet(b'<x:row r="1">' + _inline("A1", "p", "x:") + _inline("XFD9", "far", "x:") + b"</x:row>",
                          prefix=b"x")  # fmt: skip
    assert "A1:XFD9" in refused(prefixed)
    quoted = with_sheet(b"<row r='1'><c r = 'XFD9' t='inlineStr'><is><t>far</t></is></c></row>")
    assert "A1:XFD9" in refused(quoted)
    blank_far = with_sheet(b"<row r='1'>" + _inline("A1", "a") + b"<c r = 'XFD9' t='inlineStr'><is><t>  </t></is></c></row>")
    trimmed = check_workbook_bytes(blank_far, LIMITS)
    assert b"XFD9" in member(trimmed) and b"<t>  </t>" not in member(trimmed)
    path = tmp_path / "trimmed.xlsx"
    path.write_bytes(blank_far)
    assert read_xlsx_table(path, "t.xlsx").frame.columns.tolist() == ["a"]


@pytest.mark.parametrize(
    "body, reason",
    [
        (b'<row r="1"><c r="A1" r="XFD9" t="inlineStr"><is><t>x</t></is></c></row>', "repeats its attribute 'r'"),
        (b"<row r='1'><c r='A1'><v>1</v></c><!-- <c r='B1'/> --></row>", "comments or CDATA"),
        (b"<row r='1'><c r='&#65;1'><v>1</v></c></row>", "not a cell address"),
        (b"<row r='1'><c r='A1'><v>1</v></row>", "cell A1 is never closed"),
        (b"<row r='1'><c r='A1'><v>1</v><c r='B1'/></c></row>", "holds another cell or row tag"),
    ],
    ids=["repeated_r", "comment", "entity_reference", "unclosed_cell", "nested_cell"],
)
def test_sheets_calamine_would_misread_are_refused(body, reason):
    assert reason in refused(with_sheet(body))


def test_merged_ranges_are_cut_to_the_used_area(tmp_path):
    data = replace_member(xlsx_bytes(TABLE), transform=lambda xml: xml.replace(
        b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'))
    path = tmp_path / "merged.xlsx"
    path.write_bytes(data)
    assert xlsx_merged_ranges(path, "merged.xlsx", "data") == [((0, 0), (2, 2))]


# --------------------------------------------------------------------------- the zip


def test_truncated_workbook_is_not_a_readable_xlsx():
    data = xlsx_bytes(TABLE)
    for cut in (10, len(data) // 2, len(data) - 5):
        assert refused(data[:cut]).startswith("not a readable XLSX workbook")


def test_a_member_inflating_beyond_its_declared_size_is_stopped():
    data = xlsx_bytes(TABLE)
    assert "inflates to more than the 100 bytes it declares" in refused(patch_declared_size(data, SHEET, 100))
    assert "not the 99,999 it declares" in refused(patch_declared_size(data, SHEET, 99_999))


def test_zip_bombs_are_refused_before_inflating():
    assert "a zip bomb?" in refused(zip_bomb(64 * MB))  # 64 MB of zeros from ≈ 64 KB
    random_text = [[f"{i * 7919 % 100003:x}-{i}" for i in range(j, j + 3)] for j in range(0, 60_000, 3)]
    assert "the workbook inflates to 4.1 MB, more than the limit of 1.0 MB (HARMONI_XLSX_MAX_UNCOMPRESSED_MB)" in refused(
        xlsx_bytes(random_text), InputLimits(xlsx_max_uncompressed_bytes=MB))
    lying = zip_bomb(64 * MB, declared=1000)  # declares 1,000 bytes: stopped after 1,001
    assert "inflates to more than the 1,000 bytes it declares" in refused(lying)


def test_zip_structure_attacks_are_refused():
    body = b"<x/>"
    crc = __import__("zlib").crc32(body)
    twins = raw_zip([("xl/workbook.xml", body, 0, 4, crc), ("XL/Workbook.xml", body, 0, 4, crc)])
    assert "two members named" in refused(twins)
    assert "compression method 12" in refused(raw_zip([("a.xml", body, 12, 4, crc)]))
    overlapping = bytearray(raw_zip([("a.xml", body, 0, 4, crc)]))
    start = overlapping.index(b"PK\x01\x02")
    entry = bytes(overlapping[start:-22])
    copy = entry[:46] + b"b.xml"
    end = bytearray(overlapping[-22:])
    end[8:10] = end[10:12] = (2).to_bytes(2, "little")
    end[12:16] = (len(entry) + len(copy)).to_bytes(4, "little")
    overlapping = bytes(overlapping[:-22]) + copy + bytes(end)
    assert "not a readable XLSX workbook" in refused(overlapping)
    assert refused(b"JUNK" + xlsx_bytes(TABLE)) == "not a readable XLSX workbook: not a zip archive"
    assert refused(b"PK\x03\x04JUNK" + xlsx_bytes(TABLE)) == "not a readable XLSX workbook: data before the first member"
    assert "end-of-directory record does not end the file" in refused(xlsx_bytes(TABLE) + b"trailing")
    assert refused(b"") == "not a readable XLSX workbook: not a zip archive"


def test_a_file_larger_than_the_limit_is_not_read(tmp_path):
    path = tmp_path / "big.xlsx"
    path.write_bytes(xlsx_bytes(TABLE) )
    with pytest.raises(UnreadableFile, match=r"the file is .* MB, more than the limit of 0\.0 MB"):
        checked_workbook(path, "big.xlsx", InputLimits(xlsx_max_uncompressed_bytes=1))
