"""One SQLAlchemy session per request, committed at the web boundary (Indico's RH.process).

Workflow services flush and never commit. The application's ``dispatch_request`` commits
after the view returns, inside Flask's error handling, so a failing commit (a stale
version, a unique constraint) is mapped by the error handlers like any other error; any
exception rolls back. A view that catches a service error to re-render a form calls
:func:`rollback` so that the half-done work of the failed call is never committed.

GET and HEAD requests only read (forms post; CSRF protects only posts; a page served from
the page cache must not have had side effects), so their session refuses to write: an ORM
flush or a data-changing ORM statement on it raises ``ReadOnlyRequest``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from workflow.db import make_engine, session_factory


def init_app(app: Flask) -> None:
    engine = app.config.get("ENGINE") or make_engine(app.config["DATABASE_URL"])
    app.extensions["thidua.engine"] = engine
    maker = session_factory(engine)
    event.listen(maker, "before_flush", _refuse_flush)
    event.listen(maker, "do_orm_execute", _refuse_writes)
    app.extensions["thidua.sessionmaker"] = maker
    app.teardown_appcontext(_close)


def engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["thidua.engine"]


SAFE_METHODS = frozenset({"GET", "HEAD"})


class ReadOnlyRequest(RuntimeError):
    """A GET or HEAD request tried to change data: a programming error, never user input."""


def get_session() -> Session:
    """The request's session, opened on first use (read-only for GET and HEAD)."""
    if "db_session" not in g:
        maker: sessionmaker[Session] = current_app.extensions["thidua.sessionmaker"]
        session = maker()
        session.info["read_only"] = has_request_context() and request.method in SAFE_METHODS
        g.db_session = session
    return g.db_session


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get("read_only") and (session.new or session.dirty or session.deleted):
        raise ReadOnlyRequest(f"{request.method} {request.path} tried to write")


def _refuse_writes(state: ORMExecuteState) -> None:
    if state.session.info.get("read_only") and not state.is_select:
        raise ReadOnlyRequest(f"{request.method} {request.path} tried to write")


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
