"""Shared pieces of the PAdES tests: a small PDF made by hand, the cluster's PKI (8 member
units and the board), the whole signing flow, and the third-party checkers."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.ca import CertificateAuthority
from signing.credentials import generate_private_key
from signing.pades import FieldSpec, prepare_pdf, sign_field, sign_final
from signing.signers import KeySigner
from tests.conftest import require_executable

# The demo cluster's member units (documents/samples.py) and the board.
MEMBERS: dict[str, tuple[str, str]] = {
    "VPHU-MD": ("Văn phòng Huyện ủy Mỹ Đức", "Nguyễn Văn Hùng"),
    "VPHU-UH": ("Văn phòng Huyện ủy Ứng Hòa", "Trần Thị Thu Hà"),
    "VPHU-PX": ("Văn phòng Huyện ủy Phú Xuyên", "Lê Minh Tuấn"),
    "VPHU-TT": ("Văn phòng Huyện ủy Thường Tín", "Phạm Văn Long"),
    "VPHU-TO": ("Văn phòng Huyện ủy Thanh Oai", "Đỗ Thị Hồng Nhung"),
    "VPHU-CM": ("Văn phòng Huyện ủy Chương Mỹ", "Hoàng Văn Thắng"),
    "VPHU-QO": ("Văn phòng Huyện ủy Quốc Oai", "Vũ Đức Mạnh"),
    "VPTU-ST": ("Văn phòng Thị ủy Sơn Tây", "Bùi Thị Lan Anh"),
}
BOARD_CODE = "BTDKT"
BOARD = ("Ban Thi đua - Khen thưởng Thành ủy Hà Nội", "Phạm Thị Bảng")
BOARD_FIELD = "BOARD"
CERTIFY_FIELD = "CERTIFICATION"

UTC = dt.UTC
ISSUED = dt.datetime(2018, 3, 1, 8, 0, tzinfo=UTC)
FROZEN_AT = dt.datetime(2018, 3, 31, 1, 0, tzinfo=UTC)
SIGNED_AT = dt.datetime(2018, 3, 31, 2, 12, 5, tzinfo=UTC)  # 09:12:05 in Hà Nội
APPROVED_AT = dt.datetime(2018, 4, 10, 3, 0, tzinfo=UTC)
VERIFY_AT = dt.datetime(2018, 4, 15, 8, 0, tzinfo=UTC)
# pdfsig and the pyHanko CLI check certificates at the machine's time, not at the signing
# time (no timestamps yet): ten years from 2018 keeps them valid until 2028-02.
VALIDITY_DAYS = 3660


@dataclass(frozen=True)
class Party:
    code: str
    unit: str
    person: str
    signer: KeySigner


def issue(ca: CertificateAuthority, code: str, unit: str, person: str) -> Party:
    key = generate_private_key()
    cert = ca.issue(
        key.public_key(),
        person=person,
        unit_name=unit,
        unit_code=code,
        user_id=f"{code.lower()}-1",
        now=ISSUED,
        validity_days=VALIDITY_DAYS,
    )
    return Party(code, unit, person, KeySigner(key, cert, [ca.certificate]))


def pki(ca: CertificateAuthority) -> dict[str, Party]:
    parties = {code: issue(ca, code, unit, person) for code, (unit, person) in MEMBERS.items()}
    parties[BOARD_CODE] = issue(ca, BOARD_CODE, *BOARD)
    return parties


def expected_fields() -> dict[str, str | None]:
    fields: dict[str, str | None] = {code: code for code in MEMBERS}
    fields[BOARD_FIELD] = BOARD_CODE
    fields[CERTIFY_FIELD] = "VPHU-MD"
    return fields


# --------------------------------------------------------------------------- a small PDF
def minimal_pdf(pages: int = 2) -> bytes:
    """An A4 PDF with a line of text per page, made by hand (no LibreOffice)."""
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>")
    for i in range(pages):
        text = f"BT /F1 14 Tf 72 770 Td (Giao uoc thi dua nam 2018 - trang {i + 1}) Tj ET"
        stream = zlib.compress(text.encode())
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {5 + 2 * i} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream)
        )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def grid_fields(pages: int = 2) -> list[FieldSpec]:
    """Two columns of four cells on the last page, the board top-right of page 1."""
    fields = []
    for i, code in enumerate(MEMBERS):
        row, column = divmod(i, 2)
        x = 90 + column * 230
        y = 600 - row * 130
        fields.append(FieldSpec(code, pages - 1, (x, y, x + 190, y + 55)))
    fields.append(FieldSpec(BOARD_FIELD, 0, (340, 790, 540, 835), lock_all=True))
    return fields


# --------------------------------------------------------------------------- the flow
def freeze(pdf: bytes, parties: Mapping[str, Party], fields: list[FieldSpec]) -> bytes:
    head = parties["VPHU-MD"]
    return prepare_pdf(
        pdf, fields, head.signer, signing_time=FROZEN_AT, certification_field=CERTIFY_FIELD
    )


def sign_unit(pdf: bytes, field: str, party: Party, minute: int = 0, **images: bytes) -> bytes:
    return sign_field(
        pdf,
        field,
        party.signer,
        signing_time=SIGNED_AT + dt.timedelta(minutes=minute),
        name=party.person,
        unit=party.unit,
        **images,
    )


def sign_all(pdf: bytes, parties: Mapping[str, Party], fields: list[FieldSpec]) -> bytes:
    out = freeze(pdf, parties, fields)
    for minute, code in enumerate(MEMBERS):
        out = sign_unit(out, code, parties[code], minute)
    board = parties[BOARD_CODE]
    return sign_final(
        out,
        BOARD_FIELD,
        board.signer,
        signing_time=APPROVED_AT,
        name=board.person,
        unit=board.unit,
    )


# --------------------------------------------------------------------------- images
def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _filtered(kind: int, row: bytes, previous: bytes, bpp: int = 4) -> bytes:
    out = bytearray([kind])
    for i, x in enumerate(row):
        left = row[i - bpp] if i >= bpp else 0
        up = previous[i]
        up_left = previous[i - bpp] if i >= bpp else 0
        predictor = (0, left, up, (left + up) // 2, _paeth(left, up, up_left))[kind]
        out.append((x - predictor) & 0xFF)
    return bytes(out)


def png(width: int, height: int, rgba: tuple[int, int, int, int]) -> bytes:
    """An RGBA PNG: a disc of colour ``rgba`` on a transparent background, its rows filtered
    with each of the five PNG filters in turn, so the decoder meets all of them."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")

    rows, previous = [], bytes(width * 4)
    for y in range(height):
        row = bytearray()
        for x in range(width):
            inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (min(width, height) / 2) ** 2
            row += bytes(rgba) if inside else b"\x00\x00\x00\x00"
        rows.append(_filtered(y % 5, bytes(row), previous))
        previous = bytes(row)
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- tools
def pyhanko_cli() -> str:
    beside = Path(sys.executable).parent / "pyhanko"
    if beside.exists():
        return str(beside)
    return require_executable("pyhanko")


