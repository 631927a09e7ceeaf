"""The signature and seal images of a visible signature: what read_png makes of the PNGs a
unit uploads, the errors a clerk sees for anything else, and the stamp background drawn
from them (the seal over the left third of the signature, transparency kept)."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PdfFileWriter

from signing.errors import SigningError
from signing.pades.images import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, read_png, stamp_background


def _encode(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def _rgba() -> Image.Image:
    """4x2: opaque red, half-transparent green, transparent blue, opaque white; second row
    black at alpha 1, 10, 100, 254."""
    image = Image.new("RGBA", (4, 2))
    pixels = [(200, 0, 0, 255), (0, 150, 0, 128), (0, 0, 255, 0), (255, 255, 255, 255)]
    pixels += [(0, 0, 0, a) for a in (1, 10, 100, 254)]
    for i, pixel in enumerate(pixels):
        image.putpixel((i % 4, i // 4), pixel)
    return image


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")


def _header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height RGBA pixels, with almost no data behind it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- read_png
def test_rgba_png_keeps_colour_and_alpha_of_every_pixel():
    png = read_png(_encode(_rgba()))
    assert (png.width, png.height, png.grey) == (4, 2, False)
    assert png.alpha == bytes([255, 128, 0, 255, 1, 10, 100, 254])
    assert png.colour[:12] == bytes([200, 0, 0, 0, 150, 0, 0, 0, 255, 255, 255, 255])
    assert png.colour[12:] == bytes(12)


def test_interlaced_png_is_decoded():
    """Pillow writes no interlaced PNG, other editors do. A 1x1 Adam7 image: its one pixel
    is all of pass 1, the other six passes are empty."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 1)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00" + bytes([10, 20, 30, 40])))
        + _chunk(b"IEND", b"")
    )
    png = read_png(data)
    assert (png.colour, png.alpha) == (bytes([10, 20, 30]), bytes([40]))


def test_greyscale_png_is_grey_and_opaque():
    image = Image.new("L", (3, 1))
    image.putdata([0, 128, 255])
    png = read_png(_encode(image))
    assert (png.width, png.height, png.grey) == (3, 1, True)
    assert png.colour == bytes([0, 128, 255])
    assert png.alpha is None


@pytest.mark.parametrize("bits", [1, 2, 4])
def test_low_bit_depth_greyscale_png_is_scaled_to_8_bits(bits):
    image = Image.new("L", (2, 1))
    image.putdata([0, 255])
    png = read_png(_encode(image, bits=bits))
    assert (png.colour, png.grey, png.alpha) == (bytes([0, 255]), True, None)


def test_grey_with_alpha_png_keeps_its_alpha():
    image = Image.new("LA", (2, 1))
    image.putpixel((0, 0), (30, 0))
    image.putpixel((1, 0), (220, 200))
    png = read_png(_encode(image))
    assert (png.grey, png.colour, png.alpha) == (True, bytes([30, 220]), bytes([0, 200]))


def test_grey_with_a_transparent_value_gets_an_alpha_mask():
    image = Image.new("L", (3, 1))
    image.putdata([255, 0, 255])
    png = read_png(_encode(image, transparency=255))  # white background, tRNS
    assert png.alpha == bytes([0, 255, 0])


def test_palette_png_with_transparency_becomes_rgb_with_alpha():
    image = Image.new("P", (3, 1))
    image.putpalette([255, 255, 255, 180, 0, 0, 0, 0, 160])  # white, red, blue
    image.putdata([0, 1, 2])
    png = read_png(_encode(image, transparency=bytes([0, 255, 90])))
    assert (png.width, png.height, png.grey) == (3, 1, False)
    assert png.colour[3:] == bytes([180, 0, 0, 0, 0, 160])
    assert png.alpha == bytes([0, 255, 90])


def test_opaque_palette_png_has_no_alpha():
    image = Image.new("P", (2, 1))
    image.putpalette([1, 2, 3, 4, 5, 6])
    image.putdata([1, 0])
    png = read_png(_encode(image))
    assert (png.colour, png.alpha) == (bytes([4, 5, 6, 1, 2, 3]), None)


@pytest.mark.parametrize(
    "data",
    [b"GIF89a" + bytes(32), b"", b"not an image", b"\x89PNG"],
    ids=["gif", "empty", "text", "short-signature"],
)
def test_anything_but_a_png_is_refused(data):
    with pytest.raises(SigningError, match="phải là tệp PNG"):
        read_png(data)


def test_a_jpeg_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(out, "JPEG")
    with pytest.raises(SigningError, match="phải là tệp PNG"):
        read_png(out.getvalue())


def test_truncated_png_is_refused():
    image = Image.effect_noise((64, 64), 80).convert("RGBA")  # noise: data that fills IDAT
    data = _encode(image)
    for cut in (40, len(data) // 2, len(data) - 40):  # header, half the pixels, last rows
        with pytest.raises(SigningError, match="bị hỏng hoặc bị cắt cụt"):
            read_png(data[:cut])


def test_damaged_png_data_is_refused():
    data = bytearray(_encode(Image.effect_noise((64, 64), 80).convert("RGBA")))
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 30] = bytes(20)
    with pytest.raises(SigningError, match="bị hỏng"):
        read_png(bytes(data))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's own
