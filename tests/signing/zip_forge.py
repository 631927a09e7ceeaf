"""Zips written byte by byte (struct), so a test can make every lie a hostile archive tells:
two names for one entry, local headers that disagree with the directory, bytes outside the
entries. Stored entries only: what matters here is the framing, not compression."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Entry:
    name: str
    data: bytes
    flags: int = 0x800  # UTF-8 names
    # What the local header says instead of the truth, when set.
    local_name: str | None = None
    local_flags: int | None = None
    local_crc: int | None = None
    local_method: int | None = None
    local_size: int | None = None
    local_extra: bytes = b""
    central_extra: bytes = b""
    gap_after: bytes = b""  # bytes hidden between this entry and the next
    comment: bytes = b""  # the entry's own comment in the central directory
    deflate_tail: bytes | None = None  # deflate the data, then append these bytes
    external_attr: int = (0o100644) << 16


def extra_field(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def unicode_path(header_name: str, name: str) -> bytes:
    """Info-ZIP Unicode Path extra (0x7075): version 1, CRC-32 of the header name, a name."""
    body = struct.pack("<BL", 1, zlib.crc32(header_name.encode())) + name.encode()
    return extra_field(0x7075, body)


def forge_zip(
    entries: list[Entry], *, prefix: bytes = b"", comment: bytes = b"", trailing: bytes = b""
) -> bytes:
    out = bytearray(prefix)
    central = bytearray()
    for e in entries:
        offset = len(out) - len(prefix)  # offsets as a zip without the prefix would have them
        name = e.name.encode()
        local_name = (e.local_name or e.name).encode()
        crc = zlib.crc32(e.data)
        size = len(e.data)
        stored, method = e.data, 0
        if e.deflate_tail is not None:
            deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
            stored, method = deflater.compress(e.data) + deflater.flush() + e.deflate_tail, 8
        out += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            e.flags if e.local_flags is None else e.local_flags,
            method if e.local_method is None else e.local_method,
            0,
            0x21,
            crc if e.local_crc is None else e.local_crc,
            len(stored) if e.local_size is None else e.local_size,
            size if e.local_size is None else e.local_size,
            len(local_name),
            len(e.local_extra),
        )
        out += local_name + e.local_extra + stored + e.gap_after
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            0x031E,
            20,
            e.flags,
            method,
            0,
            0x21,
            crc,
            len(stored),
            size,
            len(name),
            len(e.central_extra),
            len(e.comment),
            0,
            0,
            e.external_attr,
            offset,
        )
        central += name + e.central_extra + e.comment
    start = len(out) - len(prefix)
    out += central
    out += struct.pack(
        "<4s4H2LH",
        b"PK\x05\x06",
        0,
        0,
        len(entries),
        len(entries),
        len(central),
        start,
        len(comment),
    )
    return bytes(out + comment + trailing)


def entries_of(top: str, files: dict[str, bytes]) -> list[Entry]:
    return [Entry(f"{top}/{path}", content) for path, content in files.items()]


def change(entries: list[Entry], path_end: str, **fields: Any) -> list[Entry]:
    """The entries with the one whose name ends with ``path_end`` changed."""
    return [replace(e, **fields) if e.name.endswith(path_end) else e for e in entries]
