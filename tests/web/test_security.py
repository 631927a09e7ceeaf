"""Headers, cookies, CSRF, login rate limiting and session fixation."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from tests.web.conftest import PASSWORD, login, make_app
from web import db as web_db
from workflow.models import LoginFailure


def test_security_headers_on_html_and_json(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/login", "/verify", "/api/openapi.json", "/does-not-exist"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_carry_no_inline_script_or_style(app: Flask) -> None:
    """What the CSP forbids must not be needed: no <script> bodies, no style attributes."""
    client = login(app, "vphu-uh-drafter")
    draft = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    for path in ("/", f"/documents/{draft}", f"/documents/{draft}/edit", "/workflow", "/verify"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\sstyle\s*=", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path


def test_session_cookie_is_secure_httponly_samesite(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"username": "vphu-md-signer", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_csrf_is_enforced_on_forms(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/login", data={"username": "vphu-md-signer", "password": PASSWORD})
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": "vphu-md-signer", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    # Logged in, a trigger without the token is still refused and changes nothing.
    draft = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = app.test_client()
    page = drafter.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    drafter.post(
        "/login", data={"username": "vphu-uh-drafter", "password": PASSWORD, "csrf_token": token}
    )
    response = drafter.post(f"/documents/{draft}/action/submit_for_review", data={})
    assert response.status_code == 400
    assert "Dự thảo" in drafter.get(f"/documents/{draft}").get_data(as_text=True)


def test_wrong_password_is_refused_and_then_rate_limited(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        response = client.post("/login", data={"username": "vphu-md-signer", "password": "nope"})
        assert response.status_code == 401
        assert "không đúng" in response.get_data(as_text=True)
    response = client.post("/login", data={"username": "vphu-md-signer", "password": PASSWORD})
    assert response.status_code == 429
    assert "Quá nhiều lần đăng nhập sai" in response.get_data(as_text=True)


def test_the_login_limit_holds_across_worker_processes(app: Flask, tmp_path: Path) -> None:
    """Each gunicorn worker is its own process: failures are counted in the database, so
    five failures spread over two workers block the sixth attempt on both."""
    other_worker = make_app(
        tmp_path / "worker-2", web_db.engine(app), app.config["THIDUA_CONFIG"].ca_master_secret
    )
    for worker in (app, other_worker, app, other_worker, app):
        wrong = worker.test_client().post(
            "/login", data={"username": "vphu-md-signer", "password": "sai"}
        )
        assert wrong.status_code == 401
    for worker in (app, other_worker):
        right = worker.test_client().post(
            "/login", data={"username": "vphu-md-signer", "password": PASSWORD}
        )
        assert right.status_code == 429
    # Another user from the same address, who typed nothing wrong, still signs in: the
    # address limit is higher and never holds back an account without failures.
    assert login_status(app, "vphu-uh-drafter", PASSWORD) == 302


def login_status(app: Flask, username: str, password: str) -> int:
    reply = app.test_client().post("/login", data={"username": username, "password": password})
    return reply.status_code


def test_failed_logins_are_stored_only_as_keyed_digests(app: Flask) -> None:
    typed = "mat-khau-go-nham-vao-o-ten"  # a password typed into the username field
    assert login_status(app, typed, "x") == 401
    with web_db.engine(app).connect() as conn:
        rows = conn.execute(select(LoginFailure.key_digest)).scalars().all()
    assert len(rows) == 2  # the address and the username
    assert all(len(digest) == 64 and typed not in digest for digest in rows)
    plain = hashlib.sha256(f"user:{typed}".encode()).hexdigest()
    assert plain not in rows  # keyed: not a bare hash anyone can recompute from a guess


def test_a_successful_login_clears_its_username_only(app: Flask) -> None:
    for _ in range(4):
        assert login_status(app, "vphu-md-signer", "sai") == 401
    assert login_status(app, "vphu-md-signer", PASSWORD) == 302
    # The username starts afresh: five more wrong passwords before it backs off.
    for _ in range(5):
        assert login_status(app, "vphu-md-signer", "sai") == 401
    assert login_status(app, "vphu-md-signer", PASSWORD) == 429
    # The address still carries its nine failures (under its limit of 50).
    with web_db.engine(app).connect() as conn:
        counts = sorted(conn.execute(select(LoginFailure.failures)).scalars().all())
    assert counts == [5, 9]


def test_login_starts_a_new_session(app: Flask) -> None:
    """Session fixation: nothing planted in the session before login survives it."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    client.post("/login", data={"username": "vphu-md-signer", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_logout_ends_the_session(app: Flask) -> None:
    client = login(app, "vphu-md-signer")
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_open_redirect_after_login_is_refused(app: Flask) -> None:
    client = app.test_client()
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": "vphu-md-signer", "password": PASSWORD},
    )
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_hsts_only_over_https(client) -> None:  # type: ignore[no-untyped-def]
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
