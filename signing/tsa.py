"""An RFC 3161 timestamp authority and the verifier of its tokens (issue 17, first slice).

Pure: the time of a timestamp and its serial number come in as parameters (the workflow
stores serials so they never repeat); no clock, no database. The token is a CMS SignedData
over a TSTInfo with the signed attributes content-type, message-digest and ESS
signing-certificate-v2, signed by a ``Signer`` whose certificate carries the critical
id-kp-timeStamping extended key usage (``CertificateAuthority.issue_tsa``).

The verifier (``verify_token``, ``TimestampReport``) lives in
signing/validation/timestamp.py and is re-exported here. From signing/cms.py only
``signer_parts`` fits: ``signed_attributes`` and ``content_info`` write the content type
id-data and a detached content, while a token carries id-ct-TSTInfo and encapsulates it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import ClassVar, Protocol, runtime_checkable

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as a_x509
from cryptography import x509

from signing._util import certificate_der, utc
from signing.cms import signer_parts
from signing.errors import SigningError
from signing.signers import Signer
from signing.validation.timestamp import (
    HASH_ALGORITHMS,
    TimestampReport,
    has_tsa_usage,
    verify_token,
)

__all__ = [
    "HASH_ALGORITHMS",
    "MAX_REQUEST_BYTES",
    "AuthorityTimestamper",
    "TimeStampAuthority",
    "TimestampReport",
    "Timestamper",
    "make_request",
    "verify_token",
]

MAX_REQUEST_BYTES = 16 * 1024


def _check_digest(digest: object, hash_algorithm: str) -> bytes:
    size = HASH_ALGORITHMS.get(hash_algorithm)
    if size is None:
        raise SigningError(f"thuật toán băm không được hỗ trợ: {hash_algorithm!r}")
    if not isinstance(digest, bytes) or len(digest) != size:
        raise SigningError(f"giá trị băm {hash_algorithm} phải là {size} byte")
    return digest


def _check_nonce(nonce: object) -> int | None:
    if nonce is None:
        return None
    if not isinstance(nonce, int) or isinstance(nonce, bool) or nonce < 0:
        raise SigningError("nonce phải là số nguyên không âm")
    return nonce


def make_request(
    digest: bytes, *, nonce: int | None, cert_req: bool = True, hash_algorithm: str = "sha256"
) -> bytes:
    """DER TimeStampReq (RFC 3161 §2.4.1) for a message imprint ``digest``."""
    _check_digest(digest, hash_algorithm)
    fields: dict[str, object] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": hash_algorithm},
            "hashed_message": digest,
        },
        "cert_req": bool(cert_req),
    }
    if _check_nonce(nonce) is not None:
        fields["nonce"] = nonce
    der: bytes = tsp.TimeStampReq(fields).dump()
    return der


class TimeStampAuthority:
    """Answers timestamp requests with tokens signed by ``signer`` under ``policy_oid``."""

    def __init__(self, signer: Signer, policy_oid: str) -> None:
        if not isinstance(signer, Signer):
            raise SigningError("TSA cần một Signer")
        if not has_tsa_usage(signer.certificate):
            raise SigningError(
                "chứng thư số của TSA phải có mục đích sử dụng timeStamping (duy nhất, critical)"
            )
        try:
            self._policy = str(core.ObjectIdentifier(policy_oid).dotted)
        except (ValueError, TypeError):
            raise SigningError(f"OID chính sách không hợp lệ: {policy_oid!r}") from None
        self._signer = signer
        self._cert_der = certificate_der(signer.certificate)
        self._chain_ders = tuple(certificate_der(c) for c in signer.chain)
        self._tsa_name = a_x509.GeneralName(
            "directory_name", a_x509.Certificate.load(self._cert_der).subject
        )

    @property
    def policy_oid(self) -> str:
        return self._policy

    @property
    def certificate(self) -> x509.Certificate:
        return self._signer.certificate

    def stamp(
        self,
        digest: bytes,
        *,
        hash_algorithm: str = "sha256",
        nonce: int | None,
        serial: int,
        at: dt.datetime,
        cert_req: bool = True,
    ) -> bytes:
        """The DER TimeStampToken (ContentInfo SignedData over a TSTInfo) for ``digest``
        at time ``at`` with serial number ``serial``."""
        _check_digest(digest, hash_algorithm)
        if not isinstance(serial, int) or isinstance(serial, bool) or serial <= 0:
            raise SigningError("số sê-ri của dấu thời gian phải là số nguyên dương")
        fields: dict[str, object] = {
            "version": "v1",
            "policy": self._policy,
            "message_imprint": {
                "hash_algorithm": {"algorithm": hash_algorithm},
                "hashed_message": digest,
            },
            "serial_number": serial,
            # GeneralizedTime to the second, no fraction (RFC 3161 §2.4.2).
            "gen_time": utc(at, "at").replace(microsecond=0),
            "tsa": self._tsa_name,
        }
        if _check_nonce(nonce) is not None:
            fields["nonce"] = nonce
        tst_der = tsp.TSTInfo(fields).dump()
        ess_der, sid_der, certs_der, algo = signer_parts(self._cert_der, self._chain_ders)
        to_sign = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]}
                ),
                cms.CMSAttribute.load(ess_der),
            ]
        ).dump()
        signature = self._signer.sign(to_sign, "sha256")
        if not isinstance(signature, bytes) or not signature:
            raise SigningError("Signer của TSA không trả về giá trị chữ ký")
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(sid_der),
                "digest_algorithm": {"algorithm": "sha256"},
                "signed_attrs": cms.CMSAttributes.load(to_sign),
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": algo}),
                "signature": signature,
            }
        )
        signed_data: dict[str, object] = {
            # v3: the encapsulated content is not id-data (RFC 5652 §5.1).
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": core.ParsableOctetString(tst_der),
            },
            "signer_infos": [signer_info],
        }
        if cert_req:
            signed_data["certificates"] = cms.CertificateSet.load(certs_der)
        der: bytes = cms.ContentInfo(
            {"content_type": "signed_data", "content": cms.SignedData(signed_data)}
        ).dump()
        return der

    def respond(self, request_der: bytes, *, serial: int, at: dt.datetime) -> bytes:
        """DER TimeStampResp (RFC 3161 §2.4.2) to a DER TimeStampReq: granted with a token,
        or a rejection naming the PKIFailureInfo."""
        if not isinstance(request_der, bytes) or len(request_der) > MAX_REQUEST_BYTES:
            return _rejection(
                "bad_data_format", "yêu cầu dấu thời gian quá lớn hoặc không phải byte"
            )
        try:
            request = tsp.TimeStampReq.load(request_der, strict=True)
            version = request["version"].native
            imprint = request["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            params = imprint["hash_algorithm"]["parameters"].native
            digest = imprint["hashed_message"].native
            policy = request["req_policy"].native
            nonce = request["nonce"].native
            cert_req = bool(request["cert_req"].native)
            has_extensions = request["extensions"].native is not None
        except (ValueError, TypeError, KeyError):
            return _rejection("bad_data_format", "yêu cầu dấu thời gian không đúng định dạng")
        if version != "v1":
            return _rejection("bad_request", "phiên bản yêu cầu dấu thời gian không được hỗ trợ")
        if algorithm not in HASH_ALGORITHMS or params is not None:
            return _rejection("bad_alg", f"thuật toán băm không được hỗ trợ: {algorithm}")
        if not isinstance(digest, bytes) or len(digest) != HASH_ALGORITHMS[algorithm]:
            return _rejection("bad_data_format", "độ dài giá trị băm không khớp thuật toán")
        if policy is not None and policy != self._policy:
            return _rejection("unaccepted_policy", "chính sách dấu thời gian không được chấp nhận")
        if has_extensions:
            return _rejection("unaccepted_extensions", "phần mở rộng không được hỗ trợ")
        if nonce is not None and nonce < 0:
            return _rejection("bad_request", "nonce không hợp lệ")
        token = self.stamp(
            digest,
            hash_algorithm=algorithm,
            nonce=nonce,
            serial=serial,
            at=at,
            cert_req=cert_req,
        )
        der: bytes = tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": cms.ContentInfo.load(token)}
        ).dump()
        return der


@runtime_checkable
class Timestamper(Protocol):
    """Where signing gets its trusted time: the deployment's own TSA bound to a clock reading
    (AuthorityTimestamper) or a client of an external TSA (THIDUA_TSA_URL, in workflow).
    Signing code takes one as a parameter and never asks for the time itself."""

    def timestamp(
        self, digest: bytes, *, hash_algorithm: str = "sha256", nonce: int | None = None
    ) -> bytes:
        """A DER TimeStampToken whose message imprint is ``digest``."""
        ...


class AuthorityTimestamper:
    """The built-in TSA with the time of this request and the source of serial numbers
    (the workflow's stored counter, so serials never repeat)."""

    def __init__(
        self, tsa: TimeStampAuthority, *, at: dt.datetime, next_serial: Callable[[], int]
    ) -> None:
        self._tsa = tsa
        self._at = utc(at, "at")
        self._next_serial = next_serial

    @property
    def authority(self) -> TimeStampAuthority:
        return self._tsa

    def timestamp(
        self, digest: bytes, *, hash_algorithm: str = "sha256", nonce: int | None = None
    ) -> bytes:
        return self._tsa.stamp(
            digest,
            hash_algorithm=hash_algorithm,
            nonce=nonce,
            serial=self._next_serial(),
            at=self._at,
        )


class _TimeStampResp(core.Sequence):  # type: ignore[misc]
    """RFC 3161's TimeStampResp, whose token is OPTIONAL (absent in a rejection): asn1crypto's
    ``tsp.TimeStampResp`` demands it."""

    _fields: ClassVar[list[tuple[object, ...]]] = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _rejection(failure: str, text: str) -> bytes:
    der: bytes = _TimeStampResp(
        {
            "status": {
                "status": "rejection",
                "status_string": [text],
                "fail_info": tsp.PKIFailureInfo({failure}),
            }
        }
    ).dump()
    return der