@pytest.mark.parametrize(
    ("width", "height"),
    [(MAX_IMAGE_SIDE + 1, 10), (10, MAX_IMAGE_SIDE + 1), (10_000, 10_000), (100_000, 100_000)],
    ids=["wide", "tall", "over-pillow-warning", "decompression-bomb"],
)
def test_png_header_with_huge_dimensions_is_refused_before_decoding(width, height):
    with pytest.raises(SigningError, match=f"từ 1 đến {MAX_IMAGE_SIDE} điểm ảnh"):
        read_png(_header_only(width, height))


def test_largest_side_is_accepted():
    png = read_png(_encode(Image.new("RGBA", (MAX_IMAGE_SIDE, 1), (1, 2, 3, 4))))
    assert (png.width, png.height) == (MAX_IMAGE_SIDE, 1)


def test_file_over_the_byte_limit_is_refused():
    data = _encode(Image.new("RGB", (8, 8)))
    padded = data[:-12] + _chunk(b"tEXt", b"x\x00" + bytes(MAX_IMAGE_BYTES)) + data[-12:]
    with pytest.raises(SigningError, match="tối đa 2 MB"):
        read_png(padded)


def test_sixteen_bit_grey_png_is_refused_with_a_reason():
    image = Image.new("I;16", (2, 1))
    image.putpixel((0, 0), 65535)
    with pytest.raises(SigningError, match="16 bit"):
        read_png(_encode(image))


# --------------------------------------------------------------------------- stamp background
def _render(signature: bytes | None, seal: bytes | None):
    background = stamp_background(signature, seal)
    assert background is not None
    background.set_writer(PdfFileWriter())
    commands = background.render().decode()
    xobjects = background.resources[ResourceType.XOBJECT]
    return background, commands, xobjects


def _placements(commands: str) -> dict[str, tuple[float, ...]]:
    found = re.findall(r"q ([\d.]+) 0 0 ([\d.]+) ([\d.-]+) ([\d.-]+) cm /(\w+) Do Q", commands)
    return {name: tuple(float(v) for v in numbers) for *numbers, name in found}


def test_seal_is_drawn_over_the_left_third_of_the_signature():
    signature = _encode(Image.new("RGBA", (40, 30), (0, 0, 200, 255)))
    seal = _encode(Image.new("RGBA", (30, 30), (200, 0, 0, 255)))
    background, commands, _ = _render(signature, seal)
    placed = _placements(commands)
    sig_w, sig_h = 80 * 40 / 30, 80.0
    assert placed["Img0"] == pytest.approx((sig_w, sig_h, 100 - sig_w / 3, 10.0), abs=1e-3)
    assert placed["Img1"] == pytest.approx((100.0, 100.0, 0.0, 0.0))
    assert commands.index("/Img0") < commands.index("/Img1")  # the seal on top
    assert background.box.width == int(100 + sig_w * 2 / 3)  # pyHanko keeps whole points
    assert background.box.height == 100


@pytest.mark.parametrize("which", ["signature", "seal"])
def test_a_single_image_fills_the_stamp(which):
    image = _encode(Image.new("RGBA", (50, 25), (0, 0, 0, 255)))
    background, commands, _ = _render(
        image if which == "signature" else None, image if which == "seal" else None
    )
    expected = (160.0, 80.0, 0.0, 10.0) if which == "signature" else (200.0, 100.0, 0.0, 0.0)
    assert _placements(commands) == {"Img0": pytest.approx(expected)}
    assert background.box.width == expected[0]


def test_stamp_images_keep_their_transparency_as_a_soft_mask():
    _, _, xobjects = _render(_encode(_rgba()), None)
    image = xobjects[pdf_name("/Img0")].get_object()
    assert image["/Subtype"] == "/Image"
    assert image["/ColorSpace"] == "/DeviceRGB"
    assert (image["/Width"], image["/Height"], image["/BitsPerComponent"]) == (4, 2, 8)
    assert image.data == read_png(_encode(_rgba())).colour
    mask = image["/SMask"].get_object()
    assert mask["/ColorSpace"] == "/DeviceGray"
    assert mask.data == bytes([255, 128, 0, 255, 1, 10, 100, 254])


def test_opaque_grey_stamp_image_has_no_soft_mask():
    grey = Image.new("L", (2, 2), 77)
    _, _, xobjects = _render(None, _encode(grey))
    image = xobjects[pdf_name("/Img0")].get_object()
    assert image["/ColorSpace"] == "/DeviceGray"
    assert "/SMask" not in image
    assert image.data == bytes([77] * 4)


def test_no_image_means_no_background():
    assert stamp_background(None, None) is None


def test_image_that_is_not_bytes_is_refused():
    with pytest.raises(SigningError, match="bytes"):
        stamp_background("seal.png", None)
