"""The deployment's timestamp authority as stored (workflow.tsa): its key sealed under the CA
master secret, renewed after a year, serials that are database rows, the timestamper signing
code is given, and the client of an external TSA against real HTTP servers."""

from __future__ import annotations

import hashlib
import http.server
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

import workflow.tsa as wtsa
from signing.ca import TSA_KEY_USE_DAYS
from signing.tsa import AuthorityTimestamper, make_request, verify_token
from tests.conftest import require_executable
from tests.web.conftest import make_app
from workflow import pki
from workflow.clock import aware, utcnow
from workflow.config import check_tsa_url, tsa_url
from workflow.db import session_factory
from workflow.errors import ConfigError, ValidationError
from workflow.models import TimestampAuthorityRecord, TimestampToken
from workflow.services.keys import trust_store

DIGEST = hashlib.sha256(b"pledge 2026").digest()


def token_info(token: bytes) -> Any:
    return cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed


def reply_token(reply: bytes) -> bytes:
    return bytes(tsp.TimeStampResp.load(reply)["time_stamp_token"].dump())


@pytest.fixture
def session(demo_db: Engine) -> Iterator[Session]:
    with session_factory(demo_db)() as s:
        yield s


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def last_serial(session: Session) -> int:
    return int(session.scalar(select(func.max(TimestampToken.serial))) or 0)


@pytest.fixture(autouse=True)
def no_tsa_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THIDUA_TSA_URL", raising=False)


# ------------------------------------------------------------------ the stored key
def test_first_use_makes_a_tsa_key_certified_by_the_ca_and_sealed(session, demo) -> None:
    now = utcnow()
    record = wtsa.ensure_tsa(session, demo.ca_secret, now=now)
    session.commit()
    assert record.active
    cert = x509.load_pem_x509_certificate(record.certificate_pem)
    cert.verify_directly_issued_by(pki.ca_certificate(session))
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert f"CN=thidua TSA {now.year}" in cert.subject.rfc4514_string()
    assert (
        record.fingerprint_sha256
        == hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    )
    # The same key on the next call; the key is stored sealed, never as a plain PKCS#8.
    assert wtsa.ensure_tsa(session, demo.ca_secret, now=now).id == record.id
    assert b"PRIVATE KEY" not in record.encrypted_key


def test_the_key_opens_only_with_the_ca_secret(session, demo, monkeypatch) -> None:
    now = utcnow()
    wtsa.ensure_tsa(session, demo.ca_secret, now=now)
    session.commit()
    monkeypatch.setattr(wtsa, "_OPENED", {})  # as a new process: unseal from the database
    authority = wtsa.load_tsa(session, demo.ca_secret, now=now)
    assert authority.policy_oid == wtsa.TSA_POLICY_OID
    token = authority.stamp(DIGEST, nonce=None, serial=1, at=now)
    assert verify_token(token, trust_store(session), digest=DIGEST, at=now).passed
    with pytest.raises(ConfigError) as caught:
        wtsa.load_tsa(session, b"another-master-secret-of-32-bytes", now=now)
    assert caught.value.code == "wrong_ca_secret"


