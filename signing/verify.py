"""Verification of detached CMS signatures, reported the ETSI EN 319 102-1 way.

Never a bare boolean: every check yields a ``SignatureReport`` with an indication
(TOTAL_PASSED / TOTAL_FAILED / INDETERMINATE), a sub-indication naming what went wrong, who
signed, when they claim to have signed, the certificate chain, and a short Vietnamese message.

The checks run in the order of EN 319 102-1's basic validation: format, identification of the
signing certificate, cryptographic verification (message digest, then signature value),
signature acceptance against the caller's expectations (registered certificate), X.509
validation at the caller's validation time ``at`` (chain to a trust anchor, validity period,
CRL revocation), then the unit the signature is expected from.

Verification is hot (a bundle holds one signature per member unit, and the archive is
re-verified in bulk), so parsed certificates, per-certificate facts and chain-validation
results are cached: certificates by DER hash, chains per trust store.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from signing._util import (
    CERT_ERRORS,
    MAX_CACHED_CERTIFICATE_BYTES,
    bytes_cache,
    certificate_der,
    load_der_certificate,
    sha256_hex,
    utc,
)
from signing.errors import FormatError, SigningError
from signing.validation.status import MESSAGES, Indication, SubIndication

__all__ = [
    "ChainLink",
    "DocumentReport",
    "Indication",
    "SignatureReport",
    "Signer",
    "SubIndication",
    "TrustStore",
    "UnitResult",
    "verify_document",
    "verify_signature",
]

MAX_SIGNATURE_BYTES = 1024 * 1024
MAX_CRL_BYTES = 8 * 1024 * 1024


_FAILED = Indication.TOTAL_FAILED
_INDET = Indication.INDETERMINATE

_MESSAGES = {sub: vi for sub, (vi, _en) in MESSAGES.items()}

_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_WEAK_DIGESTS = frozenset({"md5", "sha1", "sha224"})
# Extended key usages acceptable for signing documents: RFC 9336 documentSigning, the
# S/MIME and client-auth usages Vietnamese public CAs put on personal signing certificates,
# Microsoft's and Adobe's document-signing usages, and anyExtendedKeyUsage.
_DOC_SIGNING_EKUS = frozenset(
    {
        x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),
        x509.ObjectIdentifier("1.2.840.113583.1.1.5"),
    }
)


# --------------------------------------------------------------------------- reports
@dataclass(frozen=True)
class Signer:
    name: str | None
    unit: str | None
    unit_code: str | None
    user_id: str | None
    certificate_sha256: str
    serial_number: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "unit_code": self.unit_code,
            "user_id": self.user_id,
            "certificate_sha256": self.certificate_sha256,
            "serial_number": self.serial_number,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
        }


@dataclass(frozen=True)
class ChainLink:
    subject: str
    certificate_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "certificate_sha256": self.certificate_sha256}


@dataclass(frozen=True)
class SignatureReport:
    indication: Indication
    sub_indication: SubIndication | None
    message: str
    validation_time: dt.datetime
    signer: Signer | None = None
    signing_time: dt.datetime | None = None
    chain: tuple[ChainLink, ...] = ()
    revocation_checked: bool = False
    detail: str | None = None  # technical detail (English), for logs and the JSON report

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    @property
    def code(self) -> str:
        """The most specific ETSI code: the sub-indication, or TOTAL_PASSED."""
        return str(self.sub_indication or self.indication)

    def to_dict(self) -> dict[str, Any]:
        return {
            "indication": str(self.indication),
            "sub_indication": str(self.sub_indication) if self.sub_indication else None,
            "passed": self.passed,
            "code": self.code,
            "message": self.message,
            "detail": self.detail,
            "validation_time": self.validation_time.isoformat(),
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "signer": self.signer.to_dict() if self.signer else None,
            "chain": [link.to_dict() for link in self.chain],
            "revocation_checked": self.revocation_checked,
        }


@dataclass(frozen=True)
class UnitResult:
    code: str
    name: str | None
    report: SignatureReport | None
    expected: bool = True  # False for a signature from a unit that is not a member

    @property
    def signed(self) -> bool:
        return self.report is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "expected": self.expected,
            "signed": self.signed,
            "report": self.report.to_dict() if self.report else None,
        }


@dataclass(frozen=True)
class DocumentReport:
    status: str  # "complete" | "incomplete" | "failed"
    units: list[UnitResult]
    document_sha256: str
    validation_time: dt.datetime
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "complete"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "passed": self.passed,
            "message": self.message,
            "document_sha256": self.document_sha256,
            "validation_time": self.validation_time.isoformat(),
            "units": [u.to_dict() for u in self.units],
        }


# --------------------------------------------------------------------------- certificates
@dataclass(frozen=True)
class _CertFacts:
    """What verification needs from a certificate, computed once per DER."""

    cert: x509.Certificate
    der: bytes
    public_key: Any
    issuer_der: bytes
    subject_der: bytes
    serial: int
    ski: bytes | None
    sha256: str
    signer: Signer
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
def _facts(der: bytes) -> _CertFacts:
    """Facts of a DER certificate; FormatError when any part of it cannot be read."""
    try:
        return _read_facts(der)
    except CERT_ERRORS as exc:
        raise FormatError(f"chứng thư số không đọc được: {exc}") from None


def _read_facts(der: bytes) -> _CertFacts:
    cert = load_der_certificate(der)
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
        eku_ok = bool(_DOC_SIGNING_EKUS.intersection(eku))
    except x509.ExtensionNotFound:
        eku_ok = True
    sha = sha256_hex(der)
    signer = Signer(
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
    return _CertFacts(
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


def _eku_callback(policy: Any, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None) -> None:
    # cryptography's client verifier would demand clientAuth; a document signer needs
    # documentSigning (or one of the usages in _DOC_SIGNING_EKUS), or no EKU at all.
    if eku is not None and not _DOC_SIGNING_EKUS.intersection(eku):
        raise ValueError("extended key usage does not allow document signing")


_EE_POLICY = (
    ExtensionPolicy.webpki_defaults_ee()
    .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _eku_callback)
    .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
)
_CA_POLICY = ExtensionPolicy.webpki_defaults_ca()


# --------------------------------------------------------------------------- trust store
@dataclass(frozen=True)
class _Revoked:
    revoked_at: dt.datetime
    reason: str | None


class TrustStore:
    """Trust anchors (root certificates) and the CRLs they issued.

    Every CRL must parse, be issued by one of the anchors and carry that anchor's valid
    signature; otherwise construction fails with FormatError, so a bad CRL can never be
    silently ignored. Chain-validation results are cached per set of anchors and shared by
    every store built from the same anchors, so creating a store per request stays cheap.
    """

    def __init__(self, anchors: Sequence[x509.Certificate], crls: Sequence[bytes] = ()):
        anchors = list(anchors)
        for anchor in anchors:
            if not isinstance(anchor, x509.Certificate):
                raise SigningError("trust anchors must be x509.Certificate objects")
        # De-duplicate by DER so the same root given twice does not matter.
        unique: dict[bytes, x509.Certificate] = {}
        for anchor in anchors:
            unique.setdefault(certificate_der(anchor), anchor)
        self._anchors = tuple(unique.values())
        self._anchor_facts = tuple(_facts(d) for d in unique)
        self._chains = _chain_cache_for(tuple(sorted(unique)), self._anchors)
        self._revoked: dict[tuple[bytes, int], _Revoked] = {}
        self._crl_issuers: set[bytes] = set()
        self._crls: tuple[bytes, ...] = ()
        self._add_crls(crls)

    @classmethod
    def from_pem(cls, pem_bytes: bytes, crls: Sequence[bytes] = ()) -> TrustStore:
        """Anchors from PEM text (one or more certificates). Cached for identical input."""
        if not isinstance(pem_bytes, bytes | bytearray):
            raise FormatError("trust anchors must be PEM bytes")
        crl_tuple = tuple(bytes(c) if isinstance(c, bytes | bytearray) else c for c in crls)
        return _store_from_pem(bytes(pem_bytes), crl_tuple)

    @property
    def anchors(self) -> tuple[x509.Certificate, ...]:
        return self._anchors

    @property
    def anchor_fingerprints(self) -> tuple[str, ...]:
        return tuple(f.sha256 for f in self._anchor_facts)

    @property
    def crls(self) -> tuple[bytes, ...]:
        """The CRLs this store applies, as given (DER or PEM bytes), in order."""
        return self._crls

    def with_crls(self, extra: Sequence[bytes]) -> TrustStore:
        """A store with the same anchors, this store's CRLs and also ``extra``; each extra
        CRL is checked as in the constructor (FormatError when it does not parse or is not
        signed by one of the anchors). The chain-validation cache is shared."""
        if isinstance(extra, bytes | bytearray | str):
            raise SigningError("with_crls takes a sequence of CRLs, not one CRL")
        new = copy.copy(self)
        new._revoked = dict(self._revoked)
        new._crl_issuers = set(self._crl_issuers)
        new._add_crls(extra)
        return new

    def has_crl_for(self, cert: x509.Certificate) -> bool:
        return cert.issuer.public_bytes() in self._crl_issuers

    def has_anchor_named(self, name_der: bytes) -> bool:
        """Whether an anchor's subject is encoded exactly as ``name_der``."""
        return any(f.subject_der == name_der for f in self._anchor_facts)

    def has_crl_from(self, name_der: bytes) -> bool:
        """Whether the store applies a CRL whose issuer is encoded exactly as ``name_der``."""
        return name_der in self._crl_issuers

    def _add_crls(self, crls: Sequence[bytes]) -> None:
        added = []
        for raw in crls:
            if not isinstance(raw, bytes | bytearray) or not raw:
                raise FormatError("CRL must be non-empty bytes")
            raw = bytes(raw)
            self._add_crl(raw)
            added.append(raw)
        self._crls = (*self._crls, *added)

    def _add_crl(self, raw: bytes) -> None:
        facts = _read_crl(raw)
        issuing = [
            f
            for f in self._anchor_facts
            if f.subject_der == facts.issuer_der and _crl_signed_by_anchor(raw, f.der)
        ]
        if not issuing:
            raise FormatError("CRL không do tổ chức cấp chứng thư tin cậy ký")
        self._crl_issuers.add(facts.issuer_der)
        for serial, revoked in facts.entries:
            key = (facts.issuer_der, serial)
            known = self._revoked.get(key)
            if known is None or revoked.revoked_at < known.revoked_at:
                self._revoked[key] = revoked

    def _revocation(self, facts: _CertFacts) -> _Revoked | None:
        return self._revoked.get((facts.issuer_der, facts.serial))

    def _chain(
        self, leaf: _CertFacts, intermediates: tuple[_CertFacts, ...], at: dt.datetime
    ) -> _ChainResult:
        key = (leaf.der, tuple(i.der for i in intermediates), at)
        cache = self._chains
        with cache.lock:
            hit = cache.results.get(key)
            if hit is not None:
                cache.results.move_to_end(key)
                return hit
        result = self._build_chain(leaf, intermediates, at)
        with cache.lock:
            cache.results[key] = result
            if len(cache.results) > _CHAIN_RESULTS_PER_STORE:
                cache.results.popitem(last=False)
        return result

    def _build_chain(
        self, leaf: _CertFacts, intermediates: tuple[_CertFacts, ...], at: dt.datetime
    ) -> _ChainResult:
        if self._chains.store is None:
            return _ChainResult(None, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "no trust anchors")
        verifier = (
            PolicyBuilder()
            .store(self._chains.store)
            .time(at)
            .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
            .build_client_verifier()
        )
        try:
            verified = verifier.verify(leaf.cert, [i.cert for i in intermediates])
        except VerificationError as exc:
            return self._classify_failure(leaf, intermediates, at, str(exc))
        chain = tuple(_facts(certificate_der(c)) for c in verified.chain)
        return _ChainResult(chain, None, None)

    def _classify_failure(
        self,
        leaf: _CertFacts,
        intermediates: tuple[_CertFacts, ...],
        at: dt.datetime,
        detail: str,
    ) -> _ChainResult:
        """Tell "no anchor issued this" from "an anchor did, but a rule failed"."""
        candidates = (leaf, *intermediates)
        for anchor in self._anchor_facts:
            for cert in candidates:
                if cert.issuer_der == anchor.subject_der and _issued_by(cert.cert, anchor.cert):
                    if (
                        not anchor.cert.not_valid_before_utc
                        <= at
                        <= anchor.cert.not_valid_after_utc
                    ):
                        return _ChainResult(None, SubIndication.OUT_OF_BOUNDS_NO_POE, detail)
                    for inter in intermediates:
                        c = inter.cert
                        if not c.not_valid_before_utc <= at <= c.not_valid_after_utc:
                            return _ChainResult(None, SubIndication.OUT_OF_BOUNDS_NO_POE, detail)
                    return _ChainResult(None, SubIndication.CHAIN_CONSTRAINTS_FAILURE, detail)
        return _ChainResult(None, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, detail)


