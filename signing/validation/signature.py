"""Validation of one detached CMS signature, reported the ETSI EN 319 102-1 way.

The steps run in the order of EN 319 102-1's basic validation: format, identification of
the signing certificate, the digest algorithm, the signed attributes, integrity (message
digest), the signature value, acceptance against the caller's expectations (registered
certificate), X.509 validation at the caller's validation time (validity period, key
usages, chain to a trust anchor), revocation from the anchors' CRLs, then the unit the
signature is expected from. Format and identification give the parsed signature and the
signer's certificate (or the report that ends the validation); every later step returns
None (go on) or the report that ends it, and leaves what it learns for the next ones on
the ``_Validation``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from cryptography import x509

from signing._util import certificate_der, utc
from signing.errors import FormatError, SigningError
from signing.validation.attributes import read_signed_attributes
from signing.validation.certificates import (
    CertificateFacts,
    certificate_facts,
    matches_sid_by_meaning,
    matches_sid_exactly,
)
from signing.validation.cms_reader import SIGNATURE_TIMESTAMP, ParsedSignature, read_signed_data
from signing.validation.crypto import (
    DIGESTS,
    WEAK_DIGESTS,
    DocumentDigests,
    check_signature_value,
)
from signing.validation.status import (
    Indication,
    SignatureReport,
    SubIndication,
    TimestampInfo,
)
from signing.validation.status import message as message_for
from signing.validation.timestamp import verify_token
from signing.validation.trust import TrustStore

__all__ = ["MAX_SIGNATURE_BYTES", "check_trust", "verify_signature", "verify_with_digests"]

MAX_SIGNATURE_BYTES = 1024 * 1024

_FAILED = Indication.TOTAL_FAILED
_INDET = Indication.INDETERMINATE
_LINK = attrgetter("link")


def verify_signature(
    data: bytes,
    signature_der: bytes,
    trust: TrustStore | None,
    *,
    at: dt.datetime,
    expected_certificate: x509.Certificate | None = None,
    expected_unit_code: str | None = None,
    proven_at: dt.datetime | None = None,
) -> SignatureReport:
    """Validate one detached CMS signature over ``data`` at validation time ``at``.

    Proof of existence (issue 17): a signature-time-stamp (CAdES-T) that passes proves the
    signature existed at its time, and ``proven_at`` (an archive timestamp over the bundle
    that holds these signature bytes) at that time; the earliest is the trusted time. A
    certificate that expired or was revoked after the trusted time then still passes; one
    revoked before it fails; without any, an expired certificate is INDETERMINATE /
    OUT_OF_BOUNDS_NO_POE. The timestamp tokens are judged as of ``proven_at`` when given
    (the archive timestamp vouches for them then), else as of ``at``.

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
    check_trust(trust)
    return verify_with_digests(
        DocumentDigests(bytes(data)),
        signature_der,
        trust,
        at,
        expected_certificate,
        expected_unit_code,
        proven_at=None if proven_at is None else utc(proven_at, "proven_at"),
    )


def check_trust(trust: object) -> None:
    if trust is not None and not isinstance(trust, TrustStore):
        raise SigningError("trust must be a TrustStore or None")


def verify_with_digests(
    digests: DocumentDigests,
    signature_der: object,
    trust: TrustStore | None,
    at: dt.datetime,
    expected_certificate: x509.Certificate | None,
    expected_unit_code: str | None,
    *,
    proven_at: dt.datetime | None = None,
) -> SignatureReport:
    """verify_signature over a document whose digests the caller holds (the arguments
    already checked: ``at`` and ``proven_at`` in UTC, ``trust`` a TrustStore or None)."""
    read = _check_format(signature_der, at)
    if isinstance(read, SignatureReport):
        return read
    parsed, embedded = read
    expected = None
    if expected_certificate is not None:
        expected = certificate_facts(certificate_der(expected_certificate))
    signer = _identify_signer(parsed, embedded, expected)
    if signer is None:
        return _report(
            at,
            _INDET,
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
            detail="no certificate in the signature matches its signer identifier",
        )
    state = _Validation(
        digests, trust, at, expected_unit_code, expected, parsed, embedded, signer, proven_at
    )
    for step in _STEPS:
        report = step(state)
        if report is not None:
            return report
    return state.report(Indication.TOTAL_PASSED, None)


