"""XLSX workbooks bounded by what they really hold, before python-calamine reads them.

Room: deciding from a workbook's raw bytes whether it can be read within the
:class:`~harmoni_pipeline.ingest.limits.InputLimits` — the zip's structure and sizes, and
the extent of every sheet's cells — and handing the reader the bytes to read: the
file's own bytes, or a copy whose blank cells beyond the limits are emptied. Reading
cell values is :mod:`~harmoni_pipeline.ingest.readers`' job.

Why: python-calamine allocates the rectangle from the first to the last cell that holds
a value, whatever the value is. One whitespace cell at ``WQJ1000000`` asks for 16·10⁹
cells (≈ 512 GB) and Rust aborts the whole process (exit 134). The ``<dimension>`` tag
is optional and may lie, so the cells' own references are scanned.

The zip (refused as ``not a readable XLSX workbook: …`` or ``… exceeds …``)
- the file itself and the sum of the sizes its members declare are at most
  ``xlsx_max_uncompressed_bytes``;
- one end-of-central-directory record, ending the file; no data before the first
  member; member names unique (case-insensitively, as calamine looks them up); no two
  members sharing bytes (the "overlapping files" zip bomb); no encryption; stored or
  deflate only (what every spreadsheet program writes);
- every member inflates to exactly the size it declares (inflating stops as soon as it
  would exceed it), and a member of more than 1 MB declares at most ``MAX_RATIO`` times
  its compressed size (real sheets stay below 30).

The sheets (every member holding ``sheetData``, whatever its name; refused as ``sheet
'…': its values span A1:… (… rows × … columns), more than the limit of …``)
- **Bound** (every sheet): the farthest reference of *any* cell, valued or not, bounds
  what calamine can allocate. Within the limits, the workbook is read as it is.
  numpy over 16 MB chunks of the inflated XML (a few ``bytes.count`` passes, then the
  positions of ``=`` signs and references only), for sheets whose every cell tag is
  written ``<c r="A1" …`` with ``r`` first — what Excel, LibreOffice, Google Sheets,
  openpyxl and xlsxwriter write.
- **Classification** (a sheet beyond the bound): each cell is *valued* when it has a
  child element (calamine may store it) and *blank* when its text — or its shared
  string — is only whitespace (the readers treat it as empty). Column-wise with numpy
  for such standard sheets; for other sheets (namespace prefixes, cells without ``r``,
  single quotes, other spacing) an exact walk over the tags that follows calamine's own
  rules (a cell without ``r`` takes the row of its ``<row>`` and the column after the
  previous cell; ``</row>`` moves to the next row), one regular-expression step per tag.
  Comments, CDATA, repeated attributes and malformed tags inside ``sheetData`` make the
  file unreadable there.
  - the valued cells fit the limits → read as it is;
  - only the non-blank cells fit → the blank valued cells beyond them are emptied
    (``<c r="XFD1000000" …></c>``) in an in-memory copy, which is read instead — the
    same values, without the far whitespace;
  - otherwise the file is unreadable, naming the sheet and the extent of its
    non-blank values.

The last verdict (bytes to read, or the reason) is cached per path, size, modification
time and limits (files up to 64 MB): parsers open one workbook once per sheet, and
``harmoni validate`` tries up to three parsers.

The container is read by :mod:`~harmoni_pipeline.ingest.xlsx_zip`, the sheets are scanned by
:mod:`~harmoni_pipeline.ingest.xlsx_sheets`; this module holds the verdict and its cache.
"""

from __future__ import annotations

import io
import os
import re
import threading
import zipfile
from pathlib import Path

import numpy as np

from harmoni_pipeline.ingest.common import UnreadableFile
from harmoni_pipeline.ingest.limits import MB, InputLimits
from harmoni_pipeline.ingest.xlsx_sheets import (
    _ATTRIBUTE, _Nonstandard, _beyond, _blank_strings, _bound, _classify, _exact_scan,
)
from harmoni_pipeline.ingest.xlsx_zip import _Member, _Refused, _inflate, _mb, _members


CACHE_MAX_BYTES = 64 * MB


# --------------------------------------------------------------------------- public


_cache_lock = threading.Lock()
_cache: dict[tuple, bytes | str] = {}  # one workbook: its bytes to read, or why not


