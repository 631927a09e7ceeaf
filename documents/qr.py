"""QR code of the verification URL as a small deterministic PNG, written without an imaging
library: segno computes the module matrix, we pack it as a 1-bit greyscale PNG.
"""

from __future__ import annotations

import struct
import zlib

import segno

SCALE = 4  # pixels per module
BORDER = 4  # quiet zone in modules, as the standard requires
# segno would try all eight masks and keep the best-scoring one, which costs ~4 ms of pure
# Python per render. Any mask yields a standard-conformant code; pattern 2 (vertical stripes)
# is fixed here to keep a render within its time budget and the bytes independent of segno's
# scoring details.
MASK = 2


def qr_png(data: str) -> tuple[bytes, int]:
    """PNG bytes of a QR code (error correction M) for ``data`` and its side in modules."""
    code = segno.make_qr(data, error="m", mask=MASK)
    matrix = code.matrix
    side = len(matrix) + 2 * BORDER
    pixels = side * SCALE
    pad = "1" * ((-pixels) % 8)
    quiet = "1" * (BORDER * SCALE)
    dark, light = "0" * SCALE, "1" * SCALE
    nbytes = (pixels + len(pad)) // 8
    blank = b"\x00" + int("1" * pixels + pad, 2).to_bytes(nbytes, "big")
    rows = [blank] * (BORDER * SCALE)
    for modules in matrix:
        bits = quiet + "".join(dark if m else light for m in modules) + quiet + pad
        rows.extend([b"\x00" + int(bits, 2).to_bytes(nbytes, "big")] * SCALE)
    rows.extend([blank] * (BORDER * SCALE))
    ihdr = struct.pack(">IIBBBBB", pixels, pixels, 1, 0, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
    return png, side


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )
