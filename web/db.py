"""One SQLAlchemy session per request, committed at the web boundary (Indico's RH.process).

Workflow services flush and never commit. The application's ``dispatch_request`` commits
after the view returns, inside Flask's error handling, so a failing commit (a stale
version, a unique constraint) is mapped by the error handlers like any other error; any
exception rolls back. A view that catches a service error to re-render a form calls
:func:`rollback` so that the half-done work of the failed call is never committed.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from workflow.db import make_engine, session_factory


def init_app(app: Flask) -> None:
    engine = app.config.get("ENGINE") or make_engine(app.config["DATABASE_URL"])
    app.extensions["thidua.engine"] = engine
    app.extensions["thidua.sessionmaker"] = session_factory(engine)
    app.teardown_appcontext(_close)


def engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["thidua.engine"]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        maker: sessionmaker[Session] = current_app.extensions["thidua.sessionmaker"]
        g.db_session = maker()
    return g.db_session


def rollback() -> None:
    """Discard the request's uncommitted work and mark it so the boundary does not commit."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def commit() -> None:
    session = g.get("db_session")
    if session is not None:
        session.commit()


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        # Rollback first: closing an uncommitted session must never leave work behind.
        session.rollback()
        session.close()


def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy"
        return False
    return True