class _ChainCache:
    """Chain-validation results for one set of anchors: they depend on nothing else (CRLs
    are applied afterwards), so every TrustStore with these anchors shares them."""

    def __init__(self, anchors: tuple[x509.Certificate, ...]):
        self.store = Store(list(anchors)) if anchors else None
        self.results: OrderedDict[tuple[Any, ...], _ChainResult] = OrderedDict()
        self.lock = threading.Lock()


_CHAIN_RESULTS_PER_STORE = 4096
_CHAIN_CACHES: OrderedDict[tuple[bytes, ...], _ChainCache] = OrderedDict()
_CHAIN_CACHES_LOCK = threading.Lock()


def _chain_cache_for(key: tuple[bytes, ...], anchors: tuple[x509.Certificate, ...]) -> _ChainCache:
    with _CHAIN_CACHES_LOCK:
        cache = _CHAIN_CACHES.get(key)
        if cache is None:
            cache = _CHAIN_CACHES[key] = _ChainCache(anchors)
            if len(_CHAIN_CACHES) > 32:
                _CHAIN_CACHES.popitem(last=False)
        else:
            _CHAIN_CACHES.move_to_end(key)
        return cache


@dataclass(frozen=True)
class _ChainResult:
    chain: tuple[_CertFacts, ...] | None
    failure: SubIndication | None
    detail: str | None


