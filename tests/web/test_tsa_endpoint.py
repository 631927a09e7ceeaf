"""POST /tsa: the deployment's timestamp authority over HTTP, driven by real openssl ts queries.
The replies must pass `openssl ts -verify` against the deployment CA, carry serials that never
repeat, and refuse what is not a timestamp request without taking a serial."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import tsp
from flask import Flask
from sqlalchemy import delete, select

from tests.conftest import require_executable
from tests.web.conftest import make_app
from workflow import pki, tsa
from workflow.db import session_factory
from workflow.models import TimestampToken
from workflow.tsa import TSA_POLICY_OID

QUERY = "application/timestamp-query"
REPLY = "application/timestamp-reply"
DATA = "Bản đăng ký thi đua năm 2026 của Văn phòng Huyện ủy Mê Linh".encode()


@pytest.fixture
def openssl() -> str:
    return require_executable("openssl")


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=60, **kwargs)


def query(openssl: str, folder: Path, name: str, data: bytes = DATA) -> Path:
    source = folder / f"{name}.txt"
    source.write_bytes(data)
    out = folder / f"{name}.tsq"
    args = ["ts", "-query", "-data", str(source), "-sha256", "-cert", "-out", str(out)]
    done = run([openssl, *args])
    assert done.returncode == 0, done.stderr
    return out


def post(client: Any, body: bytes, content_type: str = QUERY) -> Any:
    return client.post("/tsa", data=body, content_type=content_type)


def serial_of(reply: bytes) -> int:
    token = tsp.TimeStampResp.load(reply)["time_stamp_token"]
    info = token["content"]["encap_content_info"]["content"].parsed
    return int(info["serial_number"].native)


def ca_file(app: Flask, folder: Path) -> Path:
    path = folder / "ca.pem"
    with session_factory(app.extensions["thidua.engine"])() as session:
        path.write_bytes(pki.ca_pem(session))
    return path


def stored_serials(app: Flask) -> list[int]:
    with session_factory(app.extensions["thidua.engine"])() as session:
        return list(session.scalars(select(TimestampToken.serial).order_by(TimestampToken.serial)))


def test_openssl_query_gets_a_reply_openssl_verifies(app, client, openssl, tmp_path) -> None:
    asked = query(openssl, tmp_path, "q")
    response = post(client, asked.read_bytes())
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == REPLY
    reply = tmp_path / "r.tsr"
    reply.write_bytes(response.data)

    text = run([openssl, "ts", "-reply", "-in", str(reply), "-text"], encoding="latin-1").stdout
    serial = serial_of(response.data)
    assert "Status: Granted." in text
    assert f"Policy OID: {TSA_POLICY_OID}" in text
    assert f"Serial number: 0x{serial:02X}" in text
    assert "thidua TSA" in text

    done = run(
        [openssl, "ts", "-verify", "-queryfile", str(asked), "-in", str(reply),
         "-CAfile", str(ca_file(app, tmp_path))]
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Verification: OK" in done.stdout
    # The serial is a stored row recording what was stamped.
    with session_factory(app.extensions["thidua.engine"])() as session:
        row = session.get_one(TimestampToken, serial)
        assert row.imprint == hashlib.sha256(DATA).hexdigest()
        assert row.hash_algorithm == "sha256"


def test_the_reply_does_not_verify_for_other_data(app, client, openssl, tmp_path) -> None:
    response = post(client, query(openssl, tmp_path, "q").read_bytes())
    reply = tmp_path / "r.tsr"
    reply.write_bytes(response.data)
    other = tmp_path / "other.txt"
    other.write_bytes(DATA + b".")
    done = run(
        [openssl, "ts", "-verify", "-data", str(other), "-in", str(reply),
         "-CAfile", str(ca_file(app, tmp_path))]
    )  # fmt: skip
    assert done.returncode != 0
    assert "Verification: OK" not in done.stdout


def test_serials_increase_and_never_repeat(app, demo_db, demo, openssl, tmp_path) -> None:
    client = app.test_client()
    earlier = stored_serials(app)  # the demo's own signatures may carry timestamps
    first = serial_of(post(client, query(openssl, tmp_path, "a").read_bytes()).data)
    second = serial_of(post(client, query(openssl, tmp_path, "b").read_bytes()).data)
    assert second > first
    # Another application over the same database (another process, after a restart).
    again = make_app(tmp_path / "again", demo_db, demo.ca_secret).test_client()
    third = serial_of(post(again, query(openssl, tmp_path, "c").read_bytes()).data)
    assert third > second
    # Even when the newest row goes, its number does not come back.
    with session_factory(demo_db)() as session:
        session.execute(delete(TimestampToken).where(TimestampToken.serial == third))
        session.commit()
    fourth = serial_of(post(again, query(openssl, tmp_path, "d").read_bytes()).data)
    assert fourth > third
    assert stored_serials(app) == [*earlier, first, second, fourth]
    assert not earlier or first > earlier[-1]


def test_wrong_content_type_is_415(client) -> None:
    for content_type in ("application/octet-stream", "application/x-www-form-urlencoded"):
        response = post(client, b"a=b", content_type)
        assert response.status_code == 415
        assert response.mimetype == "text/plain"
        assert QUERY in response.get_data(as_text=True)
    response = client.post("/tsa", data=b"\x30\x00")  # no Content-Type at all
    assert response.status_code == 415


def test_oversized_request_is_413(app, client) -> None:
    earlier = stored_serials(app)
    response = post(client, b"\x30" * (16 * 1024 + 1))
    assert response.status_code == 413
    assert "quá lớn" in response.get_data(as_text=True)
    assert stored_serials(app) == earlier


def test_garbage_gets_a_rejection_openssl_reads(app, client, openssl, tmp_path) -> None:
    earlier = stored_serials(app)
    response = post(client, b"this is not a timestamp request")
    assert response.status_code == 400
    assert response.mimetype == REPLY
    reply = tmp_path / "bad.tsr"
    reply.write_bytes(response.data)
    text = run([openssl, "ts", "-reply", "-in", str(reply), "-text"], encoding="latin-1").stdout
    assert "Status: Rejected." in text
    assert "Failure info: the data submitted has the wrong format" in text
    assert stored_serials(app) == earlier


def test_a_rejection_takes_no_serial(app, client, openssl, tmp_path) -> None:
    earlier = stored_serials(app)
    before = serial_of(post(client, query(openssl, tmp_path, "a").read_bytes()).data)
    assert post(client, b"\x30\x03\x02\x01\x01").status_code == 400
    # A well-formed request the TSA refuses (a policy it does not follow).
    digest = hashlib.sha256(DATA).digest()
    imprint = {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest}
    foreign = tsp.TimeStampReq(
        {"version": "v1", "message_imprint": imprint, "req_policy": "1.2.3.4"}
    ).dump()
    refused = post(client, foreign)
    assert refused.status_code == 400
    assert not tsa.reply_granted(refused.data)
    after = serial_of(post(client, query(openssl, tmp_path, "b").read_bytes()).data)
    assert after == before + 1
    assert stored_serials(app) == [*earlier, before, after]


def test_get_is_not_allowed(client) -> None:
    assert client.get("/tsa").status_code == 405


def test_no_login_and_no_csrf_token_needed(demo_db, demo, openssl, tmp_path) -> None:
    strict = make_app(tmp_path, demo_db, demo.ca_secret, WTF_CSRF_ENABLED=True)
    response = post(strict.test_client(), query(openssl, tmp_path, "q").read_bytes())
    assert response.status_code == 200, response.data[:300]
    # The same app still refuses a form post without its CSRF token.
    assert strict.test_client().post("/login", data={"username": "x"}).status_code == 400


def test_an_address_that_asks_too_often_waits_and_takes_no_serial(
    app, client, openssl, tmp_path, monkeypatch
) -> None:
    from web.views import tsa as tsa_view

    monkeypatch.setattr(tsa_view, "_recent", {})  # this test's minute starts empty
    app.config["TSA_REQUESTS_PER_MINUTE"] = 3
    body = query(openssl, tmp_path, "q").read_bytes()
    before = stored_serials(app)
    replies = [post(client, body) for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert int(replies[-1].headers["Retry-After"]) >= 1
    assert len(stored_serials(app)) == len(before) + 3
    # Another address is not held back by this one's requests.
    other = client.post(
        "/tsa", data=body, content_type=QUERY, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert other.status_code == 200
