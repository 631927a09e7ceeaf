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

from signing.errors import FormatError, SigningError
from signing.tsa import Timestamper
from signing.validation.cms_reader import read_signed_data

__all__ = ["SIGNATURE_TIMESTAMP", "add_signature_timestamp", "signature_value_digest"]

SIGNATURE_TIMESTAMP = "signature_time_stamp_token"


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
        info = cms.ContentInfo.load(signature_der, strict=True)
        signer_info = info["content"]["signer_infos"][0]
        attribute = cms.CMSAttribute(
            {"type": SIGNATURE_TIMESTAMP, "values": [cms.ContentInfo.load(token, strict=True)]}
        )
        existing = signer_info["unsigned_attrs"]
        present = [] if existing.native is None else list(existing)
        signer_info["unsigned_attrs"] = cms.CMSAttributes([*present, attribute])
        der: bytes = info.dump(force=False)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise SigningError(f"không thêm được dấu thời gian vào chữ ký: {exc}") from None
    return der