@dataclass(frozen=True)
class _CrlFacts:
    crl: x509.CertificateRevocationList
    issuer_der: bytes
    entries: tuple[tuple[int, _Revoked], ...]  # (serial number, revocation) per entry


def crl_issuer_der(raw: bytes) -> bytes:
    """DER of a DER- or PEM-encoded CRL's issuer name; FormatError when it cannot be read.
    Reads through the same cache as TrustStore, so adding the CRL afterwards is cheap."""
    if not isinstance(raw, bytes | bytearray) or not raw:
        raise FormatError("CRL must be non-empty bytes")
    return _read_crl(bytes(raw)).issuer_der


# CRLs up to this size are remembered (by exact bytes) once read and checked; larger ones
# are read every time, so the caches stay small whatever callers pass.
_CACHED_CRL_BYTES = 256 * 1024


def _read_crl(raw: bytes) -> _CrlFacts:
    """A CRL's issuer and entries; FormatError when it cannot be read."""
    if len(raw) > MAX_CRL_BYTES:
        raise FormatError("CRL is too large")
    if len(raw) <= _CACHED_CRL_BYTES:
        return _read_crl_cached(raw)
    return _read_crl_uncached(raw)


def _crl_signed_by_anchor(raw: bytes, anchor_der: bytes) -> bool:
    if len(raw) <= _CACHED_CRL_BYTES:
        return _crl_signed_by_anchor_cached(raw, anchor_der)
    return _crl_signature_valid(_read_crl(raw), anchor_der)


# Both caches are keyed by exact bytes (the CRL's, and the anchor certificate's DER): a hit
# is what reading and checking those same bytes again would give. Errors are not cached.
@lru_cache(maxsize=128)
def _read_crl_cached(raw: bytes) -> _CrlFacts:
    return _read_crl_uncached(raw)


@lru_cache(maxsize=128)
def _crl_signed_by_anchor_cached(raw: bytes, anchor_der: bytes) -> bool:
    return _crl_signature_valid(_read_crl(raw), anchor_der)


def _read_crl_uncached(raw: bytes) -> _CrlFacts:
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            crl = x509.load_pem_x509_crl(raw)
        else:
            crl = x509.load_der_x509_crl(raw)
        issuer = crl.issuer.public_bytes()
        revoked = list(crl)
    except CERT_ERRORS as exc:
        raise FormatError(f"danh sách thu hồi (CRL) không đọc được: {exc}") from None
    entries = []
    for entry in revoked:
        try:
            reason_ext = entry.extensions.get_extension_for_class(x509.CRLReason)
            reason: str | None = reason_ext.value.reason.name
        except x509.ExtensionNotFound:
            reason = None
        except ValueError as exc:
            raise FormatError(f"CRL entry unreadable: {exc}") from None
        entries.append((entry.serial_number, _Revoked(entry.revocation_date_utc, reason)))
    return _CrlFacts(crl, issuer, tuple(entries))


def _crl_signature_valid(facts: _CrlFacts, anchor_der: bytes) -> bool:
    try:
        return facts.crl.is_signature_valid(_facts(anchor_der).public_key)
    except (TypeError, ValueError):
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@lru_cache(maxsize=64)
def _store_from_pem(pem: bytes, crls: tuple[bytes, ...]) -> TrustStore:
    if b"-----BEGIN" not in pem:
        raise FormatError("tệp chứng thư tin cậy không phải PEM")
    try:
        anchors = x509.load_pem_x509_certificates(pem)
    except CERT_ERRORS as exc:
        raise FormatError(f"tệp chứng thư tin cậy (PEM) không đọc được: {exc}") from None
    if not anchors:
        raise FormatError("tệp PEM không chứa chứng thư số nào")
    return TrustStore(anchors, crls)


# --------------------------------------------------------------------------- CMS parsing
@dataclass
class _Parsed:
    certificates: list[bytes]
    sid_der: bytes
    digest_name: str
    sig_name: str
    pss_params: Any
    signature: bytes
    signed_bytes: bytes | None  # DER of the signed attributes as a SET, or None
    # attribute name -> contents of its SET OF values (the values' encodings, concatenated)
    attrs: dict[str, bytes] = field(default_factory=dict)


