"""The signer's key: the server-held credential of a user for a unit, opened with a PIN,
and the wrong-PIN counter that locks it; the deployment CA as a trust store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from signing import TrustStore
from signing.credentials import unseal_private_key
from signing.errors import SigningError, WrongPin
from workflow.clock import aware
from workflow.errors import CredentialLocked, ValidationError, WrongPinError
from workflow.models import MAX_PIN_TRIES, Credential, User, table_of
from workflow.pki import ca_certificate


def _check_usable(credential: Credential, now: datetime) -> None:
    if credential.status == "revoked":
        raise CredentialLocked("Chứng thư số đã bị thu hồi.", code="credential_revoked")
    if credential.status == "locked":
        raise CredentialLocked(
            f"Khóa ký đã bị khóa sau {MAX_PIN_TRIES} lần nhập sai PIN; "
            "hãy liên hệ quản trị viên để mở khóa.",
            code="credential_locked",
        )
    if aware(credential.not_after) < now:
        raise CredentialLocked("Chứng thư số đã hết hạn.", code="credential_expired")


def server_credential(session: Session, actor: User, unit_id: int) -> Credential:
    credentials = list(
        session.scalars(
            select(Credential)
            .where(
                Credential.user_id == actor.id,
                Credential.unit_id == unit_id,
                Credential.sealed_key.is_not(None),
            )
            .order_by(Credential.id.desc())
        )
    )
    if not credentials:
        raise ValidationError(
            "Bạn chưa có khóa ký lưu trên máy chủ cho đơn vị này; hãy tải lên chữ ký số "
            "tạo bên ngoài (.p7s) hoặc liên hệ quản trị viên.",
            field="pin",
            code="no_credential",
        )
    for credential in credentials:
        if credential.status == "active":
            return credential
    return credentials[0]  # _check_usable then says why it cannot be used


def _record_wrong_pin(session: Session, credential_id: int) -> int:
    """Count a wrong PIN in its own transaction, committed at once, so the count survives the
    rollback of the failed request. Returns the new count.

    The separate transaction needs the write lock the caller may already hold: on SQLite when
    the caller wrote earlier in its transaction (web requests and CLI commands never do before
    a signature), on PostgreSQL if it had locked the credential row. Then the count is recorded
    in the caller's transaction instead, which is the best that can be done without
    committing the caller's work.
    """
    table = table_of(Credential)
    stmt = (
        update(table)
        .where(table.c.id == credential_id, table.c.failed_pins < MAX_PIN_TRIES)
        .values(failed_pins=table.c.failed_pins + 1)
        .returning(table.c.failed_pins)
    )
    lock_stmt = (
        update(table)
        .where(
            table.c.id == credential_id,
            table.c.status == "active",
            table.c.failed_pins >= MAX_PIN_TRIES,
        )
        .values(status="locked")
    )
    engine = session.get_bind().engine
    if engine.dialect.name == "sqlite":
        dbapi = session.connection().connection.dbapi_connection
        in_transaction = bool(getattr(dbapi, "in_transaction", False))
    else:
        in_transaction = False
    count: int | None = None
    if not in_transaction:
        try:
            with engine.connect() as conn:
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL lock_timeout = '3s'")
                count = conn.execute(stmt).scalar_one_or_none()
                conn.execute(lock_stmt)
                conn.commit()
        except OperationalError:
            count = None
            in_transaction = True
    if in_transaction:
        count = session.execute(stmt).scalar_one_or_none()
        session.execute(lock_stmt)
    return MAX_PIN_TRIES if count is None else int(count)


def open_key(session: Session, credential: Credential, pin: Any, now: datetime) -> Any:
    _check_usable(credential, now)
    if not isinstance(pin, str) or not pin:
        raise ValidationError("Cần nhập mã PIN.", field="pin", code="pin_required")
    try:
        key = unseal_private_key(bytes(credential.sealed_key or b""), pin)
    except WrongPin:
        count = _record_wrong_pin(session, credential.id)
        session.expire(credential, ["failed_pins", "status"])
        left = max(MAX_PIN_TRIES - count, 0)
        if left == 0:
            raise CredentialLocked(
                f"Sai mã PIN {MAX_PIN_TRIES} lần; khóa ký đã bị khóa. "
                "Hãy liên hệ quản trị viên để mở khóa.",
                code="credential_locked",
            ) from None
        raise WrongPinError(f"Mã PIN không đúng; còn {left} lần thử.", tries_left=left) from None
    except SigningError as exc:
        raise CredentialLocked(
            f"Khóa ký lưu trữ bị hỏng: {exc}", code="credential_damaged"
        ) from None
    if credential.failed_pins:
        credential.failed_pins = 0
    return key


def certificate_of(credential: Credential) -> Any:
    from cryptography import x509

    return x509.load_der_x509_certificate(bytes(credential.certificate_der))


def trust_store(session: Session) -> TrustStore:
    return TrustStore([ca_certificate(session)])
