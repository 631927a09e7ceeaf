"""The seal and signature images (issue 16, Decree 30): an admin uploads a unit's seal and a
user's signature as PNG with a transparent background; every PAdES signature made after
that shows them, and a unit or user without one signs with the text alone."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select

from signing import Indication, TrustStore
from signing.ca import CERTIFIER_UNIT
from signing.pades import BOARD_FIELD, CERTIFICATION_FIELD, verify_pdf
from tests.workflow.helpers import CODES_2019, HEAD_2019, SIGNERS, user
from workflow import blobs
from workflow.clock import utcnow
from workflow.errors import NotFound, PermissionDenied, ValidationError
from workflow.models import AuditEvent, Blob, Document, Unit
from workflow.seed import BOARD_CODE, DEMO_PIN
from workflow.services import admin as admin_svc
from workflow.services import lifecycle, set_signature_image, set_unit_seal


def png(mode: str = "RGBA", size: tuple[int, int] = (120, 120)) -> bytes:
    """A red ring on a transparent background (``RGB`` or ``L``: on white, no alpha)."""
    backgrounds: dict[str, int | tuple[int, ...]] = {
        "RGBA": (0, 0, 0, 0),
        "RGB": (255, 255, 255),
        "L": 255,
    }
    background = backgrounds[mode]
    image = Image.new(mode, size, background)
    ink = 80 if mode == "L" else "red"
    ImageDraw.Draw(image).ellipse((5, 5, size[0] - 5, size[1] - 5), outline=ink, width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _events(s, action: str) -> list[AuditEvent]:
    return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _unit(s, code: str) -> Unit:
    unit = s.scalar(select(Unit).where(Unit.code == code))
    assert unit is not None
    return unit


def test_admin_sets_and_removes_a_unit_seal_audited_by_hash(demo_session):
    s = demo_session
    seal = png()
    unit = set_unit_seal(s, user(s, "admin"), "vphu-md", seal)
    assert unit.code == "VPHU-MD"
    assert blobs.get_blob(s, unit.seal_sha256) == seal
    assert s.get(Blob, unit.seal_sha256).media_type == "image/png"
    (event,) = _events(s, "unit_seal_set")
    assert event.actor == "admin"
    assert event.data == {"code": "VPHU-MD", "sha256": unit.seal_sha256, "size": len(seal)}
    sha = unit.seal_sha256
    set_unit_seal(s, user(s, "admin"), "VPHU-MD", None)
    assert _unit(s, "VPHU-MD").seal_sha256 is None
    (removed,) = _events(s, "unit_seal_remove")
    assert removed.data == {"code": "VPHU-MD", "previous_sha256": sha}


def test_admin_sets_and_removes_a_signature_image(demo_session):
    s = demo_session
    image = png(size=(300, 100))
    target = set_signature_image(s, None, "VPHU-MD-SIGNER", image)  # the console operator
    assert target.username == "vphu-md-signer"
    assert blobs.get_blob(s, target.signature_sha256) == image
    (event,) = _events(s, "signature_image_set")
    assert event.actor == "console"
    assert event.data["sha256"] == target.signature_sha256
    assert set(event.data) == {"username", "sha256", "size"}  # the hash, never the bytes
    set_signature_image(s, user(s, "admin"), "vphu-md-signer", None)
    assert user(s, "vphu-md-signer").signature_sha256 is None
    assert len(_events(s, "signature_image_remove")) == 1


def test_a_non_admin_may_not_set_either_image(demo_session):
    s = demo_session
    with pytest.raises(PermissionDenied):
        set_unit_seal(s, user(s, "vphu-md-signer"), "VPHU-MD", png())
    with pytest.raises(PermissionDenied):
        set_signature_image(s, user(s, "vphu-md-drafter"), "vphu-md-signer", png())
    assert _unit(s, "VPHU-MD").seal_sha256 is None
    assert user(s, "vphu-md-signer").signature_sha256 is None
    assert _events(s, "unit_seal_set") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (png("RGB"), "nền trong suốt"),
        (png("L"), "nền trong suốt"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "phải là tệp PNG"),
        (b"", "phải là tệp PNG"),
        (png()[:60], "bị hỏng"),
        (png(size=(2001, 10)), "cạnh từ 1 đến 2000"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024), "quá lớn"),
    ],
    ids=["rgb-no-alpha", "grey-no-alpha", "gif", "empty", "truncated", "too-wide", "too-big"],
)
def test_a_seal_or_signature_that_is_not_a_transparent_png_is_refused(demo_session, data, message):
    s = demo_session
    with pytest.raises(ValidationError, match=message) as refused:
        set_unit_seal(s, user(s, "admin"), "VPHU-MD", data)
    assert refused.value.field == "seal"
    assert "con dấu" in refused.value.message
    with pytest.raises(ValidationError, match=message) as refused:
        set_signature_image(s, user(s, "admin"), "vphu-md-signer", data)
    assert refused.value.field == "signature_image"
    assert _unit(s, "VPHU-MD").seal_sha256 is None
    assert user(s, "vphu-md-signer").signature_sha256 is None


def test_an_opaque_rgba_image_is_refused_too(demo_session):
    s = demo_session
    out = io.BytesIO()
    Image.new("RGBA", (50, 50), (255, 0, 0, 255)).save(out, format="PNG")
    with pytest.raises(ValidationError, match="nền trong suốt"):
        set_unit_seal(s, user(s, "admin"), "VPHU-MD", out.getvalue())


def test_a_palette_png_with_a_transparent_colour_is_accepted(demo_session):
    s = demo_session
    image = Image.open(io.BytesIO(png())).convert("RGB").convert("P")
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=image.getpixel((0, 0)))
    unit = set_unit_seal(s, user(s, "admin"), "VPHU-MD", out.getvalue())
    assert unit.seal_sha256 is not None


def test_unknown_unit_or_user_is_not_found(demo_session):
    s = demo_session
    with pytest.raises(NotFound):
        set_unit_seal(s, user(s, "admin"), "NO-SUCH", png())
    with pytest.raises(NotFound):
        set_signature_image(s, user(s, "admin"), "nobody", png())


# --- the images in the signed PDF (LibreOffice) ----------------------------------------


def _images_in(obj: Any, seen: set[int] | None = None) -> int:
    """Image XObjects reachable through the /XObject resources of an appearance stream."""
    seen = set() if seen is None else seen
    resources = obj.get("/Resources")
    if resources is None:
        return 0
    xobjects = resources.get_object().get("/XObject")
    if xobjects is None:
        return 0
    count = 0
    for ref in xobjects.get_object().values():
        key = id(ref.get_object())
        xobject = ref.get_object()
        if key in seen:
            continue
        seen.add(key)
        if xobject.get("/Subtype") == "/Image":
            count += 1
        else:
            count += _images_in(xobject, seen)
    return count


def _field_images(pdf: bytes) -> dict[str, int]:
    reader = PdfFileReader(io.BytesIO(pdf))
    out = {}
    for ref in reader.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        appearance = field.get("/AP")
        if appearance is None:  # an invisible field, or one nobody signed
            continue
        out[str(field["/T"])] = _images_in(appearance.get_object()["/N"].get_object())
    return out


@pytest.mark.slow
def test_the_archived_pdf_shows_the_seal_and_signature_of_units_that_have_them(demo_session, demo):
    s = demo_session
    admin = user(s, "admin")
    set_unit_seal(s, admin, "VPHU-MD", png())
    set_signature_image(s, admin, "vphu-md-signer", png(size=(300, 100)))
    set_unit_seal(s, admin, "VPHU-PX", png())  # a seal, but its signer has no image
    set_unit_seal(s, admin, BOARD_CODE, png())
    doc_id = demo.pledge_2019
    lifecycle.submit_for_review(s, user(s, HEAD_2019), doc_id)
    for signer in SIGNERS:
        lifecycle.concur(s, user(s, signer), doc_id)
    lifecycle.open_signing(s, user(s, HEAD_2019), doc_id, ca_secret=demo.ca_secret, signed_pdf=True)
    for signer in SIGNERS:
        lifecycle.sign(s, user(s, signer), doc_id, pin=DEMO_PIN)
    lifecycle.submit(s, user(s, "vphu-uh-signer"), doc_id)
    lifecycle.approve(s, user(s, "board-approver"), doc_id, pin=DEMO_PIN, ca_secret=demo.ca_secret)
    doc = s.get(Document, doc_id)
    assert doc.state == "archived"
    pdf = blobs.get_blob(s, doc.frozen_version.pdf_sha256)
    images = _field_images(pdf)
    assert images["VPHU-MD"] == 2  # the signer's signature and the unit's seal
    assert images["VPHU-PX"] == 1  # the seal alone
    assert images["VPHU-UH"] == 0  # neither uploaded: the text alone
    assert images["BOARD"] == 1  # the board's seal
    expected = {**{c: c for c in CODES_2019}, BOARD_FIELD: BOARD_CODE}
    expected[CERTIFICATION_FIELD] = CERTIFIER_UNIT
    trust = TrustStore.from_pem(admin_svc.ca_pem(s))
    report = verify_pdf(pdf, trust, at=utcnow(), expected_fields=expected)
    assert report.indication is Indication.TOTAL_PASSED  # the images change no signature
