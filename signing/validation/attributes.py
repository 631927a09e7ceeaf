"""The signed attributes of a CMS signature (RFC 5652 §5.3 and §11, RFC 5035): what they
must hold, and whether the ESS signing-certificate attribute names the signer's certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as a_x509

from signing._util import MAX_CACHED_CERTIFICATE_BYTES, bytes_cache, utc
from signing.errors import FormatError
from signing.validation.certificates import CertificateFacts
from signing.validation.cms_reader import ID_DATA, OCTET_STRING, single_element
from signing.validation.crypto import DIGESTS

__all__ = ["read_signed_attributes"]


def read_signed_attributes(
    attrs: Mapping[str, bytes], signer: CertificateFacts
) -> tuple[dt.datetime | None, bytes, str | None]:
    """RFC 5652 5.3/11: content-type and message-digest present, single-valued; signing time
    readable. Returns (signing time, message digest, problem with the ESS
    signing-certificate attribute or None)."""
    try:
        for required in ("content_type", "message_digest"):
            if required not in attrs:
                raise FormatError(f"signed attribute {required} is missing")
        # A SET OF with exactly one member has that member's encoding as its contents.
        if attrs["content_type"] != ID_DATA:
            raise FormatError("content-type attribute is not (only) id-data")
        digest = _octets(attrs["message_digest"])
        signing_time = None
        if "signing_time" in attrs:
            signing_time = _signing_time(attrs["signing_time"])
        problem = None
        if "signing_certificate_v2" in attrs:
            problem = _check_ess(attrs["signing_certificate_v2"], signer, v2=True)
        elif "signing_certificate" in attrs:
            problem = _check_ess(attrs["signing_certificate"], signer, v2=False)
    except FormatError:
        raise
    except Exception as exc:  # asn1crypto raises many types on hostile input
        raise FormatError(f"signed attributes unreadable: {type(exc).__name__}: {exc}") from None
    return signing_time, bytes(digest), problem


def _octets(values: bytes) -> bytes:
    """The one OCTET STRING of a single-valued attribute (message-digest). A primitive DER
    encoding is read with the tokenizer; anything else goes through asn1crypto's type."""
    try:
        kind, body = single_element(values)
    except ValueError:
        kind = None
    if kind == OCTET_STRING:
        return body
    return bytes(_single(values, core.OctetString, "message-digest").native)


@bytes_cache(maxsize=4096, max_bytes=64)
def _signing_time(encoded: bytes) -> dt.datetime:
    """The one signing-time value (UTCTime or GeneralizedTime); cached because signatures
    verified together often share a signing time."""
    try:
        value = cms.Time.load(encoded, strict=True).native
    except Exception as exc:  # asn1crypto raises several types on malformed times
        raise FormatError(f"signing-time unreadable: {exc}") from None
    if not isinstance(value, dt.datetime):
        raise FormatError("signing-time is not a time")
    return utc(value)


def _check_ess(values: bytes, signer: CertificateFacts, *, v2: bool) -> str | None:
    """ESS signing-certificate(-v2): the first ESSCertID must name the signer's certificate."""
    # Fast path: the exact encoding thidua (and openssl -cades) produce for this certificate.
    if v2 and values == _expected_ess_v2(signer.der):
        return None
    spec = tsp.SigningCertificateV2 if v2 else tsp.SigningCertificate
    certs = _single(values, spec, "signing-certificate")["certs"]
    if len(certs) == 0:
        raise FormatError("signing-certificate attribute lists no certificate")
    first = certs[0]
    if v2:
        algo = first["hash_algorithm"]["algorithm"].native
        if algo not in DIGESTS:
            return f"signing-certificate-v2 uses unsupported hash {algo}"
        expected = hashlib.new(algo, signer.der).digest()
    else:
        expected = hashlib.sha1(signer.der, usedforsecurity=False).digest()
    if first["cert_hash"].native != expected:
        return "signing-certificate attribute names a different certificate"
    issuer_serial = first["issuer_serial"]
    if issuer_serial.native is not None and issuer_serial["serial_number"].native != signer.serial:
        return "signing-certificate attribute names a different serial number"
    return None


@bytes_cache(maxsize=8192, max_bytes=MAX_CACHED_CERTIFICATE_BYTES)
def _expected_ess_v2(cert_der: bytes) -> bytes:
    """DER of SigningCertificateV2 {certs: [ESSCertIDv2 {sha256 hash, issuerSerial}]}."""
    a_cert = a_x509.Certificate.load(cert_der)
    der: bytes = tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "cert_hash": hashlib.sha256(cert_der).digest(),
                    "issuer_serial": {
                        "issuer": [a_x509.GeneralName("directory_name", a_cert.issuer)],
                        "serial_number": a_cert.serial_number,
                    },
                }
            ]
        }
    ).dump()
    return der


def _single(values: bytes, spec: type[core.Asn1Value], what: str) -> Any:
    """The one value of a single-valued attribute, parsed as ``spec``.

    ``values`` are the SET's contents, which must be exactly one ``spec`` encoding:
    ``strict`` refuses trailing bytes, so a second value fails here rather than being
    ignored."""
    try:
        return spec.load(values, strict=True)
    except (ValueError, TypeError):
        raise FormatError(f"signed attribute {what} must hold exactly one value") from None
