"""Signer credentials: key pairs sealed under the signer's PIN, PKCS#12 import, and loading a
certificate alone (for signers who sign outside thidua and upload detached signatures).

The PIN is never stored: it only feeds Argon2id, whose output keys AES-256-GCM. Opening a
sealed key costs one Argon2id run (64 MiB, t=3; about 0.2 s here) — once per signature.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import pkcs12 as a_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from signing._seal import (
    DEFAULT_KDF,
    PURPOSE_SIGNER_KEY,
    TEST_KDF,
    KdfParams,
    open_sealed,
    seal,
)
from signing._util import CERT_ERRORS, load_der_certificate
from signing.errors import FormatError, SigningError, WrongPassword

__all__ = [
    "DEFAULT_KDF",
    "KEY_TYPES",
    "TEST_KDF",
    "ImportedCredential",
    "KdfParams",
    "PrivateKey",
    "check_key_matches",
    "generate_private_key",
    "import_pkcs12",
    "load_certificate",
    "load_certificates",
    "seal_private_key",
    "unseal_private_key",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
KEY_TYPES = ("ec-p256", "rsa-3072")
_MAX_PIN = 256
_MAX_PKCS12 = 256 * 1024
_MAX_PEM = 1024 * 1024


def generate_private_key(key_type: str = "ec-p256") -> PrivateKey:
    """A fresh key pair: ECDSA P-256 (default, fast) or RSA-3072."""
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa-3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise SigningError(f"unknown key type {key_type!r}; use one of {', '.join(KEY_TYPES)}")


def check_supported_key(key: object) -> PrivateKey:
    """Only keys the verifier and openssl agree on: EC P-256/P-384/P-521, RSA >= 2048."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1 | ec.SECP521R1):
            raise SigningError(f"unsupported elliptic curve {key.curve.name}")
        return key
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise SigningError(f"RSA key of {key.key_size} bits is too weak (need >= 2048)")
        return key
    raise SigningError(f"unsupported key type {type(key).__name__}; use ECDSA or RSA")


def _pin_bytes(pin: str) -> bytes:
    if not isinstance(pin, str):
        raise SigningError("PIN must be text")
    pin = unicodedata.normalize("NFC", pin)
    if not pin:
        raise SigningError("PIN must not be empty")
    if len(pin) > _MAX_PIN:
        raise SigningError("PIN is too long")
    return pin.encode("utf-8")


def seal_private_key(key: PrivateKey, pin: str, *, params: KdfParams = DEFAULT_KDF) -> bytes:
    """Encrypt ``key`` under ``pin``: a versioned blob holding KDF parameters, salt and nonce.

    ``params`` exists for test suites (``TEST_KDF``); production keeps the default.
    """
    key = check_supported_key(key)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return seal(der, _pin_bytes(pin), purpose=PURPOSE_SIGNER_KEY, params=params)


def unseal_private_key(sealed: bytes, pin: str) -> PrivateKey:
    """Open a sealed key. Wrong PIN -> WrongPin; not a sealed key -> FormatError."""
    der = open_sealed(sealed, _pin_bytes(pin), purpose=PURPOSE_SIGNER_KEY)
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError) as exc:  # authenticated but unreadable: our own bug or format
        raise FormatError(f"sealed key content is not a private key: {exc}") from None
    return check_supported_key(key)


def check_key_matches(key: PrivateKey, certificate: x509.Certificate) -> None:
    """Raise SigningError unless ``certificate`` certifies ``key``'s public half."""
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    try:
        cert_key = certificate.public_key().public_bytes(enc, fmt)
    except CERT_ERRORS as exc:
        raise FormatError(f"khóa công khai trong chứng thư số không đọc được: {exc}") from None
    if key.public_key().public_bytes(enc, fmt) != cert_key:
        raise SigningError("khóa bí mật không khớp với chứng thư số")


@dataclass(frozen=True)
class ImportedCredential:
    sealed_key: bytes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def import_pkcs12(
    data: bytes,
    password: bytes | None,
    pin: str,
    *,
    params: KdfParams = DEFAULT_KDF,
) -> ImportedCredential:
    """Read a PKCS#12 (.p12/.pfx) from an external CA and re-seal its key under ``pin``.

    Raises WrongPassword for a wrong PKCS#12 password, FormatError for a file that is not a
    usable PKCS#12 (no key, no certificate, key and certificate that do not match).
    """
    if not isinstance(data, bytes | bytearray) or not data:
        raise FormatError("tệp PKCS#12 rỗng")
    if len(data) > _MAX_PKCS12:
        raise FormatError("tệp PKCS#12 quá lớn")
    if password is not None and not isinstance(password, bytes):
        raise SigningError("PKCS#12 password must be bytes or None")
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(bytes(data), password)
    except ValueError as exc:
        # cryptography reports a bad password and bad data alike; tell them apart by whether
        # the structure parses as PKCS#12 at all.
        if _looks_like_pkcs12(bytes(data)):
            raise WrongPassword("sai mật khẩu tệp PKCS#12") from None
        raise FormatError(f"tệp không phải PKCS#12 hợp lệ: {exc}") from None
    except Exception as exc:  # the OpenSSL backend may raise others on junk
        raise FormatError(f"tệp không phải PKCS#12 hợp lệ: {exc}") from None
    if key is None:
        raise FormatError("tệp PKCS#12 không chứa khóa bí mật")
    if cert is None:
        raise FormatError("tệp PKCS#12 không chứa chứng thư số")
    try:
        key = check_supported_key(key)
    except SigningError as exc:
        raise FormatError(str(exc)) from None
    check_key_matches(key, cert)
    return ImportedCredential(
        sealed_key=seal_private_key(key, pin, params=params),
        certificate=cert,
        chain=tuple(extra or ()),
    )


def _looks_like_pkcs12(data: bytes) -> bool:
    try:
        pfx = a_pkcs12.Pfx.load(data, strict=True)
        pfx.native  # noqa: B018 - forces the lazy parser through the whole structure
        return bool(pfx["version"].native == "v3")
    except Exception:  # any parse failure means "not PKCS#12"
        return False


def load_certificate(data: bytes) -> x509.Certificate:
    """One certificate from PEM or DER bytes (registering a signer who signs elsewhere)."""
    certs = load_certificates(data)
    if len(certs) != 1:
        raise FormatError(f"cần đúng một chứng thư số, tệp có {len(certs)}")
    return certs[0]


def load_certificates(data: bytes) -> Sequence[x509.Certificate]:
    """All certificates in PEM (one or more blocks) or a single DER certificate."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise FormatError("tệp chứng thư số rỗng")
    if len(data) > _MAX_PEM:
        raise FormatError("tệp chứng thư số quá lớn")
    data = bytes(data)
    if b"-----BEGIN" in data:
        try:
            certs = x509.load_pem_x509_certificates(data)
        except CERT_ERRORS as exc:
            raise FormatError(f"tệp PEM không đọc được: {exc}") from None
        if not certs:
            raise FormatError("tệp PEM không chứa chứng thư số nào")
        return certs
    return [load_der_certificate(data)]