def test_a_year_old_key_is_replaced_and_its_tokens_still_verify(
    session, demo, openssl, tmp_path
) -> None:
    start = utcnow()
    later = start + timedelta(days=TSA_KEY_USE_DAYS, seconds=1)
    request = make_request(DIGEST, nonce=1)
    old_reply = wtsa.respond(session, demo.ca_secret, request, now=start)
    old = wtsa.active_tsa_record(session)
    new_reply = wtsa.respond(session, demo.ca_secret, request, now=later)
    session.commit()
    new = wtsa.active_tsa_record(session)
    assert old is not None
    assert new is not None
    assert new.id != old.id
    assert new.fingerprint_sha256 != old.fingerprint_sha256
    records = session.scalars(select(TimestampAuthorityRecord)).all()
    assert sorted((r.id, r.active) for r in records) == [(old.id, False), (new.id, True)]
    # The new key stays for the next request at the same time.
    assert wtsa.ensure_tsa(session, demo.ca_secret, now=later).id == new.id

    old_token, new_token = reply_token(old_reply), reply_token(new_reply)
    serials = [token_info(t)["serial_number"].native for t in (old_token, new_token)]
    assert serials[1] > serials[0]
    rows = [session.get_one(TimestampToken, serial) for serial in serials]
    assert [r.authority_id for r in rows] == [old.id, new.id]
    check_at = later + timedelta(days=1)
    trust = trust_store(session)
    for token in (old_token, new_token):
        assert verify_token(token, trust, digest=DIGEST, at=check_at).passed
    ca_pem = tmp_path / "ca.pem"
    ca_pem.write_bytes(pki.ca_pem(session))
    for name, reply in (("old", old_reply), ("new", new_reply)):
        path = tmp_path / f"{name}.tsr"
        path.write_bytes(reply)
        done = subprocess.run(
            [openssl, "ts", "-verify", "-digest", DIGEST.hex(), "-in", str(path),
             "-CAfile", str(ca_pem), "-attime", str(int(check_at.timestamp()))],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert "Verification: OK" in done.stdout, (name, done.stderr)


def test_not_yet_a_year_keeps_the_key(session, demo) -> None:
    first = wtsa.ensure_tsa(session, demo.ca_secret, now=utcnow())
    start = aware(first.created_at)  # the demo's signatures may have made it earlier
    almost = start + timedelta(days=TSA_KEY_USE_DAYS) - timedelta(seconds=1)
    assert wtsa.ensure_tsa(session, demo.ca_secret, now=almost).id == first.id
    assert session.scalar(select(func.count()).select_from(TimestampAuthorityRecord)) == 1


# ------------------------------------------------------------------ the timestamper
def test_built_in_timestamper_stores_each_serial(session, demo) -> None:
    now = utcnow()
    earlier = last_serial(session)
    stamper = wtsa.timestamper(session, demo.ca_secret, now=now)
    assert isinstance(stamper, AuthorityTimestamper)
    first = stamper.timestamp(DIGEST)
    other = hashlib.sha384(b"board decision").digest()
    second = stamper.timestamp(other, hash_algorithm="sha384", nonce=42)
    session.commit()
    trust = trust_store(session)
    report = verify_token(first, trust, digest=DIGEST, at=now)
    assert report.passed
    assert report.policy == wtsa.TSA_POLICY_OID
    later = verify_token(second, trust, digest=other, at=now)
    assert later.passed
    assert later.nonce == 42
    assert later.serial > report.serial
    rows = session.scalars(
        select(TimestampToken)
        .where(TimestampToken.serial > earlier)
        .order_by(TimestampToken.serial)
    ).all()
    assert [(r.serial, r.hash_algorithm, r.imprint) for r in rows] == [
        (report.serial, "sha256", DIGEST.hex()),
        (later.serial, "sha384", other.hex()),
    ]


def test_bad_digest_is_refused_before_a_serial_is_taken(session, demo) -> None:
    stamper = wtsa.timestamper(session, demo.ca_secret, now=utcnow())
    assert stamper is not None
    earlier = count(session, TimestampToken)
    with pytest.raises(ValidationError):
        stamper.timestamp(b"short")
    with pytest.raises(ValidationError):
        stamper.timestamp(DIGEST, hash_algorithm="md5")
    assert count(session, TimestampToken) == earlier


def test_no_url_and_no_secret_means_no_timestamper(session) -> None:
    assert wtsa.timestamper(session, None, now=utcnow()) is None


def test_tsa_url_picks_the_external_client(session, demo, monkeypatch) -> None:
    monkeypatch.setenv("THIDUA_TSA_URL", "https://tsa.example.vn/tsr")
    keys = count(session, TimestampAuthorityRecord)
    stamper = wtsa.timestamper(session, demo.ca_secret, now=utcnow())
    assert isinstance(stamper, wtsa.HttpTimestamper)
    assert stamper.url == "https://tsa.example.vn/tsr"
    assert wtsa.timestamper(session, None, now=utcnow()) is not None
    assert count(session, TimestampAuthorityRecord) == keys  # the built-in one is not made


@pytest.mark.parametrize(
    "url",
    ["ftp://tsa.example.vn/", "file:///etc/passwd", "http://", "tsa.example.vn", "https://a b/",
     "http://tsa.example.vn:0/", "javascript:alert(1)"],
)  # fmt: skip
def test_tsa_url_must_be_http_or_https(monkeypatch, url) -> None:
    monkeypatch.setenv("THIDUA_TSA_URL", url)
    with pytest.raises(ConfigError) as caught:
        tsa_url()
    assert caught.value.code == "bad_tsa_url"
    assert "THIDUA_TSA_URL" in caught.value.message
    with pytest.raises(ConfigError):
        wtsa.HttpTimestamper(url)


def test_tsa_url_accepts_http_and_https() -> None:
    assert check_tsa_url(" http://127.0.0.1:8080/tsa ") == "http://127.0.0.1:8080/tsa"
    assert check_tsa_url("https://freetsa.org/tsr") == "https://freetsa.org/tsr"


# ------------------------------------------------------------------ an external TSA over HTTP
@pytest.fixture
def openssl() -> str:
    return require_executable("openssl")


@pytest.fixture
def served_app(demo_db: Engine, demo: Any, tmp_path: Path) -> Iterator[str]:
    """A second thidua application's /tsa on a real socket."""
    app = make_app(tmp_path / "tsa-app", demo_db, demo.ca_secret)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tsa"
    server.shutdown()
    thread.join(timeout=5)


def test_http_timestamper_gets_a_token_from_another_thidua(
    session, demo, served_app, monkeypatch
) -> None:
    monkeypatch.setenv("THIDUA_TSA_URL", served_app)
    stamper = wtsa.timestamper(session, demo.ca_secret, now=utcnow())
    assert isinstance(stamper, wtsa.HttpTimestamper)
    token = stamper.timestamp(DIGEST)
    report = verify_token(token, trust_store(session), digest=DIGEST, at=utcnow())
    assert report.passed, report.detail
    assert report.policy == wtsa.TSA_POLICY_OID
    # The serving application stored (and committed) that serial.
    session.rollback()
    row = session.get_one(TimestampToken, report.serial)
    assert row.imprint == DIGEST.hex()


def test_concurrent_requests_share_one_new_key_and_get_distinct_serials(
    session, demo, served_app
) -> None:
    # The demo's key (if its signatures made one) is a year old: every request wants a new one.
    old = wtsa.active_tsa_record(session)
    if old is not None:
        old.created_at = utcnow() - timedelta(days=TSA_KEY_USE_DAYS + 1)
    session.commit()
    keys, earlier = count(session, TimestampAuthorityRecord), last_serial(session)
    stamper = wtsa.HttpTimestamper(served_app, timeout=60)
    digests = [hashlib.sha256(bytes([n])).digest() for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = list(pool.map(stamper.timestamp, digests))
    serials = [token_info(t)["serial_number"].native for t in tokens]
    assert len(set(serials)) == len(serials)
    session.rollback()
    assert count(session, TimestampAuthorityRecord) == keys + 1
    stored = session.scalars(
        select(TimestampToken.serial)
        .where(TimestampToken.serial > earlier)
        .order_by(TimestampToken.serial)
    )
    assert list(stored) == sorted(serials)
    trust = trust_store(session)
    for token, digest in zip(tokens, digests, strict=True):
        assert verify_token(token, trust, digest=digest, at=utcnow()).passed


Handler = Callable[[bytes], tuple[int, str, bytes]]


@pytest.fixture
def fake_tsa() -> Iterator[Callable[[Handler], str]]:
    """An HTTP server answering each POST with what ``handler(body)`` returns."""
    servers: list[http.server.HTTPServer] = []

    def start(handler: Handler) -> str:
        class Answer(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, content_type, data = handler(body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/tsa"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _nonce(body: bytes) -> int:
    return int(tsp.TimeStampReq.load(body)["nonce"].native)


def _bad_reply(url: str, match: str) -> None:
    with pytest.raises(wtsa.TimestampBadReply) as caught:
        wtsa.HttpTimestamper(url, timeout=5).timestamp(DIGEST)
    assert caught.value.code == "tsa_bad_reply"
    assert "Máy chủ dấu thời gian (TSA) trả lời không hợp lệ" in caught.value.message
    assert match in caught.value.message
    assert "Traceback" not in caught.value.message


def test_reply_with_another_nonce_is_refused(session, demo, fake_tsa) -> None:
    authority = wtsa.load_tsa(session, demo.ca_secret, now=utcnow())
    session.commit()

    def replay(body: bytes) -> tuple[int, str, bytes]:
        # A genuine reply of our own TSA, for the same digest, but to another request.
        reply = authority.respond(make_request(DIGEST, nonce=_nonce(body) ^ 1), serial=7,
                                  at=utcnow())  # fmt: skip
        return 200, wtsa.REPLY_TYPE, reply

    _bad_reply(fake_tsa(replay), "nonce")


def test_reply_for_another_digest_is_refused(session, demo, fake_tsa) -> None:
    authority = wtsa.load_tsa(session, demo.ca_secret, now=utcnow())
    session.commit()
    other = hashlib.sha256(b"other bytes").digest()

    def swap(body: bytes) -> tuple[int, str, bytes]:
        reply = authority.respond(make_request(other, nonce=_nonce(body)), serial=8, at=utcnow())
        return 200, wtsa.REPLY_TYPE, reply

    _bad_reply(fake_tsa(swap), "giá trị băm khác")


def test_answers_that_are_not_timestamps_are_refused(fake_tsa) -> None:
    html = b"<html><body>Welcome</body></html>"
    _bad_reply(fake_tsa(lambda body: (200, "text/html", html)), "text/html")
    _bad_reply(fake_tsa(lambda body: (200, wtsa.REPLY_TYPE, html)), "TimeStampResp")
    _bad_reply(fake_tsa(lambda body: (404, "text/plain", b"no")), "HTTP 404")
    huge = b"\x30" * (wtsa.MAX_REPLY_BYTES + 10)
    _bad_reply(fake_tsa(lambda body: (200, wtsa.REPLY_TYPE, huge)), "KB")


def test_a_rejection_from_the_tsa_is_refused(session, demo, fake_tsa) -> None:
    authority = wtsa.load_tsa(session, demo.ca_secret, now=utcnow())
    session.commit()
    rejection = authority.respond(b"garbage", serial=1, at=utcnow())
    _bad_reply(fake_tsa(lambda body: (200, wtsa.REPLY_TYPE, rejection)), "từ chối")


def test_a_tsa_failing_with_5xx_is_unavailable(fake_tsa) -> None:
    url = fake_tsa(lambda body: (503, "text/plain", b"busy"))
    with pytest.raises(wtsa.TimestampUnavailable) as caught:
        wtsa.HttpTimestamper(url, timeout=5).timestamp(DIGEST)
    assert caught.value.code == "tsa_unavailable"


def test_an_unreachable_tsa_fails_fast_and_clearly() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stamper = wtsa.HttpTimestamper(f"http://127.0.0.1:{port}/tsa", timeout=3)
    started = time.monotonic()
    with pytest.raises(wtsa.TimestampUnavailable) as caught:
        stamper.timestamp(DIGEST)
    assert time.monotonic() - started < 2
    assert caught.value.code == "tsa_unavailable"
    assert caught.value.message.startswith("Không lấy được dấu thời gian")
