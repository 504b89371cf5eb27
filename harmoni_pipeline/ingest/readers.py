"""Generic table readers shared by every landing-file parser (survey, FKDM, statistics).

Room: turning the bytes of one CSV or XLSX file into a table of *strings* with the
physical line of every row, and refusing files that cannot be read at all
(:class:`~harmoni_pipeline.ingest.common.UnreadableFile`). No source-specific knowledge
(column names, rules, types) lives here; parsers interpret the strings.

What the readers guarantee
- Every column is the pandas ``"string"`` dtype; a cell that is empty or only
  whitespace is ``<NA>``; other cells have their surrounding whitespace stripped.
- Header names are stripped (BOM, surrounding spaces). A header cell that is empty
  becomes ``Unnamed: N`` (N = 0-based column position) unless its column holds no value
  at all, in which case the column is dropped (spreadsheets save trailing empty columns).
  Two headers with the same name make the file unreadable.
  So does a CSV header of more than 2,000 fields (``MAX_COLUMNS``: pandas costs about
  a millisecond per column, so 16,384 columns took half a minute; an XLSX sheet is
  bounded by ``limits.xlsx_max_columns``).
- ``lines`` is the physical line of the row: CSV header = line 1, counting real newlines
  (a quoted cell spanning two lines shifts every later line), blank lines included in
  the count; XLSX: the 1-based sheet row.
- Rows with no value in any column (blank lines, ``;;;;`` lines, empty sheet rows) are
  not rows: they are skipped and do not count in ``rows_read``.
- A CSV row with a different number of fields than its header makes the file
  unreadable (a shifted row cannot be trusted column by column).

CSV: UTF-8 (with or without BOM), falling back to cp1252 when the bytes are not valid
UTF-8; CRLF or LF; delimiter ``,`` or ``;`` chosen from the header line (the more
frequent of the two outside quotes; ``,`` on a tie). Parsing uses ``pyarrow.csv``; line
numbers are computed with numpy over the raw bytes (quote parity per newline), never
row by row.

XLSX: python-calamine, on the bytes :func:`~harmoni_pipeline.ingest.xlsx_guard.checked_workbook`
hands over — a workbook beyond the :class:`~harmoni_pipeline.ingest.limits.InputLimits`
(``limits``; default :data:`~harmoni_pipeline.ingest.limits.DEFAULT_LIMITS`) is
unreadable before calamine sees it, so no file can make calamine allocate without
bound. Numbers are rendered without a spurious ``.0`` when integral
(``3.0`` → ``3``); native Excel dates → ``YYYY-MM-DD``, datetimes →
``YYYY-MM-DDTHH:MM:SS`` (rounded to the second); times → ``HH:MM:SS``; booleans →
``TRUE``/``FALSE``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import python_calamine

from harmoni_pipeline.ingest.common import UnreadableFile
from harmoni_pipeline.ingest.limits import DEFAULT_LIMITS, InputLimits
from harmoni_pipeline.ingest.xlsx_guard import checked_workbook

STRING = pd.StringDtype("pyarrow")

_NL, _CR, _QUOTE = 10, 13, 34
_WHITESPACE_BYTES = np.array([9, 10, 11, 12, 13, 32], dtype=np.uint8)
_BINARY_PROBE = 65536
MAX_COLUMNS = 2_000  # far beyond any export (≈ 60), far below minutes of per-column work


@dataclass
class RawTable:
    """One table of a landing file, every cell a string (see the module docstring)."""

    frame: pd.DataFrame  # all columns dtype "string", default RangeIndex
    lines: pd.Series  # int64, physical line (CSV) or sheet row (XLSX) of each row
    kind: str  # "csv" | "xlsx"
    sheet: str | None = None


# --------------------------------------------------------------------------- common


def _frame(display_path: str, raw_names: list[str], columns: list, lines: np.ndarray) -> tuple[pd.DataFrame, pd.Series]:
    """The table's frame from its cleaned Arrow string columns (:func:`_clean_columns`)
    and the line of every row: header names stripped, empty unnamed columns dropped,
    duplicate names refused, rows with no value in any column skipped. The columns are
    wrapped as they are, without a pandas operation per column (≈ 60 columns a file)."""
    names: list[str] = []
    kept: list = []
    for position, (raw, values) in enumerate(zip(raw_names, columns)):
        name = "" if raw is None else str(raw).replace("\ufeff", "").strip()
        if not name:
            if values.null_count < len(values):
                name = f"Unnamed: {position}"
            else:
                continue
        names.append(name)
        kept.append(values)
    seen: set[str] = set()
    duplicates = sorted({n for n in names if n in seen or seen.add(n)})
    if duplicates:
        raise UnreadableFile(display_path, f"duplicate column names in the header: {', '.join(duplicates)}")
    if not names:
        raise UnreadableFile(display_path, "the header row names no column")
    lines = np.asarray(lines, dtype=np.int64)
    if len(lines) and all(values.null_count for values in kept):  # else no row is blank
        keep = np.logical_or.reduce([pc.is_valid(values).to_numpy(zero_copy_only=False) for values in kept])
        if not keep.all():
            mask = pa.array(keep)
            kept = [values.filter(mask) for values in kept]
            lines = lines[keep]
    frame = pd.DataFrame({n: pd.arrays.ArrowStringArray(v) for n, v in zip(names, kept)}, copy=False)
    if frame.shape[1] != len(names):  # pragma: no cover - guarded by the duplicate check
        raise UnreadableFile(display_path, "duplicate column names in the header")
    return frame, pd.Series(lines, name="line")


#: columns are cleaned together in groups of at most this many bytes: one Arrow call per
#: group rather than per column, while a large file's raw and clean text never both exist whole
_CLEAN_GROUP_BYTES = 64 * 2**20


def _clean_columns(table: pa.Table) -> list[pa.ChunkedArray]:
    """Every column of ``table`` (Arrow strings) with surrounding whitespace stripped and
    blank cells missing. Columns are concatenated into groups (:data:`_CLEAN_GROUP_BYTES`),
    each cleaned by one call and sliced back, and each group's raw columns are let go as
    soon as its clean copy exists."""
    out: list[pa.ChunkedArray] = []
    while table.num_columns:
        size, count = 0, 0
        while count < table.num_columns and (count == 0 or size + table.column(count).nbytes <= _CLEAN_GROUP_BYTES):
            size += table.column(count).nbytes
            count += 1
        group = pa.chunked_array([chunk for column in table.columns[:count] for chunk in column.chunks], pa.string())
        trimmed = pc.utf8_trim_whitespace(group)
        empty = pc.equal(trimmed, "")
        if pc.any(empty).as_py():  # a copy only where a cell is blank
            trimmed = pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)
        rows = table.num_rows
        out.extend(trimmed.slice(i * rows, rows) for i in range(count))
        del group, trimmed, empty
        table = table.select(range(count, table.num_columns))
    return out


# --------------------------------------------------------------------------- CSV


def _decode(display_path: str, data: bytes) -> bytes:
    """UTF-8 bytes without BOM, or UnreadableFile. Falls back to cp1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(display_path, "UTF-16 text is not supported; save the CSV as UTF-8")
    if data.startswith(b"PK\x03\x04"):
        raise UnreadableFile(display_path, "not a CSV: the file is a zip/XLSX archive")
    probe = data[:_BINARY_PROBE]
    if b"\x00" in data:
        raise UnreadableFile(display_path, "not a CSV: binary content (NUL bytes)")
    controls = sum(probe.count(bytes([b])) for b in (*range(1, 9), 14, 15, *range(16, 32)) if b != 26)
    if probe and controls > max(2, len(probe) // 100):
        raise UnreadableFile(display_path, "not a CSV: binary content (control characters)")
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            display_path, f"undecodable text: neither UTF-8 nor cp1252 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    return text.encode("utf-8")


def _record_bounds(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (exclusive, without the newline) and 1-based line of every CSV record.

    A newline ends a record when the number of quote characters before it is even
    (RFC 4180; an escaped ``""`` adds two). The parity is a wrapping uint8 cumulative
    sum, so memory stays at two bytes per input byte however many quotes there are."""
    newlines = np.flatnonzero(arr == _NL)
    is_quote = arr == _QUOTE
    if newlines.size and is_quote.any():
        parity = np.cumsum(is_quote, dtype=np.uint8) & 1
        which = np.flatnonzero(parity[newlines] == 0)  # the terminators among the newlines
        del parity
    else:
        which = np.arange(newlines.size)
    del is_quote
    terminators = newlines[which]
    starts = np.concatenate(([0], terminators + 1)).astype(np.int64)
    ends = np.concatenate((terminators, [arr.size])).astype(np.int64)
    lines = np.concatenate(([1], which + 2)).astype(np.int64)  # newlines before the start, + 1
    if starts[-1] >= arr.size:  # the file ends with a newline: no record after it
        starts, ends, lines = starts[:-1], ends[:-1], lines[:-1]
    return starts, ends, lines


def _blank_records(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Records made of whitespace only. Only records that are empty or start with a
    whitespace byte are inspected (in practice: the blank lines), all at once: whether
    any byte of ``[start, end)`` is not whitespace (``logical_or.reduceat``)."""
    lengths = ends - starts
    if not arr.size:
        return np.zeros(starts.size, dtype=bool)
    first = arr[np.minimum(starts, arr.size - 1)]
    blank = lengths == 0
    candidates = np.flatnonzero(~blank & np.isin(first, _WHITESPACE_BYTES))
    if candidates.size:
        printed = np.append(~np.isin(arr, _WHITESPACE_BYTES), False)  # a sentinel: ends may be arr.size
        bounds = np.empty(2 * candidates.size, dtype=np.int64)
        bounds[0::2], bounds[1::2] = starts[candidates], ends[candidates]
        blank[candidates] = ~np.logical_or.reduceat(printed, bounds)[0::2]
    return blank


def _sniff_delimiter(header: bytes) -> str:
    outside = header
    if b'"' in header:  # ignore delimiters inside quoted header names
        parts = header.split(b'"')
        outside = b"".join(parts[0::2])
    return ";" if outside.count(b";") > outside.count(b",") else ","


def read_csv_table(path: Path, display_path: str) -> RawTable:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFile(display_path, f"cannot open: {exc.strerror or exc}") from None
    data = _decode(display_path, data)
    arr = np.frombuffer(data, dtype=np.uint8)
    starts, ends, lines = _record_bounds(arr)
    original = data
    blank = _blank_records(arr, starts, ends)
    if blank.any():  # rare: drop blank lines so that records and parsed rows align
        keep = ~blank
        starts, ends, lines = starts[keep], ends[keep], lines[keep]
        if starts.size:  # each kept record and the newline after it (added after the last)
            edges = np.zeros(arr.size + 2, dtype=np.int64)
            np.add.at(edges, starts, 1)
            np.add.at(edges, ends + 1, -1)
            data = arr[(np.cumsum(edges) > 0)[: arr.size]].tobytes()
            if ends[-1] >= arr.size:
                data += b"\n"
            lengths = ends - starts + 1
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
            ends = starts + lengths - 1
    if not starts.size:
        raise UnreadableFile(display_path, "empty file: no header line")

    header_bytes = data[starts[0] : ends[0]].rstrip(b"\r")
    delimiter = _sniff_delimiter(header_bytes)
    try:
        raw_names = next(csv.reader(io.StringIO(header_bytes.decode("utf-8")), delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        raise UnreadableFile(display_path, f"unreadable header line: {exc}") from None
    n_columns = len(raw_names)
    if n_columns > MAX_COLUMNS:  # e.g. a whole table on one line; building the columns would take minutes
        raise UnreadableFile(
            display_path, f"the header line has {n_columns:,} fields, more than a table may have ({MAX_COLUMNS:,})"
        )
    data_lines = lines[1:]
    body = pa.py_buffer(data).slice(int(starts[1])) if starts.size > 1 else pa.py_buffer(b"")  # no copy

    placeholder = [f"c{i}" for i in range(n_columns)]
    if data_lines.size:
        bad_rows: list[str] = []

        def on_invalid_row(row) -> str:
            where = ""
            if row.number is not None and 0 < row.number <= data_lines.size:
                where = f"line {int(data_lines[row.number - 1])} has "
            bad_rows.append(f"{where}{row.actual_columns} fields where the header has {row.expected_columns}")
            return "error"

        def parse(use_threads: bool) -> pa.Table:
            return pacsv.read_csv(
                body,
                read_options=pacsv.ReadOptions(column_names=placeholder, block_size=1 << 24, use_threads=use_threads),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in placeholder},
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )

        try:
            table = parse(use_threads=True)
        except (pa.ArrowInvalid, pa.ArrowException) as exc:
            if bad_rows and not bad_rows[0].startswith("line "):
                # the threaded reader does not know row numbers: find the line serially
                bad_rows.clear()
                try:
                    parse(use_threads=False)
                except (pa.ArrowInvalid, pa.ArrowException):
                    pass
            reason = bad_rows[0] if bad_rows else str(exc).splitlines()[0]
            raise UnreadableFile(display_path, f"malformed CSV: {reason}") from None
        if table.num_rows != data_lines.size:
            line_of = _slow_line_numbers(original, delimiter)
            if len(line_of) != table.num_rows:
                raise UnreadableFile(
                    display_path, f"malformed CSV: {table.num_rows} rows parsed but {len(line_of)} records found"
                )
            data_lines = np.asarray(line_of, dtype=np.int64)
        del data, original, arr, body  # the text is parsed: only the table is needed from here
        columns = _clean_columns(table)
        del table
    else:
        columns = [pa.chunked_array([], pa.string()) for _ in range(n_columns)]
    frame, line_series = _frame(display_path, raw_names, columns, data_lines)
    return RawTable(frame=frame, lines=line_series, kind="csv", sheet=None)


def _slow_line_numbers(data: bytes, delimiter: str) -> list[int]:
    """Line of every non-blank data record, by the csv module (only used when the
    vectorised quote-parity count disagrees with pyarrow, e.g. stray quotes)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter)
    out: list[int] = []
    line = 1
    header_seen = False
    for record in reader:
        start = line
        line = reader.line_num + 1
        if not any(field.strip() for field in record):
            continue
        if not header_seen:
            header_seen = True
            continue
        out.append(start)
    return out


# --------------------------------------------------------------------------- XLSX


def _open_workbook(path: Path, display_path: str, limits: InputLimits) -> python_calamine.CalamineWorkbook:
    data = checked_workbook(path, display_path, limits)
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types (ZipError, XmlError, …)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnreadableFile(display_path, f"not a readable XLSX workbook: {reason}") from None


def _sheet(workbook, display_path: str, sheet: str | int):
    try:
        if isinstance(sheet, int):
            names = workbook.sheet_names
            if not 0 <= sheet < len(names):
                raise UnreadableFile(display_path, f"no sheet number {sheet} (the workbook has {len(names)})")
            return workbook.get_sheet_by_index(sheet)
        return workbook.get_sheet_by_name(sheet)
    except UnreadableFile:
        raise
    except Exception as exc:
        if type(exc).__name__ == "WorksheetNotFound":
            raise UnreadableFile(display_path, f"no sheet named {sheet!r}") from None
        raise UnreadableFile(display_path, f"unreadable sheet {sheet!r}: {exc}") from None


def _sheet_rows(workbook, display_path: str, sheet: str | int) -> tuple[str, list[list[object]]]:
    ws = _sheet(workbook, display_path, sheet)
    try:
        rows = ws.to_python(skip_empty_area=False)
    except Exception as exc:
        raise UnreadableFile(display_path, f"unreadable sheet {ws.name!r}: {exc}") from None
    return ws.name, rows


def xlsx_sheet_names(path: Path, display_path: str, *, limits: InputLimits = DEFAULT_LIMITS) -> list[str]:
    workbook = _open_workbook(path, display_path, limits)
    try:
        return list(workbook.sheet_names)
    finally:
        workbook.close()


def read_xlsx_cells(
    path: Path, display_path: str, sheet: str | int, *, limits: InputLimits = DEFAULT_LIMITS
) -> list[list[object]]:
    """Raw cell values of one sheet, row 1 first (index i = sheet row i + 1), column A
    first. Values are calamine's: ``str``, ``float``, ``int``, ``bool``,
    ``datetime``/``date``/``time``/``timedelta``; an empty cell is ``None``."""
    workbook = _open_workbook(path, display_path, limits)
    try:
        _, rows = _sheet_rows(workbook, display_path, sheet)
    finally:
        workbook.close()
    return [[None if v == "" else v for v in row] for row in rows]


_CELL_KINDS = {type(None): 0, str: 1, float: 2, bool: 3, int: 4, dt.datetime: 5, dt.date: 6}  # exact types
_OTHER_CELL = 7  # time, timedelta, anything else


def _render_cells(values: list[object]) -> pa.Array:
    """Render calamine cell values as strings (see module docstring): one pass over a
    flat list of cells — a whole sheet at once — by cell type, not cell by cell."""
    cells = np.empty(len(values), dtype=object)
    cells[:] = values
    out = np.full(len(values), None, dtype=object)
    if not len(values):
        return pa.array([], type=pa.string())
    # each cell's exact type as a small code (an object array of types is ≈ 15 × slower to build)
    kind_of = _CELL_KINDS.get
    kinds = np.fromiter(map(kind_of, map(type, values), itertools.repeat(_OTHER_CELL)), dtype=np.int8, count=len(values))
    is_str = kinds == _CELL_KINDS[str]
    out[is_str] = cells[is_str]
    is_float = kinds == _CELL_KINDS[float]
    if is_float.any():
        numbers = cells[is_float].astype(np.float64)
        finite = np.isfinite(numbers)
        integral = finite & (numbers == np.round(numbers)) & (np.abs(numbers) < 2**53)
        rendered = np.empty(numbers.size, dtype=object)
        rendered[integral] = numbers[integral].astype(np.int64).astype(str)
        rendered[~integral] = [repr(float(x)) for x in numbers[~integral]]
        out[is_float] = rendered
    is_bool = kinds == _CELL_KINDS[bool]
    if is_bool.any():
        out[is_bool] = np.where(cells[is_bool].astype(bool), "TRUE", "FALSE")
    is_int = kinds == _CELL_KINDS[int]
    if is_int.any():
        out[is_int] = [str(v) for v in cells[is_int]]
    is_datetime = kinds == _CELL_KINDS[dt.datetime]
    if is_datetime.any():
        stamps = pd.to_datetime(cells[is_datetime].tolist()).round("s")
        out[is_datetime] = stamps.strftime("%Y-%m-%dT%H:%M:%S").to_numpy()
    is_date = kinds == _CELL_KINDS[dt.date]
    if is_date.any():
        out[is_date] = [v.isoformat() for v in cells[is_date]]
    known = kinds != _OTHER_CELL
    other = np.flatnonzero(~known)
    for i in other:  # time, timedelta (rare); None and NaN stay missing
        v = cells[i]
        if v is None or (isinstance(v, float) and v != v):
            continue
        out[i] = v.isoformat(timespec="seconds") if isinstance(v, dt.time) else str(v)
    text = pc.utf8_trim_whitespace(pa.array(out, type=pa.string()))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def xlsx_merged_ranges(
    path: Path, display_path: str, sheet: str, *, limits: InputLimits = DEFAULT_LIMITS
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Merged cell ranges of one sheet: ((row, col) first, (row, col) last), 0-based and
    inclusive, cut to the sheet's used area (a merge may name any range)."""
    workbook = _open_workbook(path, display_path, limits)
    try:
        ws = _sheet(workbook, display_path, sheet)
        ranges = ws.merged_cell_ranges or []
        last = ws.end  # (row, col) of the farthest cell with a value, or None
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(display_path, f"unreadable sheet {sheet!r}: {exc}") from None
    finally:
        workbook.close()
    if last is None:
        return []
    out = []
    for (r0, c0), (r1, c1) in ranges:  # a sheet has a handful of merges
        if r0 <= last[0] and c0 <= last[1]:
            out.append(((int(r0), int(c0)), (int(min(r1, last[0])), int(min(c1, last[1])))))
    return out


def read_xlsx_table(
    path: Path, display_path: str, sheet: str | int = 0, *, limits: InputLimits = DEFAULT_LIMITS
) -> RawTable:
    workbook = _open_workbook(path, display_path, limits)
    try:
        name, rows = _sheet_rows(workbook, display_path, sheet)
    finally:
        workbook.close()
    header_index = next(
        (i for i, row in enumerate(rows) if any(not (v == "" or v is None) for v in row)), None
    )
    if header_index is None:
        raise UnreadableFile(display_path, f"sheet {name!r} is empty: no header row")
    header = rows[header_index]
    width = len(header)
    body = rows[header_index + 1 :]
    if any(len(row) != width for row in body):  # ragged rows: cut or pad to the header's width
        body = [list(row[:width]) + [None] * (width - len(row)) for row in body]
    flat = _render_cells([v for row in body for v in row])  # row-major: cell (r, j) at r * width + j
    # one take into column-major order, then each column is a slice of it
    by_column = pc.take(flat, pa.array(np.arange(len(flat), dtype=np.int64).reshape(-1, width).T.ravel()))
    columns = [pa.chunked_array([by_column.slice(j * len(body), len(body))], pa.string()) for j in range(width)]
    raw_names = ["" if v is None else str(v) for v in _render_cells(list(header)).to_pylist()]
    lines = np.arange(header_index + 2, header_index + 2 + len(body), dtype=np.int64)
    frame, line_series = _frame(display_path, raw_names, columns, lines)
    return RawTable(frame=frame, lines=line_series, kind="xlsx", sheet=name)


# --------------------------------------------------------------------------- dispatch


def read_table(path: Path, display_path: str, *, limits: InputLimits = DEFAULT_LIMITS) -> RawTable:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return read_csv_table(path, display_path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx_table(path, display_path, limits=limits)
    raise UnreadableFile(display_path, f"unsupported file type {suffix or '(none)'!r}: expected .csv or .xlsx")
