"""Signed PDFs as the workflow makes them, for the bundle, CLI and web tests: a small PDF
made by hand (pades_helpers.minimal_pdf, no LibreOffice), one field per member unit and the
board's, certified at freeze by a one-time certificate of unit code THIDUA, each unit's
PAdES signature in its field, then the board's with its FieldMDP lock. The keys are a
bundle_fixtures World's, so the PDF and the bundle's CMS signatures share one CA."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from signing.ca import CERTIFIER_UNIT
from signing.pades import (
    BOARD_FIELD,
    CERTIFICATION_FIELD,
    FieldSpec,
    prepare_pdf,
    sign_field,
    sign_final,
)
from signing.signers import KeySigner
from tests.signing.bundle_fixtures import APPROVED_AT, BOARD_NAME, World
from tests.signing.pades_helpers import Party, issue, minimal_pdf

UTC = dt.UTC
ISSUED = dt.datetime(2018, 1, 3, 1, 0, tzinfo=UTC)
FROZEN_AT = dt.datetime(2018, 3, 31, 1, 0, tzinfo=UTC)
SIGNED_AT = dt.datetime(2018, 3, 31, 2, 12, 5, tzinfo=UTC)


def world_party(world: World, code: str) -> Party:
    s = world.board if code == world.board.code else world.units[code]
    return Party(
        s.code,
        s.name,
        f"Lãnh đạo {s.name}",
        KeySigner(s.key, s.certificate, [world.ca.certificate]),
    )


def certification_party(world: World) -> Party:
    return issue(world.ca, CERTIFIER_UNIT, "Hệ thống thidua", "Chứng nhận lúc chốt")


def fields_for(codes: Iterable[str]) -> list[FieldSpec]:
    """Two columns of cells on the last page for ``codes``, the board top right of page 1."""
    fields = []
    for i, code in enumerate(codes):
        row, column = divmod(i, 2)
        x, y = 90 + column * 230, 600 - row * 110
        fields.append(FieldSpec(code, 1, (x, y, x + 190, y + 50)))
    fields.append(FieldSpec(BOARD_FIELD, 0, (340, 790, 540, 835), lock_all=True))
    return fields


def frozen_pdf(world: World, codes: Iterable[str]) -> bytes:
    """The frozen PDF: every field, certified by a THIDUA certificate of ``world``'s CA."""
    return prepare_pdf(
        minimal_pdf(),
        fields_for(codes),
        certification_party(world).signer,
        signing_time=FROZEN_AT,
        certification_field=CERTIFICATION_FIELD,
    )


def sign_in(
    pdf: bytes, field: str, party: Party, minute: int = 0, *, at: dt.datetime = SIGNED_AT
) -> bytes:
    return sign_field(
        pdf,
        field,
        party.signer,
        signing_time=at + dt.timedelta(minutes=minute),
        name=party.person,
        unit=party.unit,
    )


def board_close(pdf: bytes, world: World) -> bytes:
    board = world_party(world, world.board.code)
    return sign_final(
        pdf,
        BOARD_FIELD,
        board.signer,
        signing_time=APPROVED_AT,
        name="Trưởng ban Thi đua – Khen thưởng",
        unit=BOARD_NAME,
    )


def signed_pdf(
    world: World,
    codes: Iterable[str] | None = None,
    *,
    skip: Iterable[str] = (),
    signers: dict[str, Party] | None = None,
    board: bool = True,
) -> bytes:
    """The PDF as approve leaves it: every unit of ``codes`` (default: all of ``world``)
    signs its field, but those in ``skip`` (they signed by an uploaded CMS); ``signers``
    replaces the party who signs a field; then the board closes it."""
    codes = list(world.units if codes is None else codes)
    pdf = frozen_pdf(world, codes)
    for minute, code in enumerate(codes):
        if code in skip:
            continue
        party = (signers or {}).get(code) or world_party(world, code)
        pdf = sign_in(pdf, code, party, minute)
    return board_close(pdf, world) if board else pdf


def content_offset(pdf: bytes) -> int:
    """An offset inside the first page's compressed text (revision 0, covered by all)."""
    start = pdf.index(b"stream\n", pdf.index(b"/FlateDecode")) + len(b"stream\n")
    return start + 5


def edit_byte(pdf: bytes) -> bytes:
    data = bytearray(pdf)
    data[content_offset(pdf)] ^= 0x01
    return bytes(data)
