"""GET and HEAD requests never change data: their session refuses to write (CSRF tokens
guard only posts, and a page served from the cache must not have had side effects)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from web import db
from workflow.clock import utcnow
from workflow.models import Unit


def _units(app: Flask) -> int:
    session = app.extensions["thidua.sessionmaker"]()
    try:
        return session.scalar(select(func.count()).select_from(Unit))
    finally:
        session.close()


def test_a_get_that_writes_fails_and_writes_nothing(app: Flask) -> None:
    def write() -> str:
        session = db.get_session()
        session.add(Unit(code="VPHU-GET", name="Ghi bằng GET", kind="member", created_at=utcnow()))
        session.flush()
        return "written"

    app.add_url_rule("/__write", "write", write, methods=["GET", "POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    before = _units(app)
    client = app.test_client()
    assert client.get("/__write").status_code == 500
    assert _units(app) == before
    reply = client.post("/__write")
    assert reply.status_code == 200
    assert _units(app) == before + 1
