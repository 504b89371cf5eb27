"""Writing sample landing files byte-for-byte reproducibly, and the ledger of what was written.

Room: the byte level of the sample generator — CSV built column-wise with pyarrow
(minimal quoting as Google Sheets writes it, or every field quoted as KoboToolbox does),
XLSX through xlsxwriter (constant-memory mode, a fixed creation date so that the same seed
gives byte-identical workbooks), JSON and plain text — plus :class:`LandingWriter`, which
records every file, its data rows, the rules planted in it and the personal values it
holds, and :class:`SampleSummary`, what :func:`~harmoni_pipeline.sample.generate_landing_zone`
returns. *What* goes into a file is decided by the source modules (``survey``, ``fkdm``,
``stats``); nothing here draws random numbers.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import xlsxwriter

#: Excel's day 0 (serial numbers count days from here, with the 1900 leap-year bug
#: absorbed for every date after February 1900).
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_EPOCH_UNIX_DAYS = 25569  # 1970-01-01 as an Excel serial


@dataclass
class SampleSummary:
    """What a generated landing zone holds (returned by ``generate_landing_zone``).

    - ``files``: every file written, relative to ``out`` (POSIX paths, sorted).
    - ``file_rows``: data rows per file (statistics: see data-contracts §3.3).
    - ``rows``: data rows per ``source/format`` (e.g. ``survey/google_forms``), counting
      every copy (cumulative Google Forms re-exports count each time).
    - ``planted_pii``: every raw personal value written anywhere (names — also inside
      FKDM ``ringkasan`` — phone numbers, e-mails, NIKs), exactly as written.
    - ``planted_rules``: rule (contract §3.4 vocabulary) → number of input rows planted
      to break it, counted per file (a defect in a cumulative export counts once per
      export that repeats it); ``file_rules`` the same per file.
    - ``population``: the synthetic kecamatan population of the scope for the base year
      (``kode_kecamatan, nama_kecamatan, kode_kabupaten, jenis_kelamin, kelompok_umur,
      jumlah``).
    - ``responses``: unique valid survey responses per first-arrival ``period`` and
      ``kode_kecamatan`` (what the pipeline should accept, before windows).
    - ``reports``: distinct FKDM reports (``no_laporan``) generated.
    """

    out: Path
    scope: str
    seed: int
    periods: list[str]
    files: list[str] = field(default_factory=list)
    file_rows: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    planted_pii: set[str] = field(default_factory=set)
    planted_rules: dict[str, int] = field(default_factory=dict)
    file_rules: dict[str, dict[str, int]] = field(default_factory=dict)
    population: pd.DataFrame = field(default_factory=pd.DataFrame)
    responses: pd.DataFrame = field(default_factory=pd.DataFrame)
    reports: int = 0


class LandingWriter:
    """Writes files under ``out`` and keeps the books for the :class:`SampleSummary`."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.file_rows: dict[str, int] = {}
        self.rows: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.file_rules: dict[str, dict[str, int]] = {}
        self.pii: set[str] = set()

    # ------------------------------------------------------------------ books

    def _record(self, rel: str, kind: str, rows: int, rules: Counter | dict | None) -> None:
        if rel in self.file_rows:
            raise ValueError(f"sample file written twice: {rel}")
        self.file_rows[rel] = int(rows)
        if kind:
            self.rows[kind] += int(rows)
        if rules:
            planted = {k: int(v) for k, v in sorted(rules.items()) if v}
            self.rules.update(planted)
            if planted:
                self.file_rules[rel] = planted

    def add_pii(self, values) -> None:
        """Remember personal values as written (pyarrow/numpy/pandas/iterable of str)."""
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            uniques = pc.unique(values.drop_null())
            self.pii.update(v for v in uniques.to_pylist() if v)
            return
        self.pii.update(str(v) for v in values if v is not None and v == v and str(v))

    def _path(self, rel: str) -> Path:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------------------------ formats

    def csv(
        self,
        rel: str,
        header: Sequence[str],
        columns: Sequence,
        *,
        kind: str,
        rules: Counter | dict | None = None,
        sep: str = ",",
        quote_all: bool = False,
        eol: str = "\n",
        bom: bool = False,
    ) -> None:
        """A CSV from string columns (pyarrow arrays; None/null = empty cell)."""
        data = csv_bytes(header, columns, sep=sep, quote_all=quote_all, eol=eol)
        if bom:
            data = b"\xef\xbb\xbf" + data
        self._path(rel).write_bytes(data)
        n = len(columns[0]) if len(columns) else 0
        self._record(rel, kind, n, rules)

    def xlsx(
        self,
        rel: str,
        build: Callable[[xlsxwriter.Workbook], int],
        *,
        kind: str,
        created: dt.datetime,
        rules: Counter | dict | None = None,
        title: str | None = None,
        constant_memory: bool = True,
    ) -> None:
        """An XLSX written by ``build(workbook) -> data rows``; ``created`` fixes the
        document date (xlsxwriter would otherwise stamp the wall clock). Constant-memory
        mode (big sheets) needs rows written in order: layouts with merged ranges that
        span rows (Dalam Angka headers) turn it off."""
        path = self._path(rel)
        workbook = xlsxwriter.Workbook(
            str(path),
            {"constant_memory": constant_memory, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
        )
        props = {"created": created, "author": "", "company": ""}
        if title:
            props["title"] = title
        workbook.set_properties(props)
        rows = build(workbook)
        workbook.close()
        self._record(rel, kind, rows, rules)

    def json(self, rel: str, obj, *, kind: str, rows: int, rules: Counter | dict | None = None) -> None:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        self._path(rel).write_text(text, encoding="utf-8")
        self._record(rel, kind, rows, rules)

    def text(self, rel: str, text: str, *, kind: str = "", rows: int = 0) -> None:
        self._path(rel).write_text(text, encoding="utf-8", newline="\n")
        self._record(rel, kind, rows, None)

    def summary(self, **kwargs) -> SampleSummary:
        return SampleSummary(
            out=self.out,
            files=sorted(self.file_rows),
            file_rows=dict(sorted(self.file_rows.items())),
            rows=dict(sorted(self.rows.items())),
            planted_pii=set(self.pii),
            planted_rules=dict(sorted(self.rules.items())),
            file_rules=dict(sorted(self.file_rules.items())),
            **kwargs,
        )


# --------------------------------------------------------------------------- CSV


def _as_string_array(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(values)
    if not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.large_string())
    return values


def _may_contain(values: pa.Array, chars: bytes) -> bool:
    """Whether any of ``chars`` occurs in the column's character data (a quick scan of
    the data buffer; may say yes for bytes outside a sliced array, never wrongly no)."""
    data = values.buffers()[2]
    if data is None or data.size == 0:
        return False
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(chars, dtype=np.uint8)] = True
    return bool(table[np.frombuffer(data, dtype=np.uint8)].any())