# Light schemas over RFC 5652: the structure of asn1crypto.cms, but the parts we only
# compare with known encodings stay unparsed. asn1crypto's fully typed parse costs most of a
# verification; the typed classes are used only when the fast lookups do not match.
class _AnySet(core.SetOf):
    _child_spec = core.Any


class _RawValues(core.SetOf):
    _child_spec = core.Any


class _RawAttribute(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("values", _RawValues)]  # noqa: RUF012


class _RawAttributes(core.SetOf):
    _child_spec = _RawAttribute


class _LightSignerInfo(core.Sequence):
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("sid", cms.SignerIdentifier),
        ("digest_algorithm", algos.DigestAlgorithm),
        ("signed_attrs", _RawAttributes, {"implicit": 0, "optional": True}),
        ("signature_algorithm", algos.SignedDigestAlgorithm),
        ("signature", core.OctetString),
        ("unsigned_attrs", _AnySet, {"implicit": 1, "optional": True}),
    ]


class _LightSignerInfos(core.SetOf):
    _child_spec = _LightSignerInfo


class _LightSignedData(core.Sequence):
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("digest_algorithms", core.Any),
        ("encap_content_info", cms.EncapsulatedContentInfo),
        ("certificates", _AnySet, {"implicit": 0, "optional": True}),
        ("crls", _AnySet, {"implicit": 1, "optional": True}),
        ("signer_infos", _LightSignerInfos),
    ]


class _LightContentInfo(core.Sequence):
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
_ID_DATA = cms.ContentType("data").dump()
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


def _parse(signature_der: bytes) -> _Parsed:
    """Pull what we need out of a ContentInfo(SignedData); any oddity -> FormatError.

    The common shape (DER, detached id-data, one signer, well-known algorithms) is read with
    asn1crypto's tokenizer alone; everything else, and everything the fast reading does not
    recognise, goes through the schema-based reading, which decides what is accepted."""
    fast = _parse_fast(signature_der)
    if fast is not None:
        return fast
    return _parse_schema(signature_der)


# (class, constructed, tag) of the elements the fast reading expects.
_SEQUENCE = (0, 1, 16)
_SET = (0, 1, 17)
_INTEGER = (0, 0, 2)
_OID = (0, 0, 6)
_OCTETS = (0, 0, 4)
_CTX0_CONS = (2, 1, 0)
_CTX1_CONS = (2, 1, 1)
_CTX0_PRIM = (2, 0, 0)


def _elements(contents: bytes) -> list[tuple[tuple[int, int, int], bytes, bytes]]:
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


def _single_element(encoded: bytes) -> tuple[tuple[int, int, int], bytes]:
    """((class, constructed, tag), contents) of the one definite-length element
    ``encoded`` holds; ValueError for anything else (trailing bytes, an indefinite length)."""
    class_, method, tag, _header, body, trailer = asn1_parser.parse(encoded, strict=True)
    if trailer:
        raise ValueError("indefinite length")
    return (class_, method, tag), body


def _parse_fast(der: bytes) -> _Parsed | None:
    """The same _Parsed as _parse_schema for the shape thidua and openssl produce, or None
    whenever anything differs from that shape (then _parse_schema judges the input).

    Not a second ASN.1 parser: the tokenizer is asn1crypto's; this only checks that each
    element has the tag the schema gives it and keeps the exact bytes the checks compare."""
    try:
        kind, body = _single_element(der)
        if kind != _SEQUENCE:
            return None
        # ContentInfo: the signed-data OID, then exactly one [0] holding exactly one SEQUENCE.
        if not body.startswith(_ID_SIGNED_DATA):
            return None
        kind, content = _single_element(body[len(_ID_SIGNED_DATA) :])
        if kind != _CTX0_CONS:
            return None
        kind, signed_data = _single_element(content)
        if kind != _SEQUENCE:
            return None
        # SignedData: version, digestAlgorithms and a detached id-data encapContentInfo,
        # usually in one of a few exact encodings (a byte prefix made of whole elements reads
        # as exactly those elements), then the certificates, CRLs and signerInfos.
        known = next((n for n in _SD_PREFIX_LENGTHS if signed_data[:n] in _SD_PREFIXES), 0)
        if known:
            rest = _elements(signed_data[known:])
        else:
            sd = _elements(signed_data)
            if (
                len(sd) < 4
                or sd[0][0] != _INTEGER
                or sd[1][0] != _SET
                or sd[2][1] != _DETACHED_DATA
            ):
                return None
            rest = sd[3:]
        certificates: list[bytes] = []
        if rest and rest[0][0] == _CTX0_CONS:
            certificates = list(_certificate_set(rest.pop(0)[2]))
        if rest and rest[0][0] == _CTX1_CONS:
            rest.pop(0)
        if len(rest) != 1 or rest[0][0] != _SET:
            return None
        infos = _elements(rest[0][2])
        if len(infos) != 1 or infos[0][0] != _SEQUENCE:
            return None
        si = _elements(infos[0][2])
        if len(si) < 5 or si[0][0] != _INTEGER or si[1][0] not in (_SEQUENCE, _CTX0_PRIM):
            return None
        digest_name = _DIGEST_DERS.get(si[2][1]) if si[2][0] == _SEQUENCE else None
        if digest_name is None:
            return None
        tail = si[3:]
        signed_bytes = None
        attrs: dict[str, bytes] = {}
        if tail[0][0] == _CTX0_CONS:
            _tag, encoded, contents = tail.pop(0)
            for attr_tag, attr_encoded, _body in _elements(contents):
                if attr_tag != _SEQUENCE:
                    return None
                attr = _attribute(attr_encoded)
                if attr is None or attr[0] in attrs:
                    return None
                attrs[attr[0]] = attr[1]
            if not attrs:
                return None
            signed_bytes = b"\x31" + encoded[1:]
        if len(tail) < 2 or tail[0][0] != _SEQUENCE or tail[1][0] != _OCTETS:
            return None
        sig_name = _SIG_ALGO_DERS.get(tail[0][1])
        if sig_name is None:
            return None
        if len(tail) > 3 or (len(tail) == 3 and tail[2][0] != _CTX1_CONS):
            return None
        return _Parsed(
            certificates=certificates,
            sid_der=si[1][1],
            digest_name=digest_name,
            sig_name=sig_name,
            pss_params=None,
            signature=tail[1][2],
            signed_bytes=signed_bytes,
            attrs=attrs,
        )
    except Exception:  # anything unexpected: the schema-based reading decides
        return None


