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


def _autocommit(session) -> bool:  # type: ignore[no-untyped-def]
    raw = session.connection().connection.dbapi_connection
    if hasattr(raw, "autocommit") and isinstance(raw.autocommit, bool):
        return raw.autocommit  # psycopg
    return raw.isolation_level is None  # sqlite3


def test_reads_run_on_autocommit_connections_and_writes_in_transactions(
    app: Flask, db_url: str
) -> None:
    from web import create_app

    deployed = create_app(  # as gunicorn builds it: its own engines, not the tests' one
        {"THIDUA_CONFIG": app.config["THIDUA_CONFIG"], "DATABASE_URL": db_url}
    )
    try:
        with deployed.test_request_context("/", method="GET"):
            assert _autocommit(db.get_session())
        with deployed.test_request_context("/", method="POST"):
            assert not _autocommit(db.get_session())
    finally:
        db.engine(deployed).dispose()
        db.read_engine(deployed).dispose()
