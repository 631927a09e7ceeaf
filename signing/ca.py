"""The deployment's own certificate authority: a root that issues one signer certificate per
person and unit (document-signing EKU), renews and revokes them, and publishes CRLs.

The CA key is kept encrypted at rest under a master secret the caller supplies (Argon2id +
AES-256-GCM). No clock inside: every operation takes ``now``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from signing._seal import DEFAULT_KDF, PURPOSE_CA_KEY, KdfParams, open_sealed, seal
from signing._util import CERT_ERRORS, certificate_der, sha256_hex, utc
from signing.credentials import (
    PrivateKey,
    check_key_matches,
    check_supported_key,
    generate_private_key,
    load_certificates,
)
from signing.errors import FormatError, SigningError

__all__ = [
    "CERTIFIER_UNIT",
    "DOCUMENT_SIGNING",
    "REVOCATION_REASONS",
    "TSA_KEY_USE_DAYS",
    "TSA_VALIDITY_DAYS",
    "CertificateAuthority",
    "Revocation",
    "certificate_unit_code",
    "certificate_user_id",
    "fingerprint_sha256",
]

# id-kp-documentSigning (RFC 9336).
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
# The unit code of the one-time certificate that certifies a frozen PDF (issue 16): the
# deployment, not a member unit, attests that it froze these bytes.
CERTIFIER_UNIT = "THIDUA"
CA_VALIDITY_DAYS = 20 * 365 + 5
# A TSA certificate outlives the signer certificates it vouches for (issue 17): its tokens
# must still verify when an archive is read a decade later, as public TSAs' certificates do
# (the deployment uses each TSA key for a year only, then issues a new one). Beyond that an
# archive timestamp from a newer TSA renews the evidence.
TSA_VALIDITY_DAYS = 11 * 365 + 3
# How long the deployment signs tokens with one TSA key before it issues the next.
TSA_KEY_USE_DAYS = 365
# Document signing, and email protection because NSS (poppler's pdfsig, Firefox,
# Thunderbird) checks a PDF or S/MIME signer for that usage and calls the certificate
# untrusted without it.
_SIGNER_EKU = (DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION)
MIN_MASTER_SECRET = 16

REVOCATION_REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key_compromise": x509.ReasonFlags.key_compromise,
    "ca_compromise": x509.ReasonFlags.ca_compromise,
    "affiliation_changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
    "certificate_hold": x509.ReasonFlags.certificate_hold,
    "privilege_withdrawn": x509.ReasonFlags.privilege_withdrawn,
    "aa_compromise": x509.ReasonFlags.aa_compromise,
}


def fingerprint_sha256(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, lower-case hex (what `openssl x509 -fingerprint` shows,
    without colons)."""
    return sha256_hex(certificate_der(cert))