# The two caches below hold pure functions of their input bytes (the key is the exact
# encoding read), so a hit returns exactly what reading those bytes again would. They pay
# because signatures repeat these parts: the same certificates, and signed attributes that
# are constant (content-type, ESS signing-certificate) or shared by the signatures of one
# document (message-digest, often signing-time).
@bytes_cache(maxsize=1024, max_bytes=64 * 1024)
def _certificate_set(contents: bytes) -> tuple[bytes, ...]:
    """The plain certificates (universal SEQUENCEs) of a CertificateSet's contents; the
    tagged choices (attribute or extended certificates) are ignored, as in _parse_schema."""
    return tuple(enc for tag, enc, _ in _elements(contents) if tag == _SEQUENCE)


@bytes_cache(maxsize=8192, max_bytes=4096)
def _attribute(encoded: bytes) -> tuple[str, bytes] | None:
    """(name, contents of its SET OF values) of one Attribute SEQUENCE, or None when it is
    not exactly {OBJECT IDENTIFIER, SET} (ValueError when it is not one element)."""
    _kind, body = _single_element(encoded)
    parts = _elements(body)
    if len(parts) != 2 or parts[0][0] != _OID or parts[1][0] != _SET:
        return None
    name = _ATTR_NAMES.get(parts[0][1])
    if name is None:
        name = core.ObjectIdentifier.load(parts[0][1], strict=True).dotted
    return name, parts[1][2]


def _parse_schema(signature_der: bytes) -> _Parsed:
    """_parse through the light asn1crypto schemas; handles BER, attached content, unusual
    algorithms, and says what is wrong with malformed input."""
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
        certificates = []
        cert_set = sd["certificates"]
        if cert_set is not None and not isinstance(cert_set, core.Void):
            # Walk the SET's members with asn1crypto's tokenizer, keeping each one's exact
            # bytes. CertificateChoices: a plain certificate is a universal SEQUENCE; the
            # tagged choices (attribute or extended certificates) are ignored.
            raw, pos = cert_set.contents, 0
            while pos < len(raw):
                class_, _m, tag, header, body, trailer = asn1_parser.parse(raw[pos:])
                size = len(header) + len(body) + len(trailer)
                if class_ == 0 and tag == 16:
                    certificates.append(raw[pos : pos + size])
                pos += size
        digest_name = _digest_name(si["digest_algorithm"].dump())
        sig_name, pss_params = _signature_algorithm(si["signature_algorithm"].dump())
        signature = si["signature"].native
        signed_bytes = None
        attrs: dict[str, Any] = {}
        signed_attrs = si["signed_attrs"]
        if signed_attrs is not None and not isinstance(signed_attrs, core.Void):
            # The signature covers the attributes encoded as a SET (tag 0x31), not as the
            # [0] IMPLICIT field they are stored in; only the tag byte differs.
            raw = signed_attrs.dump()
            signed_bytes = b"\x31" + raw[1:]
            if len(signed_attrs) == 0:
                raise FormatError("empty signed attributes")
            for attr in signed_attrs:
                attr_type = attr["type"]
                name = _ATTR_NAMES.get(attr_type.dump()) or attr_type.dotted
                if name in attrs:
                    raise FormatError(f"signed attribute {name} appears twice")
                attrs[name] = attr["values"].contents
        return _Parsed(
            certificates=certificates,
            sid_der=si["sid"].dump(),
            digest_name=digest_name,
            sig_name=sig_name,
            pss_params=pss_params,
            signature=bytes(signature),
            signed_bytes=signed_bytes,
            attrs=attrs,
        )
    except FormatError:
        raise
    except Exception as exc:  # asn1crypto raises many types on hostile input
        raise FormatError(f"CMS structure unreadable: {type(exc).__name__}: {exc}") from None


def _single(values: bytes, spec: type[core.Asn1Value], what: str) -> Any:
    """The one value of a single-valued attribute, parsed as ``spec``.

    ``values`` are the SET's contents, which must be exactly one ``spec`` encoding:
    ``strict`` refuses trailing bytes, so a second value fails here rather than being
    ignored."""
    try:
        return spec.load(values, strict=True)
    except (ValueError, TypeError):
        raise FormatError(f"signed attribute {what} must hold exactly one value") from None


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
    facts = _facts(cert_der)
    by_ski = (
        cms.SignerIdentifier("subject_key_identifier", facts.ski).dump()
        if facts.ski is not None
        else None
    )
    return by_issuer, by_ski


def _matches_sid(parsed: _Parsed, facts: _CertFacts) -> bool:
    return _matches_sid_exactly(parsed, facts) or _matches_sid_by_meaning(parsed, facts)


def _matches_sid_exactly(parsed: _Parsed, facts: _CertFacts) -> bool:
    return parsed.sid_der in _sid_ders(facts.der)


def _matches_sid_by_meaning(parsed: _Parsed, facts: _CertFacts) -> bool:
    """Not byte-identical: compare by meaning (another encoder may have re-encoded the name)."""
    try:
        sid = cms.SignerIdentifier.load(parsed.sid_der, strict=True)
        if sid.name == "issuer_and_serial_number":
            issuer = a_x509.Name.load(facts.issuer_der)
            return (
                sid.chosen["serial_number"].native == facts.serial
                and sid.chosen["issuer"] == issuer
            )
        return facts.ski is not None and sid.chosen.native == facts.ski
    except Exception:  # a sid that does not parse names no certificate
        return False


# --------------------------------------------------------------------------- verification
class _Digests:
    """Hashes of the document, computed at most once per algorithm."""

    def __init__(self, data: bytes, known: Mapping[str, bytes] | None = None):
        """``known``: digests of exactly ``data`` already computed by the caller."""
        self._data = data
        self._cache: dict[str, bytes] = dict(known or {})

    def get(self, name: str) -> bytes:
        value = self._cache.get(name)
        if value is None:
            value = hashlib.new(name, self._data).digest()
            self._cache[name] = value
        return value


