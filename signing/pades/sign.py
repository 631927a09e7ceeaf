"""Making the signed PDF: the frozen PDF with every signature field and a certification
signature, then one incremental PAdES signature per unit in its own field, then the board's.

All fields exist from the first signed revision on, so later signatures only fill fields
(pyHanko's difference analysis rules a signer who *adds* a field after a certification
INVALID). The certification allows "fill forms and sign" (DocMDP P=2); the board's field
carries a FieldMDP lock over all fields with P=1, so nothing may change after the board.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields as ph_fields
from pyhanko.sign import signers as ph_signers
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigFieldSpec
from pyhanko.sign.signers.pdf_byterange import SigSeedSubFilter
from pyhanko.stamp import TextStampStyle

from signing.errors import SigningError
from signing.pades._adapter import (
    PyHankoSigner,
    RoomTooSmall,
    open_writer,
    run_signing,
    stamp_font,
    vn_time,
)
from signing.pades._timestamper import TOKEN_GUESS, PyHankoTimeStamper
from signing.pades.images import stamp_background
from signing.signers import Signer
from signing.tsa import Timestamper

__all__ = [
    "BOARD_FIELD",
    "CERTIFICATION_FIELD",
    "FieldSpec",
    "prepare_pdf",
    "sign_field",
    "sign_final",
    "stamp_text",
]

CERTIFICATION_FIELD = "CERTIFICATION"
# The emulation board's field: its signature closes the document (FieldMDP over all fields).
BOARD_FIELD = "BOARD"
_FIELD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")  # no '.': a partial name
STAMP_TEMPLATE = "Ký bởi: %(signer)s\nCơ quan: %(unit)s\nThời gian ký: %(time)s"


@dataclass(frozen=True)
class FieldSpec:
    """A signature field to create: its name (a unit code), 0-based page and /Rect in PDF
    points (origin bottom-left), or ``box=None`` for an invisible field. ``lock_all``: the
    board's field, whose signature locks every field and allows no change after it."""

    name: str
    page: int = 0
    box: tuple[float, float, float, float] | None = None
    lock_all: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _FIELD_NAME.fullmatch(self.name):
            raise SigningError(f"tên trường chữ ký không hợp lệ: {self.name!r}")
        if not isinstance(self.page, int) or self.page < 0:
            raise SigningError("trang của trường chữ ký phải là số nguyên không âm")
        if self.box is not None:
            x1, y1, x2, y2 = self.box
            if not (x2 - x1 >= 20 and y2 - y1 >= 10):
                raise SigningError(f"ô chữ ký {self.name} quá nhỏ: {self.box}")


def _sig_field(spec: FieldSpec) -> SigFieldSpec:
    box = None
    if spec.box is not None:
        x1, y1, x2, y2 = (round(v) for v in spec.box)
        box = (x1, y1, x2, y2)
    if spec.lock_all:
        return SigFieldSpec(
            spec.name,
            on_page=spec.page,
            box=box,
            field_mdp_spec=FieldMDPSpec(FieldMDPAction.ALL),
            doc_mdp_update_value=MDPPerm.NO_CHANGES,
        )
    return SigFieldSpec(spec.name, on_page=spec.page, box=box)


def _metadata(field: str, *, certify: bool = False) -> ph_signers.PdfSignatureMetadata:
    if certify:
        return ph_signers.PdfSignatureMetadata(
            field_name=field,
            md_algorithm="sha256",
            subfilter=SigSeedSubFilter.PADES,
            certify=True,
            docmdp_permissions=MDPPerm.FILL_FORMS,
        )
    # Not certifying: pyHanko applies DocMDP only when the field has a /Lock (the board's,
    # which allows no changes); saying so here spares its warning about a laxer request.
    return ph_signers.PdfSignatureMetadata(
        field_name=field,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        docmdp_permissions=MDPPerm.NO_CHANGES,
    )


def prepare_pdf(
    pdf: bytes,
    fields: Sequence[FieldSpec],
    signer: Signer,
    *,
    signing_time: dt.datetime,
    certification_field: str = CERTIFICATION_FIELD,
    timestamper: Timestamper | None = None,
) -> bytes:
    """The frozen PDF: one incremental revision over ``pdf`` that creates every field of
    ``fields`` and an invisible certification field, certified by ``signer`` (DocMDP "fill
    forms and sign") at ``signing_time``; with ``timestamper``, PAdES B-T."""
    names = [f.name for f in fields] + [certification_field]
    if len(set(names)) != len(names):
        raise SigningError("tên các trường chữ ký phải khác nhau")
    FieldSpec(certification_field)  # the same naming rule

    def with_fields() -> IncrementalPdfFileWriter:
        writer = open_writer(pdf)
        pages = int(writer.root["/Pages"]["/Count"])
        try:
            for spec in fields:
                if spec.page >= pages:
                    raise SigningError(f"trường {spec.name}: tài liệu chỉ có {pages} trang")
                ph_fields.append_signature_field(writer, _sig_field(spec))
            ph_fields.append_signature_field(writer, SigFieldSpec(certification_field))
        except SigningError:
            raise
        except Exception as exc:
            raise SigningError(f"không tạo được trường chữ ký: {exc}") from None
        return writer

    return _signed(
        with_fields,
        _metadata(certification_field, certify=True),
        PyHankoSigner(signer),
        timestamper,
        vn_time(signing_time),
    )


