"""The ZIP container of a workbook, read from its central directory without trusting it:
member count, declared and compressed sizes, the compression ratio, and inflating one
member in bounded chunks.

Room: the container part of :mod:`harmoni_pipeline.ingest.xlsx_guard`.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from harmoni_pipeline.ingest.limits import MB, InputLimits


MAX_RATIO = 200  # declared ÷ compressed size, for members above RATIO_FROM bytes
MAX_MEMBERS = 10_000  # a workbook has tens; each costs a Python object before anything is read
RATIO_FROM = 1 * MB
CHUNK = 16 * MB

_EOCD = b"PK\x05\x06"
_LOCAL = b"PK\x03\x04"
_EOCD_SEARCH = 22 + 65535


class _Refused(Exception):
    """Internal: the one-line reason a workbook cannot be read."""




@dataclass
class _Member:
    name: str
    method: int
    header: int  # offset of the local header
    start: int  # first byte of the compressed data
    compressed: int
    declared: int


def _mb(n: int) -> str:
    return f"{n / MB:,.1f} MB"


def _members(data: bytes, limits: InputLimits) -> list[_Member]:
    if not data.startswith(_LOCAL):
        if data.startswith(_EOCD):
            raise _Refused("not a readable XLSX workbook: an empty zip archive")
        raise _Refused("not a readable XLSX workbook: not a zip archive")
    tail_from = max(0, len(data) - _EOCD_SEARCH)
    found = [m.start() + tail_from for m in re.finditer(re.escape(_EOCD), data[tail_from:])]
    if len(found) != 1:
        raise _Refused(
            "not a readable XLSX workbook: "
            + ("no end of central directory (truncated?)" if not found else "several end-of-directory records")
        )
    eocd = found[0]
    if eocd + 22 > len(data) or eocd + 22 + struct.unpack_from("<H", data, eocd + 20)[0] != len(data):
        raise _Refused("not a readable XLSX workbook: the end-of-directory record does not end the file")
    entries = struct.unpack_from("<H", data, eocd + 10)[0]
    locator = eocd - 20
    if entries == 0xFFFF and locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        record = struct.unpack_from("<Q", data, locator + 8)[0]
        if record + 40 <= len(data) and data[record : record + 4] == b"PK\x06\x06":
            entries = struct.unpack_from("<Q", data, record + 32)[0]
    if entries > MAX_MEMBERS:
        raise _Refused(f"not a readable XLSX workbook: {entries:,} members (at most {MAX_MEMBERS:,} are read)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error) as exc:
        raise _Refused(f"not a readable XLSX workbook: {_one_line(exc)}") from None
    if not infos:
        raise _Refused("not a readable XLSX workbook: an empty zip archive")
    seen: dict[str, str] = {}
    members: list[_Member] = []
    declared_total = 0
    for info in infos:
        folded = info.filename.casefold()
        if folded in seen:
            raise _Refused(f"not a readable XLSX workbook: two members named {info.filename!r}")
        seen[folded] = info.filename
        if info.flag_bits & 0x1:
            raise _Refused(f"not a readable XLSX workbook: member {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused(
                f"not a readable XLSX workbook: member {info.filename!r} uses compression method "
                f"{info.compress_type} (only stored and deflate are read)"
            )
        offset = info.header_offset
        if offset < 0 or offset + 30 > len(data) or data[offset : offset + 4] != _LOCAL:
            raise _Refused(f"not a readable XLSX workbook: member {info.filename!r} has no local header")
        name_len, extra_len = struct.unpack_from("<HH", data, offset + 26)
        start = offset + 30 + name_len + extra_len
        if start + info.compress_size > len(data):
            raise _Refused(f"not a readable XLSX workbook: member {info.filename!r} runs past the end of the file")
        declared_total += info.file_size
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _Refused(
                f"member {info.filename!r} would inflate {info.compress_size:,} bytes to {info.file_size:,} "
                f"(more than {MAX_RATIO} times: a zip bomb?)"
            )
        members.append(_Member(info.filename, info.compress_type, offset, start, info.compress_size, info.file_size))
    if declared_total > limits.xlsx_max_uncompressed_bytes:
        raise _Refused(
            f"the workbook inflates to {_mb(declared_total)}, more than the limit of "
            f"{_mb(limits.xlsx_max_uncompressed_bytes)} (HARMONI_XLSX_MAX_UNCOMPRESSED_MB)"
        )
    ordered = sorted(members, key=lambda m: m.start)
    if min(i.header_offset for i in infos) != 0:
        raise _Refused("not a readable XLSX workbook: data before the first member")
    for before, after in zip(ordered, ordered[1:]):
        if before.start + before.compressed > after.header:
            raise _Refused(
                f"not a readable XLSX workbook: members {before.name!r} and {after.name!r} overlap (a zip bomb?)"
            )
    return members


def _inflate(data: bytes, member: _Member):
    """The member's bytes in chunks of at most ``CHUNK``; refuses a member that inflates
    to more or less than it declares, without ever inflating more than declared + 1."""
    raw = memoryview(data)[member.start : member.start + member.compressed]
    if member.method == zipfile.ZIP_STORED:
        if member.compressed != member.declared:
            raise _Refused(f"not a readable XLSX workbook: member {member.name!r} is not the size it declares")
        for i in range(0, len(raw), CHUNK):
            yield bytes(raw[i : i + CHUNK])
        return
    inflater = zlib.decompressobj(-15)
    produced = 0
    pending = raw
    feed = 1 * MB
    try:
        while True:
            room = member.declared - produced + 1  # one byte more than declared reveals a lie
            if not inflater.unconsumed_tail:
                if not len(pending):
                    break
                piece, pending = pending[:feed], pending[feed:]
                out = inflater.decompress(piece, min(CHUNK, room))
            else:
                out = inflater.decompress(inflater.unconsumed_tail, min(CHUNK, room))
            produced += len(out)
            if produced > member.declared:
                raise _Refused(
                    f"member {member.name!r} inflates to more than the {member.declared:,} bytes it declares (a zip bomb?)"
                )
            if out:
                yield out
            if inflater.eof:
                break
    except zlib.error as exc:
        raise _Refused(f"not a readable XLSX workbook: member {member.name!r}: {_one_line(exc)}") from None
    if produced != member.declared or not inflater.eof:
        raise _Refused(
            f"not a readable XLSX workbook: member {member.name!r} holds {produced:,} bytes, "
            f"not the {member.declared:,} it declares"
        )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