def _report(
    indication: Indication,
    sub: SubIndication | None,
    at: dt.datetime,
    *,
    message: str | None = None,
    detail: str | None = None,
    signer: _CertFacts | None = None,
    signing_time: dt.datetime | None = None,
    chain: tuple[_CertFacts, ...] = (),
    revocation_checked: bool = False,
) -> SignatureReport:
    return SignatureReport(
        indication=indication,
        sub_indication=sub,
        message=message or _MESSAGES[sub],
        validation_time=at,
        signer=signer.signer if signer else None,
        signing_time=signing_time,
        chain=tuple(c.link for c in chain),
        revocation_checked=revocation_checked,
        detail=detail,
    )


def verify_signature(
    data: bytes,
    signature_der: bytes,
    trust: TrustStore | None,
    *,
    at: dt.datetime,
    expected_certificate: x509.Certificate | None = None,
    expected_unit_code: str | None = None,
) -> SignatureReport:
    """Validate one detached CMS signature over ``data`` at validation time ``at``.

    Never raises on bad signature bytes (that is FORMAT_FAILURE). ``expected_certificate``:
    the certificate registered for the signer; any other certificate fails with
    SIG_CONSTRAINTS_FAILURE. ``expected_unit_code``: the unit whose slot this signature
    fills; a certificate naming another unit (or none) fails the same way. ``trust=None``
    checks integrity only and ends INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SigningError("document data must be bytes")
    at = utc(at, "at")
    if expected_certificate is not None and not isinstance(expected_certificate, x509.Certificate):
        raise SigningError("expected_certificate must be an x509.Certificate")
    _check_trust(trust)
    return _verify(
        _Digests(bytes(data)), signature_der, trust, at, expected_certificate, expected_unit_code
    )


def _check_trust(trust: object) -> None:
    if trust is not None and not isinstance(trust, TrustStore):
        raise SigningError("trust must be a TrustStore or None")


def _verify(
    digests: _Digests,
    signature_der: Any,
    trust: TrustStore | None,
    at: dt.datetime,
    expected_certificate: x509.Certificate | None,
    expected_unit_code: str | None,
) -> SignatureReport:
    # 1. Format.
    if not isinstance(signature_der, bytes | bytearray | memoryview):
        return _report(_FAILED, SubIndication.FORMAT_FAILURE, at, detail="signature is not bytes")
    signature_der = bytes(signature_der)
    if not signature_der:
        return _report(_FAILED, SubIndication.FORMAT_FAILURE, at, detail="empty signature")
    if len(signature_der) > MAX_SIGNATURE_BYTES:
        return _report(_FAILED, SubIndication.FORMAT_FAILURE, at, detail="signature too large")
    try:
        parsed = _parse(signature_der)
    except FormatError as exc:
        return _report(_FAILED, SubIndication.FORMAT_FAILURE, at, detail=str(exc))

    # 2. Identify the signing certificate.
    embedded: list[_CertFacts] = []
    for der in parsed.certificates:
        try:
            embedded.append(_facts(der))
        except FormatError as exc:
            return _report(_FAILED, SubIndication.FORMAT_FAILURE, at, detail=str(exc))
    # Exact encodings first: the usual case costs a dictionary lookup per certificate, and
    # the slower comparison by meaning runs only for signatures from other encoders.
    signer = next((f for f in embedded if _matches_sid_exactly(parsed, f)), None)
    if signer is None:
        signer = next((f for f in embedded if _matches_sid_by_meaning(parsed, f)), None)
    expected = _facts(certificate_der(expected_certificate)) if expected_certificate else None
    if signer is None and expected is not None and _matches_sid(parsed, expected):
        signer = expected  # a signature made with -nocerts, for a registered certificate
    if signer is None:
        return _report(
            _INDET,
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
            at,
            detail="no certificate in the signature matches its signer identifier",
        )

    signing_time: dt.datetime | None = None
    digest_name = parsed.digest_name
    if digest_name in _WEAK_DIGESTS:
        return _report(
            _INDET,
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
            at,
            detail=f"digest algorithm {digest_name} is no longer acceptable",
            signer=signer,
        )
    if digest_name not in _DIGESTS:
        return _report(
            _FAILED,
            SubIndication.FORMAT_FAILURE,
            at,
            detail=f"unsupported digest algorithm {digest_name}",
            signer=signer,
        )
    content_digest = digests.get(digest_name)

    if parsed.signed_bytes is not None:
        attrs = parsed.attrs
        try:
            signing_time, message_digest, ess_problem = _check_attributes(attrs, signer)
        except FormatError as exc:
            return _report(
                _FAILED, SubIndication.FORMAT_FAILURE, at, detail=str(exc), signer=signer
            )
        if ess_problem:
            return _report(
                _INDET,
                SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                at,
                detail=ess_problem,
                signer=signer,
                signing_time=signing_time,
            )
        # 3a. Message digest: the signature covers these exact bytes.
        if message_digest != content_digest:
            return _report(
                _FAILED,
                SubIndication.HASH_FAILURE,
                at,
                detail="message-digest attribute differs from the document's hash",
                signer=signer,
                signing_time=signing_time,
            )

    # 3b. Signature value.
    crypto_problem = _check_signature_value(parsed, signer.public_key, content_digest)
    if crypto_problem is not None:
        sub, detail = crypto_problem
        indication = _INDET if sub is SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE else _FAILED
        if parsed.signed_bytes is None and sub is SubIndication.SIG_CRYPTO_FAILURE:
            # Without signed attributes the signature is over the content itself, so a
            # changed document shows up here; say so in the detail.
            detail = f"{detail} (no signed attributes: document changed or signature broken)"
        return _report(indication, sub, at, detail=detail, signer=signer, signing_time=signing_time)

    # 4. Acceptance: made with the registered certificate?
    if expected is not None and expected.der != signer.der:
        return _report(
            _INDET,
            SubIndication.SIG_CONSTRAINTS_FAILURE,
            at,
            message="Chữ ký không được tạo bằng chứng thư số đã đăng ký cho người ký",
            detail=(f"signed with certificate {signer.sha256}, expected {expected.sha256}"),
            signer=signer,
            signing_time=signing_time,
        )

    # 5. X.509 validation at `at`.
    # The validity period as read once into the certificate's facts (cryptography builds a
    # new datetime on every access of not_valid_*_utc).
    not_before, not_after = signer.signer.not_before, signer.signer.not_after
    if signing_time is not None:
        if signing_time < not_before:
            return _report(
                _FAILED,
                SubIndication.NOT_YET_VALID,
                at,
                message="Chứng thư số chưa có hiệu lực tại thời điểm ký",
                detail="signing time precedes the certificate's notBefore",
                signer=signer,
                signing_time=signing_time,
            )
        if signing_time > not_after:
            return _report(
                _FAILED,
                SubIndication.EXPIRED,
                at,
                detail="signing time is after the certificate's notAfter",
                signer=signer,
                signing_time=signing_time,
            )
    if at < not_before:
        return _report(
            _INDET,
            SubIndication.NOT_YET_VALID,
            at,
            message="Chứng thư số chưa có hiệu lực tại thời điểm kiểm tra",
            detail="validation time precedes the certificate's notBefore",
            signer=signer,
            signing_time=signing_time,
        )
    if at > not_after:
        return _report(
            _INDET,
            SubIndication.OUT_OF_BOUNDS_NO_POE,
            at,
            detail="certificate expired before the validation time",
            signer=signer,
            signing_time=signing_time,
        )
    if not signer.key_usage_ok:
        return _report(
            _INDET,
            SubIndication.CHAIN_CONSTRAINTS_FAILURE,
            at,
            detail="key usage allows neither digitalSignature nor contentCommitment",
            signer=signer,
            signing_time=signing_time,
        )
    if not signer.eku_ok:
        return _report(
            _INDET,
            SubIndication.CHAIN_CONSTRAINTS_FAILURE,
            at,
            detail="extended key usage does not allow document signing",
            signer=signer,
            signing_time=signing_time,
        )
    if trust is None:
        return _report(
            _INDET,
            SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
            at,
            detail="no trust anchors given",
            signer=signer,
            signing_time=signing_time,
        )
    intermediates = tuple(f for f in embedded if f.der != signer.der)
    result = trust._chain(signer, intermediates, at)
    if result.chain is None:
        sub = result.failure or SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        return _report(
            _INDET, sub, at, detail=result.detail, signer=signer, signing_time=signing_time
        )
    chain = result.chain

    # 6. Revocation, from the anchors' CRLs, for every certificate below the anchor.
    revocation_checked = all(c.issuer_der in trust._crl_issuers for c in chain[:-1])
    for link in chain[:-1]:
        revoked = trust._revocation(link)
        if revoked is None or revoked.revoked_at > at:
            continue
        reason = f" ({revoked.reason})" if revoked.reason else ""
        detail = f"certificate {link.sha256} revoked at {revoked.revoked_at.isoformat()}{reason}"
        if signing_time is not None and signing_time < revoked.revoked_at:
            return _report(
                _INDET,
                SubIndication.REVOKED_NO_POE,
                at,
                detail=detail,
                signer=signer,
                signing_time=signing_time,
                chain=chain,
                revocation_checked=True,
            )
        return _report(
            _FAILED,
            SubIndication.REVOKED,
            at,
            detail=detail,
            signer=signer,
            signing_time=signing_time,
            chain=chain,
            revocation_checked=True,
        )

    # 7. The unit this signature stands for.
    if expected_unit_code is not None and signer.signer.unit_code != expected_unit_code:
        registered = expected is not None and expected.der == signer.der
        if signer.signer.unit_code is not None or not registered:
            got = signer.signer.unit_code or "không có"
            return _report(
                _INDET,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                at,
                message=(
                    f"Chữ ký không phải của đơn vị {expected_unit_code} "
                    f"(chứng thư số ghi mã đơn vị: {got})"
                ),
                detail=f"certificate unit code {signer.signer.unit_code!r} "
                f"!= expected {expected_unit_code!r}",
                signer=signer,
                signing_time=signing_time,
                chain=chain,
                revocation_checked=revocation_checked,
            )

    return _report(
        Indication.TOTAL_PASSED,
        None,
        at,
        signer=signer,
        signing_time=signing_time,
        chain=chain,
        revocation_checked=revocation_checked,
    )


def _check_attributes(
    attrs: Mapping[str, bytes], signer: _CertFacts
) -> tuple[dt.datetime | None, bytes, str | None]:
    """RFC 5652 5.3/11: content-type and message-digest present, single-valued; signing time
    readable. Returns (signing time, message digest, problem with the ESS
    signing-certificate attribute or None)."""
    try:
        for required in ("content_type", "message_digest"):
            if required not in attrs:
                raise FormatError(f"signed attribute {required} is missing")
        # A SET OF with exactly one member has that member's encoding as its contents.
        if attrs["content_type"] != _ID_DATA:
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
        kind, body = _single_element(values)
    except ValueError:
        kind = None
    if kind == _OCTETS:
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


def _check_ess(values: bytes, signer: _CertFacts, *, v2: bool) -> str | None:
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
        if algo not in _DIGESTS:
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
    return tsp.SigningCertificateV2(
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


def _check_signature_value(
    parsed: _Parsed, key: Any, content_digest: bytes
) -> tuple[SubIndication, str] | None:
    digest_cls = _DIGESTS[parsed.digest_name]
    name = parsed.sig_name
    sig_hash: hashes.HashAlgorithm
    if name in ("rsassa_pkcs1v15", "ecdsa", "rsassa_pss"):
        sig_hash = digest_cls()
    else:
        prefix = name.split("_", 1)[0]
        if prefix in _WEAK_DIGESTS:
            return SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE, f"weak algorithm {name}"
        if prefix not in _DIGESTS or not name.endswith(("_rsa", "_ecdsa")):
            return SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE, f"unsupported algorithm {name}"
        sig_hash = _DIGESTS[prefix]()
    if parsed.signed_bytes is not None:
        message, prehashed = parsed.signed_bytes, False
    elif sig_hash.name == parsed.digest_name:
        message, prehashed = content_digest, True
    else:
        return SubIndication.FORMAT_FAILURE, "digest and signature hash disagree"
    algorithm: hashes.HashAlgorithm | utils.Prehashed = (
        utils.Prehashed(sig_hash) if prehashed else sig_hash
    )
    try:
        if name.endswith("ecdsa"):
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return SubIndication.SIG_CRYPTO_FAILURE, "ECDSA signature but the key is not EC"
            key.verify(parsed.signature, message, _ecdsa(sig_hash.name, prehashed))
        elif name == "rsassa_pss":
            if not isinstance(key, rsa.RSAPublicKey):
                return SubIndication.SIG_CRYPTO_FAILURE, "RSA-PSS signature but the key is not RSA"
            pad = _pss_padding(parsed.pss_params)
            if pad is None:
                return SubIndication.FORMAT_FAILURE, "unsupported RSA-PSS parameters"
            pss_hash = _DIGESTS.get(parsed.pss_params["hash_algorithm"]["algorithm"])
            if pss_hash is None:
                return SubIndication.FORMAT_FAILURE, "unsupported RSA-PSS hash"
            if prehashed and pss_hash.name != sig_hash.name:
                return SubIndication.FORMAT_FAILURE, "RSA-PSS hash differs from the digest"
            chosen = utils.Prehashed(pss_hash()) if prehashed else pss_hash()
            key.verify(parsed.signature, message, pad, chosen)
        else:
            if not isinstance(key, rsa.RSAPublicKey):
                return SubIndication.SIG_CRYPTO_FAILURE, "RSA signature but the key is not RSA"
            key.verify(parsed.signature, message, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        return SubIndication.SIG_CRYPTO_FAILURE, "signature value does not verify"
    except (ValueError, TypeError) as exc:
        return SubIndication.SIG_CRYPTO_FAILURE, f"signature value unusable: {exc}"
    return None


@lru_cache(maxsize=16)
def _ecdsa(hash_name: str, prehashed: bool) -> ec.ECDSA:
    """The (immutable) ECDSA algorithm object; building one costs a few type checks."""
    algorithm = _DIGESTS[hash_name]()
    return ec.ECDSA(utils.Prehashed(algorithm) if prehashed else algorithm)


def _pss_padding(params: Any) -> padding.PSS | None:
    try:
        mgf = params["mask_gen_algorithm"]
        if mgf["algorithm"] != "mgf1":
            return None
        mgf_hash = _DIGESTS.get(mgf["parameters"]["algorithm"])
        if mgf_hash is None:
            return None
        salt = int(params["salt_length"])
        return padding.PSS(mgf=padding.MGF1(mgf_hash()), salt_length=salt)
    except (KeyError, TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- documents
def verify_document(
    data: bytes,
    expected_units: Mapping[str, str],
    signatures: Mapping[str, bytes],
    trust: TrustStore | None,
    *,
    at: dt.datetime,
    expected_certificates: Mapping[str, x509.Certificate] | None = None,
) -> DocumentReport:
    """Check every member unit's signature over the same document bytes.

    ``expected_units``: unit code -> unit name, in the order to report them.
    ``signatures``: unit code -> detached CMS DER. A signature must come from a certificate
    naming its slot's unit code (or, for an external certificate without one, from the
    certificate registered in ``expected_certificates``).

    status: "complete" when every member signed and every signature passed; "failed" when
    any signature does not pass or a signature comes from a unit that is not a member;
    "incomplete" otherwise (some members have not signed yet).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SigningError("document data must be bytes")
    return _verify_document(
        _Digests(bytes(data)),
        expected_units,
        signatures,
        trust,
        at=at,
        expected_certificates=expected_certificates,
    )