def checked_workbook(path: Path, display_path: str, limits: InputLimits) -> bytes:
    """The bytes to give the XLSX reader for ``path``: the file's own, or a copy whose
    blank cells beyond the limits are emptied. Raises :class:`UnreadableFile` with a
    one-line reason when the workbook exceeds ``limits`` or is not a sound zip."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UnreadableFile(display_path, "cannot open: file not found") from None
    except OSError as exc:
        raise UnreadableFile(display_path, f"cannot open: {exc.strerror or exc}") from None
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino, limits)
    with _cache_lock:
        known = _cache.get(key)
    if known is None:
        try:
            known = _verdict(path, st.st_size, limits)
        except OSError as exc:  # not cached: it may not last
            raise UnreadableFile(display_path, f"cannot open: {exc.strerror or exc}") from None
        if st.st_size <= CACHE_MAX_BYTES:
            with _cache_lock:
                _cache.clear()
                _cache[key] = known
    if isinstance(known, str):
        raise UnreadableFile(display_path, known)
    return known


def _verdict(path: Path, size: int, limits: InputLimits) -> bytes | str:
    """The bytes to read, or the reason the workbook cannot be read (``OSError`` when the
    file cannot be opened)."""
    if size > limits.xlsx_max_uncompressed_bytes:
        return (f"the file is {_mb(size)}, more than the limit of {_mb(limits.xlsx_max_uncompressed_bytes)} "
                "(HARMONI_XLSX_MAX_UNCOMPRESSED_MB)")  # fmt: skip
    data = Path(path).read_bytes()
    try:
        return _check(data, limits)
    except _Refused as exc:
        return str(exc)


def check_workbook_bytes(data: bytes, limits: InputLimits) -> bytes:
    """:func:`checked_workbook` on bytes already read; raises ``ValueError`` with the
    reason (for tests and tools)."""
    try:
        return _check(data, limits)
    except _Refused as exc:
        raise ValueError(str(exc)) from None



# --------------------------------------------------------------------------- workbook


def _sheet_names(data: bytes, members: list[_Member]) -> dict[str, str]:
    """Member name (case-folded) → sheet name, as calamine resolves them (best effort:
    only for messages)."""
    by_name = {m.name.casefold(): m for m in members}

    def text(name: str) -> bytes:
        member = by_name.get(name)
        if member is None or member.declared > 16 * MB:
            return b""
        try:
            return b"".join(_inflate(data, member))
        except _Refused:
            return b""

    targets = {}
    for rel in re.finditer(rb"<(?:\w+:)?Relationship\s[^>]*>", text("xl/_rels/workbook.xml.rels")):
        attrs = {k: d or s for k, d, s in _ATTRIBUTE.findall(rel.group(0))}
        if b"Id" in attrs and b"Target" in attrs:
            target = attrs[b"Target"].decode("utf-8", "replace")
            target = target[1:] if target.startswith("/xl/") else target if target.startswith("xl/") else "xl/" + target
            targets[attrs[b"Id"]] = target.casefold()
    names = {}
    for sheet in re.finditer(rb"<(?:\w+:)?sheet\s[^>]*>", text("xl/workbook.xml")):
        attrs = {k: d or s for k, d, s in _ATTRIBUTE.findall(sheet.group(0))}
        rid = attrs.get(b"r:id") or attrs.get(b"relationships:id")
        if rid in targets and b"name" in attrs:
            names[targets[rid]] = attrs[b"name"].decode("utf-8", "replace")
    return names


def _check(data: bytes, limits: InputLimits) -> bytes:
    members = _members(data, limits)
    names: dict[str, str] | None = None
    flags: list[np.ndarray] = []

    def sheet_name(member: _Member) -> str:
        nonlocal names
        if names is None:
            names = _sheet_names(data, members)
        return names.get(member.name.casefold(), member.name)

    def blank_string(index: np.ndarray) -> np.ndarray:
        if not flags:
            table = next((m for m in members if m.name.casefold() == "xl/sharedstrings.xml"), None)
            flags.append(_blank_strings(b"".join(_inflate(data, table))) if table else np.zeros(0, dtype=bool))
        known = flags[0]
        inside = (index >= 0) & (index < known.size)
        return np.where(inside, known[np.where(inside, index, 0)] if known.size else False, False)

    trims: dict[str, list[tuple[int, int]]] = {}
    for member in members:  # every member is inflated once (its declared size is checked)
        try:
            bound = _bound(data, member)
            if bound is None or bound.problem(limits) is None:
                continue
            scan = _classify(data, member, blank_string, limits, sheet_name(member))
        except _Nonstandard:
            scan = _exact_scan(b"".join(_inflate(data, member)), blank_string, limits, sheet_name(member))
        if scan.valued.problem(limits) is None:
            continue
        problem = scan.content.problem(limits)
        if problem:
            raise _Refused(_beyond(sheet_name(member), scan.content, problem))
        trims[member.name] = scan.spans_beyond_content()
    if not trims:
        return data
    return _trimmed_copy(data, members, trims)


def _trimmed_copy(data: bytes, members: list[_Member], trims: dict[str, list[tuple[int, int]]]) -> bytes:
    """The workbook with the content of the given cells removed (``<c …></c>``: calamine
    stores nothing), every other byte of every member unchanged."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for member in members:
            body = b"".join(_inflate(data, member))
            spans = trims.get(member.name)
            if spans:
                edges = np.zeros(len(body) + 1, dtype=np.int64)
                starts, ends = np.array(spans, dtype=np.int64).T
                np.add.at(edges, starts, 1)
                np.add.at(edges, ends, -1)
                keep = np.cumsum(edges)[: len(body)] == 0
                body = np.frombuffer(body, dtype=np.uint8)[keep].tobytes()
            target.writestr(zipfile.ZipInfo(member.name), body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return out.getvalue()
