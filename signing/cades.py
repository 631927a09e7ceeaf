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
        attribute = cms.CMSAttribute(
            {"type": SIGNATURE_TIMESTAMP, "values": [cms.ContentInfo.load(token, strict=True)]}
        ).dump()
        return _with_unsigned_attribute(signature_der, attribute)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise SigningError(f"không thêm được dấu thời gian vào chữ ký: {exc}") from None


_Element = tuple[int, int, int, bytes]  # class, method, tag, contents


def _elements(contents: bytes) -> list[_Element]:
    out, position = [], 0
    while position < len(contents):
        cls, method, tag, header, body, trailer = asn1_parser.parse(contents[position:])
        if trailer:
            raise ValueError("indefinite length (BER) is not DER")
        out.append((cls, method, tag, body))
        position += len(header) + len(body)
    return out


def _emit(element: _Element) -> bytes:
    encoded: bytes = asn1_parser.emit(*element)
    return encoded


def _with_unsigned_attribute(signature_der: bytes, attribute: bytes) -> bytes:
    """The DER of ``signature_der`` with ``attribute`` added to its one SignerInfo's
    unsigned attributes, every other byte as it was.

    Spliced with asn1crypto's tokenizer instead of re-encoding the parsed structure: asn1crypto
    re-serialises every level it touched, which costs more than the timestamp itself."""
    (info,) = _elements(signature_der)
    oid, explicit = _elements(info[3])
    (signed_data,) = _elements(explicit[3])
    fields = _elements(signed_data[3])
    infos = fields[-1]
    (signer_info,) = _elements(infos[3])
    parts = _elements(signer_info[3])
    # [1] IMPLICIT unsigned attributes, when some are there already.
    present = [_emit(e) for e in _elements(parts.pop()[3])] if parts[-1][:3] == (2, 1, 1) else []
    members = sorted([*present, attribute])  # a DER SET OF is sorted by encoding
    parts.append((2, 1, 1, b"".join(members)))
    signer_info = (*signer_info[:3], b"".join(map(_emit, parts)))
    fields[-1] = (*infos[:3], _emit(signer_info))
    signed_data = (*signed_data[:3], b"".join(map(_emit, fields)))
    explicit = (*explicit[:3], _emit(signed_data))
    return _emit((*info[:3], _emit(oid) + _emit(explicit)))
