"""Verification of RFC 3161 timestamp tokens (issue 17): the TSA's signature over the TSTInfo,
its certificate (critical id-kp-timeStamping only, a path to the trust store at the token's
genTime, not revoked before it) and the message imprint. Pure: the validation time comes in
as a parameter."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from signing._util import CERT_ERRORS, certificate_der, load_der_certificate, utc
from signing.errors import SigningError
from signing.validation.certificates import certificate_facts
from signing.validation.cms_reader import certificate_ders
from signing.validation.status import Finding, Indication, SubIndication, TimestampInfo
from signing.validation.trust import TrustStore

__all__ = [
    "HASH_ALGORITHMS",
    "TimestampReport",
    "has_tsa_usage",
    "reused_serials",
    "verify_token",
]

# Message imprints the TSA accepts, with their digest lengths.
HASH_ALGORITHMS: dict[str, int] = {"sha256": 32, "sha384": 48, "sha512": 64}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_MAX_TOKEN_BYTES = 1024 * 1024


def has_tsa_usage(cert: x509.Certificate) -> bool:
    """RFC 3161 §2.3: extended key usage id-kp-timeStamping and nothing else, critical."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return False
    except CERT_ERRORS:
        return False
    return ext.critical and list(ext.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


_MESSAGES: dict[SubIndication | None, str] = {
    None: "Dấu thời gian hợp lệ",
    SubIndication.FORMAT_FAILURE: "Dấu thời gian không đúng định dạng RFC 3161",
    SubIndication.HASH_FAILURE: "Dấu thời gian không khớp với dữ liệu được đóng dấu",
    SubIndication.SIG_CRYPTO_FAILURE: "Chữ ký của đơn vị cấp dấu thời gian không hợp lệ",
    SubIndication.NO_SIGNING_CERTIFICATE_FOUND: (
        "Không tìm thấy chứng thư số của đơn vị cấp dấu thời gian"
    ),
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: (
        "Đơn vị cấp dấu thời gian không do tổ chức chứng thực tin cậy cấp chứng thư"
    ),
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: (
        "Chứng thư số không được phép dùng để cấp dấu thời gian"
    ),
    SubIndication.SIG_CONSTRAINTS_FAILURE: "Dấu thời gian không đáp ứng yêu cầu",
    SubIndication.REVOKED: "Chứng thư số của đơn vị cấp dấu thời gian đã bị thu hồi",
    SubIndication.OUT_OF_BOUNDS_NO_POE: (
        "Chứng thư số của đơn vị cấp dấu thời gian không còn hiệu lực tại thời điểm kiểm tra"
    ),
}

_FAILED = {
    SubIndication.FORMAT_FAILURE,
    SubIndication.HASH_FAILURE,
    SubIndication.SIG_CRYPTO_FAILURE,
    SubIndication.REVOKED,
}


@dataclass(frozen=True)
class TimestampReport:
    """What a timestamp token proves: its verdict and, when it could be read, the time,
    serial, policy and TSA it names. ``message`` is Vietnamese; ``detail`` English."""

    indication: Indication
    sub_indication: SubIndication | None
    message: str
    gen_time: dt.datetime | None = None
    serial: int | None = None
    policy: str | None = None
    tsa_name: str | None = None
    hash_algorithm: str | None = None
    nonce: int | None = None
    detail: str | None = None

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    @property
    def finding(self) -> Finding:
        return (self.indication, self.sub_indication)

    def info(self) -> TimestampInfo:
        """What a signature's report shows of this timestamp."""
        return TimestampInfo(
            indication=self.indication,
            sub_indication=self.sub_indication,
            message=self.message,
            gen_time=self.gen_time,
            tsa_name=self.tsa_name,
            serial=self.serial,
            policy=self.policy,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.info().to_dict(),
            "detail": self.detail,
            "hash_algorithm": self.hash_algorithm,
        }


class _Failure(Exception):
    def __init__(self, sub: SubIndication, detail: str) -> None:
        super().__init__(detail)
        self.sub = sub
        self.detail = detail


@dataclass(frozen=True)
class _Token:
    info: tsp.TSTInfo
    tst_der: bytes
    signer_info: cms.SignerInfo
    certificates: tuple[bytes, ...]
    # The signed attributes as the SET the TSA signed, taken before anything is parsed:
    # asn1crypto re-encodes a structure whose parts were read, at great cost.
    signed_attrs_der: bytes


def verify_token(
    token_der: bytes, trust: TrustStore, *, digest: bytes, at: dt.datetime
) -> TimestampReport:
    """Check a TimeStampToken for ``digest`` as of ``at``: the TSA's signature over the
    TSTInfo, its certificate (critical timeStamping EKU, a chain to ``trust`` valid at the
    token's genTime, not revoked before it, still valid at ``at``) and the message imprint."""
    when = utc(at, "at")
    facts: dict[str, Any] = {}
    try:
        token = _parse(token_der)
        info = token.info
        facts = {
            "gen_time": info["gen_time"].native,
            "serial": info["serial_number"].native,
            "policy": info["policy"].dotted,
            "hash_algorithm": info["message_imprint"]["hash_algorithm"]["algorithm"].native,
            "nonce": info["nonce"].native,
        }
        _check_imprint(info, digest)
        cert = _check_signature(token)
        facts["tsa_name"] = cert.subject.rfc4514_string()
        _check_certificate(cert, token, trust, info["gen_time"].native, when)
    except _Failure as failure:
        indication = Indication.TOTAL_FAILED if failure.sub in _FAILED else Indication.INDETERMINATE
        return TimestampReport(
            indication,
            failure.sub,
            _MESSAGES[failure.sub],
            detail=failure.detail,
            **facts,
        )
    return TimestampReport(Indication.TOTAL_PASSED, None, _MESSAGES[None], **facts)


def _parse(token_der: bytes) -> _Token:
    if not isinstance(token_der, bytes) or len(token_der) > _MAX_TOKEN_BYTES:
        raise _Failure(SubIndication.FORMAT_FAILURE, "token is not bytes or too large")
    try:
        content_info = cms.ContentInfo.load(token_der, strict=True)
        if content_info["content_type"].native != "signed_data":
            raise _Failure(SubIndication.FORMAT_FAILURE, "not a SignedData")
        signed = content_info["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].native != "tst_info" or isinstance(encap["content"], core.Void):
            raise _Failure(SubIndication.FORMAT_FAILURE, "content is not an id-ct-TSTInfo")
        tst_der = encap["content"].contents
        info = tsp.TSTInfo.load(tst_der, strict=True)
        # Read every field the checks use now, so a damaged one fails here and not later;
        # the rest (accuracy, ordering, extensions) is never read, nor parsed.
        for name in ("version", "policy", "message_imprint", "serial_number", "gen_time"):
            _ = info[name].native
        _ = info["nonce"].native
        signer_infos = signed["signer_infos"]
        if len(signer_infos) != 1:
            raise _Failure(SubIndication.FORMAT_FAILURE, "a token has exactly one SignerInfo")
        signer_info = signer_infos[0]
        attrs = signer_info["signed_attrs"]
        absent = isinstance(attrs, core.Void)
        signed_attrs_der = b"" if absent else b"\x31" + attrs.dump()[1:]
        cert_set = signed["certificates"]
        certificates = tuple(certificate_ders(cert_set))
        return _Token(info, tst_der, signer_info, certificates, signed_attrs_der)
    except (ValueError, TypeError, KeyError) as exc:
        raise _Failure(SubIndication.FORMAT_FAILURE, f"token unreadable: {exc}") from None


def _check_imprint(info: tsp.TSTInfo, digest: bytes) -> None:
    algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"].native
    if algorithm not in HASH_ALGORITHMS:
        raise _Failure(SubIndication.FORMAT_FAILURE, f"unsupported imprint hash {algorithm}")
    if info["message_imprint"]["hashed_message"].native != digest:
        raise _Failure(SubIndication.HASH_FAILURE, "message imprint differs from the digest")


def _attribute(signer_info: cms.SignerInfo, name: str) -> Any:
    values = [a["values"] for a in signer_info["signed_attrs"] if a["type"].native == name]
    if len(values) != 1 or len(values[0]) != 1:
        raise _Failure(SubIndication.FORMAT_FAILURE, f"signed attribute {name} missing or repeated")
    return values[0][0]


def _check_signature(token: _Token) -> x509.Certificate:
    signer_info = token.signer_info
    try:
        digest_name = signer_info["digest_algorithm"]["algorithm"].native
        if digest_name not in _HASHES:
            raise _Failure(SubIndication.FORMAT_FAILURE, f"unsupported digest {digest_name}")
        if _attribute(signer_info, "content_type").native != "tst_info":
            raise _Failure(SubIndication.FORMAT_FAILURE, "content-type attribute is not TSTInfo")
        expected = hashlib.new(digest_name, token.tst_der).digest()
        if _attribute(signer_info, "message_digest").native != expected:
            raise _Failure(SubIndication.HASH_FAILURE, "message-digest does not match TSTInfo")
        ess = _attribute(signer_info, "signing_certificate_v2")
        cert_der = _find_certificate(signer_info, token.certificates)
        first = ess["certs"][0]
        ess_hash = first["hash_algorithm"]["algorithm"].native
        if ess_hash not in _HASHES or hashlib.new(ess_hash, cert_der).digest() != (
            first["cert_hash"].native
        ):
            raise _Failure(
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                "signing-certificate-v2 does not name the certificate that signed",
            )
        to_verify = token.signed_attrs_der  # the SET OF, not its [0] IMPLICIT tag
        signature = signer_info["signature"].native
        algo = signer_info["signature_algorithm"].signature_algo
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise _Failure(SubIndication.FORMAT_FAILURE, f"SignerInfo unreadable: {exc}") from None
    try:
        cert = load_der_certificate(cert_der)
        key = cert.public_key()
        chosen = _HASHES[digest_name]()
        if isinstance(key, ec.EllipticCurvePublicKey) and algo == "ecdsa":
            key.verify(signature, to_verify, ec.ECDSA(chosen))
        elif isinstance(key, rsa.RSAPublicKey) and algo == "rsassa_pkcs1v15":
            key.verify(signature, to_verify, padding.PKCS1v15(), chosen)
        else:
            raise _Failure(SubIndication.FORMAT_FAILURE, f"signature algorithm {algo} unsupported")
    except (InvalidSignature, ValueError, UnsupportedAlgorithm, SigningError):
        raise _Failure(SubIndication.SIG_CRYPTO_FAILURE, "TSA signature does not verify") from None
    return cert


@lru_cache(maxsize=256)
def _identifiers(der: bytes) -> tuple[bytes, a_x509.Name, int, bytes | None]:
    """(issuer DER, issuer, serial, subject key identifier) of a certificate, read once per
    encoding: a TSA's few certificates come with every one of its tokens."""
    a_cert = a_x509.Certificate.load(der)
    issuer = a_cert.issuer
    return issuer.dump(), issuer, a_cert.serial_number, a_cert.key_identifier


def _find_certificate(signer_info: cms.SignerInfo, certificates: tuple[bytes, ...]) -> bytes:
    sid = signer_info["sid"]
    by_issuer = sid.name == "issuer_and_serial_number"
    wanted = (sid.chosen["issuer"], sid.chosen["serial_number"].native) if by_issuer else None
    wanted_der = wanted[0].dump() if wanted is not None else b""
    for der in certificates:
        issuer_der, issuer, serial, key_id = _identifiers(der)
        if wanted is not None:
            # The exact encoding first; comparing names by meaning (RFC 5280 string
            # preparation) costs more than the rest of the lookup.
            if wanted[1] == serial and (wanted_der == issuer_der or wanted[0] == issuer):
                return der
        elif sid.chosen.native == key_id:
            return der
    raise _Failure(SubIndication.NO_SIGNING_CERTIFICATE_FOUND, "no certificate matches the sid")


def _eku_callback(policy: object, cert: x509.Certificate, eku: x509.ExtendedKeyUsage) -> None:
    if list(eku) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise ValueError("extended key usage is not timeStamping only")


_TSA_EE_POLICY = (
    ExtensionPolicy.webpki_defaults_ee()
    .require_present(x509.ExtendedKeyUsage, Criticality.CRITICAL, _eku_callback)
    .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
)


def _check_certificate(
    cert: x509.Certificate,
    token: _Token,
    trust: TrustStore,
    gen_time: dt.datetime,
    at: dt.datetime,
) -> None:
    if not has_tsa_usage(cert):
        raise _Failure(
            SubIndication.CHAIN_CONSTRAINTS_FAILURE,
            "certificate lacks the critical timeStamping-only extended key usage",
        )
    anchors = list(trust.anchors)
    if not anchors:
        raise _Failure(SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "no trust anchors")
    leaf_der = certificate_der(cert)
    other_ders = tuple(d for d in token.certificates if d != leaf_der)
    key = (leaf_der, other_ders, tuple(certificate_der(a) for a in anchors))
    window = _PATHS.get(key)
    try:
        if window is None or not window[0] <= gen_time <= window[1]:
            _remember_path(key, _verify_path(cert, other_ders, anchors, gen_time))
    except VerificationError as exc:
        issued_by_anchor = any(cert.issuer == a.subject and _issued_by(cert, a) for a in anchors)
        if issued_by_anchor and not (
            cert.not_valid_before_utc <= gen_time <= cert.not_valid_after_utc
        ):
            sub = SubIndication.OUT_OF_BOUNDS_NO_POE
        elif issued_by_anchor:
            sub = SubIndication.CHAIN_CONSTRAINTS_FAILURE
        else:
            sub = SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        raise _Failure(sub, f"TSA certificate path: {exc}") from None
    revoked = trust.revocation(certificate_facts(leaf_der))
    if revoked is not None and revoked.revoked_at <= gen_time:
        raise _Failure(SubIndication.REVOKED, "TSA certificate revoked before genTime")
    if gen_time > at:
        raise _Failure(
            SubIndication.SIG_CONSTRAINTS_FAILURE, "genTime is after the validation time"
        )
    if at > cert.not_valid_after_utc:
        raise _Failure(SubIndication.OUT_OF_BOUNDS_NO_POE, "TSA certificate expired before `at`")


# Paths already built, by (leaf, other certificates, anchors) -> the window of time in which
# every certificate of the path is valid. Building a path with cryptography's verifier costs
# more than the rest of a token's check, and a TSA's path is the same for all its tokens;
# nothing but the validity periods depends on the time (revocation is checked apart).
_PATHS: dict[tuple[bytes, tuple[bytes, ...], tuple[bytes, ...]], tuple[dt.datetime, dt.datetime]]
_PATHS = {}
_PATHS_MAX = 256


def _verify_path(
    cert: x509.Certificate,
    other_ders: tuple[bytes, ...],
    anchors: list[x509.Certificate],
    gen_time: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    verifier = (
        PolicyBuilder()
        .store(Store(anchors))
        .time(gen_time)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_TSA_EE_POLICY
        )
        .build_client_verifier()
    )
    chain = verifier.verify(cert, [load_der_certificate(d) for d in other_ders]).chain
    return (
        max(c.not_valid_before_utc for c in chain),
        min(c.not_valid_after_utc for c in chain),
    )


def _remember_path(
    key: tuple[bytes, tuple[bytes, ...], tuple[bytes, ...]],
    window: tuple[dt.datetime, dt.datetime],
) -> None:
    if len(_PATHS) >= _PATHS_MAX:
        _PATHS.clear()
    _PATHS[key] = window


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature, ValueError, TypeError alike
        return False
    return True


def reused_serials(stamps: Iterable[TimestampInfo]) -> list[tuple[str, int]]:
    """(TSA, serial) pairs that name more than one of ``stamps``: RFC 3161 §2.4.2 makes a
    serial unique per TSA, so a repeat is a TSA that is broken or a token that was forged
    or copied from elsewhere."""
    seen = Counter(
        (s.tsa_name, s.serial) for s in stamps if s.tsa_name is not None and s.serial is not None
    )
    return sorted((str(tsa), int(serial)) for (tsa, serial), n in seen.items() if n > 1)
