"""Reading a CMS SignedData (RFC 5652): one function, ``read_signed_data``.

It pulls out what validation needs: the certificates (exact bytes), the signer identifier,
the algorithms, the signature value and the signed attributes (exact bytes). The common
shape (DER, detached id-data, one signer, well-known algorithms) is read with asn1crypto's
tokenizer alone, because asn1crypto's fully typed parse costs most of a verification;
everything else, and everything that fast reading does not recognise, goes through light
asn1crypto schemas, which decide what is accepted. Both readings give the same result on
what both accept (tests/signing/test_verify_fast_parse.py holds them to it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asn1crypto import (
    algos,
    cms,
    core,
    tsp,  # noqa: F401 - registers the ESS signing-certificate attributes
)
from asn1crypto import parser as asn1_parser

from signing._util import bytes_cache
from signing.errors import FormatError

__all__ = [
    "ID_DATA",
    "OCTET_STRING",
    "SIGNATURE_TIMESTAMP",
    "SIGNATURE_TIMESTAMP_OID",
    "ParsedSignature",
    "certificate_ders",
    "elements",
    "read_signed_data",
    "single_element",
]


@dataclass
class ParsedSignature:
    certificates: list[bytes]
    sid_der: bytes
    digest_name: str
    sig_name: str
    pss_params: Any
    signature: bytes
    signed_bytes: bytes | None  # DER of the signed attributes as a SET, or None
    # attribute name -> contents of its SET OF values (the values' encodings, concatenated)
    attrs: dict[str, bytes] = field(default_factory=dict)
    # Unsigned attributes (CAdES-T's signature-time-stamp, for one): name -> the encodings of
    # each value, over every attribute of that name. Not covered by the signature value.
    unsigned: dict[str, tuple[bytes, ...]] = field(default_factory=dict)


def read_signed_data(signature_der: bytes) -> ParsedSignature:
    """Pull what we need out of a ContentInfo(SignedData); any oddity -> FormatError."""
    fast = _read_fast(signature_der)
    if fast is not None:
        return fast
    return _read_schema(signature_der)


# Light schemas over RFC 5652: the structure of asn1crypto.cms, but the parts we only
# compare with known encodings stay unparsed. asn1crypto's fully typed parse costs most of a
# verification; the typed classes are used only when the fast lookups do not match.
class _AnySet(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = core.Any


class _RawValues(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = core.Any


class _RawAttribute(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("type", core.ObjectIdentifier), ("values", _RawValues)]  # noqa: RUF012


class _RawAttributes(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = _RawAttribute


class _LightSignerInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("sid", cms.SignerIdentifier),
        ("digest_algorithm", algos.DigestAlgorithm),
        ("signed_attrs", _RawAttributes, {"implicit": 0, "optional": True}),
        ("signature_algorithm", algos.SignedDigestAlgorithm),
        ("signature", core.OctetString),
        ("unsigned_attrs", _AnySet, {"implicit": 1, "optional": True}),
    ]


class _LightSignerInfos(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = _LightSignerInfo


class _LightSignedData(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("digest_algorithms", core.Any),
        ("encap_content_info", cms.EncapsulatedContentInfo),
        ("certificates", _AnySet, {"implicit": 0, "optional": True}),
        ("crls", _AnySet, {"implicit": 1, "optional": True}),
        ("signer_infos", _LightSignerInfos),
    ]


class _LightContentInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [  # noqa: RUF012
        ("content_type", core.ObjectIdentifier),
        ("content", _LightSignedData, {"explicit": 0}),
    ]


_ATTR_NAMES = {
    cms.CMSAttributeType(name).dump(): name
    for name in (
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate",
        "signing_certificate_v2",
    )
}
# CAdES-T's unsigned attribute (id-aa-signatureTimeStampToken): its name as asn1crypto and
# ParsedSignature.unsigned call it, and its OID's DER.
SIGNATURE_TIMESTAMP = "signature_time_stamp_token"
SIGNATURE_TIMESTAMP_OID = cms.CMSAttributeType(SIGNATURE_TIMESTAMP).dump()
_UNSIGNED_NAMES = {SIGNATURE_TIMESTAMP_OID: SIGNATURE_TIMESTAMP}
ID_DATA = cms.ContentType("data").dump()
_ID_SIGNED_DATA = cms.ContentType("signed_data").dump()
_DETACHED_DATA = cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
_DIGEST_DERS = {
    algos.DigestAlgorithm({"algorithm": name, "parameters": params}).dump(): name
    for name in ("sha256", "sha384", "sha512")
    for params in (None, core.Null())
}
# SignedData's first three fields as thidua and openssl encode them: version 1 (or 3 with
# a subjectKeyIdentifier sid), one digest algorithm, detached id-data.
_SD_PREFIXES = frozenset(
    core.Integer(version).dump()
    + cms.DigestAlgorithms([algos.DigestAlgorithm.load(der)]).dump()
    + _DETACHED_DATA
    for version in (1, 3)
    for der in _DIGEST_DERS
)
_SD_PREFIX_LENGTHS = tuple(sorted({len(p) for p in _SD_PREFIXES}))
_SIG_ALGO_DERS = {
    algos.SignedDigestAlgorithm({"algorithm": name, "parameters": params}).dump(): name
    for name in (
        "sha256_ecdsa",
        "sha384_ecdsa",
        "sha512_ecdsa",
        "rsassa_pkcs1v15",
        "sha256_rsa",
        "sha384_rsa",
        "sha512_rsa",
    )
    for params in (None, core.Null())
}


def _digest_name(der: bytes) -> str:
    name = _DIGEST_DERS.get(der)
    if name is None:
        name = algos.DigestAlgorithm.load(der, strict=True)["algorithm"].native
    return str(name)


def _signature_algorithm(der: bytes) -> tuple[str, Any]:
    name = _SIG_ALGO_DERS.get(der)
    if name is not None:
        return name, None
    algo = algos.SignedDigestAlgorithm.load(der, strict=True)
    name = str(algo["algorithm"].native)
    params = algo["parameters"].native if name == "rsassa_pss" else None
    return name, params


# (class, constructed, tag) of the elements the fast reading expects.
_SEQUENCE = (0, 1, 16)
_SET = (0, 1, 17)
_INTEGER = (0, 0, 2)
_OID = (0, 0, 6)
_OCTETS = (0, 0, 4)
OCTET_STRING = _OCTETS
_CTX0_CONS = (2, 1, 0)
_CTX1_CONS = (2, 1, 1)
_CTX0_PRIM = (2, 0, 0)


_Tag = tuple[int, int, int]
_Element = tuple[_Tag, bytes, bytes]


def elements(contents: bytes) -> list[_Element]:
    """The elements encoded one after another in ``contents``: ((class, constructed, tag),
    whole encoding, contents), read with asn1crypto's tokenizer. Definite lengths only:
    an indefinite-length (BER) element raises ValueError, which sends the caller to the
    schema-based reading."""
    out = []
    pos, end = 0, len(contents)
    while pos < end:
        class_, method, tag, header, body, trailer = asn1_parser.parse(contents[pos:])
        if trailer:
            raise ValueError("indefinite length")
        size = len(header) + len(body)
        out.append(((class_, method, tag), contents[pos : pos + size], body))
        pos += size
    return out


def single_element(encoded: bytes) -> tuple[_Tag, bytes]:
    """((class, constructed, tag), contents) of the one definite-length element
    ``encoded`` holds; ValueError for anything else (trailing bytes, an indefinite length)."""
    class_, method, tag, _header, body, trailer = asn1_parser.parse(encoded, strict=True)
    if trailer:
        raise ValueError("indefinite length")
    return (class_, method, tag), body


def _read_fast(der: bytes) -> ParsedSignature | None:
    """The same ParsedSignature as _read_schema for the shape thidua and openssl produce, or
    None whenever anything differs from that shape (then _read_schema judges the input).

    Not a second ASN.1 parser: the tokenizer is asn1crypto's; this only checks that each
    element has the tag the schema gives it and keeps the exact bytes the checks compare."""
    try:
        signed_data = _fast_content_info(der)
        rest = None if signed_data is None else _fast_signed_data_rest(signed_data)
        if rest is None:
            return None
        certificates: list[bytes] = []
        if rest and rest[0][0] == _CTX0_CONS:
            certificates = list(_certificate_set(rest.pop(0)[2]))
        if rest and rest[0][0] == _CTX1_CONS:
            rest.pop(0)
        if len(rest) != 1 or rest[0][0] != _SET:
            return None
        infos = elements(rest[0][2])
        if len(infos) != 1 or infos[0][0] != _SEQUENCE:
            return None
        return _fast_signer_info(infos[0][2], certificates)
    except Exception:  # anything unexpected: the schema-based reading decides
        return None


def _fast_content_info(der: bytes) -> bytes | None:
    """The SignedData's contents of a ContentInfo: the signed-data OID, then exactly one
    [0] holding exactly one SEQUENCE."""
    kind, body = single_element(der)
    if kind != _SEQUENCE or not body.startswith(_ID_SIGNED_DATA):
        return None
    kind, content = single_element(body[len(_ID_SIGNED_DATA) :])
    if kind != _CTX0_CONS:
        return None
    kind, signed_data = single_element(content)
    return signed_data if kind == _SEQUENCE else None


def _fast_signed_data_rest(signed_data: bytes) -> list[_Element] | None:
    """The elements after version, digestAlgorithms and a detached id-data
    encapContentInfo. Those three usually come in one of a few exact encodings (a byte
    prefix made of whole elements reads as exactly those elements)."""
    known = next((n for n in _SD_PREFIX_LENGTHS if signed_data[:n] in _SD_PREFIXES), 0)
    if known:
        return elements(signed_data[known:])
    sd = elements(signed_data)
    if len(sd) < 4 or sd[0][0] != _INTEGER or sd[1][0] != _SET or sd[2][1] != _DETACHED_DATA:
        return None
    return sd[3:]


def _fast_signer_info(contents: bytes, certificates: list[bytes]) -> ParsedSignature | None:
    si = elements(contents)
    if len(si) < 5 or si[0][0] != _INTEGER or si[1][0] not in (_SEQUENCE, _CTX0_PRIM):
        return None
    digest_name = _DIGEST_DERS.get(si[2][1]) if si[2][0] == _SEQUENCE else None
    if digest_name is None:
        return None
    tail = si[3:]
    signed_bytes = None
    attrs: dict[str, bytes] = {}
    if tail[0][0] == _CTX0_CONS:
        _tag, encoded, attr_contents = tail.pop(0)
        read = _fast_attributes(attr_contents)
        if not read:
            return None
        attrs = read
        signed_bytes = b"\x31" + encoded[1:]
    if len(tail) < 2 or tail[0][0] != _SEQUENCE or tail[1][0] != _OCTETS:
        return None
    sig_name = _SIG_ALGO_DERS.get(tail[0][1])
    if sig_name is None:
        return None
    if len(tail) > 3 or (len(tail) == 3 and tail[2][0] != _CTX1_CONS):
        return None
    unsigned = _unsigned_attributes(tail[2][2]) if len(tail) == 3 else {}
    if unsigned is None:
        return None
    return ParsedSignature(
        certificates=certificates,
        sid_der=si[1][1],
        digest_name=digest_name,
        sig_name=sig_name,
        pss_params=None,
        signature=tail[1][2],
        signed_bytes=signed_bytes,
        attrs=attrs,
        unsigned=unsigned,
    )


def _unsigned_attributes(contents: bytes) -> dict[str, tuple[bytes, ...]] | None:
    """name -> each value's encoding, for the unsigned attributes' contents; None when an
    attribute is not a well-formed {OBJECT IDENTIFIER, SET}."""
    out: dict[str, tuple[bytes, ...]] = {}
    for attr_tag, attr_encoded, _body in elements(contents):
        if attr_tag != _SEQUENCE:
            return None
        _kind, body = single_element(attr_encoded)
        parts = elements(body)
        if len(parts) != 2 or parts[0][0] != _OID or parts[1][0] != _SET:
            return None
        name = (
            _UNSIGNED_NAMES.get(parts[0][1])
            or core.ObjectIdentifier.load(parts[0][1], strict=True).dotted
        )
        values = tuple(encoded for _tag, encoded, _b in elements(parts[1][2]))
        out[name] = out.get(name, ()) + values
    return out


def _fast_attributes(contents: bytes) -> dict[str, bytes] | None:
    """name -> values of each signed attribute; None for anything but distinct, well-formed
    Attribute SEQUENCEs."""
    attrs: dict[str, bytes] = {}
    for attr_tag, attr_encoded, _body in elements(contents):
        if attr_tag != _SEQUENCE:
            return None
        attr = _attribute(attr_encoded)
        if attr is None or attr[0] in attrs:
            return None
        attrs[attr[0]] = attr[1]
    return attrs


# The two caches below hold pure functions of their input bytes (the key is the exact
# encoding read), so a hit returns exactly what reading those bytes again would. They pay
# because signatures repeat these parts: the same certificates, and signed attributes that
# are constant (content-type, ESS signing-certificate) or shared by the signatures of one
# document (message-digest, often signing-time).
@bytes_cache(maxsize=1024, max_bytes=64 * 1024)
def _certificate_set(contents: bytes) -> tuple[bytes, ...]:
    """The plain certificates (universal SEQUENCEs) of a CertificateSet's contents; the
    tagged choices (attribute or extended certificates) are ignored, as in _read_schema."""
    return tuple(enc for tag, enc, _ in elements(contents) if tag == _SEQUENCE)


@bytes_cache(maxsize=8192, max_bytes=4096)
def _attribute(encoded: bytes) -> tuple[str, bytes] | None:
    """(name, contents of its SET OF values) of one Attribute SEQUENCE, or None when it is
    not exactly {OBJECT IDENTIFIER, SET} (ValueError when it is not one element)."""
    _kind, body = single_element(encoded)
    parts = elements(body)
    if len(parts) != 2 or parts[0][0] != _OID or parts[1][0] != _SET:
        return None
    name = _ATTR_NAMES.get(parts[0][1])
    if name is None:
        name = core.ObjectIdentifier.load(parts[0][1], strict=True).dotted
    return name, parts[1][2]


def _read_schema(signature_der: bytes) -> ParsedSignature:
    """read_signed_data through the light asn1crypto schemas; handles BER, attached
    content, unusual algorithms, and says what is wrong with malformed input."""
    try:
        info = _LightContentInfo.load(signature_der, strict=True)
        if info["content_type"].dump() != _ID_SIGNED_DATA:
            raise FormatError("not a CMS SignedData")
        sd = info["content"]
        encap = sd["encap_content_info"].dump()
        if encap != _DETACHED_DATA:
            content_type = cms.EncapsulatedContentInfo.load(encap, strict=True)["content_type"]
            if content_type.native != "data":
                raise FormatError(f"signed content type is {content_type.native}, not data")
        infos = sd["signer_infos"]
        if len(infos) != 1:
            raise FormatError(f"expected exactly one signer, found {len(infos)}")
        si = infos[0]
        sig_name, pss_params = _signature_algorithm(si["signature_algorithm"].dump())
        signed_bytes, attrs = _schema_attributes(si["signed_attrs"])
        return ParsedSignature(
            certificates=certificate_ders(sd["certificates"]),
            sid_der=si["sid"].dump(),
            digest_name=_digest_name(si["digest_algorithm"].dump()),
            sig_name=sig_name,
            pss_params=pss_params,
            signature=bytes(si["signature"].native),
            signed_bytes=signed_bytes,
            attrs=attrs,
            unsigned=_schema_unsigned(si["unsigned_attrs"]),
        )
    except FormatError:
        raise
    except Exception as exc:  # asn1crypto raises many types on hostile input
        raise FormatError(f"CMS structure unreadable: {type(exc).__name__}: {exc}") from None


def certificate_ders(cert_set: Any) -> list[bytes]:
    """Each plain certificate's exact bytes of a CertificateSet (asn1crypto, possibly
    absent). The SET's members are walked with asn1crypto's
    tokenizer; of the CertificateChoices, a plain certificate is a universal SEQUENCE and
    the tagged choices (attribute or extended certificates) are ignored."""
    certificates: list[bytes] = []
    if cert_set is None or isinstance(cert_set, core.Void):
        return certificates
    raw, pos = cert_set.contents, 0
    while pos < len(raw):
        class_, _m, tag, header, body, trailer = asn1_parser.parse(raw[pos:])
        size = len(header) + len(body) + len(trailer)
        if class_ == 0 and tag == 16:
            certificates.append(raw[pos : pos + size])
        pos += size
    return certificates


def _schema_unsigned(unsigned_attrs: Any) -> dict[str, tuple[bytes, ...]]:
    if unsigned_attrs is None or isinstance(unsigned_attrs, core.Void):
        return {}
    read = _unsigned_attributes(unsigned_attrs.contents)
    if read is None:
        raise FormatError("unsigned attributes unreadable")
    return read


def _schema_attributes(signed_attrs: Any) -> tuple[bytes | None, dict[str, bytes]]:
    """(the signed attributes as the SET the signature covers, name -> values)."""
    attrs: dict[str, bytes] = {}
    if signed_attrs is None or isinstance(signed_attrs, core.Void):
        return None, attrs
    # The signature covers the attributes encoded as a SET (tag 0x31), not as the
    # [0] IMPLICIT field they are stored in; only the tag byte differs.
    raw = signed_attrs.dump()
    if len(signed_attrs) == 0:
        raise FormatError("empty signed attributes")
    for attr in signed_attrs:
        attr_type = attr["type"]
        name = _ATTR_NAMES.get(attr_type.dump()) or attr_type.dotted
        if name in attrs:
            raise FormatError(f"signed attribute {name} appears twice")
        attrs[name] = attr["values"].contents
    return b"\x31" + raw[1:], attrs
