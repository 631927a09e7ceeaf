"""Authorisation matrix: every role x every trigger x own unit / other unit / other cluster,
through the JSON API (Bearer tokens) and through the HTML forms (with CSRF tokens).

The document is the 2019 pledge (Ứng Hòa heads the cluster), brought to the state where the
trigger is otherwise legal, so that who fires it is the only question. A cell is allowed
exactly when DESIGN.md says so; otherwise the answer is 403/404/409/422 with a message
(401 / the login page for anonymous), never a 5xx, and nothing changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from tests.fixtures_db import DemoData, Snapshot, restore, snapshot
from tests.system.conftest import FIGURES, PASSWORD, PIN, SIGNERS
from tests.web.conftest import make_app
from tests.workflow.helpers import other_cluster_pledge, sign_all_uploaded
from workflow.db import session_factory
from workflow.models import Document, User
from workflow.services import admin, auth, lifecycle

HEAD = "VPHU-UH"  # head unit of the 2019 term
OTHER_UNIT = "VPHU-QO"  # a member unit where no actor of the matrix holds a role
BOARD = "BTDKT-HN"


@dataclass(frozen=True)
class Role:
    name: str
    username: str | None
    unit: str | None


ROLES = [
    Role("head_drafter", "vphu-uh-drafter", HEAD),
    Role("member_drafter", "vphu-px-drafter", "VPHU-PX"),
    Role("member_signer", "vphu-px-signer", "VPHU-PX"),
    Role("head_signer", "vphu-uh-signer", HEAD),
    Role("outside_signer", "vphu-xb-signer", "VPHU-XB"),
    Role("reviewer", "vphu-tt-reviewer", "VPHU-TT"),
    Role("board", "board-approver", BOARD),
    Role("admin", "admin", None),
    Role("anonymous", None, None),
]
TRIGGER_STATE = {
    "submit_for_review": "draft",
    "cancel": "draft",
    "comment": "in_review",
    "concur": "in_review",
    "request_changes": "in_review",
    "revise": "in_review",
    "open_signing": "in_review",
    "sign": "signing",
    "decline": "signing",
    "submit": "signed",
    "approve": "submitted",
    "return": "submitted",
}
SCOPES = ("own_unit", "other_unit", "other_cluster")
MEMBER_STAFF = {"head_drafter", "member_drafter", "member_signer", "head_signer", "reviewer"}


def allowed(role: str, trigger: str, scope: str) -> bool:
    """DESIGN.md's table: who may fire what (the unit named must be the actor's own)."""
    if scope == "other_cluster" or role in {"outside_signer", "admin", "anonymous"}:
        return False
    if trigger in {"submit_for_review", "revise", "open_signing", "cancel"}:
        return role == "head_drafter"  # unit-less triggers: the unit named does not matter
    if trigger == "comment":
        return role in MEMBER_STAFF and scope == "own_unit"
    if trigger in {"concur", "request_changes", "sign", "decline"}:
        return role in {"member_signer", "head_signer"} and scope == "own_unit"
    if trigger == "submit":
        return role in {"head_drafter", "head_signer"}
    if trigger in {"approve", "return"}:
        return role == "board"
    raise AssertionError(trigger)


def body_for(trigger: str, unit: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"reason": "Lý do kiểm thử phân quyền"}
    if unit:
        body["unit_code"] = unit
    if trigger == "comment":
        body.update(anchor="legal_bases[0]", text="Đề nghị bổ sung căn cứ.")
    if trigger in {"sign", "approve"}:
        body["pin"] = PIN
    if trigger == "open_signing":
        body["override"] = True
    return body


def _other_cluster_pledge(session: Any) -> int:
    """A second cluster with a draft 2019 pledge, an outsider signer and a reviewer."""
    doc = other_cluster_pledge(session)
    admin.add_user(session, None, "vphu-xb-signer", "Lãnh đạo Xb", PASSWORD,
                   roles=[("VPHU-XB", "signer")])  # fmt: skip
    admin.add_user(session, None, "vphu-tt-reviewer", "Người góp ý Thạch Thất", PASSWORD,
                   roles=[("VPHU-TT", "reviewer")])  # fmt: skip
    return doc


@dataclass
class World:
    app: Flask
    engine: Engine
    doc: int
    other_doc: int
    states: dict[str, Snapshot]
    tokens: dict[str, str]
    current: str | None = None
    dirty: bool = True
    browsers: dict[str, tuple[FlaskClient, str]] = field(default_factory=dict)

    def reset(self, state: str) -> None:
        if self.dirty or self.current != state:
            restore(self.engine, self.states[state])
            self.current, self.dirty = state, False


@pytest.fixture(scope="module")
def world(
    db_engine: Engine, demo_data: DemoData, tmp_path_factory: pytest.TempPathFactory
) -> World:
    restore(db_engine, demo_data.snapshot)
    doc = demo_data.pledge_2019
    factory = session_factory(db_engine)
    with factory() as s:
        other = _other_cluster_pledge(s)
        tokens = {r.name: auth.create_token(s, None, r.username) for r in ROLES if r.username}
        s.commit()

    def user(s: Any, name: str) -> User:
        return s.scalar(select(User).where(User.username == name))

    states = {"draft": snapshot(db_engine)}
    with factory() as s:
        lifecycle.submit_for_review(s, user(s, "vphu-uh-drafter"), doc)
        s.commit()
    states["in_review"] = snapshot(db_engine)
    with factory() as s:
        for name in SIGNERS:
            lifecycle.concur(s, user(s, name), doc)
        lifecycle.open_signing(s, user(s, "vphu-uh-drafter"), doc)
        s.commit()
    states["signing"] = snapshot(db_engine)
    with factory() as s:
        sign_all_uploaded(s, demo_data, doc)
        s.commit()
    states["signed"] = snapshot(db_engine)
    with factory() as s:
        lifecycle.submit(s, user(s, "vphu-uh-drafter"), doc)
        s.commit()
    states["submitted"] = snapshot(db_engine)
    app = make_app(
        tmp_path_factory.mktemp("matrix"),
        db_engine,
        demo_data.ca_secret,
        WTF_CSRF_ENABLED=True,
        LOGIN_RATE_LIMIT=1000,
    )
    return World(app, db_engine, doc, other, states, tokens)


def _state(world: World, document_id: int) -> tuple[str, int]:
    with session_factory(world.engine)() as s:
        d = s.get(Document, document_id)
        assert d is not None
        return d.state, d.version


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _form_client(world: World, role: Role) -> tuple[FlaskClient, str]:
    """A browser per role: logged in through the form (with its CSRF token) once."""
    if role.name in world.browsers:
        return world.browsers[role.name]
    client = world.app.test_client()
    token = _CSRF.search(client.get("/login").get_data(as_text=True))
    assert token, "no CSRF token on the login page"
    if role.username:
        r = client.post(
            "/login",
            data={"username": role.username, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
        page = client.get("/documents").get_data(as_text=True)
        token = _CSRF.search(page)
        assert token, "no CSRF token on the documents page"
    world.browsers[role.name] = (client, token.group(1))
    return world.browsers[role.name]


CELLS = [(role, trigger, scope) for trigger in TRIGGER_STATE for role in ROLES for scope in SCOPES]


@pytest.mark.parametrize("channel", ["api", "form"])
@pytest.mark.parametrize(
    ("role", "trigger", "scope"),
    CELLS,
    ids=[f"{r.name}-{t}-{s}" for r, t, s in CELLS],
)
def test_matrix(world: World, role: Role, trigger: str, scope: str, channel: str) -> None:
    world.reset(TRIGGER_STATE[trigger])
    # "Other cluster": a cluster the actor is not in (the outsider's own cluster is CTD9).
    outsider = role.name == "outside_signer"
    target = world.other_doc if scope == "other_cluster" and not outsider else world.doc
    unit = OTHER_UNIT if scope == "other_unit" else role.unit
    body = body_for(trigger, unit)
    before = _state(world, target)
    expected = allowed(role.name, trigger, scope)

    if channel == "api":
        headers = {"Authorization": f"Bearer {world.tokens[role.name]}"} if role.username else {}
        r = world.app.test_client().post(
            f"/api/documents/{target}/{trigger}", json=body, headers=headers
        )
        text = r.get_data(as_text=True)
        ok = r.status_code == 200
    else:
        client, csrf = _form_client(world, role)
        form = {k: ("on" if v is True else str(v)) for k, v in body.items()}
        form["csrf_token"] = csrf
        path = (
            f"/documents/{target}/{trigger}"
            if trigger in {"sign", "approve"}
            else f"/documents/{target}/action/{trigger}"
        )
        r = client.post(path, data=form)
        text = r.get_data(as_text=True)
        location = r.headers.get("Location", "").split("?")[0].split("#")[0]
        ok = r.status_code == 302 and location.endswith(f"/documents/{target}")
    FIGURES[f"matrix cells ({channel})"] += 1

    assert r.status_code < 500, text[:500]
    assert "Traceback" not in text
    after = _state(world, target)
    if expected:
        assert ok, (r.status_code, text[:500])
        world.dirty = True
        return
    assert not ok, (r.status_code, text[:300])
    assert after == before, "a refused trigger changed the document"
    if role.name == "anonymous":
        if channel == "api":
            assert r.status_code == 401
            assert r.get_json()["error"]["message"]
        else:
            assert r.status_code == 302
            assert "/login" in r.headers["Location"]
        return
    if channel == "api":
        assert r.status_code in {403, 404, 409, 422}, (r.status_code, text[:300])
        assert r.get_json()["error"]["message"].strip()
    else:
        assert r.status_code in {403, 404, 409, 422}, (r.status_code, text[:300])
        assert len(text) > 200  # a page with the message, not an empty body
    invisible = scope == "other_cluster" or role.name == "outside_signer"
    if invisible and role.name != "admin":
        # A non-member learns nothing about the cluster, not even that the document exists.
        assert r.status_code == 404, (r.status_code, text[:300])


def test_matrix_covers_every_trigger_and_role() -> None:
    from web.actions import USER_TRIGGERS

    assert set(TRIGGER_STATE) == set(USER_TRIGGERS)
    assert len(CELLS) == len(ROLES) * len(USER_TRIGGERS) * len(SCOPES)
    # Each trigger is allowed to someone, so the matrix is not trivially all-refused.
    for trigger in TRIGGER_STATE:
        assert any(allowed(r.name, trigger, s) for r in ROLES for s in SCOPES), trigger
