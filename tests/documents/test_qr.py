"""The QR code in the document shows exactly the modules segno computes for the URL."""

from __future__ import annotations

import io
import struct
import zlib

import segno

from documents.qr import BORDER, MASK, SCALE, qr_png


def _decode_1bit_png(png: bytes) -> list[list[int]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, payload = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        crc = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])[0]
        assert zlib.crc32(kind + payload) & 0xFFFFFFFF == crc
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", payload[:10])
            assert (width, depth, colour) == (height, 1, 0)
        elif kind == b"IDAT":
            idat += payload
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8 + 1
    rows = []
    for y in range(width):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0  # filter type none
        bits = "".join(f"{byte:08b}" for byte in line[1:])[:width]
        rows.append([1 - int(bit) for bit in bits])  # 1 = dark module
    return rows


def test_png_matches_segno_matrix():
    url = "https://thidua.example.vn/verify?ref=TD-GU-2018-00001-V1"
    png, side = qr_png(url)
    pixels = _decode_1bit_png(png)
    expected = segno.make_qr(url, error="m", mask=MASK)
    matrix = expected.matrix
    assert side == len(matrix) + 2 * BORDER
    assert len(pixels) == side * SCALE
    for y, modules in enumerate(matrix):
        for x, dark in enumerate(modules):
            px = pixels[(y + BORDER) * SCALE][(x + BORDER) * SCALE]
            assert px == dark
    # The quiet zone is light all round.
    assert not any(pixels[0])
    assert not any(pixels[-1])
    # segno agrees the symbol encodes the URL (its own PNG of the same symbol has same size).
    out = io.BytesIO()
    expected.save(out, kind="png", scale=SCALE, border=BORDER)
    assert struct.unpack(">I", out.getvalue()[16:20])[0] == side * SCALE


def test_same_url_same_png():
    assert (
        qr_png("http://127.0.0.1:5000/verify?ref=A")[0]
        == qr_png("http://127.0.0.1:5000/verify?ref=A")[0]
    )
    assert (
        qr_png("http://127.0.0.1:5000/verify?ref=A")[0]
        != qr_png("http://127.0.0.1:5000/verify?ref=B")[0]
    )
