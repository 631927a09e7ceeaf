"""The deployment's timestamp authority as stored, and where signing gets its timestamps.

``signing.tsa`` is the pure RFC 3161 authority; here it gets a key, a certificate and
serial numbers. The key (ECDSA P-256) is sealed under the CA master secret like the CA's
own key, and its certificate comes from the deployment CA (id-kp-timeStamping, critical).
Each key signs for ``TSA_KEY_USE_DAYS``; then the next request makes a new one and the old
stays in ``timestamp_authorities``, inactive, for the record. Every token's serial is the
primary key of a ``timestamp_tokens`` row, handed out by the database, so serials never
repeat across keys and processes.

``timestamper`` is what signing code is given: a client of an external TSA when
``THIDUA_TSA_URL`` is set (``HttpTimestamper``), else the built-in authority. ``respond``
answers the public ``POST /tsa``. Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import secrets
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any, ClassVar

from asn1crypto import cms, core, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from sqlalchemy import false, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing.ca import TSA_KEY_USE_DAYS, fingerprint_sha256
from signing.credentials import generate_private_key, seal_private_key, unseal_private_key
from signing.errors import SigningError, WrongPin
from signing.signers import KeySigner
from signing.tsa import (
    HASH_ALGORITHMS,
    MAX_REQUEST_BYTES,
    AuthorityTimestamper,
    TimeStampAuthority,
    Timestamper,
    make_request,
)
from workflow.clock import aware
from workflow.config import check_tsa_url
from workflow.config import tsa_url as configured_tsa_url
from workflow.db import is_postgresql
from workflow.errors import (
    ConfigError,
    ConflictError,
    TimestampBadReply,
    TimestampUnavailable,
    ValidationError,
)
from workflow.models import CertificateAuthorityRecord, TimestampAuthorityRecord, TimestampToken
from workflow.pki import load_ca

__all__ = [
    "MAX_REPLY_BYTES",
    "TSA_POLICY_OID",
    "HttpTimestamper",
    "StoredTimestamper",
    "TimestampBadReply",
    "TimestampUnavailable",
    "active_tsa_record",
    "ensure_tsa",
    "load_tsa",
    "next_serial",
    "reply_granted",
    "respond",
    "timestamper",
]

log = logging.getLogger(__name__)

# The deployment's timestamp policy: every token of the built-in TSA names it (a private
# arc; RFC 3161 §2.1 requires a policy, and a relying party can tell our tokens by it).
TSA_POLICY_OID = "1.3.6.1.4.1.55555.17.1"
TSA_NAME = "thidua TSA {year}"
# A reply holds a token with its certificates: a few KB; public TSAs stay well under this.
MAX_REPLY_BYTES = 1024 * 1024
REQUEST_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


# ------------------------------------------------------------------ the stored authority
def _pin(ca_secret: bytes) -> str:
    """The passphrase the TSA key is sealed under: derived from the CA master secret (which
    may be any bytes) as text ``seal_private_key`` takes, bound to this one use."""
    if not isinstance(ca_secret, bytes | bytearray) or len(ca_secret) < 16:
        raise ConfigError(
            "Bí mật chủ của CA không hợp lệ (cần ít nhất 16 byte).", code="bad_ca_secret"
        )
    return "thidua-tsa-key:" + hashlib.sha256(b"thidua-tsa-key\x00" + bytes(ca_secret)).hexdigest()


def active_tsa_record(session: Session, *, reload: bool = False) -> TimestampAuthorityRecord | None:
    stmt = select(TimestampAuthorityRecord).where(TimestampAuthorityRecord.active.is_(True))
    if reload:  # what another transaction committed meanwhile, not the identity map's copy
        stmt = stmt.execution_options(populate_existing=True)
    return session.scalar(stmt.limit(1))


def _fresh(record: TimestampAuthorityRecord | None, now: datetime) -> bool:
    return record is not None and now - aware(record.created_at) < timedelta(days=TSA_KEY_USE_DAYS)


def ensure_tsa(session: Session, ca_secret: bytes, *, now: datetime) -> TimestampAuthorityRecord:
    """The active TSA key; a new one (key, certificate from the CA, sealed) when there is
    none or the active one has signed for ``TSA_KEY_USE_DAYS`` (it then becomes inactive)."""
    now = aware(now)
    record = active_tsa_record(session)
    if _fresh(record, now):
        assert record is not None
        return record
    # Rotation is rare; two processes doing it at once must not make two keys. PostgreSQL:
    # wait on the CA's row. SQLite: any write statement, even one that changes nothing,
    # takes the database lock (the reads before it ran outside a transaction). Then look
    # again: the other process may have made the key meanwhile.
    if is_postgresql(session):
        session.execute(
            select(CertificateAuthorityRecord.id)
            .where(CertificateAuthorityRecord.active.is_(True))
            .with_for_update()
        )
    else:
        session.execute(
            update(TimestampAuthorityRecord).where(false()).values(active=False),
            execution_options={"synchronize_session": False},
        )
    current = active_tsa_record(session, reload=True)
    if _fresh(current, now):
        assert current is not None
        return current
    return _create(session, ca_secret, current or record, now)


def _create(
    session: Session,
    ca_secret: bytes,
    old: TimestampAuthorityRecord | None,
    now: datetime,
) -> TimestampAuthorityRecord:
    ca = load_ca(session, ca_secret)
    key = generate_private_key("ec-p256")
    try:
        cert = ca.issue_tsa(key.public_key(), name=TSA_NAME.format(year=now.year), now=now)
        sealed = seal_private_key(key, _pin(ca_secret))
        authority = TimeStampAuthority(KeySigner(key, cert, [ca.certificate]), TSA_POLICY_OID)
    except SigningError as exc:
        raise ConfigError(f"Không tạo được khóa TSA: {exc}", code="tsa_create_failed") from exc
    record = TimestampAuthorityRecord(
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM),
        encrypted_key=sealed,
        fingerprint_sha256=fingerprint_sha256(cert),
        active=True,
        created_at=now,
    )
    try:
        if old is not None and old.active:
            old.active = False
            session.flush()  # before the new one: at most one row is active
        session.add(record)
        session.flush()
    except IntegrityError as exc:
        # Not expected past the lock above; say "try again" rather than fail with a 500.
        raise ConflictError(
            "Khóa TSA vừa được một tiến trình khác tạo; vui lòng thử lại.", code="tsa_rotating"
        ) from exc
    _remember(_cache_key(record, ca_secret), authority)
    return record


# Opened authorities, as pki caches opened CAs: unsealing the key runs Argon2id (~0.2 s).
_OPENED: dict[tuple[bytes, bytes, bytes], TimeStampAuthority] = {}
_OPENED_MAX = 4


def _cache_key(record: TimestampAuthorityRecord, secret: bytes) -> tuple[bytes, bytes, bytes]:
    return (
        hashlib.sha256(bytes(record.certificate_pem)).digest(),
        hashlib.sha256(bytes(record.encrypted_key)).digest(),
        hashlib.sha256(b"thidua-tsa-cache\x00" + bytes(secret)).digest(),
    )


def _remember(key: tuple[bytes, bytes, bytes], authority: TimeStampAuthority) -> None:
    if len(_OPENED) >= _OPENED_MAX:
        _OPENED.clear()
    _OPENED[key] = authority


def _issuer(session: Session, cert: x509.Certificate) -> x509.Certificate:
    """The stored CA certificate that issued ``cert`` (the token carries it as the chain)."""
    for pem in session.scalars(
        select(CertificateAuthorityRecord.certificate_pem).order_by(
            CertificateAuthorityRecord.id.desc()
        )
    ):
        ca_cert = x509.load_pem_x509_certificate(bytes(pem))
        try:
            cert.verify_directly_issued_by(ca_cert)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return ca_cert
    raise ConfigError("Không tìm thấy CA đã cấp chứng thư số của TSA.", code="tsa_damaged")


def _open(
    session: Session, record: TimestampAuthorityRecord, ca_secret: bytes
) -> TimeStampAuthority:
    key = _cache_key(record, ca_secret)
    cached = _OPENED.get(key)
    if cached is not None:
        return cached
    try:
        cert = x509.load_pem_x509_certificate(bytes(record.certificate_pem))
        private_key = unseal_private_key(bytes(record.encrypted_key), _pin(ca_secret))
        signer = KeySigner(private_key, cert, [_issuer(session, cert)])
        authority = TimeStampAuthority(signer, TSA_POLICY_OID)
    except WrongPin as exc:
        raise ConfigError(
            "Bí mật chủ của CA (THIDUA_CA_SECRET / instance/ca_master_secret) không mở được "
            "khóa TSA đã lưu.",
            code="wrong_ca_secret",
        ) from exc
    except (SigningError, ValueError) as exc:
        raise ConfigError(f"Khóa TSA đã lưu bị hỏng: {exc}", code="tsa_damaged") from exc
    _remember(key, authority)
    return authority


def _authority(
    session: Session, ca_secret: bytes, now: datetime
) -> tuple[TimestampAuthorityRecord, TimeStampAuthority]:
    record = ensure_tsa(session, ca_secret, now=now)
    return record, _open(session, record, ca_secret)


def load_tsa(session: Session, ca_secret: bytes, *, now: datetime) -> TimeStampAuthority:
    """The deployment's TSA as of ``now`` (made or renewed by ``ensure_tsa``), opened once
    per process."""
    return _authority(session, ca_secret, now)[1]


def next_serial(
    session: Session,
    record: TimestampAuthorityRecord,
    *,
    digest: bytes,
    hash_algorithm: str,
    now: datetime,
) -> int:
    """A new token serial: the key of a stored row recording the authority, the imprint and
    the time (flushed, so the number is the database's)."""
    _check_imprint(digest, hash_algorithm)
    at = aware(now)
    row = TimestampToken(
        authority_id=record.id,
        hash_algorithm=hash_algorithm,
        imprint=digest.hex(),
        gen_time=at.replace(microsecond=0),  # what the token says (whole seconds)
        created_at=at,
    )
    session.add(row)
    session.flush()
    return int(row.serial)


def _check_imprint(digest: object, hash_algorithm: str) -> None:
    size = HASH_ALGORITHMS.get(hash_algorithm)
    if size is None or not isinstance(digest, bytes) or len(digest) != size:
        raise ValidationError(
            f"Giá trị băm cần đóng dấu thời gian không hợp lệ ({hash_algorithm}).",
            code="bad_digest",
        )


class StoredTimestamper(AuthorityTimestamper):
    """The built-in TSA at one clock reading, whose serials are rows of this session
    (``next_serial``): each records the imprint it was given."""

    def __init__(
        self,
        session: Session,
        record: TimestampAuthorityRecord,
        tsa: TimeStampAuthority,
        *,
        at: datetime,
    ) -> None:
        self._session = session
        self._record = record
        self._when = aware(at)
        self._asked: tuple[bytes, str] | None = None
        super().__init__(tsa, at=self._when, next_serial=self._store)

    @property
    def record(self) -> TimestampAuthorityRecord:
        return self._record

    def _store(self) -> int:
        if self._asked is None:
            raise RuntimeError("serial asked for outside timestamp()")
        digest, algorithm = self._asked
        return next_serial(
            self._session, self._record, digest=digest, hash_algorithm=algorithm, now=self._when
        )

    def timestamp(
        self, digest: bytes, *, hash_algorithm: str = "sha256", nonce: int | None = None
    ) -> bytes:
        _check_imprint(digest, hash_algorithm)
        self._asked = (digest, hash_algorithm)
        try:
            return super().timestamp(digest, hash_algorithm=hash_algorithm, nonce=nonce)
        finally:
            self._asked = None


def timestamper(
    session: Session,
    ca_secret: bytes | None,
    *,
    now: datetime,
    tsa_url: str | None = None,
) -> Timestamper | None:
    """Where signing gets its timestamps: ``HttpTimestamper`` when ``tsa_url`` (default
    ``THIDUA_TSA_URL``) is set, else the built-in TSA as of ``now`` (``StoredTimestamper``,
    an ``AuthorityTimestamper``); None with neither a URL nor a CA secret."""
    url = configured_tsa_url() if tsa_url is None else tsa_url.strip()
    if url:
        return HttpTimestamper(url)
    if not ca_secret:
        return None
    record, authority = _authority(session, ca_secret, now)
    return StoredTimestamper(session, record, authority, at=now)


# ------------------------------------------------------------------ answering POST /tsa
def _would_grant(request_der: bytes, policy: str) -> tuple[str, bytes] | None:
    """The imprint of a request ``TimeStampAuthority.respond`` grants, None for one it
    rejects: the same checks, made before a serial is taken."""
    if not isinstance(request_der, bytes) or len(request_der) > MAX_REQUEST_BYTES:
        return None
    try:
        request = tsp.TimeStampReq.load(request_der, strict=True)
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        digest = imprint["hashed_message"].native
        if (
            request["version"].native != "v1"
            or algorithm not in HASH_ALGORITHMS
            or imprint["hash_algorithm"]["parameters"].native is not None
            or not isinstance(digest, bytes)
            or len(digest) != HASH_ALGORITHMS[algorithm]
            or request["req_policy"].native not in (None, policy)
            or request["extensions"].native is not None
            or (request["nonce"].native or 0) < 0
        ):
            return None
        request["cert_req"].native  # noqa: B018 - parses the last field too
    except (ValueError, TypeError, KeyError):
        return None
    return str(algorithm), digest


def respond(session: Session, ca_secret: bytes, request_der: bytes, *, now: datetime) -> bytes:
    """The DER TimeStampResp to a DER TimeStampReq: granted with a token whose serial is
    stored, or a rejection, which takes no serial."""
    record, authority = _authority(session, ca_secret, now)
    at = aware(now)
    asked = _would_grant(request_der, authority.policy_oid)
    if asked is None:
        reply = authority.respond(request_der, serial=1, at=at)
        if not reply_granted(reply):
            return reply
        # Granted after all (the checks above drifted from signing's): the throwaway serial
        # never leaves; answer again with a stored one.
        log.warning("TSA request refused here but granted by signing.tsa; checks differ")
        asked = _would_grant_anyway(request_der)
    algorithm, digest = asked
    serial = next_serial(session, record, digest=digest, hash_algorithm=algorithm, now=at)
    reply = authority.respond(request_der, serial=serial, at=at)
    if not reply_granted(reply):  # refused after all: drop the row (the number stays unused)
        session.delete(session.get_one(TimestampToken, serial))
        session.flush()
    return reply


def _would_grant_anyway(request_der: bytes) -> tuple[str, bytes]:
    imprint = tsp.TimeStampReq.load(request_der)["message_imprint"]
    return str(imprint["hash_algorithm"]["algorithm"].native), imprint["hashed_message"].native


class _Reply(core.Sequence):  # type: ignore[misc]
    """RFC 3161's TimeStampResp with the token OPTIONAL, as a rejection has none (asn1crypto's
    ``tsp.TimeStampResp`` demands it)."""

    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _status(reply_der: bytes) -> tuple[str, _Reply]:
    reply = _Reply.load(reply_der, strict=True)
    return str(reply["status"]["status"].native), reply


def reply_granted(reply_der: bytes) -> bool:
    """Whether a DER TimeStampResp grants (a token follows) rather than rejects."""
    try:
        return _status(reply_der)[0] in ("granted", "granted_with_mods")
    except (ValueError, TypeError, KeyError):
        return False


# ------------------------------------------------------------------ an external TSA
class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A TSA answers where it is asked: a redirect (to another host, or to ``ftp:``) is
    refused rather than followed with the request turned into a GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpTimestamper:
    """A client of an RFC 3161 TSA over HTTP (RFC 3161 §3.4): POSTs a query with a random
    64-bit nonce and returns the token once the reply is granted and carries that nonce and
    the imprint asked for. Every failure is a ``TimestampUnavailable`` (no answer) or a
    ``TimestampBadReply`` (a wrong answer) with a Vietnamese message."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._url = check_tsa_url(url)
        if not isinstance(timeout, int | float) or not 0 < timeout <= 120:
            raise ConfigError("Thời gian chờ TSA phải từ 0 đến 120 giây.", code="bad_tsa_timeout")
        self._timeout = float(timeout)
        self._opener = urllib.request.build_opener(_NoRedirects())

    @property
    def url(self) -> str:
        return self._url

    def timestamp(
        self, digest: bytes, *, hash_algorithm: str = "sha256", nonce: int | None = None
    ) -> bytes:
        _check_imprint(digest, hash_algorithm)
        asked_nonce = secrets.randbits(64) if nonce is None else nonce
        try:
            query = make_request(
                digest, nonce=asked_nonce, cert_req=True, hash_algorithm=hash_algorithm
            )
        except SigningError as exc:
            raise ValidationError(f"Không lập được yêu cầu dấu thời gian: {exc}") from exc
        body = self._post(query)
        return _token_from_reply(body, digest, hash_algorithm, asked_nonce)

    def _post(self, query: bytes) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - the scheme was checked: http(s) only
            self._url,
            data=query,
            method="POST",
            headers={"Content-Type": REQUEST_TYPE, "Accept": REPLY_TYPE},
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as answer:
                status = answer.status
                media_type = answer.headers.get_content_type()
                body = answer.read(MAX_REPLY_BYTES + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code >= 500:
                raise _unavailable(f"HTTP {exc.code}") from None
            raise _bad_reply(f"máy chủ trả mã HTTP {exc.code}") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # URLError, refused, reset, timed out, a broken HTTP answer.
            raise _unavailable(repr(exc)) from None
        if status != 200:
            raise _bad_reply(f"máy chủ trả mã HTTP {status}")
        if media_type != REPLY_TYPE:
            raise _bad_reply(f"kiểu nội dung là {media_type}, không phải {REPLY_TYPE}")
        if len(body) > MAX_REPLY_BYTES:
            raise _bad_reply(f"câu trả lời lớn hơn {MAX_REPLY_BYTES // 1024} KB")
        return bytes(body)


def _unavailable(reason: str) -> TimestampUnavailable:
    log.warning("timestamp authority unavailable: %s", reason)
    return TimestampUnavailable(
        "Không lấy được dấu thời gian: máy chủ dấu thời gian (TSA) không phản hồi. "
        "Vui lòng thử lại sau."
    )


def _bad_reply(reason: str) -> TimestampBadReply:
    return TimestampBadReply(
        f"Máy chủ dấu thời gian (TSA) trả lời không hợp lệ: {reason}.", reason=reason
    )


def _token_from_reply(body: bytes, digest: bytes, hash_algorithm: str, nonce: int) -> bytes:
    try:
        status, reply = _status(body)
    except (ValueError, TypeError, KeyError):
        raise _bad_reply("không phải một TimeStampResp (RFC 3161)") from None
    if status not in ("granted", "granted_with_mods"):
        raise _bad_reply(f"yêu cầu bị từ chối ({status})")
    try:
        token = reply["time_stamp_token"]
        if token.native is None or token["content_type"].native != "signed_data":
            raise _bad_reply("câu trả lời không chứa dấu thời gian")
        encap = token["content"]["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise _bad_reply("dấu thời gian không chứa TSTInfo")
        info = tsp.TSTInfo.load(encap["content"].contents, strict=True)
        imprint = info["message_imprint"]
        got_algorithm = imprint["hash_algorithm"]["algorithm"].native
        got_digest = imprint["hashed_message"].native
        got_nonce = info["nonce"].native
        der = bytes(token.dump())
    except (ValueError, TypeError, KeyError, AttributeError):
        raise _bad_reply("dấu thời gian không đọc được") from None
    if got_nonce != nonce:
        raise _bad_reply("nonce trong dấu thời gian không khớp với yêu cầu")
    if got_algorithm != hash_algorithm or got_digest != digest:
        raise _bad_reply("dấu thời gian đóng cho một giá trị băm khác")
    return der
