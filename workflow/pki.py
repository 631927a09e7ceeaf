"""The deployment CA as stored in the database, and the trust material derived from it.

The CA certificate and its key (sealed under the instance's CA master secret) live in table
``certificate_authorities``; the master secret never enters the database.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.ca import CertificateAuthority, Revocation
from signing.errors import SigningError, WrongPin
from workflow.clock import aware
from workflow.errors import ConfigError, NotFound
from workflow.models import CertificateAuthorityRecord, Credential

CA_COMMON_NAME = "thidua CA"
CA_ORGANIZATION = "Cụm thi đua – hệ thống thidua"


def active_ca_record(session: Session) -> CertificateAuthorityRecord:
    record = session.scalar(
        select(CertificateAuthorityRecord)
        .where(CertificateAuthorityRecord.active.is_(True))
        .order_by(CertificateAuthorityRecord.id.desc())
        .limit(1)
    )
    if record is None:
        raise NotFound("Chưa có CA của hệ thống; hãy chạy `thidua init`.", code="no_ca")
    return record


def ca_certificate(session: Session) -> x509.Certificate:
    return x509.load_pem_x509_certificate(active_ca_record(session).certificate_pem)


def ca_pem(session: Session) -> bytes:
    """The CA certificate in PEM: the trust anchor a verifier needs."""
    return bytes(active_ca_record(session).certificate_pem)


def ensure_ca(
    session: Session, master_secret: bytes, *, now: datetime | None = None
) -> CertificateAuthorityRecord:
    """Create the deployment CA on first use; afterwards check the secret still opens it."""
    record = session.scalar(
        select(CertificateAuthorityRecord).where(CertificateAuthorityRecord.active.is_(True))
    )
    if record is not None:
        load_ca(session, master_secret)
        return record
    try:
        ca = CertificateAuthority.create(CA_COMMON_NAME, CA_ORGANIZATION, master_secret, aware(now))
    except SigningError as exc:
        raise ConfigError(f"Không tạo được CA: {exc}", code="ca_create_failed") from exc
    record = CertificateAuthorityRecord(
        certificate_pem=ca.certificate_pem,
        encrypted_key=ca.encrypted_key,
        fingerprint_sha256=ca.fingerprint,
        active=True,
        created_at=aware(now),
    )
    session.add(record)
    session.flush()
    _OPENED[_cache_key(record, master_secret)] = ca
    return record


# Opened CAs by (certificate, sealed key, secret digest): opening runs Argon2id (~0.2 s), and
# the process holding the master secret may as well hold the key it opens.
_OPENED: dict[tuple[bytes, bytes, bytes], CertificateAuthority] = {}
_OPENED_MAX = 4


def _cache_key(record: CertificateAuthorityRecord, secret: bytes) -> tuple[bytes, bytes, bytes]:
    return (
        hashlib.sha256(bytes(record.certificate_pem)).digest(),
        hashlib.sha256(bytes(record.encrypted_key)).digest(),
        hashlib.sha256(b"thidua-ca-cache\x00" + bytes(secret)).digest(),
    )


def load_ca(session: Session, master_secret: bytes) -> CertificateAuthority:
    record = active_ca_record(session)
    cache_key = _cache_key(record, master_secret)
    cached = _OPENED.get(cache_key)
    if cached is not None:
        return cached
    try:
        ca = CertificateAuthority.load(
            bytes(record.certificate_pem), bytes(record.encrypted_key), master_secret
        )
    except WrongPin as exc:
        raise ConfigError(
            "Bí mật chủ của CA (THIDUA_CA_SECRET / instance/ca_master_secret) không mở được "
            "khóa CA đã lưu.",
            code="wrong_ca_secret",
        ) from exc
    except SigningError as exc:
        raise ConfigError(f"CA đã lưu bị hỏng: {exc}", code="ca_damaged") from exc
    if len(_OPENED) >= _OPENED_MAX:
        _OPENED.clear()
    _OPENED[cache_key] = ca
    return ca


def revocations(session: Session) -> list[Revocation]:
    rows = session.scalars(
        select(Credential).where(Credential.revoked_at.is_not(None)).order_by(Credential.id)
    )
    return [
        Revocation(
            serial_number=int(c.serial_number),
            revoked_at=aware(c.revoked_at),
            reason=c.revocation_reason or "unspecified",
        )
        for c in rows
    ]


def crl_der(session: Session, master_secret: bytes, *, now: datetime | None = None) -> bytes:
    """A fresh CRL (DER) listing every revoked credential issued by the project CA."""
    ca = load_ca(session, master_secret)
    try:
        return ca.crl(revocations(session), now=aware(now))
    except SigningError as exc:
        raise ConfigError(f"Không lập được CRL: {exc}", code="crl_failed") from exc


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