def _signed(
    writer: Callable[[], IncrementalPdfFileWriter],
    metadata: ph_signers.PdfSignatureMetadata,
    signer: PyHankoSigner,
    timestamper: Timestamper | None,
    when: dt.datetime,
    stamp_style: TextStampStyle | None = None,
    text_params: Mapping[str, str] | None = None,
) -> bytes:
    """One signing run over a fresh ``writer()``; with a timestamper (PAdES B-T, the token
    over the signature value) room for a token of TOKEN_GUESS bytes, and once more with the
    room the token needed when it was larger."""
    adapter = None if timestamper is None else PyHankoTimeStamper(timestamper)
    room = 0 if adapter is None else TOKEN_GUESS
    for attempt in (1, 2):
        pdf_signer = ph_signers.PdfSigner(
            metadata, signer=signer, timestamper=adapter, stamp_style=stamp_style
        )
        try:
            return run_signing(writer(), pdf_signer, when, text_params, room=room)
        except RoomTooSmall as exc:
            if adapter is None or attempt == 2:
                raise SigningError(f"không ký được tệp PDF: {exc}") from None
            room = exc.needed
    raise AssertionError("unreachable")


def stamp_text(name: str, unit: str, signing_time: dt.datetime) -> str:
    """The visible text of Decree 30 (ISO 8601 time in Vietnam's time zone)."""
    return STAMP_TEMPLATE % {
        "signer": name,
        "unit": unit,
        "time": vn_time(signing_time).isoformat(),
    }


def _style(
    font: str | None,
    font_size: int,
    signature_image: bytes | None,
    seal_image: bytes | None,
) -> TextStampStyle:
    background = stamp_background(signature_image, seal_image)
    return TextStampStyle(
        stamp_text=STAMP_TEMPLATE,
        text_box_style=TextBoxStyle(
            font=stamp_font(font), font_size=font_size, leading=round(font_size * 1.25)
        ),
        border_width=0,
        background=background,
        background_opacity=1,
        background_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MID,
            y_align=AxisAlignment.ALIGN_MID,
        ),
        inner_content_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MID,
            y_align=AxisAlignment.ALIGN_MID,
            margins=Margins.uniform(2),  # type: ignore[no-untyped-call]
        ),
    )


def _text(name: str, what: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise SigningError(f"{what} phải là chuỗi khác rỗng, tối đa 200 ký tự")
    return " ".join(name.split())


def sign_field(
    pdf: bytes,
    field: str,
    signer: Signer,
    *,
    signing_time: dt.datetime,
    name: str,
    unit: str,
    signature_image: bytes | None = None,
    seal_image: bytes | None = None,
    font: str | None = None,
    font_size: int = 8,
    timestamper: Timestamper | None = None,
) -> bytes:
    """``pdf`` with one more revision: ``signer``'s PAdES signature (ETSI.CAdES.detached) in
    the existing field ``field``, shown as "Ký bởi / Cơ quan / Thời gian ký" in an embedded
    TrueType font, over the signer's signature image and the unit's seal (PNG, optional).
    With ``timestamper`` the signature is PAdES B-T: its signature-time-stamp token (RFC
    3161, over the signature value) gives the trusted time; without, B-B."""
    params = {
        "signer": _text(name, "tên người ký"),
        "unit": _text(unit, "tên cơ quan"),
        "time": vn_time(signing_time).isoformat(),
    }
    return _signed(
        lambda: open_writer(pdf),
        _metadata(field),
        PyHankoSigner(signer),
        timestamper,
        vn_time(signing_time),
        _style(font, font_size, signature_image, seal_image),
        params,
    )


def sign_final(
    pdf: bytes,
    field: str,
    signer: Signer,
    *,
    signing_time: dt.datetime,
    name: str,
    unit: str,
    seal_image: bytes | None = None,
    font: str | None = None,
    font_size: int = 10,
    timestamper: Timestamper | None = None,
) -> bytes:
    """The board's closing signature in ``field``, which must have been created with
    ``lock_all`` (FieldMDP over all fields, no changes after it): a SigningError otherwise.
    Text at 10 pt by default, as Decree 30 writes an agency's signature at the top right.
    With ``timestamper``, PAdES B-T (see sign_field); extend_to_lta may follow it."""
    writer = open_writer(pdf)
    try:
        form = writer.root["/AcroForm"]["/Fields"]
        target = next(f.get_object() for f in form if f.get_object().get("/T") == field)
        lock = target["/Lock"]
        locked = lock["/Action"] == "/All" and int(lock.get("/P", 0)) == MDPPerm.NO_CHANGES.value
    except (KeyError, StopIteration, TypeError, ValueError):
        locked = False
    if not locked:
        raise SigningError(f"trường {field} không khóa mọi trường chữ ký (FieldMDP)")
    return sign_field(
        pdf,
        field,
        signer,
        signing_time=signing_time,
        name=name,
        unit=unit,
        seal_image=seal_image,
        font=font,
        font_size=font_size,
        timestamper=timestamper,
    )
