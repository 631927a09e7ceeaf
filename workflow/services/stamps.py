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
from workflow.services._common import flush, operator_name, unit_by_code

__all__ = ["PNG", "check_stamp_png", "set_signature_image", "set_unit_seal"]

PNG = "image/png"


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


def _store(
    session: Session,
    who: str,
    row: Unit | User,
    column: str,
    png: bytes | None,
    *,
    what: str,
    field: str,
    action: str,
    subject: dict[str, str],
    now: datetime,
) -> None:
    """Set ``row.<column>`` to the checked PNG's blob (or clear it for ``png=None``) and
    audit it by hash: ``<action>_set`` or ``<action>_remove``."""
    if png is None:
        previous = getattr(row, column)
        setattr(row, column, None)
        flush(session)
        data: dict[str, object] = {**subject, "previous_sha256": previous}
        append_event(session, action=f"{action}_remove", actor=who, now=now, data=data)
        return
    checked = check_stamp_png(png, what, field)
    sha = put_blob(session, checked, PNG, now=now)
    setattr(row, column, sha)
    flush(session)
    data = {**subject, "sha256": sha, "size": len(checked)}
    append_event(session, action=f"{action}_set", actor=who, now=now, data=data)


def set_unit_seal(
    session: Session,
    actor: User | None,
    unit_code: str,
    png: bytes | None,
    *,
    now: datetime | None = None,
) -> Unit:
    """Set (or with ``png=None`` remove) the seal image of the unit ``unit_code``."""
    who, now = operator_name(session, actor), aware(now)
    unit = unit_by_code(session, unit_code)
    _store(
        session,
        who,
        unit,
        "seal_sha256",
        png,
        what="con dấu",
        field="seal",
        action="unit_seal",
        subject={"code": unit.code},
        now=now,
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
    who, now = operator_name(session, actor), aware(now)
    user = _user(session, username)
    _store(
        session,
        who,
        user,
        "signature_sha256",
        png,
        what="chữ ký",
        field="signature_image",
        action="signature_image",
        subject={"username": user.username},
        now=now,
    )
    return user
