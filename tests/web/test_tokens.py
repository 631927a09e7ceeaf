"""API tokens that end (issue 14): they expire, ``thidua token revoke`` revokes them, a
deactivated user's tokens stop working for good; and demo users each have their own salt."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Engine, select

from tests.web.conftest import PASSWORD
from web import db as web_db
from web.cli import main
from workflow.clock import aware, utcnow
from workflow.db import session_factory
from workflow.models import ApiToken, User
from workflow.security import verify_password
from workflow.services import admin, auth

SIGNER = "vphu-md-signer"


def api_status(app: Flask, token: str) -> int:
    reply = app.test_client().get("/api/documents", headers={"Authorization": f"Bearer {token}"})
    return reply.status_code


def in_db(app: Flask, change: object) -> object:
    with session_factory(web_db.engine(app))() as s:
        assert callable(change)
        result = change(s)
        s.commit()
    return result


def make_token(app: Flask, **kwargs: object) -> str:
    token = in_db(app, lambda s: auth.create_token(s, None, SIGNER, **kwargs))
    assert isinstance(token, str)
    return token


def test_a_token_works_until_it_expires(app: Flask) -> None:
    two_days_ago = utcnow() - timedelta(days=2)
    expired = make_token(app, days=1, now=two_days_ago)
    live = make_token(app, days=3, now=two_days_ago)
    assert api_status(app, live) == 200
    assert api_status(app, expired) == 401


def test_a_token_lives_90_days_unless_told_otherwise(app: Flask) -> None:
    make_token(app)
    with session_factory(web_db.engine(app))() as s:
        row = s.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
        assert row is not None
        assert aware(row.expires_at) - aware(row.created_at) == timedelta(days=90)
    with pytest.raises(Exception, match="1 đến 3650 ngày"):
        make_token(app, days=0)


def test_deactivation_ends_a_token_for_good(app: Flask) -> None:
    token = make_token(app)
    assert api_status(app, token) == 200
    in_db(app, lambda s: admin.set_active(s, None, SIGNER, False))
    assert api_status(app, token) == 401
    in_db(app, lambda s: admin.set_active(s, None, SIGNER, True))
    # Before: reactivation brought the old token back to life.
    assert api_status(app, token) == 401
    assert api_status(app, make_token(app)) == 200  # a new one works


@pytest.fixture
def cli_env(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ``thidua`` CLI on the test database."""
    engine: Engine = web_db.engine(app)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("THIDUA_SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("THIDUA_CA_SECRET", app.config["THIDUA_CONFIG"].ca_master_secret.decode())
    return tmp_path


def test_thidua_token_create_days_and_token_revoke(app: Flask, cli_env: Path) -> None:
    run = CliRunner()
    made = run.invoke(main, ["token", "create", "--instance", str(cli_env), SIGNER, "--days", "7"])
    assert made.exit_code == 0, made.output
    token = made.output.split()[-1]
    assert api_status(app, token) == 200
    refused = run.invoke(
        main, ["token", "create", "--instance", str(cli_env), SIGNER, "--days", "0"]
    )
    assert refused.exit_code == 2
    revoked = run.invoke(main, ["token", "revoke", "--instance", str(cli_env), SIGNER])
    assert revoked.exit_code == 0, revoked.output
    assert "Đã thu hồi 1 mã truy cập" in revoked.output
    assert api_status(app, token) == 401
    unknown = run.invoke(main, ["token", "revoke", "--instance", str(cli_env), "khong-co-ai"])
    assert unknown.exit_code != 0
    assert "Không có người dùng" in unknown.output


def test_thidua_users_sign_out_ends_every_session(app: Flask, cli_env: Path) -> None:
    browser = app.test_client()
    browser.post("/login", data={"username": SIGNER, "password": PASSWORD})
    assert browser.get("/").status_code == 200
    done = CliRunner().invoke(main, ["users", "sign-out", "--instance", str(cli_env), SIGNER])
    assert done.exit_code == 0, done.output
    assert browser.get("/").status_code == 302


def test_demo_users_each_have_their_own_salt(app: Flask) -> None:
    with session_factory(web_db.engine(app))() as s:
        hashes = s.scalars(select(User.password_hash)).all()
    assert len(hashes) >= 18
    assert len(set(hashes)) == len(hashes)  # before: one hash shared by all 18
    assert all(verify_password(h, PASSWORD) for h in hashes)