def _verify_document(
    digests: _Digests,
    expected_units: Mapping[str, str],
    signatures: Mapping[str, bytes],
    trust: TrustStore | None,
    *,
    at: dt.datetime,
    expected_certificates: Mapping[str, x509.Certificate] | None = None,
) -> DocumentReport:
    """verify_document over a document whose _Digests the caller already holds (the bundle
    verifier has hashed the document for the bag's fixity)."""
    at = utc(at, "at")
    _check_trust(trust)
    if not isinstance(expected_units, Mapping) or not isinstance(signatures, Mapping):
        raise SigningError("expected_units and signatures must be mappings keyed by unit code")
    registered = dict(expected_certificates or {})
    for cert in registered.values():
        if not isinstance(cert, x509.Certificate):
            raise SigningError("expected_certificates must map unit codes to certificates")
    units: list[UnitResult] = []
    for code, name in expected_units.items():
        raw = signatures.get(code)
        report = None
        if raw is not None:
            report = _verify(digests, raw, trust, at, registered.get(code), code)
        units.append(UnitResult(code=code, name=name, report=report))
    for code, raw in signatures.items():
        if code not in expected_units:
            report = _verify(digests, raw, trust, at, registered.get(code), code)
            units.append(UnitResult(code=code, name=None, report=report, expected=False))
    unsigned = [u.code for u in units if u.report is None]
    bad = [u.code for u in units if (u.report is not None and not u.report.passed)]
    strangers = [u.code for u in units if not u.expected]
    if bad or strangers:
        status = "failed"
        parts = []
        if bad:
            parts.append(f"chữ ký không hợp lệ: {', '.join(bad)}")
        if strangers:
            parts.append(f"chữ ký của đơn vị không thuộc danh sách: {', '.join(strangers)}")
        message = "Văn bản không hợp lệ — " + "; ".join(parts)
    elif unsigned:
        status = "incomplete"
        message = f"Còn {len(unsigned)} đơn vị chưa ký: {', '.join(unsigned)}"
    else:
        status = "complete"
        message = f"Đủ chữ ký hợp lệ của {len(units)} đơn vị"
    return DocumentReport(
        status=status,
        units=units,
        document_sha256=digests.get("sha256").hex(),
        validation_time=at,
        message=message,
    )


def signer_certificates(signature_der: bytes) -> list[x509.Certificate]:
    """The certificates carried in a CMS signature (for archiving them next to it)."""
    try:
        parsed = _parse(bytes(signature_der))
    except (FormatError, TypeError) as exc:
        raise FormatError(f"chữ ký không đọc được: {exc}") from None
    return [_facts(d).cert for d in parsed.certificates]


def _iter_certs(items: Iterable[bytes]) -> list[x509.Certificate]:
    return [load_der_certificate(d) for d in items]