def _quoted(values: pa.Array, sep: str) -> pa.Array:
    """Minimal quoting: only cells holding the separator, a quote or a line break."""
    special = (sep + '"\r\n').encode("utf-8")
    if not _may_contain(values, special):
        return values
    needs = pc.match_substring(values, sep)
    for ch in ('"', "\r", "\n"):
        needs = pc.or_(needs, pc.match_substring(values, ch))
    escaped = pc.replace_substring(values, '"', '""')
    quote, empty = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
    wrapped = pc.binary_join_element_wise(quote, escaped, quote, empty)
    return pc.if_else(needs, wrapped, values)


def csv_bytes(header: Sequence[str], columns: Sequence, *, sep: str = ",", quote_all: bool = False, eol: str = "\n") -> bytes:
    """CSV bytes built column-wise. Minimal quoting (as Google Sheets writes): a cell is
    quoted only when it holds the separator, a quote or a line break; the row is joined
    with ``sep``; nulls are empty cells. ``quote_all`` (as KoboToolbox writes): every
    non-null cell quoted, through pyarrow's CSV writer."""
    n = len(columns[0]) if columns else 0
    if quote_all:
        table = pa.table({f"c{i}": _as_string_array(c) for i, c in enumerate(columns)}) if n else None
        head = (sep.join(_quote_py(h, sep, True) for h in header) + eol).encode("utf-8")
        if table is None:
            return head
        sink = io.BytesIO()
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, delimiter=sep, quoting_style="all_valid"))
        body = sink.getvalue()
        if eol != "\n":
            body = body.replace(b"\n", eol.encode("utf-8"))
        return head + body
    head = (sep.join(_quote_py(h, sep, False) for h in header) + eol).encode("utf-8")
    if n == 0:
        return head
    arrays = [_quoted(_as_string_array(c), sep) for c in columns]
    large = lambda text: pa.scalar(text, pa.large_string())  # noqa: E731
    lines = pc.binary_join_element_wise(*arrays, large(sep), null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(lines, large(""), large(eol))
    lines = _as_string_array(lines)
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    data = lines.buffers()[2]
    return head + data.to_pybytes()[int(offsets[0]) : int(offsets[-1])]


def _quote_py(text: str, sep: str, quote_all: bool) -> str:
    text = str(text)
    if quote_all or any(ch in text for ch in (sep, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


# --------------------------------------------------------------------------- XLSX


def excel_serial(unix_seconds: np.ndarray) -> np.ndarray:
    """Excel serial day numbers (float) for naive local times given as seconds since
    1970-01-01 of the same clock."""
    return np.asarray(unix_seconds, dtype=np.float64) / 86400.0 + _EXCEL_EPOCH_UNIX_DAYS


def write_table(
    worksheet,
    header: Sequence[str],
    columns: Sequence[list],
    *,
    first_row: int = 0,
    cell_formats: dict[int, object] | None = None,
    header_format=None,
) -> int:
    """Write a header and rows of Python values (None = empty cell) in row order (as
    constant-memory mode requires). ``cell_formats``: column index → format applied to
    that column's numeric cells (native dates). Returns the number of data rows."""
    worksheet.write_row(first_row, 0, list(header), header_format)
    n = len(columns[0]) if columns else 0
    formats = cell_formats or {}
    plain = [j for j in range(len(columns)) if j not in formats]
    # contiguous runs of unformatted columns go through write_row in one call each
    runs: list[tuple[int, int]] = []
    for j in plain:
        if runs and runs[-1][1] == j:
            runs[-1] = (runs[-1][0], j + 1)
        else:
            runs.append((j, j + 1))
    formatted = sorted(formats.items())
    write_row = worksheet.write_row
    write_number = worksheet.write_number
    write_string = worksheet.write_string
    rows = list(zip(*columns)) if columns else []
    for i in range(n):
        r = first_row + 1 + i
        row = rows[i]
        for a, b in runs:
            write_row(r, a, row[a:b])
        for j, fmt in formatted:
            v = row[j]
            if v is None:
                continue
            if isinstance(v, str):
                write_string(r, j, v)
            else:
                write_number(r, j, v, fmt)
    return n


def nullable_list(values: np.ndarray, mask: np.ndarray | None = None) -> list:
    """A Python list from a numpy array with ``None`` where ``mask`` is true."""
    out = values.tolist()
    if mask is not None and mask.any():
        for i in np.flatnonzero(mask).tolist():
            out[i] = None
    return out
