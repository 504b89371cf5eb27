"""Hostile and odd XLSX files for tests, written with a real XLSX writer (xlsxwriter) and
edited at the zip / sheet-XML level where the attack needs it (no mocks)."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import xlsxwriter

SHEET = "xl/worksheets/sheet1.xml"


def xlsx_bytes(rows: list[list], *, sheet: str = "data", far: tuple[int, int, object] | None = None,
               constant_memory: bool = False) -> bytes:
    """A workbook of ``rows`` (row 1 first); ``far``: (row, col, value) of one more cell,
    0-based (strings are shared strings, or inline ones with ``constant_memory``)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": constant_memory})
    ws = workbook.add_worksheet(sheet)
    for i, row in enumerate(rows):
        ws.write_row(i, 0, row)
    if far is not None:
        row, col, value = far
        if isinstance(value, str):
            ws.write_string(row, col, value)
        else:
            ws.write(row, col, value)
    workbook.close()
    return buffer.getvalue()


def far_cell_xlsx(value: object = " ", row: int = 999_999, col: int = 15_999, rows: list[list] | None = None) -> bytes:
    """The attack of issue 12: a small table and one cell at WQJ1000000 (by default a
    single space)."""
    table = rows if rows is not None else [["a", "b", "c"], [1, "x", 1.5], [2, "y", 2.5]]
    return xlsx_bytes(table, far=(row, col, value))


def member(data: bytes, name: str = SHEET) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def replace_member(data: bytes, body: bytes | None = None, *, name: str = SHEET, transform=None) -> bytes:
    """The workbook with one member's bytes replaced (or transformed), re-zipped."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == name:
                content = transform(content) if transform else body
            target.writestr(info.filename, content)
    return out.getvalue()


def sheet_xml(body: bytes, *, root: bytes = b"worksheet", prefix: bytes = b"") -> bytes:
    """A worksheet whose ``sheetData`` holds ``body``."""
    p = prefix + b":" if prefix else b""
    ns = b"xmlns" + (b":" + prefix if prefix else b"")
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<' + p + root + b" " + ns
        + b'="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><' + p + b"sheetData>" + body
        + b"</" + p + b"sheetData></" + p + root + b">"
    )


def with_sheet(body: bytes, **kwargs) -> bytes:
    """A one-sheet workbook (sheet 'data') whose sheet data is ``body``."""
    return replace_member(xlsx_bytes([["a"]]), sheet_xml(body, **kwargs))


def patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with the uncompressed size of ``name`` rewritten in its local header and
    its central-directory entry (a member that lies about its size)."""
    out = bytearray(data)
    encoded = name.encode()
    for m in re.finditer(re.escape(b"PK\x01\x02"), data):  # central directory entries
        start = m.start()
        name_len = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46 : start + 46 + name_len] == encoded:
            struct.pack_into("<I", out, start + 24, size)
            local = struct.unpack_from("<I", data, start + 42)[0]
            struct.pack_into("<I", out, local + 22, size)
    return bytes(out)


def deflated_zeros(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes (made without holding them) and its CRC."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1 << 20)
    parts, crc, left = [], 0, size
    while left:
        piece = block[: min(left, len(block))]
        parts.append(packer.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(packer.flush())
    return b"".join(parts), crc


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written by hand: (name, stored data, method, declared size, crc) per member."""
    local, central = bytearray(), bytearray()
    for name, payload, method, declared, crc in entries:
        encoded = name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload), declared,
                             len(encoded), 0) + encoded + payload  # fmt: skip
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(payload),
                               declared, len(encoded), 0, 0, 0, 0, 0, offset) + encoded  # fmt: skip
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0)
    return bytes(local + central + end)


def zip_bomb(inflated: int, declared: int | None = None) -> bytes:
    """A workbook-looking zip whose sheet member inflates to ``inflated`` zero bytes and
    declares ``declared`` (default: the truth)."""
    stream, crc = deflated_zeros(inflated)
    base = xlsx_bytes([["a"]])
    entries = []
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        for info in archive.infolist():
            if info.filename == SHEET:
                entries.append((SHEET, stream, 8, inflated if declared is None else declared, crc))
            else:
                body = archive.read(info)
                entries.append((info.filename, body, 0, len(body), zlib.crc32(body)))
    return raw_zip(entries)