def _report(
    at: dt.datetime, indication: Indication, sub: SubIndication, *, detail: str
) -> SignatureReport:
    """A report made before the signer is known."""
    return SignatureReport(
        indication=indication,
        sub_indication=sub,
        message=message_for(sub),
        validation_time=at,
        detail=detail,
    )


def _check_format(
    signature_der: object, at: dt.datetime
) -> tuple[ParsedSignature, tuple[CertificateFacts, ...]] | SignatureReport:
    """A readable CMS SignedData of reasonable size, with readable certificates."""
    failure = SubIndication.FORMAT_FAILURE
    if not isinstance(signature_der, bytes | bytearray | memoryview):
        return _report(at, _FAILED, failure, detail="signature is not bytes")
    der = bytes(signature_der)
    if not der:
        return _report(at, _FAILED, failure, detail="empty signature")
    if len(der) > MAX_SIGNATURE_BYTES:
        return _report(at, _FAILED, failure, detail="signature too large")
    try:
        parsed = read_signed_data(der)
        return parsed, tuple(map(certificate_facts, parsed.certificates))
    except FormatError as exc:
        return _report(at, _FAILED, failure, detail=str(exc))


def _identify_signer(
    parsed: ParsedSignature,
    embedded: tuple[CertificateFacts, ...],
    expected: CertificateFacts | None,
) -> CertificateFacts | None:
    """The certificate the signer identifier names: among the embedded ones, else the
    registered one (a signature made with ``-nocerts``)."""
    sid = parsed.sid_der
    # Exact encodings first: the usual case costs a dictionary lookup per certificate, and
    # the slower comparison by meaning runs only for signatures from other encoders.
    for facts in embedded:
        if matches_sid_exactly(sid, facts):
            return facts
    for facts in embedded:
        if matches_sid_by_meaning(sid, facts):
            return facts
    if expected is not None and (
        matches_sid_exactly(sid, expected) or matches_sid_by_meaning(sid, expected)
    ):
        return expected
    return None


@dataclass(slots=True)
class _Validation:
    """What the steps after the signer's identification are given, and what they learn
    for the steps after them."""

    digests: DocumentDigests
    trust: TrustStore | None
    at: dt.datetime
    expected_unit_code: str | None
    expected: CertificateFacts | None
    parsed: ParsedSignature
    embedded: tuple[CertificateFacts, ...]
    signer: CertificateFacts
    proven_at: dt.datetime | None = None
    signing_time: dt.datetime | None = None
    content_digest: bytes = b""
    chain: tuple[CertificateFacts, ...] = ()
    revocation_checked: bool = False
    timestamps: tuple[TimestampInfo, ...] = ()
    # The earliest time something proves the signature existed (POE), if anything does.
    poe: dt.datetime | None = None
    certificate_state: str | None = None

    def report(
        self,
        indication: Indication,
        sub: SubIndication | None,
        *,
        detail: str | None = None,
        message: str | None = None,
    ) -> SignatureReport:
        return SignatureReport(
            indication=indication,
            sub_indication=sub,
            message=message or message_for(sub),
            validation_time=self.at,
            signer=self.signer.signer,
            signing_time=self.signing_time,
            chain=tuple(map(_LINK, self.chain)),
            revocation_checked=self.revocation_checked,
            detail=detail,
            timestamps=self.timestamps,
            trusted_time=self.poe,
            certificate_state=self.certificate_state,
        )


Step = Callable[[_Validation], SignatureReport | None]


def _check_digest_algorithm(state: _Validation) -> SignatureReport | None:
    """A digest algorithm still acceptable; the document's digest under it."""
    name = state.parsed.digest_name
    if name in WEAK_DIGESTS:
        return state.report(
            _INDET,
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
            detail=f"digest algorithm {name} is no longer acceptable",
        )
    if name not in DIGESTS:
        return state.report(
            _FAILED, SubIndication.FORMAT_FAILURE, detail=f"unsupported digest algorithm {name}"
        )
    state.content_digest = state.digests.get(name)
    return None


