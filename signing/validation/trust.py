"""Trust anchors, the CRLs they issued, and certificate-path validation.

A TrustStore holds root certificates and the CRLs signed by them. Path validation is
cryptography's (webpki rules, with the extended key usages of document signing); its
results depend only on the anchors, so they are cached per set of anchors and shared by
every store built from them, which keeps a store per request cheap.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from signing._util import CERT_ERRORS, certificate_der
from signing.errors import FormatError, SigningError
from signing.validation.certificates import DOC_SIGNING_EKUS, CertificateFacts, certificate_facts
from signing.validation.status import SubIndication

__all__ = [
    "MAX_CRL_BYTES",
    "ChainResult",
    "RevokedEntry",
    "TrustStore",
    "crl_issuer_der",
]

MAX_CRL_BYTES = 8 * 1024 * 1024


def _eku_callback(policy: Any, cert: x509.Certificate, eku: x509.ExtendedKeyUsage | None) -> None:
    # cryptography's client verifier would demand clientAuth; a document signer needs
    # documentSigning (or one of the usages in DOC_SIGNING_EKUS), or no EKU at all.
    if eku is not None and not DOC_SIGNING_EKUS.intersection(eku):
        raise ValueError("extended key usage does not allow document signing")


_EE_POLICY = (
    ExtensionPolicy.webpki_defaults_ee()
    .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _eku_callback)
    .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
)
_CA_POLICY = ExtensionPolicy.webpki_defaults_ca()


# --------------------------------------------------------------------------- trust store
@dataclass(frozen=True)
class RevokedEntry:
    """One certificate's entry in a CRL."""

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
        self._anchor_facts = tuple(certificate_facts(d) for d in unique)
        self._chains = _chain_cache_for(tuple(sorted(unique)), self._anchors)
        self._revoked: dict[tuple[bytes, int], RevokedEntry] = {}
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

    def has_anchor_named(self, name_der: bytes) -> bool:
        """Whether an anchor's subject is encoded exactly as ``name_der``."""
        return any(f.subject_der == name_der for f in self._anchor_facts)

    def has_crls_for(self, certificates: Sequence[CertificateFacts]) -> bool:
        """Whether the store applies a CRL from the issuer of every one of these."""
        issuers = self._crl_issuers
        return all([c.issuer_der in issuers for c in certificates])

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

    def revocation(self, facts: CertificateFacts) -> RevokedEntry | None:
        """The earliest revocation of this certificate in the store's CRLs, if any."""
        return self._revoked.get((facts.issuer_der, facts.serial))

    def validate_chain(
        self, leaf: CertificateFacts, intermediates: tuple[CertificateFacts, ...], at: dt.datetime
    ) -> ChainResult:
        """The path from ``leaf`` through ``intermediates`` to an anchor, validated at
        ``at`` (validity, key usages, EKU); cached per set of anchors. CRLs are not applied
        here: see ``revocation``."""
        path = (leaf.der, tuple(i.der for i in intermediates))
        key = (*path, at)
        cache = self._chains
        with cache.lock:
            hit = cache.results.get(key)
            if hit is not None:
                cache.results.move_to_end(key)
                return hit
            span = cache.spans.get(path)
            if span is not None and span[0] <= at <= span[1]:
                cache.spans.move_to_end(path)
                return span[2]
        result = self._build_chain(leaf, intermediates, at)
        with cache.lock:
            if result.chain is not None:
                certs = [link.cert for link in result.chain]
                cache.spans[path] = (
                    max(c.not_valid_before_utc for c in certs),
                    min(c.not_valid_after_utc for c in certs),
                    result,
                )
                if len(cache.spans) > _CHAIN_RESULTS_PER_STORE:
                    cache.spans.popitem(last=False)
            else:
                cache.results[key] = result
                if len(cache.results) > _CHAIN_RESULTS_PER_STORE:
                    cache.results.popitem(last=False)
        return result

    def _build_chain(
        self, leaf: CertificateFacts, intermediates: tuple[CertificateFacts, ...], at: dt.datetime
    ) -> ChainResult:
        if self._chains.store is None:
            return ChainResult(None, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "no trust anchors")
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
        chain = tuple(certificate_facts(certificate_der(c)) for c in verified.chain)
        return ChainResult(chain, None, None)

    def _classify_failure(
        self,
        leaf: CertificateFacts,
        intermediates: tuple[CertificateFacts, ...],
        at: dt.datetime,
        detail: str,
    ) -> ChainResult:
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
                        return ChainResult(None, SubIndication.OUT_OF_BOUNDS_NO_POE, detail)
                    for inter in intermediates:
                        c = inter.cert
                        if not c.not_valid_before_utc <= at <= c.not_valid_after_utc:
                            return ChainResult(None, SubIndication.OUT_OF_BOUNDS_NO_POE, detail)
                    return ChainResult(None, SubIndication.CHAIN_CONSTRAINTS_FAILURE, detail)
        return ChainResult(None, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, detail)


class _ChainCache:
    """Chain-validation results for one set of anchors: they depend on nothing else (CRLs
    are applied afterwards), so every TrustStore with these anchors shares them."""

    def __init__(self, anchors: tuple[x509.Certificate, ...]):
        self.store = Store(list(anchors)) if anchors else None
        self.results: OrderedDict[tuple[Any, ...], ChainResult] = OrderedDict()
        # Paths that validated, by (leaf, intermediates), with the span of time in which
        # every certificate of the path is valid: a validation at another time inside it has
        # the same result (nothing else in path validation depends on the time), which is
        # what validation at each signature's own trusted time needs (issue 17).
        self.spans: OrderedDict[tuple[Any, ...], tuple[dt.datetime, dt.datetime, ChainResult]] = (
            OrderedDict()
        )
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
class ChainResult:
    """A validated path (leaf first, anchor last), or why there is none."""

    chain: tuple[CertificateFacts, ...] | None
    failure: SubIndication | None
    detail: str | None


@dataclass(frozen=True)
class _CrlFacts:
    crl: x509.CertificateRevocationList
    issuer_der: bytes
    entries: tuple[tuple[int, RevokedEntry], ...]  # (serial number, revocation) per entry


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
        entries.append((entry.serial_number, RevokedEntry(entry.revocation_date_utc, reason)))
    return _CrlFacts(crl, issuer, tuple(entries))


def _crl_signature_valid(facts: _CrlFacts, anchor_der: bytes) -> bool:
    try:
        return facts.crl.is_signature_valid(certificate_facts(anchor_der).public_key)
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
