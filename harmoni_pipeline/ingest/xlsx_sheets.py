"""What a worksheet really holds, scanned from its XML bytes: the extent of cells with a
value (numpy over standard sheets, an exact scan for the others), and which shared
strings are blank.

Room: the sheet part of :mod:`harmoni_pipeline.ingest.xlsx_guard`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from harmoni_pipeline.ingest.limits import InputLimits
from harmoni_pipeline.ingest.xlsx_zip import _Member, _Refused, _inflate


_WS = np.zeros(256, dtype=bool)
_WS[[9, 10, 13, 32]] = True
_TAG_END = _WS.copy()  # what ends an element name: whitespace, '/', '>'
_TAG_END[[47, 62]] = True
_PAD_LEN = 16
_PAD = bytes(_PAD_LEN)


# --------------------------------------------------------------------------- extents


@dataclass
class _Extent:
    """The farthest cell (0-based row and column) of a set of cells; -1: none."""

    row: int = -1
    col: int = -1

    def add(self, row: int, col: int) -> None:
        self.row, self.col = max(self.row, int(row)), max(self.col, int(col))

    def span(self) -> str:
        return f"A1:{address(self.row, self.col)} ({self.row + 1:,} rows × {self.col + 1:,} columns)"

    def problem(self, limits: InputLimits) -> str | None:
        if self.row < 0:
            return None
        rows, cols = self.row + 1, self.col + 1
        if cols > limits.xlsx_max_columns:
            return f"more than the limit of {limits.xlsx_max_columns:,} columns (HARMONI_XLSX_MAX_COLUMNS)"
        if rows > limits.xlsx_max_rows:
            return f"more than the limit of {limits.xlsx_max_rows:,} rows (HARMONI_XLSX_MAX_ROWS)"
        if rows * cols > limits.xlsx_max_cells:
            return f"more than the limit of {limits.xlsx_max_cells:,} cells (HARMONI_XLSX_MAX_CELLS)"
        return None


def column_letters(col: int) -> str:
    """0-based column number → ``A`` … ``XFD`` …"""
    letters = ""
    col += 1
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def address(row: int, col: int) -> str:
    return f"{column_letters(col)}{row + 1}"


@dataclass
class _SheetScan:
    """What a sheet holds: the extent of the cells calamine may store (``valued``), of
    those with a non-blank value (``content``), and the blank valued cells (position and
    the byte range of their content in the sheet's XML)."""

    valued: _Extent = field(default_factory=_Extent)
    content: _Extent = field(default_factory=_Extent)
    blank: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def add_blank(self, rows, cols, starts, ends) -> None:
        if len(rows):
            self.blank.append(tuple(np.asarray(x, dtype=np.int64) for x in (rows, cols, starts, ends)))

    def spans_beyond_content(self) -> list[tuple[int, int]]:
        """Content byte ranges of the blank valued cells outside the content's extent."""
        if not self.blank:
            return []
        rows, cols, starts, ends = (np.concatenate(parts) for parts in zip(*self.blank))
        out = (rows > self.content.row) | (cols > self.content.col)
        return list(zip(starts[out].tolist(), ends[out].tolist()))


def _beyond(sheet: str, extent: _Extent, problem: str) -> str:
    return f"sheet {sheet!r}: its values span {extent.span()}, {problem}"


# --------------------------------------------------------------------------- standard sheets (numpy)


class _Nonstandard(Exception):
    """The numpy scan cannot vouch for this sheet: use the exact scan."""


_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_SPACED_EQUALS = re.compile(rb"<[^<>]*\s=")  # whitespace before '=' inside a tag
_NAME = np.zeros(256, dtype=bool)  # bytes that continue an XML name (ASCII part)
_NAME[[*range(48, 58), *range(65, 91), *range(97, 123), 45, 46, 58, 95]] = True
_NAME[128:] = True
_END_CELL = int.from_bytes(b"</c>", "little")
_T_ATTRIBUTE = int.from_bytes(b' t="', "little")
_SHEET_DATA = re.compile(rb"<(?:[^\s/>:<]+:)?sheetData[\s/>]")


def _padded(chunk: bytes) -> np.ndarray:
    """The chunk's bytes with ``PAD`` zero bytes before and after (positions ± 8 exist)."""
    return np.frombuffer(_PAD + chunk + _PAD, dtype=np.uint8)


def _standard_cells(chunk: bytes, a: np.ndarray) -> np.ndarray:
    """Positions in ``a`` of the cell tags' ``<``, having checked that every cell tag is
    written ``<c r="`` and that every ``r`` attribute is the first of a cell or row tag
    (calamine takes a cell's *last* ``r``: a second one would escape a scan that reads
    the first); raises :class:`_Nonstandard` otherwise. A few passes over the bytes
    (``bytes.count``, one numpy comparison), then work on the ``=`` signs only."""
    if chunk.count(b":c") and _PREFIXED_CELL.search(chunk):  # 'x:c …': a namespace prefix
        raise _Nonstandard
    eq = np.flatnonzero(a == 61)
    before = a[eq - 1]
    if _WS[before].any() and _SPACED_EQUALS.search(chunk):
        raise _Nonstandard
    named_r = eq[(before == 114) & ~_NAME[a[eq - 2]]]
    space = a[named_r - 2] == 32
    cell = named_r[space & (a[named_r - 3] == 99) & (a[named_r - 4] == 60) & (a[named_r + 1] == 34)]
    rows = named_r[space & (a[named_r - 3] == 119) & (a[named_r - 4] == 111) & (a[named_r - 5] == 114)
                   & (a[named_r - 6] == 60)]  # fmt: skip
    if named_r.size != cell.size + rows.size:
        raise _Nonstandard
    if chunk.count(b"<c") != cell.size:  # '<col', '<color' … or a cell tag of another form
        starts = np.flatnonzero((a[:-2] == 60) & (a[1:-1] == 99))
        if int(np.count_nonzero(_TAG_END[a[starts + 2]])) != cell.size:
            raise _Nonstandard
    return cell - 4


def _reference_shape(a: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of letters and digits of the references starting at ``first`` (``A1`` …
    ``XFD1048576``, closed by a quote, no leading zero), or :class:`_Nonstandard`."""
    byte = [a[first + j] for j in range(11)]
    letter = [((b & 0xDF) - 65) < 26 for b in byte[:4]]  # uint8 arithmetic wraps below 'A'
    letters = letter[0].astype(np.int8) + (letter[0] & letter[1]) + (letter[0] & letter[1] & letter[2])
    quote = np.full(first.size, 11, dtype=np.int8)
    for j in range(10, 0, -1):
        quote[byte[j] == 34] = j
    digits = quote - letters
    if (not letter[0].all() or (letter[1] & letter[2] & letter[3]).any() or digits.min() < 1 or digits.max() > 7
            or (a[first + letters] == 48).any()):  # fmt: skip
        raise _Nonstandard
    return letters, digits


def _farthest_reference(a: np.ndarray, first: np.ndarray) -> tuple[int, int]:
    """(greatest row, greatest column) among the references at ``first``: only the
    longest letter / digit runs are compared, and only the two winners parsed."""
    letters, digits = _reference_shape(a, first)

    def greatest(start: np.ndarray, length: np.ndarray, mask: int) -> bytes:
        most = int(length.max())
        among = np.flatnonzero(length == most)
        key = np.zeros(among.size, dtype=np.int64)
        for j in range(most):
            key = key * 256 + (a[start[among] + j] & mask)
        at = int(start[among[int(np.argmax(key))]])
        return a[at : at + most].tobytes()

    digit_run, letter_run = greatest(first + letters, digits, 0xFF), greatest(first, letters, 0xDF)
    if not (digit_run.isdigit() and letter_run.isalpha()):
        raise _Nonstandard
    return _parse_ref(b"A" + digit_run)[0], _parse_ref(letter_run + b"1")[1]


def _all_references(a: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0-based (row, column) of every reference at ``first`` (Horner sums over the byte
    positions, every cell at once)."""
    letters, digits = _reference_shape(a, first)
    row = np.zeros(first.size, dtype=np.int64)
    col = np.zeros(first.size, dtype=np.int64)
    end = letters + digits
    for j in range(10):
        byte = a[first + j].astype(np.int64)
        col = np.where(j < letters, col * 26 + (byte & 0xDF) - 64, col)
        inside = (j >= letters) & (j < end)
        if not ((byte[inside] >= 48) & (byte[inside] <= 57)).all():
            raise _Nonstandard
        row = np.where(inside, row * 10 + byte - 48, row)
    return row - 1, col - 1


def _bound_chunk(chunk: bytes, extent: _Extent) -> None:
    """Add the farthest reference of the chunk's cells, valued or not, to ``extent``."""
    a = _padded(chunk)
    cells = _standard_cells(chunk, a)
    if cells.size:
        extent.add(*_farthest_reference(a, cells + 6))


def _classify_chunk(chunk: bytes, offset: int, blank_string: Callable, scan: _SheetScan) -> None:
    """Classify every cell of ``chunk`` (whole cells; ``offset``: where it starts in the
    sheet's XML) as valued / blank into ``scan``, column-wise."""
    a = _padded(chunk)
    p = _standard_cells(chunk, a)
    if not p.size:
        return
    row, col = _all_references(a, p + 6)
    gt = np.flatnonzero(a == 62)
    lt = np.flatnonzero(a == 60)
    quotes = np.flatnonzero(a == 34)
    apostrophes = np.flatnonzero(a == 39)
    at = np.searchsorted(gt, p)
    if (at >= gt.size).any():
        raise _Nonstandard
    g = gt[at]  # the '>' ending each start tag …
    # … unless a '>' sits inside a quoted attribute value: then its quotes do not pair up
    if ((np.searchsorted(quotes, g) - np.searchsorted(quotes, p)) % 2).any() or (
        np.searchsorted(apostrophes, g) != np.searchsorted(apostrophes, p)
    ).any():
        raise _Nonstandard
    empty = a[g - 1] == 47
    closers = np.flatnonzero(np.ndarray((a.size - 3,), dtype="<u4", buffer=a, strides=(1,)) == _END_CELL)
    at = np.searchsorted(closers, g)
    missing = at >= closers.size
    e = np.where(missing, a.size - 1, closers[np.minimum(at, closers.size - 1)] if closers.size else 0)
    if (~empty & (missing | (e > np.append(p[1:], a.size)))).any():
        raise _Nonstandard  # a cell without its '</c>' before the next cell
    e = np.where(empty, g + 1, e)
    lo, hi = np.searchsorted(lt, g + 1), np.searchsorted(lt, e)
    valued = ~empty & (hi > lo)
    text = _text_bytes(a, g + 1, e, lt, gt)
    blank = valued & (text == 0)
    # a shared string (t="s"): blank when the string is; its index is the <v> text
    marks = np.flatnonzero(np.ndarray((a.size - 3,), dtype="<u4", buffer=a, strides=(1,)) == _T_ATTRIBUTE)
    marks = marks[(a[marks + 4] == 115) & (a[marks + 5] == 34)]
    owner = np.searchsorted(p, marks, side="right") - 1
    owner = owner[(owner >= 0) & (marks < g[np.maximum(owner, 0)])]
    shared = np.zeros(p.size, dtype=bool)
    shared[owner] = True
    check = np.flatnonzero(valued & shared)
    if check.size:
        index = np.zeros(check.size, dtype=np.int64)
        count = np.zeros(check.size, dtype=np.int64)
        open_v = (a[g[check] + 1] == 60) & (a[g[check] + 2] == 118) & (a[g[check] + 3] == 62)  # '<v>'
        going = open_v.copy()
        for j in range(10):
            byte = a[g[check] + 4 + j].astype(np.int64)
            going &= (byte >= 48) & (byte <= 57)
            index = np.where(going, index * 10 + byte - 48, index)
            count += going
        known = open_v & (count >= 1) & (count == text[check])
        blank[check] = known & blank_string(np.where(known, index, 0))
    far = np.flatnonzero(valued)
    if far.size:
        scan.valued.add(row[far].max(), col[far].max())
    real = np.flatnonzero(valued & ~blank)
    if real.size:
        scan.content.add(row[real].max(), col[real].max())
    idle = np.flatnonzero(blank)
    base = offset - _PAD_LEN
    scan.add_blank(row[idle], col[idle], g[idle] + 1 + base, e[idle] + base)


def _text_bytes(a: np.ndarray, starts: np.ndarray, ends: np.ndarray, lt: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Non-whitespace bytes of ``a[start:end]`` outside tags (each '<' … next '>'), for
    every range at once; ``lt``/``gt``: positions of every '<' and '>' in ``a``."""
    prefix = np.zeros(a.size + 1, dtype=np.int32)
    np.cumsum(~_WS[a], out=prefix[1:])
    at = np.searchsorted(gt, lt)
    tag_end = np.where(at < gt.size, gt[np.minimum(at, gt.size - 1)], a.size - 1)
    in_tags = np.zeros(lt.size + 1, dtype=np.int64)
    np.cumsum(prefix[tag_end + 1] - prefix[lt], out=in_tags[1:])
    lo, hi = np.searchsorted(lt, starts), np.searchsorted(lt, ends)
    return (prefix[ends] - prefix[starts]) - (in_tags[hi] - in_tags[lo])


def _chunks(data: bytes, member: _Member, cut_at: bytes):
    """(offset in the member, chunk) from the member's ``sheetData`` on, each chunk
    ending just before the last ``cut_at`` it holds (the rest is carried over); ``None``
    chunks never come: a member without ``sheetData`` yields nothing."""
    carry = b""
    offset = 0  # of carry[0] in the member
    started = False
    for piece in _inflate(data, member):
        buffer = carry + piece
        if not started:
            found = _SHEET_DATA.search(buffer)
            if found is None:
                keep = buffer[-32:]
                offset += len(buffer) - len(keep)
                carry = keep
                continue
            started = True
            offset += found.start()
            buffer = buffer[found.start() :]
        cut = buffer.rfind(cut_at)
        if cut <= 0:
            carry = buffer
            continue
        yield offset, buffer[:cut]
        offset += cut
        carry = buffer[cut:]
    if started:
        yield offset, carry


def _bound(data: bytes, member: _Member) -> _Extent | None:
    """The farthest reference of any cell of the member (``None``: no ``sheetData``)."""
    extent = None
    for _, chunk in _chunks(data, member, b"<"):
        extent = extent or _Extent()
        _bound_chunk(chunk, extent)
    return extent


def _classify(data: bytes, member: _Member, blank_string: Callable, limits: InputLimits, sheet: str) -> _SheetScan:
    scan = _SheetScan()
    for offset, chunk in _chunks(data, member, b'<c r="'):
        _classify_chunk(chunk, offset, blank_string, scan)
        problem = scan.content.problem(limits)
        if problem:  # a real value out of bounds: no need to look further
            raise _Refused(_beyond(sheet, scan.content, problem))
    return scan


# --------------------------------------------------------------------------- other sheets (exact scan)

_CANDIDATE = re.compile(rb"<(/?)(?:[^\s/>:<!?]+:)?(c|row)(?=[\s/>])|<!")
_TAG = re.compile(
    rb"<(/?)((?:[^\s/>:<]+:)?)(c|row)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
)
_ATTRIBUTE = re.compile(rb"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF = re.compile(rb"([A-Za-z]*)([0-9]+)")
_TAGS_IN_TEXT = re.compile(rb"<[^>]*>")
_CELL_ENDS: dict[bytes, re.Pattern] = {}


def _cell_end(prefix: bytes) -> re.Pattern:
    if prefix not in _CELL_ENDS:
        _CELL_ENDS[prefix] = re.compile(rb"</" + re.escape(prefix) + rb"c\s*>")
    return _CELL_ENDS[prefix]


def _parse_ref(value: bytes, *, need_column: bool = True) -> tuple[int, int]:
    """calamine's reading of a reference: 0-based (row, column); column -1 when absent."""
    m = _REF.fullmatch(value)
    if m is None or (need_column and not m.group(1)) or int(m.group(2)) == 0:
        raise _Refused(f"a cell or row reference {value[:20].decode('latin-1')!r} that is not a cell address")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + (ch - 64)
    return int(m.group(2)) - 1, col - 1


def _exact_scan(xml: bytes, blank_string: Callable, limits: InputLimits, sheet: str) -> _SheetScan:
    """Walk the sheet's row and cell tags as calamine does (module docstring): for
    sheets the numpy scan cannot vouch for. One regular-expression step per tag."""
    scan = _SheetScan()
    start = _SHEET_DATA.search(xml)
    if start is None:
        return scan
    blank_cells: list[tuple[int, int, int, int]] = []
    shared: list[tuple[int, int, int, int, int]] = []
    row_index = col_index = 0
    pos = start.end()
    try:
        while m := _CANDIDATE.search(xml, pos):
            if m.group(0) == b"<!":
                raise _Refused(f"sheet {sheet!r}: XML comments or CDATA inside the sheet data are not read")
            tag = _TAG.match(xml, m.start())
            if tag is None:
                raise _Refused(f"sheet {sheet!r}: a malformed <{m.group(2).decode()}> tag at byte {m.start():,}")
            closing, prefix, name, attrs, empty = tag.groups()
            pos = tag.end()
            if closing:
                if name == b"row":
                    row_index, col_index = row_index + 1, 0
                continue
            attributes: dict[bytes, bytes] = {}
            for key, double, single in _ATTRIBUTE.findall(attrs):
                if key in attributes:
                    raise _Refused(f"sheet {sheet!r}: a <{name.decode()}> tag repeats its attribute {key.decode()!r}")
                attributes[key] = double or single
            if name == b"row":
                if b"r" in attributes:
                    row_index = _parse_ref(attributes[b"r"], need_column=False)[0]
                if empty:
                    row_index, col_index = row_index + 1, 0
                continue
            row, col = _parse_ref(attributes[b"r"]) if b"r" in attributes else (row_index, col_index)
            col_index = col + 1
            if empty:
                continue
            close = _cell_end(prefix).search(xml, pos)
            if close is None:
                raise _Refused(f"sheet {sheet!r}: cell {address(row, col)} is never closed")
            inner = xml[pos : close.start()]
            if _CANDIDATE.search(inner):
                raise _Refused(f"sheet {sheet!r}: cell {address(row, col)} holds another cell or row tag")
            content_start, pos = pos, close.end()
            if b"<" not in inner:  # no child element: calamine stores nothing
                continue
            scan.valued.add(row, col)
            text = _TAGS_IN_TEXT.sub(b"", inner).strip()
            if not text:
                blank_cells.append((row, col, content_start, close.start()))
            elif attributes.get(b"t") == b"s" and text.isdigit():
                shared.append((row, col, content_start, close.start(), int(text)))
            else:
                scan.content.add(row, col)
                problem = scan.content.problem(limits)
                if problem:  # a real value out of bounds: no need to look further
                    raise _Refused(_beyond(sheet, scan.content, problem))
    except _Refused as exc:
        reason = str(exc)
        raise _Refused(reason if reason.startswith("sheet ") else f"sheet {sheet!r}: {reason}") from None
    if shared:
        rows, cols, starts, ends, index = (np.array(x, dtype=np.int64) for x in zip(*shared))
        is_blank = blank_string(index)
        if (~is_blank).any():
            scan.content.add(rows[~is_blank].max(), cols[~is_blank].max())
            problem = scan.content.problem(limits)
            if problem:
                raise _Refused(_beyond(sheet, scan.content, problem))
        scan.add_blank(rows[is_blank], cols[is_blank], starts[is_blank], ends[is_blank])
    if blank_cells:
        scan.add_blank(*(np.array(x, dtype=np.int64) for x in zip(*blank_cells)))
    return scan


# --------------------------------------------------------------------------- shared strings

_SI = re.compile(rb"<(?:[^\s/>:<]+:)?si(?:\s[^>]*)?(?:/>|>(.*?)</(?:[^\s/>:<]+:)?si\s*>)", re.DOTALL)
_SI_TAG = re.compile(rb"<(?:[^\s/>:<]+:)?si[\s/>]")
_PHONETIC = re.compile(rb"<(?:[^\s/>:<]+:)?rPh[\s>].*?</(?:[^\s/>:<]+:)?rPh\s*>", re.DOTALL)
_STRING_PART = re.compile(rb"<(?:[^\s/>:<]+:)?(?:r|t)[\s/>]")


def _blank_strings(xml: bytes) -> np.ndarray:
    """Whether each shared string (calamine's numbering: an ``<si>`` without a ``<t>`` or
    ``<r>`` is not counted) is only whitespace. When the table is not regular enough to
    be sure of the numbering, no string is taken for blank (nothing is then trimmed on
    its account)."""
    if b":si" in xml or b"<rPh" in xml or b":rPh" in xml:  # prefixes, phonetic runs: one by one
        return _blank_strings_one_by_one(xml)
    a = _padded(xml)
    lt, gt = np.flatnonzero(a == 60), np.flatnonzero(a == 62)
    opens = lt[(a[lt + 1] == 115) & (a[lt + 2] == 105) & _TAG_END[a[lt + 3]]]  # '<si' + ' ', '/', '>'
    closes = lt[(a[lt + 1] == 47) & (a[lt + 2] == 115) & (a[lt + 3] == 105) & (a[lt + 4] == 62)]  # '</si>'
    if not opens.size:
        return np.zeros(0, dtype=bool)
    at = np.searchsorted(gt, opens)
    if (at >= gt.size).any():
        return np.zeros(0, dtype=bool)
    g = gt[at]
    empty = a[g - 1] == 47
    at = np.searchsorted(closes, g)
    if (~empty).sum() != closes.size or (at[~empty] != np.arange(closes.size)).any():
        return np.zeros(0, dtype=bool)  # every '<si>' closed, in order, before the next one
    e = np.where(empty, g + 1, closes[np.minimum(at, closes.size - 1)])
    parts = lt[((a[lt + 1] == 116) | (a[lt + 1] == 114)) & _TAG_END[a[lt + 2]]]  # '<t' or '<r' child
    counted = ~empty & (np.searchsorted(parts, e) > np.searchsorted(parts, g))
    blank = _text_bytes(a, g + 1, e, lt, gt) == 0
    return blank[counted]


def _blank_strings_one_by_one(xml: bytes) -> np.ndarray:
    items = list(_SI.finditer(xml))
    if len(items) != len(_SI_TAG.findall(xml)):
        return np.zeros(0, dtype=bool)
    flags = []
    for m in items:  # one per distinct string, only for an unusual table of a sheet beyond the limits
        inner = _PHONETIC.sub(b"", m.group(1) or b"")
        if _STRING_PART.search(inner):
            flags.append(not _TAGS_IN_TEXT.sub(b"", inner).strip())
    return np.array(flags, dtype=bool)