def _check_signed_attributes(state: _Validation) -> SignatureReport | None:
    """Integrity: the signed attributes are well formed, their ESS signing-certificate
    names the signer's certificate, and their message digest is the document's."""
    parsed = state.parsed
    if parsed.signed_bytes is None:
        return None  # the signature value then covers the content itself
    try:
        signing_time, message_digest, ess_problem = read_signed_attributes(
            parsed.attrs, state.signer
        )
    except FormatError as exc:
        return state.report(_FAILED, SubIndication.FORMAT_FAILURE, detail=str(exc))
    state.signing_time = signing_time
    if ess_problem:
        return state.report(_INDET, SubIndication.NO_SIGNING_CERTIFICATE_FOUND, detail=ess_problem)
    if message_digest != state.content_digest:
        return state.report(
            _FAILED,
            SubIndication.HASH_FAILURE,
            detail="message-digest attribute differs from the document's hash",
        )
    return None


def _check_signature_value(state: _Validation) -> SignatureReport | None:
    parsed = state.parsed
    problem = check_signature_value(parsed, state.signer.public_key, state.content_digest)
    if problem is None:
        return None
    sub, detail = problem
    indication = _INDET if sub is SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE else _FAILED
    if parsed.signed_bytes is None and sub is SubIndication.SIG_CRYPTO_FAILURE:
        # Without signed attributes the signature is over the content itself, so a
        # changed document shows up here; say so in the detail.
        detail = f"{detail} (no signed attributes: document changed or signature broken)"
    return state.report(indication, sub, detail=detail)


_MAX_TIMESTAMPS = 8


def _check_signature_timestamps(state: _Validation) -> SignatureReport | None:
    """CAdES-T: each signature-time-stamp must be a token over this signature's value from a
    trusted TSA. A token that fails ends the validation with its own verdict (a token over
    other bytes is HASH_FAILURE; a foreign TSA, NO_CERTIFICATE_CHAIN_FOUND): a timestamp
    that does not hold must not pass unnoticed. The passed tokens' earliest time and
    ``proven_at`` give the proof of existence the later steps use."""
    tokens = state.parsed.unsigned.get(SIGNATURE_TIMESTAMP, ())
    poe = state.proven_at
    if not tokens or state.trust is None:
        # Without trust anchors nothing is proven; _check_chain says so.
        state.poe = poe
        return None
    if len(tokens) > _MAX_TIMESTAMPS:
        return state.report(
            _FAILED, SubIndication.FORMAT_FAILURE, detail=f"more than {_MAX_TIMESTAMPS} timestamps"
        )
    digest = hashlib.sha256(state.parsed.signature).digest()
    judged_at = state.at if state.proven_at is None else min(state.at, state.proven_at)
    reports = [verify_token(token, state.trust, digest=digest, at=judged_at) for token in tokens]
    state.timestamps = tuple(r.info() for r in reports)
    for report in reports:
        if not report.passed:
            return state.report(
                report.indication,
                report.sub_indication,
                message=f"Dấu thời gian của chữ ký: {report.message}",
                detail=f"signature timestamp: {report.detail}",
            )
        assert report.gen_time is not None
        if state.signing_time is not None and state.signing_time > report.gen_time:
            return state.report(
                _INDET,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                message="Thời điểm ký khai báo muộn hơn dấu thời gian của chữ ký",
                detail="signing-time is after the signature timestamp's genTime",
            )
        poe = report.gen_time if poe is None else min(poe, report.gen_time)
    state.poe = poe
    return None


def _check_expected_certificate(state: _Validation) -> SignatureReport | None:
    """Acceptance: made with the certificate registered for the signer, if one is."""
    expected, signer = state.expected, state.signer
    if expected is None or expected.der == signer.der:
        return None
    return state.report(
        _INDET,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
        message="Chữ ký không được tạo bằng chứng thư số đã đăng ký cho người ký",
        detail=f"signed with certificate {signer.sha256}, expected {expected.sha256}",
    )


def _check_validity_period(state: _Validation) -> SignatureReport | None:
    """The certificate was valid when signed (as claimed) and at the validation time."""
    # The validity period as read once into the certificate's facts (cryptography builds a
    # new datetime on every access of not_valid_*_utc).
    info = state.signer.signer
    not_before, not_after = info.not_before, info.not_after
    signing_time, at = state.signing_time, state.at
    if signing_time is not None and signing_time < not_before:
        return state.report(
            _FAILED,
            SubIndication.NOT_YET_VALID,
            message="Chứng thư số chưa có hiệu lực tại thời điểm ký",
            detail="signing time precedes the certificate's notBefore",
        )
    if signing_time is not None and signing_time > not_after:
        return state.report(
            _FAILED,
            SubIndication.EXPIRED,
            detail="signing time is after the certificate's notAfter",
        )
    if at < not_before:
        return state.report(
            _INDET,
            SubIndication.NOT_YET_VALID,
            message="Chứng thư số chưa có hiệu lực tại thời điểm kiểm tra",
            detail="validation time precedes the certificate's notBefore",
        )
    if at > not_after:
        poe = state.poe
        if poe is not None and not_before <= poe <= not_after:
            state.certificate_state = "expired_after_poe"
            return None
        state.certificate_state = "expired_no_poe"
        return state.report(
            _INDET,
            SubIndication.OUT_OF_BOUNDS_NO_POE,
            detail="certificate expired before the validation time"
            + ("" if poe is None else f", and the trusted time {poe.isoformat()} is after"),
        )
    state.certificate_state = "valid"
    return None