def _first_attribute(name: x509.Name, oid: ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else None


def certificate_unit_code(cert: x509.Certificate) -> str | None:
    """The unit code our CA puts in the subject's serialNumber, or None when absent."""
    return _first_attribute(cert.subject, NameOID.SERIAL_NUMBER)


def certificate_user_id(cert: x509.Certificate) -> str | None:
    """The thidua user id our CA puts in the subject's UID, or None when absent."""
    return _first_attribute(cert.subject, NameOID.USER_ID)


@dataclass(frozen=True)
class Revocation:
    serial_number: int
    revoked_at: dt.datetime
    reason: str = "unspecified"

    def __post_init__(self) -> None:
        if self.reason not in REVOCATION_REASONS:
            raise SigningError(
                f"unknown revocation reason {self.reason!r}; "
                f"use one of {', '.join(REVOCATION_REASONS)}"
            )
        if not isinstance(self.serial_number, int) or self.serial_number <= 0:
            raise SigningError("serial number must be a positive integer")


def _check_text(value: str, what: str, max_len: int = 64) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SigningError(f"{what} must be non-empty text")
    if len(value) > max_len:
        raise SigningError(f"{what} is longer than {max_len} characters")
    return value.strip()


def _check_unit_code(code: str) -> str:
    code = _check_text(code, "unit code")
    # serialNumber is a PrintableString: letters, digits and a few punctuation marks.
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")
    if not set(code) <= allowed:
        raise SigningError(f"unit code {code!r} may only use letters, digits and - . / : ( )")
    return code


def _signature_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


# A CA signs certificates and CRLs, nothing else.
_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _now(now: dt.datetime) -> dt.datetime:
    # Certificates carry whole seconds; truncating keeps notBefore <= the caller's `now`.
    return utc(now, "now").replace(microsecond=0)


class CertificateAuthority:
    """A root CA. Create once with ``create``; later ``load`` it from what ``create`` produced
    (``certificate_pem`` and ``encrypted_key``) and the same master secret."""

    def __init__(self, certificate: x509.Certificate, key: PrivateKey, encrypted_key: bytes):
        self._certificate = certificate
        self._key = key
        self._encrypted_key = encrypted_key
        self._ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value

    # -- construction -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        common_name: str,
        organization: str,
        master_secret: bytes,
        now: dt.datetime,
        key_type: str = "ec-p256",
        *,
        validity_days: int = CA_VALIDITY_DAYS,
        kdf_params: KdfParams = DEFAULT_KDF,
    ) -> CertificateAuthority:
        _check_master_secret(master_secret)
        common_name = _check_text(common_name, "CA common name")
        organization = _check_text(organization, "CA organization")
        start = _now(now)
        key = generate_private_key(key_type)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=validity_days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            .add_extension(ski, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                critical=False,
            )
            .sign(key, _signature_hash(key))
        )
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        encrypted = seal(der, master_secret, purpose=PURPOSE_CA_KEY, params=kdf_params)
        return cls(cert, key, encrypted)

    @classmethod
    def load(
        cls, certificate_pem: bytes, encrypted_key: bytes, master_secret: bytes
    ) -> CertificateAuthority:
        """Open a stored CA. Wrong master secret -> WrongPin; damaged input -> FormatError."""
        _check_master_secret(master_secret)
        certs = load_certificates(certificate_pem)
        if len(certs) != 1:
            raise FormatError("CA certificate file must hold exactly one certificate")
        cert = certs[0]
        der = open_sealed(encrypted_key, master_secret, purpose=PURPOSE_CA_KEY)
        try:
            key = check_supported_key(serialization.load_der_private_key(der, password=None))
        except (ValueError, TypeError) as exc:
            raise FormatError(f"CA key blob does not hold a private key: {exc}") from None
        check_key_matches(key, cert)
        try:
            cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            cert.subject.public_bytes()
        except x509.ExtensionNotFound as exc:
            raise FormatError(f"not a thidua CA certificate: {exc}") from None
        except CERT_ERRORS as exc:
            raise FormatError(f"CA certificate unreadable: {exc}") from None
        if not bc.ca:
            raise FormatError("certificate is not a CA certificate")
        try:  # a stored root that no longer verifies itself has been altered
            cert.verify_directly_issued_by(cert)
        except Exception as exc:  # InvalidSignature, ValueError, TypeError alike
            raise FormatError(f"CA certificate signature does not verify: {exc}") from None
        return cls(cert, key, bytes(encrypted_key))

    # -- properties ---------------------------------------------------------------------
    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def certificate_pem(self) -> bytes:
        return self._certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def encrypted_key(self) -> bytes:
        return self._encrypted_key

    @property
    def fingerprint(self) -> str:
        return fingerprint_sha256(self._certificate)

    # -- issuing ------------------------------------------------------------------------
    def issue(
        self,
        public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
        *,
        person: str,
        unit_name: str,
        unit_code: str,
        user_id: str,
        now: dt.datetime,
        validity_days: int = 730,
    ) -> x509.Certificate:
        """A signer certificate: CN = person, O = unit name, serialNumber = unit code,
        UID = user id; document-signing only; valid ``validity_days`` from ``now``."""
        _check_public_key(public_key)
        if not isinstance(validity_days, int) or not 1 <= validity_days <= 3660:
            raise SigningError("validity_days must be between 1 and 3660")
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, _check_text(unit_name, "unit name")),
                x509.NameAttribute(NameOID.COMMON_NAME, _check_text(person, "person")),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, _check_unit_code(unit_code)),
                x509.NameAttribute(NameOID.USER_ID, _check_text(str(user_id), "user id")),
            ]
        )
        start = _now(now)
        if start < self._certificate.not_valid_before_utc:
            raise SigningError("cannot issue before the CA certificate is valid")
        end = min(start + dt.timedelta(days=validity_days), self._certificate.not_valid_after_utc)
        return self._sign_leaf(subject, public_key, start, end)

    def renew(self, certificate: x509.Certificate, *, now: dt.datetime) -> x509.Certificate:
        """Same subject and key, a new serial and a new validity of the same length from now."""
        self._check_issued_by_us(certificate)
        start = _now(now)
        length = certificate.not_valid_after_utc - certificate.not_valid_before_utc
        end = min(start + length, self._certificate.not_valid_after_utc)
        public_key = _check_public_key(certificate.public_key())
        try:  # a renewed TSA certificate stays a TSA certificate
            usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        except x509.ExtensionNotFound:
            raise SigningError("certificate has no extended key usage: not one of ours") from None
        return self._sign_leaf(
            certificate.subject,
            public_key,
            start,
            end,
            eku=tuple(usage.value),
            eku_critical=usage.critical,
        )

    def issue_tsa(
        self,
        public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
        *,
        name: str,
        now: dt.datetime,
        validity_days: int = TSA_VALIDITY_DAYS,
    ) -> x509.Certificate:
        """A timestamp-authority certificate: CN = ``name``, O = the CA's organization;
        extended key usage id-kp-timeStamping only, critical (RFC 3161 §2.3)."""
        _check_public_key(public_key)
        if not isinstance(validity_days, int) or not 1 <= validity_days <= 12 * 366:
            raise SigningError("validity_days must be between 1 and 4392")
        organization = _first_attribute(self._certificate.subject, NameOID.ORGANIZATION_NAME)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                *(
                    (x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),)
                    if organization
                    else ()
                ),
                x509.NameAttribute(NameOID.COMMON_NAME, _check_text(name, "TSA name")),
            ]
        )
        start = _now(now)
        if start < self._certificate.not_valid_before_utc:
            raise SigningError("cannot issue before the CA certificate is valid")
        end = min(start + dt.timedelta(days=validity_days), self._certificate.not_valid_after_utc)
        return self._sign_leaf(
            subject,
            public_key,
            start,
            end,
            eku=(ExtendedKeyUsageOID.TIME_STAMPING,),
            eku_critical=True,
        )

    def _sign_leaf(
        self,
        subject: x509.Name,
        public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
        start: dt.datetime,
        end: dt.datetime,
        *,
        eku: Sequence[ObjectIdentifier] = _SIGNER_EKU,
        eku_critical: bool = False,
    ) -> x509.Certificate:
        if end <= start:
            raise SigningError("the CA certificate expires before the new certificate would")
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(list(eku)), critical=eku_critical)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._ski),
                critical=False,
            )
            .sign(self._key, _signature_hash(self._key))
        )

    def _check_issued_by_us(self, certificate: x509.Certificate) -> None:
        if not isinstance(certificate, x509.Certificate):
            raise SigningError("expected an x509.Certificate")
        try:
            certificate.verify_directly_issued_by(self._certificate)
        except Exception as exc:  # InvalidSignature, ValueError, TypeError alike
            raise SigningError(f"certificate was not issued by this CA: {exc}") from None

    # -- revocation ---------------------------------------------------------------------
    def crl(
        self, revoked: Sequence[Revocation], *, now: dt.datetime, next_update_days: int = 7
    ) -> bytes:
        """A DER CRL signed by the CA listing ``revoked``; thisUpdate = now. The CRL number is
        the Unix time of ``now``, so later CRLs always carry larger numbers."""
        if not isinstance(next_update_days, int) or not 1 <= next_update_days <= 366:
            raise SigningError("next_update_days must be between 1 and 366")
        start = _now(now)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._certificate.subject)
            .last_update(start)
            .next_update(start + dt.timedelta(days=next_update_days))
            .add_extension(x509.CRLNumber(int(start.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._ski),
                critical=False,
            )
        )
        seen: set[int] = set()
        for item in revoked:
            if not isinstance(item, Revocation):
                raise SigningError("revoked entries must be Revocation objects")
            if item.serial_number in seen:
                continue
            seen.add(item.serial_number)
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(item.serial_number)
                .revocation_date(utc(item.revoked_at, "revoked_at").replace(microsecond=0))
            )
            # RFC 5280 5.3.1: reasonCode "unspecified" SHOULD be absent.
            if item.reason != "unspecified":
                entry = entry.add_extension(
                    x509.CRLReason(REVOCATION_REASONS[item.reason]), critical=False
                )
            builder = builder.add_revoked_certificate(entry.build())
        crl = builder.sign(self._key, _signature_hash(self._key))
        return crl.public_bytes(serialization.Encoding.DER)


def _check_master_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes | bytearray):
        raise SigningError("master secret must be bytes")
    if len(secret) < MIN_MASTER_SECRET:
        raise SigningError(f"master secret must be at least {MIN_MASTER_SECRET} bytes")


def _check_public_key(public_key: object) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1 | ec.SECP384R1 | ec.SECP521R1):
            raise SigningError(f"unsupported elliptic curve {public_key.curve.name}")
        return public_key
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise SigningError("RSA key is too weak (need >= 2048 bits)")
        return public_key
    raise SigningError("public key must be ECDSA or RSA")
