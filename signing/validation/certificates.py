"""What validation needs to know about a certificate, read once per DER encoding.

Verification is hot (a bundle holds one signature per member unit, and the archive is
re-verified in bulk) and sees the same few certificates again and again, so the facts of a
certificate and the SignerIdentifier encodings that name it are cached by exact DER.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing._util import (
    CERT_ERRORS,
    MAX_CACHED_CERTIFICATE_BYTES,
    bytes_cache,
    load_der_certificate,
    sha256_hex,
)
from signing.errors import FormatError
from signing.validation.status import ChainLink, SignerInfo

__all__ = [
    "DOC_SIGNING_EKUS",
    "CertificateFacts",
    "certificate_facts",
    "matches_sid_by_meaning",
    "matches_sid_exactly",
]

# Extended key usages acceptable for signing documents: RFC 9336 documentSigning, the
# S/MIME and client-auth usages Vietnamese public CAs put on personal signing certificates,
# Microsoft's and Adobe's document-signing usages, and anyExtendedKeyUsage.
DOC_SIGNING_EKUS = frozenset(
    {
        x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),
        x509.ObjectIdentifier("1.2.840.113583.1.1.5"),
    }
)


@dataclass(frozen=True)
class CertificateFacts:
    """What verification needs from a certificate, computed once per DER."""

    cert: x509.Certificate
    der: bytes
    public_key: Any
    issuer_der: bytes
    subject_der: bytes
    serial: int
    ski: bytes | None
    sha256: str
    signer: SignerInfo
    key_usage_ok: bool
    eku_ok: bool
    link: ChainLink


def _name_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else None


@bytes_cache(maxsize=8192, max_bytes=MAX_CACHED_CERTIFICATE_BYTES)
def certificate_facts(der: bytes) -> CertificateFacts:
    """Facts of a DER certificate; FormatError when any part of it cannot be read."""
    try:
        return _read_facts(der)
    except CERT_ERRORS as exc:
        raise FormatError(f"chứng thư số không đọc được: {exc}") from None


def _usages(cert: x509.Certificate) -> tuple[bytes | None, bool, bool]:
    """(subject key identifier, key usage allows signing, EKU allows document signing)."""
    try:
        ski: bytes | None = cert.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value.digest
    except x509.ExtensionNotFound:
        ski = None
    except ValueError as exc:  # duplicate or malformed extensions
        raise FormatError(f"certificate extensions unreadable: {exc}") from None
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        key_usage_ok = ku.digital_signature or ku.content_commitment
    except x509.ExtensionNotFound:
        key_usage_ok = True
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        eku_ok = bool(DOC_SIGNING_EKUS.intersection(eku))
    except x509.ExtensionNotFound:
        eku_ok = True
    return ski, key_usage_ok, eku_ok


def _read_facts(der: bytes) -> CertificateFacts:
    cert = load_der_certificate(der)
    ski, key_usage_ok, eku_ok = _usages(cert)
    sha = sha256_hex(der)
    signer = SignerInfo(
        name=_name_attr(cert.subject, NameOID.COMMON_NAME),
        unit=_name_attr(cert.subject, NameOID.ORGANIZATION_NAME),
        unit_code=_name_attr(cert.subject, NameOID.SERIAL_NUMBER),
        user_id=_name_attr(cert.subject, NameOID.USER_ID),
        certificate_sha256=sha,
        serial_number=format(cert.serial_number, "x"),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )
    return CertificateFacts(
        cert=cert,
        der=der,
        public_key=cert.public_key(),
        issuer_der=cert.issuer.public_bytes(),
        subject_der=cert.subject.public_bytes(),
        serial=cert.serial_number,
        ski=ski,
        sha256=sha,
        signer=signer,
        key_usage_ok=key_usage_ok,
        eku_ok=eku_ok,
        link=ChainLink(cert.subject.rfc4514_string(), sha),
    )


@bytes_cache(maxsize=8192, max_bytes=MAX_CACHED_CERTIFICATE_BYTES)
def _sid_ders(cert_der: bytes) -> tuple[bytes, bytes | None]:
    """The SignerIdentifier encodings that name this certificate: issuerAndSerialNumber
    (with the issuer exactly as encoded in the certificate) and subjectKeyIdentifier."""
    a_cert = a_x509.Certificate.load(cert_der)
    tbs = a_cert["tbs_certificate"]
    by_issuer = cms.SignerIdentifier(
        "issuer_and_serial_number",
        {"issuer": tbs["issuer"], "serial_number": tbs["serial_number"]},
    ).dump()
    facts = certificate_facts(cert_der)
    by_ski = (
        cms.SignerIdentifier("subject_key_identifier", facts.ski).dump()
        if facts.ski is not None
        else None
    )
    return by_issuer, by_ski


def matches_sid_exactly(sid_der: bytes, facts: CertificateFacts) -> bool:
    """Whether ``sid_der`` is one of the encodings that name this certificate (the usual
    case: a dictionary lookup)."""
    return sid_der in _sid_ders(facts.der)


def matches_sid_by_meaning(sid_der: bytes, facts: CertificateFacts) -> bool:
    """Not byte-identical: compare by meaning (another encoder may have re-encoded the name)."""
    try:
        sid = cms.SignerIdentifier.load(sid_der, strict=True)
        if sid.name == "issuer_and_serial_number":
            issuer = a_x509.Name.load(facts.issuer_der)
            return bool(
                sid.chosen["serial_number"].native == facts.serial
                and sid.chosen["issuer"] == issuer
            )
        return facts.ski is not None and sid.chosen.native == facts.ski
    except Exception:  # a sid that does not parse names no certificate
        return False