def _check_key_usages(state: _Validation) -> SignatureReport | None:
    signer = state.signer
    if not signer.key_usage_ok:
        return state.report(
            _INDET,
            SubIndication.CHAIN_CONSTRAINTS_FAILURE,
            detail="key usage allows neither digitalSignature nor contentCommitment",
        )
    if not signer.eku_ok:
        return state.report(
            _INDET,
            SubIndication.CHAIN_CONSTRAINTS_FAILURE,
            detail="extended key usage does not allow document signing",
        )
    return None


def _check_chain(state: _Validation) -> SignatureReport | None:
    """X.509 validation at ``at``: a path from the signer to one of the trust anchors."""
    trust, signer = state.trust, state.signer
    if trust is None:
        return state.report(
            _INDET, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, detail="no trust anchors given"
        )
    intermediates = tuple(f for f in state.embedded if f.der != signer.der)
    # Past validation: with proof that the signature existed earlier, the path is judged
    # at that time (a certificate or CA that expired since does not undo the signature).
    when = state.at if state.poe is None else min(state.at, state.poe)
    result = trust.validate_chain(signer, intermediates, when)
    if result.chain is None:
        sub = result.failure or SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        return state.report(_INDET, sub, detail=result.detail)
    state.chain = result.chain
    return None


def _check_revocation(state: _Validation) -> SignatureReport | None:
    """From the anchors' CRLs, for every certificate below the anchor. Revoked after the
    claimed signing time is REVOKED_NO_POE: nothing proves the signature came first."""
    trust, chain, at = state.trust, state.chain, state.at
    assert trust is not None  # _check_chain ended the validation otherwise
    state.revocation_checked = trust.has_crls_for(chain[:-1])
    for link in chain[:-1]:
        revoked = trust.revocation(link)
        if revoked is None or revoked.revoked_at > at:
            continue
        reason = f" ({revoked.reason})" if revoked.reason else ""
        detail = f"certificate {link.sha256} revoked at {revoked.revoked_at.isoformat()}{reason}"
        state.revocation_checked = True
        if state.poe is not None and state.poe < revoked.revoked_at:
            state.certificate_state = "revoked_after_poe"
            continue
        if state.poe is not None:
            state.certificate_state = "revoked"
            return state.report(_FAILED, SubIndication.REVOKED, detail=detail)
        if state.signing_time is not None and state.signing_time < revoked.revoked_at:
            state.certificate_state = "revoked_no_poe"
            return state.report(_INDET, SubIndication.REVOKED_NO_POE, detail=detail)
        state.certificate_state = "revoked"
        return state.report(_FAILED, SubIndication.REVOKED, detail=detail)
    return None


def _check_expected_unit(state: _Validation) -> SignatureReport | None:
    """The certificate names the unit whose slot this signature fills (a registered
    external certificate without a unit code stands for its unit)."""
    wanted, signer = state.expected_unit_code, state.signer
    got = signer.signer.unit_code
    if wanted is None or got == wanted:
        return None
    registered = state.expected is not None and state.expected.der == signer.der
    if got is None and registered:
        return None
    return state.report(
        _INDET,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
        message=(
            f"Chữ ký không phải của đơn vị {wanted} "
            f"(chứng thư số ghi mã đơn vị: {got or 'không có'})"
        ),
        detail=f"certificate unit code {got!r} != expected {wanted!r}",
    )


_STEPS: tuple[Step, ...] = (
    _check_digest_algorithm,
    _check_signed_attributes,
    _check_signature_value,
    _check_signature_timestamps,
    _check_expected_certificate,
    _check_validity_period,
    _check_key_usages,
    _check_chain,
    _check_revocation,
    _check_expected_unit,
)