def ca_pem(ca: CertificateAuthority, path: Path) -> Path:
    path.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    return path


def nss_db(ca: CertificateAuthority, directory: Path) -> Path:
    """An NSS database trusting only ``ca``, for pdfsig."""
    certutil = require_executable("certutil")
    directory.mkdir()
    pem = ca_pem(ca, directory.parent / "nss-ca.pem")
    db = f"sql:{directory}"
    subprocess.run([certutil, "-N", "-d", db, "--empty-password"], check=True, timeout=60)
    subprocess.run(
        [certutil, "-A", "-d", db, "-n", "thidua-ca", "-t", "CT,C,C", "-i", str(pem)],
        check=True,
        timeout=60,
    )
    return directory


def pdfsig(pdf: Path, nss: Path) -> str:
    binary = require_executable("pdfsig")
    done = subprocess.run(
        [binary, "-nssdir", f"sql:{nss}", str(pdf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout + done.stderr


def which(name: str) -> str | None:
    return shutil.which(name)


def update_after(pdf: bytes) -> bytes:
    """An incremental update adding a note to page 1 after the last signature."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    annotation = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Text"),
            generic.pdf_name("/Rect"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (10, 10, 30, 30)]
            ),
            generic.pdf_name("/Contents"): generic.TextStringObject("Đã sửa sau khi duyệt"),
        }
    )
    page["/Annots"] = generic.ArrayObject([writer.add_object(annotation)])
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
