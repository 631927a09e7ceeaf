"""Login limits that protect without locking everyone out (issue 14): failures are counted
per account and per address; made-up names from one address (a proxy many people share)
never lock out a user who typed nothing wrong; forwarded addresses are trusted only from the
configured number of proxies."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.web.conftest import PASSWORD, make_app
from web import db as web_db
from web import security
from workflow.errors import ConfigError


def status(app: Flask, username: str, password: str, forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    reply = app.test_client().post(
        "/login", data={"username": username, "password": password}, headers=headers
    )
    return reply.status_code


def test_made_up_names_from_one_address_do_not_lock_real_users_out(app: Flask) -> None:
    for n in range(5):
        assert status(app, f"khong-co-ai-{n}", "doan-bua") == 401
    # Before: the sixth sign-in from this address, anyone's, was refused for 5 minutes.
    assert status(app, "vphu-md-signer", PASSWORD) == 302
    assert status(app, "vphu-uh-drafter", PASSWORD) == 302


def test_an_account_backs_off_after_five_failures_whoever_tries(app: Flask) -> None:
    for _ in range(5):
        assert status(app, "vphu-md-signer", "sai") == 401
    reply = app.test_client().post("/login", data={"username": "VPHU-MD-Signer", "password": "x"})
    assert reply.status_code == 429  # the same account, however the name is typed
    assert "Quá nhiều lần đăng nhập sai" in reply.get_data(as_text=True)
    assert int(reply.headers["Retry-After"]) > 0
    assert status(app, "vphu-md-signer", PASSWORD) == 429  # not even the right password


def small_limits(app: Flask, tmp_path: Path, **config: object) -> Flask:
    """Another worker on the same database, with an address limit of 6 (50 by default)."""
    engine, secret = web_db.engine(app), app.config["THIDUA_CONFIG"].ca_master_secret
    return make_app(tmp_path / str(len(config)), engine, secret, LOGIN_ADDRESS_LIMIT=6, **config)


def test_a_busy_address_holds_back_only_accounts_that_have_failures(
    app: Flask, tmp_path: Path
) -> None:
    app = small_limits(app, tmp_path)
    # Six guesses, at two accounts, from one address: its limit (6 here) is reached.
    for username in ["vphu-md-signer"] * 3 + ["vphu-uh-signer"] * 3:
        assert status(app, username, "sai") == 401
    # An account with failures is now held back from this address, right password or not...
    assert status(app, "vphu-md-signer", PASSWORD) == 429
    assert status(app, "vphu-uh-signer", "sai") == 429
    # ...but a user who typed nothing wrong signs in.
    assert status(app, "vphu-px-signer", PASSWORD) == 302


def test_forwarded_addresses_are_trusted_only_from_the_configured_proxies(
    app: Flask, tmp_path: Path
) -> None:
    behind = small_limits(app, tmp_path, BEHIND_PROXY=1)
    # A client behind the one proxy writes its own X-Forwarded-For; the proxy appends the
    # address it saw. Only that last entry counts: six guesses from 10.0.0.7 fill its limit.
    for n in range(6):
        assert status(behind, f"ten-{n}", "sai", forwarded=f"203.0.113.{n}, 10.0.0.7") == 401
    assert status(behind, "ten-0", "sai", forwarded="198.51.100.1, 10.0.0.7") == 429
    # Another client address (as the proxy saw it) is not held back.
    assert status(behind, "ten-0", "sai", forwarded="10.0.0.8") == 401
    # Without THIDUA_BEHIND_PROXY the header is ignored: everything is this one address.
    direct = small_limits(app, tmp_path)
    for n in range(6):
        assert status(direct, f"khac-{n}", "sai", forwarded=f"10.9.9.{n}") == 401
    assert status(direct, "khac-0", "sai", forwarded="10.9.9.200") == 429


def test_behind_proxy_must_be_a_number_of_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THIDUA_BEHIND_PROXY", "2")
    assert security.trusted_proxies() == 2
    monkeypatch.setenv("THIDUA_BEHIND_PROXY", "yes")
    with pytest.raises(ConfigError, match="THIDUA_BEHIND_PROXY"):
        security.trusted_proxies()
