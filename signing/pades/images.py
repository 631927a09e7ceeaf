"""The signature and seal images of a visible signature (Decree 30/2020, Appendix I):
PNG with a transparent background; the seal overlaps the left third of the signature.

Pillow decodes the PNG (any bit depth up to 8, grey, RGB or palette, interlaced or not, with
an alpha channel or a tRNS transparent colour); pyHanko's image support writes it as a PDF
image XObject with a soft mask for its alpha. Decoding is cached per image bytes: a unit
signs many documents with the same seal.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import PdfContent, ResourceType
from pyhanko.pdf_utils.images import pil_image
from pyhanko.pdf_utils.layout import BoxConstraints

from signing.errors import SigningError

__all__ = ["MAX_IMAGE_BYTES", "MAX_IMAGE_SIDE", "Png", "read_png", "stamp_background"]

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_SIDE = 2000
_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # only to tell "not a PNG" from "a damaged PNG"
_GREY_MODES = ("1", "L", "LA")  # Pillow's modes of a grey PNG of 1 to 8 bits
_MODES = (*_GREY_MODES, "P", "RGB", "RGBA")  # of any PNG but 16-bit grey ("I;16")


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    colour: bytes  # DeviceGray or DeviceRGB samples, row after row
    grey: bool
    alpha: bytes | None  # one sample per pixel, or None when opaque


def _decoded(data: bytes) -> Image.Image:
    """The PNG's pixels, loaded; Pillow's decompression-bomb check stays on, and the size is
    checked from the header before a pixel is decoded."""
    too_large = f"ảnh PNG phải có cạnh từ 1 đến {MAX_IMAGE_SIDE} điểm ảnh"
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            if not (0 < image.width <= MAX_IMAGE_SIDE and 0 < image.height <= MAX_IMAGE_SIDE):
                raise SigningError(too_large)
            image.load()
            return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SigningError(too_large) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise SigningError("ảnh PNG bị hỏng hoặc bị cắt cụt, không đọc được") from exc


@lru_cache(maxsize=64)
def read_png(data: bytes) -> Png:
    """Decode a PNG; SigningError for anything else, or one too large for a stamp."""
    if not data.startswith(_SIGNATURE):
        raise SigningError("ảnh chữ ký/con dấu phải là tệp PNG")
    if len(data) > MAX_IMAGE_BYTES:
        raise SigningError("ảnh chữ ký/con dấu quá lớn (tối đa 2 MB)")
    image = _decoded(data)
    if image.mode not in _MODES:
        raise SigningError("ảnh PNG xám 16 bit không được hỗ trợ; hãy lưu ảnh 8 bit")
    grey = image.mode in _GREY_MODES
    opaque = "L" if grey else "RGB"
    alpha = None
    if image.has_transparency_data:  # an alpha channel, or a tRNS colour or palette entry
        image = image.convert(opaque + "A")
        alpha = image.getchannel("A").tobytes()
    colour = image.convert(opaque).tobytes()
    return Png(image.width, image.height, colour, grey, alpha)


def _pil(png: Png) -> Image.Image:
    image = Image.frombytes("L" if png.grey else "RGB", (png.width, png.height), png.colour)
    if png.alpha is not None:
        image.putalpha(Image.frombytes("L", (png.width, png.height), png.alpha))
    return image


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
            image = pil_image(_pil(png), writer)  # with its alpha as an /SMask
            name = generic.pdf_name(f"/Img{index}")
            self.set_resource(ResourceType.XOBJECT, name, image)
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
