"""The signature and seal images of a visible signature (Decree 30/2020, Appendix I):
PNG with a transparent background; the seal overlaps the left third of the signature.

pyHanko's own image support needs Pillow; a PNG (8-bit grey, grey+alpha, RGB or RGBA, not
interlaced) is decoded here instead, into a PDF image with a soft mask for its alpha.
Decoding is cached per image bytes: a unit signs many documents with the same seal.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import PdfContent, ResourceType
from pyhanko.pdf_utils.layout import BoxConstraints

from signing.errors import SigningError

__all__ = ["MAX_IMAGE_BYTES", "MAX_IMAGE_SIDE", "Png", "read_png", "stamp_background"]

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_SIDE = 2000
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> samples per pixel


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    colour: bytes  # DeviceGray or DeviceRGB samples, row after row
    grey: bool
    alpha: bytes | None  # one sample per pixel, or None when opaque


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> bytes:
    stride = width * bpp
    out = bytearray()
    previous = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind = raw[pos]
        row = bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        if len(row) != stride:
            raise SigningError("ảnh PNG bị cắt cụt")
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:
            row = bytearray((x + y) & 0xFF for x, y in zip(row, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                up_left = previous[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + _paeth(left, previous[i], up_left)) & 0xFF
        elif kind != 0:
            raise SigningError("ảnh PNG dùng bộ lọc không hợp lệ")
        out += row
        previous = row
    return bytes(out)


@lru_cache(maxsize=64)
def read_png(data: bytes) -> Png:
    """Decode a PNG; SigningError for anything else, or one too large for a stamp."""
    if not data.startswith(_SIGNATURE):
        raise SigningError("ảnh chữ ký/con dấu phải là tệp PNG")
    if len(data) > MAX_IMAGE_BYTES:
        raise SigningError("ảnh chữ ký/con dấu quá lớn (tối đa 2 MB)")
    pos, header, idat = len(_SIGNATURE), None, bytearray()
    try:
        while pos < len(data):
            (length,) = struct.unpack(">I", data[pos : pos + 4])
            kind = data[pos + 4 : pos + 8]
            body = data[pos + 8 : pos + 8 + length]
            pos += 12 + length
            if kind == b"IHDR":
                header = struct.unpack(">IIBBBBB", body)
            elif kind == b"IDAT":
                idat += body
            elif kind == b"IEND":
                break
        if header is None:
            raise SigningError("ảnh PNG không có phần IHDR")
        width, height, depth, colour_type, _, _, interlace = header
        if depth != 8 or colour_type not in _CHANNELS or interlace:
            raise SigningError("ảnh PNG phải là 8 bit, xám/RGB (có thể có kênh trong suốt)")
        if not (0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE):
            raise SigningError(f"ảnh PNG phải có cạnh từ 1 đến {MAX_IMAGE_SIDE} điểm ảnh")
        bpp = _CHANNELS[colour_type]
        decoder = zlib.decompressobj()
        raw = decoder.decompress(bytes(idat), (width * bpp + 1) * height + 1)
    except (struct.error, zlib.error) as exc:
        raise SigningError(f"ảnh PNG hỏng: {exc}") from None
    pixels = _unfilter(raw, width, height, bpp)
    if colour_type in (0, 2):
        return Png(width, height, pixels, colour_type == 0, None)
    colours = bpp - 1
    alpha = pixels[colours::bpp]
    if colours == 1:
        colour_bytes = pixels[0::bpp]
    else:
        interleaved = bytearray(width * height * 3)
        for c in range(3):
            interleaved[c::3] = pixels[c::bpp]
        colour_bytes = bytes(interleaved)
    return Png(width, height, colour_bytes, colours == 1, alpha)


def _size(value: int) -> generic.NumberObject:
    return generic.NumberObject(value)  # type: ignore[no-untyped-call]  # untyped in pyHanko


def _image(samples: bytes, width: int, height: int, grey: bool) -> generic.StreamObject:
    name = generic.pdf_name
    obj = generic.StreamObject(
        {
            name("/Type"): name("/XObject"),
            name("/Subtype"): name("/Image"),
            name("/Width"): _size(width),
            name("/Height"): _size(height),
            name("/BitsPerComponent"): _size(8),
            name("/ColorSpace"): name("/DeviceGray" if grey else "/DeviceRGB"),
        },
        stream_data=samples,
    )
    obj.compress()  # type: ignore[no-untyped-call]
    return obj


class _Images(PdfContent):
    """Background content of a stamp: the signature image, and the seal over its left third."""

    def __init__(self, signature: Png | None, seal: Png | None) -> None:
        height = 100.0
        sig_w = 0.0 if signature is None else height * 0.8 * signature.width / signature.height
        seal_w = 0.0 if seal is None else height * seal.width / seal.height
        if signature is not None and seal is not None:
            width = seal_w + sig_w * 2 / 3
            self._placements = [(signature, seal_w - sig_w / 3, height * 0.1, sig_w, height * 0.8)]
            self._placements.append((seal, 0.0, 0.0, seal_w, height))
        elif signature is not None:
            width = sig_w
            self._placements = [(signature, 0.0, height * 0.1, sig_w, height * 0.8)]
        else:
            assert seal is not None
            width = seal_w
            self._placements = [(seal, 0.0, 0.0, seal_w, height)]
        super().__init__(box=BoxConstraints(width=width, height=height))

    def render(self) -> bytes:
        writer = self._ensure_writer
        commands = []
        for index, (png, x, y, w, h) in enumerate(self._placements):
            image = _image(png.colour, png.width, png.height, png.grey)
            if png.alpha is not None:
                mask = _image(png.alpha, png.width, png.height, True)
                image[generic.pdf_name("/SMask")] = writer.add_object(mask)
            name = generic.pdf_name(f"/Img{index}")
            self.set_resource(ResourceType.XOBJECT, name, writer.add_object(image))
            commands.append(b"q %.3f 0 0 %.3f %.3f %.3f cm %s Do Q" % (w, h, x, y, name.encode()))
        return b" ".join(commands)


def stamp_background(signature: bytes | None, seal: bytes | None) -> PdfContent | None:
    """The images of a stamp as pyHanko background content, or None without images."""
    if signature is None and seal is None:
        return None
    for image in (signature, seal):
        if image is not None and not isinstance(image, bytes):
            raise SigningError("ảnh chữ ký/con dấu phải là bytes (PNG)")
    return _Images(
        None if signature is None else read_png(signature),
        None if seal is None else read_png(seal),
    )
