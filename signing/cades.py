"""CAdES-T (ETSI EN 319 122-1 §5.3): a CMS signature with the trusted time of a timestamp
token over its signature value, in the unsigned attribute signature-time-stamp
(id-aa-signatureTimeStampToken, RFC 3161 Appendix A).

The attribute is unsigned: adding it changes neither the signed attributes nor the signature
value, so ``openssl cms -verify`` accepts the signature as before, and whoever holds the CMS
may add it (the server adds it to an uploaded signature too). What it proves is checked by
the verifier: the token's imprint must be the digest of this signature's value.
"""

from __future__ import annotations

import hashlib

from asn1crypto import cms
from asn1crypto import parser as asn1_parser

from signing.errors import FormatError, SigningError
from signing.tsa import Timestamper
from signing.validation.cms_reader import SIGNATURE_TIMESTAMP, elements, read_signed_data

__all__ = ["SIGNATURE_TIMESTAMP", "add_signature_timestamp", "signature_value_digest"]


def signature_value_digest(signature_der: bytes) -> bytes:
    """SHA-256 of the signature value of the one SignerInfo: what a signature-time-stamp's
    message imprint must be (the octets of the signature field, not their DER encoding)."""
    try:
        return hashlib.sha256(read_signed_data(signature_der).signature).digest()
    except FormatError as exc:
        raise SigningError(f"không đọc được chữ ký CMS: {exc}") from None


def add_signature_timestamp(signature_der: bytes, timestamper: Timestamper) -> bytes:
    """The CMS with one more signature-time-stamp from ``timestamper`` over its signature
    value; everything else (signed attributes, signature, certificates) byte for byte."""
    if not isinstance(signature_der, bytes):
        raise SigningError("chữ ký CMS phải là bytes")
    if not isinstance(timestamper, Timestamper):
        raise SigningError("cần một Timestamper để đóng dấu thời gian")
    token = timestamper.timestamp(signature_value_digest(signature_der), hash_algorithm="sha256")
    if not isinstance(token, bytes) or not token:
        raise SigningError("đơn vị cấp dấu thời gian không trả về dấu thời gian")
    try:
        attribute = cms.CMSAttribute(
            {"type": SIGNATURE_TIMESTAMP, "values": [cms.ContentInfo.load(token, strict=True)]}
        ).dump()
        return _with_unsigned_attribute(signature_der, attribute)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise SigningError(f"không thêm được dấu thời gian vào chữ ký: {exc}") from None


def _emit(tag: tuple[int, int, int], contents: bytes) -> bytes:
    encoded: bytes = asn1_parser.emit(*tag, contents)
    return encoded


def _with_unsigned_attribute(signature_der: bytes, attribute: bytes) -> bytes:
    """The DER of ``signature_der`` with ``attribute`` added to its one SignerInfo's
    unsigned attributes, every other byte as it was.

    Spliced with asn1crypto's tokenizer instead of re-encoding the parsed structure: asn1crypto
    re-serialises every level it touched, which costs more than the timestamp itself."""
    ((info_tag, _, info),) = elements(signature_der)
    (oid_tag, _, oid), (explicit_tag, _, explicit) = elements(info)
    ((sd_tag, _, signed_data),) = elements(explicit)
    fields = elements(signed_data)
    infos_tag, _, infos = fields[-1]
    ((si_tag, _, signer_info),) = elements(infos)
    parts = [(tag, body) for tag, _, body in elements(signer_info)]
    # [1] IMPLICIT unsigned attributes, when some are there already.
    present = (
        [whole for _, whole, _ in elements(parts.pop()[1])] if parts[-1][0] == (2, 1, 1) else []
    )
    members = sorted([*present, attribute])  # a DER SET OF is sorted by encoding
    parts.append(((2, 1, 1), b"".join(members)))
    new_info = _emit(si_tag, b"".join(_emit(tag, body) for tag, body in parts))
    body = b"".join(whole for _, whole, _ in fields[:-1]) + _emit(infos_tag, new_info)
    new_explicit = _emit(explicit_tag, _emit(sd_tag, body))
    return _emit(info_tag, _emit(oid_tag, oid) + new_explicit)
