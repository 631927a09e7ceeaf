"""The stamp images of a visible PDF signature (Decree 30/2020, Appendix I): a unit's seal
and a user's handwritten signature, uploaded by an admin as PNG with a transparent
background and shown in every PAdES signature the unit or the user makes afterwards.

Each function takes ``actor``: an admin user, or ``None`` for the operator at the server's
console (the ``thidua`` CLI). The image is stored as a blob (``image/png``); the audit event
records its SHA-256, never the bytes. ``png=None`` removes the image.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.errors import SigningError
from signing.pades import read_png
from workflow.audit import append_event
from workflow.blobs import put_blob
from workflow.clock import aware
from workflow.errors import NotFound, ValidationError
from workflow.models import Unit, User
from workflow.services._common import flush, require_admin, unit_by_code

__all__ = ["PNG", "check_stamp_png", "set_signature_image", "set_unit_seal"]

PNG = "image/png"


def _operator(session: Session, actor: User | None) -> str:
    if actor is None:
        return "console"
    return require_admin(session, actor).username


def check_stamp_png(png: object, what: str, field: str = "image") -> bytes:
    """``png`` if it is a PNG a stamp can show (decodable, within read_png's size limits)
    with a transparent background; else ValidationError naming ``what`` ("con dấu")."""
    if not isinstance(png, bytes | bytearray) or not png:
        raise ValidationError(f"Ảnh {what} phải là tệp PNG.", field=field)
    data = bytes(png)
    try:
        image = read_png(data)
    except SigningError as exc:
        raise ValidationError(f"Ảnh {what} không dùng được: {exc}.", field=field) from None
    # A fully opaque image would hide the text it stands behind (and the signature under
    # the seal): Decree 30 places them over one another, so the background must show through.
    if image.alpha is None or min(image.alpha) == 255:
        raise ValidationError(
            f"Ảnh {what} phải có nền trong suốt (PNG có kênh alpha hoặc màu trong suốt).",
            field=field,
        )
    return data


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == str(username).strip().lower()))
    if user is None:
        raise NotFound(f"Không có người dùng '{username}'.", code="user_not_found")
    return user


def set_unit_seal(
    session: Session,
    actor: User | None,
    unit_code: str,
    png: bytes | None,
    *,
    now: datetime | None = None,
) -> Unit:
    """Set (or with ``png=None`` remove) the seal image of the unit ``unit_code``."""
    who, now = _operator(session, actor), aware(now)
    unit = unit_by_code(session, unit_code)
    if png is None:
        previous, unit.seal_sha256 = unit.seal_sha256, None
        flush(session)
        append_event(
            session,
            action="unit_seal_remove",
            actor=who,
            now=now,
            data={"code": unit.code, "previous_sha256": previous},
        )
        return unit
    data = check_stamp_png(png, "con dấu", "seal")
    unit.seal_sha256 = put_blob(session, data, PNG, now=now)
    flush(session)
    append_event(
        session,
        action="unit_seal_set",
        actor=who,
        now=now,
        data={"code": unit.code, "sha256": unit.seal_sha256, "size": len(data)},
    )
    return unit


def set_signature_image(
    session: Session,
    actor: User | None,
    username: str,
    png: bytes | None,
    *,
    now: datetime | None = None,
) -> User:
    """Set (or with ``png=None`` remove) the handwritten signature image of ``username``."""
    who, now = _operator(session, actor), aware(now)
    user = _user(session, username)
    if png is None:
        previous, user.signature_sha256 = user.signature_sha256, None
        flush(session)
        append_event(
            session,
            action="signature_image_remove",
            actor=who,
            now=now,
            data={"username": user.username, "previous_sha256": previous},
        )
        return user
    data = check_stamp_png(png, "chữ ký", "signature_image")
    user.signature_sha256 = put_blob(session, data, PNG, now=now)
    flush(session)
    append_event(
        session,
        action="signature_image_set",
        actor=who,
        now=now,
        data={"username": user.username, "sha256": user.signature_sha256, "size": len(data)},
    )
    return user
