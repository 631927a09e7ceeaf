"""Sessions that end (issue 14): a session cookie saved by someone else stops working when
its user signs out, changes password, is deactivated (and stays dead after reactivation),
is signed out everywhere by an admin, after 30 minutes idle and 8 hours after sign-in, and
it is not signed in at all from another browser."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, login
from web import db as web_db
from web import sessions
from workflow.db import session_factory
from workflow.models import Document
from workflow.services import admin

COOKIE = "thidua_session"
DRAFTER = "vphu-uh-drafter"
ADMIN = "admin"


def saved_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie: str, user_agent: str | None = None) -> FlaskClient:
    """Another browser holding a copy of ``cookie``."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie, domain="localhost")
    if user_agent is not None:
        other.environ_base["HTTP_USER_AGENT"] = user_agent
    return other


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def state_of(app: Flask, document_id: int) -> str:
    with session_factory(web_db.engine(app))() as s:
        state = s.scalar(select(Document.state).where(Document.id == document_id))
    assert state is not None
    return state


def act_as(app: Flask, change: object) -> None:
    with session_factory(web_db.engine(app))() as s:
        assert callable(change)
        change(s)
        s.commit()


def test_a_cookie_saved_before_logout_cannot_act_after_it(app: Flask) -> None:
    draft = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, DRAFTER)
    cookie = saved_cookie(drafter)
    assert drafter.post("/logout").status_code == 302
    thief = replay(app, cookie)
    response = thief.post(f"/documents/{draft}/action/submit_for_review")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert state_of(app, draft) == "draft"  # nothing was submitted
    assert not signed_in(thief)


def test_logout_in_one_browser_ends_the_users_other_sessions(app: Flask) -> None:
    office, laptop = login(app, DRAFTER), login(app, DRAFTER)
    assert signed_in(laptop)
    office.post("/logout")
    assert not signed_in(laptop)
    # Signing in again opens a session that works.
    assert signed_in(login(app, DRAFTER))


def test_a_cookie_from_another_browser_is_not_signed_in(app: Flask) -> None:
    drafter = login(app, DRAFTER)
    cookie = saved_cookie(drafter)
    assert not signed_in(replay(app, cookie, user_agent="Mozilla/5.0 (a thief's browser)"))
    # The browser that signed in is not affected by someone else's failed replay... except
    # that the replayed copy was cleared, not the original: it still works.
    assert signed_in(drafter)


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app: Flask) -> None:
    drafter = login(app, DRAFTER)
    cookie = saved_cookie(drafter)
    act_as(app, lambda s: admin.set_active(s, None, DRAFTER, False))
    assert not signed_in(replay(app, cookie))
    act_as(app, lambda s: admin.set_active(s, None, DRAFTER, True))
    assert not signed_in(replay(app, cookie))
    assert not signed_in(drafter)
    assert signed_in(login(app, DRAFTER))


def test_a_password_change_ends_every_session(app: Flask) -> None:
    drafter = login(app, DRAFTER)
    cookie = saved_cookie(drafter)
    act_as(app, lambda s: admin.set_password(s, None, DRAFTER, "mat-khau-moi-2026"))
    assert not signed_in(replay(app, cookie))
    assert not signed_in(drafter)
    assert signed_in(login(app, DRAFTER, "mat-khau-moi-2026"))


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _login_with_csrf(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    data = {"username": username, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    return client


def test_an_admin_signs_a_user_out_everywhere_from_the_users_page(csrf_app: Flask) -> None:
    app = csrf_app
    drafter = _login_with_csrf(app, DRAFTER)
    cookie = saved_cookie(drafter)
    boss = _login_with_csrf(app, ADMIN)
    page = boss.get("/admin/users").get_data(as_text=True)
    assert "/admin/users/sign-out" in page
    # Without the form's CSRF token the action is refused and changes nothing.
    forged = boss.post("/admin/users/sign-out", data={"username": DRAFTER})
    assert forged.status_code == 400
    assert signed_in(replay(app, cookie))
    done = boss.post("/admin/users/sign-out", data={"username": DRAFTER, "csrf_token": _csrf(page)})
    assert done.status_code == 302
    assert "Đã đăng xuất người dùng khỏi mọi phiên." in boss.get("/admin/users").get_data(
        as_text=True
    )
    assert not signed_in(replay(app, cookie))
    assert not signed_in(drafter)
    assert signed_in(boss)  # the admin's own session goes on


def test_a_session_ends_after_30_idle_minutes(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    start = sessions.now_seconds()
    clock = {"now": start}
    monkeypatch.setattr(sessions, "now_seconds", lambda: clock["now"])
    drafter = login(app, DRAFTER)
    clock["now"] = start + 29 * 60
    assert signed_in(drafter)  # used within 30 minutes: still live, and seen again now
    clock["now"] = start + 58 * 60
    assert signed_in(drafter)
    cookie = saved_cookie(drafter)
    clock["now"] = start + 89 * 60  # 31 minutes after the last request
    assert not signed_in(drafter)
    assert not signed_in(replay(app, cookie))


def test_a_session_ends_8_hours_after_sign_in_however_busy(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = sessions.now_seconds()
    clock = {"now": start}
    monkeypatch.setattr(sessions, "now_seconds", lambda: clock["now"])
    drafter = login(app, DRAFTER)
    for minutes in range(20, 8 * 60, 20):
        clock["now"] = start + minutes * 60
        assert signed_in(drafter), minutes
    clock["now"] = start + 8 * 3600
    assert not signed_in(drafter)


def test_the_idle_time_is_configurable(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THIDUA_SESSION_IDLE_MINUTES", "5")
    from web import security

    assert security.session_idle_timeout().total_seconds() == 300
    monkeypatch.setenv("THIDUA_SESSION_IDLE_MINUTES", "soon")
    with pytest.raises(Exception, match="THIDUA_SESSION_IDLE_MINUTES"):
        security.session_idle_timeout()


def test_a_privilege_change_renews_the_session_and_ends_the_old_one(app: Flask) -> None:
    boss = login(app, ADMIN)
    before = saved_cookie(boss)
    granted = boss.post(
        "/admin/users/roles", data={"username": ADMIN, "role": "reviewer", "unit_code": "VPHU-MD"}
    )
    assert granted.status_code == 302, granted.get_data(as_text=True)[:300]
    assert signed_in(boss)  # this browser goes on, in a new session
    assert saved_cookie(boss) != before
    assert not signed_in(replay(app, before))  # a copy taken before the change is dead
