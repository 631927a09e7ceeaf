"""Secrets stay secret: after the demo flow has run (seeding signs with PINs, then the 2019
pledge goes all the way through the web, with a wrong PIN and a wrong password on the way),
no private key, PIN, password, API token or instance secret appears in clear in the logs,
the answers (pages, error envelopes), the audit payloads or any database column. Passwords
are Argon2 hashes; login is rate limited; the session changes at login."""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from sqlalchemy import Engine, LargeBinary, String, Text, select
from sqlalchemy.types import JSON

from tests.fixtures_db import DemoData
from tests.system.conftest import (
    FIGURES,
    PASSWORD,
    PIN,
    SECRET_KEY,
    SIGNERS,
    Server,
    make_tokens,
)
from workflow.db import make_engine, session_factory
from workflow.models import Base, User
from workflow.pki import load_ca
from workflow.services import auth

PIN_NEAR_KEY = re.compile(rb"pin\W{0,12}123456", re.IGNORECASE)


def key_needles(key: Any) -> dict[str, bytes]:
    """Every encoding of a private key that would betray it."""
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    needles = {"pkcs8-der": der, "pkcs8-der-hex": der.hex().encode()}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        scalar = key.private_numbers().private_value.to_bytes(32, "big")
        needles["ec-scalar"] = scalar
        needles["ec-scalar-hex"] = scalar.hex().encode()
    elif isinstance(key, rsa.RSAPrivateKey):
        d = key.private_numbers().d
        needles["rsa-d"] = d.to_bytes((d.bit_length() + 7) // 8, "big")
    return needles


def leaks(where: str, data: bytes, needles: dict[str, bytes]) -> list[str]:
    found = [f"{where}: {name}" for name, needle in needles.items() if needle and needle in data]
    if b"PRIVATE KEY-----" in data:
        found.append(f"{where}: a PEM private key")
    if PIN_NEAR_KEY.search(data):
        found.append(f"{where}: the PIN next to a pin field")
    return found


def database_texts(engine: Engine) -> Iterable[tuple[str, bytes]]:
    """Every text, JSON and binary column of every table, as bytes."""
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            cols = [
                c for c in table.columns if isinstance(c.type, String | Text | LargeBinary | JSON)
            ]
            if not cols:
                continue
            for row in conn.execute(select(*cols)):
                for col, value in zip(cols, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes | bytearray | memoryview):
                        data = bytes(value)
                    elif isinstance(value, str):
                        data = value.encode("utf-8")
                    else:
                        data = json.dumps(value, ensure_ascii=False).encode("utf-8")
                    yield f"{table.name}.{col.name}", data


def all_needles(demo: DemoData, engine: Engine, tokens: Iterable[str]) -> dict[str, bytes]:
    needles: dict[str, bytes] = {
        "password": PASSWORD.encode(),
        "ca master secret": demo.ca_secret,
    }
    for i, token in enumerate(tokens):
        needles[f"api token {i}"] = token.encode()
    for username, key in demo.keys.items():
        for kind, needle in key_needles(key).items():
            needles[f"{username} key {kind}"] = needle
    with session_factory(engine)() as s:
        ca = load_ca(s, demo.ca_secret)
    for kind, needle in key_needles(ca._key).items():
        needles[f"CA key {kind}"] = needle
    return needles


# --- in process, both databases -------------------------------------------------------------


def test_no_secret_in_logs_answers_audit_or_database_after_the_demo_flow(
    app: Flask, demo: DemoData, demo_db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[tuple[str, bytes]] = []
    doc = demo.pledge_2019
    with session_factory(demo_db)() as s:
        tokens = {
            name: auth.create_token(s, None, name)
            for name in ["vphu-uh-drafter", "board-approver", *SIGNERS]
        }
        s.commit()

    def api(who: str, trigger: str, **body: Any) -> Any:
        r = app.test_client().post(
            f"/api/documents/{doc}/{trigger}",
            json=body,
            headers={"Authorization": f"Bearer {tokens[who]}"},
        )
        answers.append((f"POST {trigger} as {who}", r.get_data()))
        return r

    browser = app.test_client()
    wrong = browser.post("/login", data={"username": "vphu-md-signer", "password": "sai-mat-khau"})
    answers.append(("wrong password page", wrong.get_data()))
    assert wrong.status_code == 401
    assert api("vphu-uh-drafter", "submit_for_review").status_code == 200
    for name in SIGNERS:
        assert api(name, "concur").status_code == 200
    assert api("vphu-uh-drafter", "open_signing").status_code == 200
    bad_pin = api("vphu-md-signer", "sign", pin="654321")
    assert bad_pin.status_code == 422
    assert b"654321" not in bad_pin.get_data()
    for name in SIGNERS:
        assert api(name, "sign", pin=PIN).status_code == 200
    assert api("vphu-uh-drafter", "submit").status_code == 200
    bad = api("board-approver", "approve", pin=PIN, decision_date="not-a-date")
    assert bad.status_code in {400, 422}
    final = api("board-approver", "approve", pin=PIN)
    assert final.status_code == 200, final.get_data(as_text=True)[:300]
    assert final.get_json()["state"] == "archived"
    # A browser session through the forms as well, including an error page.
    signer = app.test_client()
    assert (
        signer.post("/login", data={"username": "vphu-md-signer", "password": PASSWORD}).status_code
        == 302
    )
    for path in (f"/documents/{doc}", f"/documents/{doc}/sign", "/documents/999999", "/admin"):
        answers.append((f"GET {path}", signer.get(path).get_data()))

    needles = all_needles(demo, demo_db, tokens.values())
    # The scanner itself finds what it looks for (else a clean result would mean nothing).
    planted = b'{"pin": "123456", "k": "' + needles["vphu-md-signer key ec-scalar-hex"] + b'"}'
    assert len(leaks("self-check", planted, needles)) == 2
    problems: list[str] = []
    log_text = "\n".join(r.getMessage() for r in caplog.records).encode("utf-8")
    problems += leaks("caplog", log_text, needles)
    for where, body in answers:
        problems += leaks(f"answer {where}", body, needles)
    scanned = 0
    for where, data in database_texts(demo_db):
        scanned += 1
        if where.startswith("blobs.data"):
            # Blobs hold DOCX, CMS and bundles, which legitimately contain certificates (never
            # keys); the PIN pattern cannot be told from compressed bytes there.
            problems += [p for p in leaks(where, data, needles) if "PIN" not in p]
        else:
            problems += leaks(where, data, needles)
    assert scanned > 100
    assert problems == [], problems
    FIGURES["secret scans (values)"] += scanned


def test_passwords_are_argon2_and_tokens_hashed(demo_db: Engine) -> None:
    with session_factory(demo_db)() as s:
        hashes = list(s.scalars(select(User.password_hash)))
        assert hashes
        assert all(h.startswith("$argon2id$") for h in hashes), hashes[:2]
        token = auth.create_token(s, None, "vphu-md-signer")
        s.commit()
    stored = b"".join(data for where, data in database_texts(demo_db) if "token" in where)
    assert token.encode() not in stored


# --- the real server, PostgreSQL ------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a browser test wants to see the 302 itself


def _http(
    server: Server, path: str, fields: dict[str, str] | None = None, cookie: str | None = None
) -> tuple[int, Any, bytes]:
    data = urllib.parse.urlencode(fields).encode() if fields is not None else None
    req = urllib.request.Request(server.base + path, data=data)  # noqa: S310 - 127.0.0.1
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with urllib.request.build_opener(_NoRedirect).open(req, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def _form_post(
    server: Server, path: str, fields: dict[str, str], cookie: str | None
) -> tuple[int, Any, bytes]:
    return _http(server, path, fields, cookie)


def _get(server: Server, path: str, cookie: str | None = None) -> tuple[int, Any, bytes]:
    return _http(server, path, None, cookie)


def _cookie(headers: Any) -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith("thidua_session="):
            return value.split(";", 1)[0]
    return None


def test_real_server_rate_limits_rotates_session_and_logs_no_secret(
    templates, server_factory
) -> None:
    _, url = templates.copy(templates.signing, "secrets")
    doc = templates.documents["pledge-2019"]
    tokens = make_tokens(url, SIGNERS)
    server = server_factory(templates.env(url), workers=2)

    # Session fixation: the session a visitor had before logging in is not the one after.
    status, headers, page = _get(server, "/login")
    before = _cookie(headers)
    assert before
    csrf = _CSRF.search(page.decode()).group(1)
    status, headers, _ = _form_post(
        server,
        "/login",
        {"username": "vphu-md-signer", "password": PASSWORD, "csrf_token": csrf},
        before,
    )
    assert status == 302
    after = _cookie(headers)
    assert after
    assert after != before
    assert _get(server, f"/documents/{doc}", after)[0] == 200
    assert _get(server, f"/documents/{doc}", before)[0] == 302  # the old session is anonymous

    # Work that touches every secret: PIN signatures (one wrong), tokens, a wrong password.
    wrong = server.request("POST", f"/api/documents/{doc}/sign", token=tokens[SIGNERS[0]],
                           body={"pin": "000000"})  # fmt: skip
    assert wrong.status == 422
    for name in SIGNERS:
        r = server.request(
            "POST", f"/api/documents/{doc}/sign", token=tokens[name], body={"pin": PIN}
        )
        assert r.status == 200, r.body[:300]

    # Login rate limit. Each gunicorn worker counts on its own (documented in
    # web/security.py), which caps guessing at workers x limit per window: of 15 wrong
    # passwords for one account on 2 workers, at most 10 are even checked.
    statuses = []
    for attempt in range(15):
        _, headers, page = _get(server, "/login")
        csrf = _CSRF.search(page.decode()).group(1)
        statuses.append(
            _form_post(
                server,
                "/login",
                {"username": "vphu-uh-signer", "password": f"sai-{attempt}", "csrf_token": csrf},
                _cookie(headers),
            )[0]
        )
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= 2 * 5, statuses
    assert statuses.count(429) >= 5, statuses
    assert statuses[:5] == [401] * 5, statuses

    server.stop()
    log = server.log.read_bytes()
    engine = make_engine(url)
    try:
        needles = {"password": PASSWORD.encode(), "secret key": SECRET_KEY.encode()}
        needles.update({f"token {i}": t.encode() for i, t in enumerate(tokens.values())})
        problems = leaks("gunicorn log", log, needles)
        assert b"Traceback" not in log
        for where, data in database_texts(engine):
            if not where.startswith("blobs.data"):
                problems += leaks(where, data, needles)
        assert problems == [], problems
    finally:
        engine.dispose()
