"""One SQLAlchemy session per request, committed at the web boundary (Indico's RH.process).

Workflow services flush and never commit. The application's ``dispatch_request`` commits
after the view returns, inside Flask's error handling, so a failing commit (a stale
version, a unique constraint) is mapped by the error handlers like any other error; any
exception rolls back. A view that catches a service error to re-render a form calls
:func:`rollback` so that the half-done work of the failed call is never committed.

GET and HEAD requests only read (forms post; CSRF protects only posts; a page served from
the page cache must not have had side effects), so their session refuses to write (an ORM
flush or a data-changing ORM statement raises ``ReadOnlyRequest``) and runs on autocommit
connections: no BEGIN and COMMIT round trips, and PostgreSQL gives each statement the same
read-committed view it would inside a transaction.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from workflow.db import make_engine, session_factory


def init_app(app: Flask) -> None:
    shared = app.config.get("ENGINE")
    engine = shared or make_engine(app.config["DATABASE_URL"])
    app.extensions["thidua.engine"] = engine
    app.extensions["thidua.sessionmaker"] = session_factory(engine)
    reader = _read_engine(engine, shared=shared is not None)
    app.extensions["thidua.read_engine"] = reader
    reads = session_factory(reader)
    event.listen(reads, "before_flush", _refuse_flush)
    event.listen(reads, "do_orm_execute", _refuse_writes)
    app.extensions["thidua.read_sessionmaker"] = reads
    app.teardown_appcontext(_close)


def _read_engine(engine: Engine, *, shared: bool) -> Engine:
    """Connections for GET and HEAD: autocommit, so a page served from the cache costs its
    statements and no BEGIN or COMMIT.

    A pool of its own keeps connections in that mode (switching a pooled connection back and
    forth costs more than the round trips). It pings on checkout like the write pool: a
    connection that died (a database restart, a killed backend) is replaced before a read
    uses it, instead of failing that read with a 500; pool_recycle retires connections
    before idle timeouts on the way do. An engine passed in by the caller (tests) is shared
    instead: its owner disposes of it.
    """
    if shared:
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    url = engine.url.render_as_string(hide_password=False)
    return make_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True, pool_recycle=1800)


def engine(app: Flask | None = None) -> Engine:
    found: Engine = (app or current_app).extensions["thidua.engine"]
    return found


def read_engine(app: Flask | None = None) -> Engine:
    """The engine of GET and HEAD requests (see ``_read_engine``)."""
    found: Engine = (app or current_app).extensions["thidua.read_engine"]
    return found


SAFE_METHODS = frozenset({"GET", "HEAD"})


class ReadOnlyRequest(RuntimeError):
    """A GET or HEAD request tried to change data: a programming error, never user input."""


def _read_only() -> bool:
    return has_request_context() and request.method in SAFE_METHODS


def connection() -> Connection:
    """The request's connection, for statements that need no ORM session (the user check on
    every signed-in request). On GET and HEAD it is a plain autocommit connection, which the
    session then shares if the view needs one: a page served from the cache never builds a
    session."""
    if not _read_only():
        return get_session().connection()
    if "db_connection" not in g:
        g.db_connection = read_engine().connect()
    conn: Connection = g.db_connection
    return conn


def get_session() -> Session:
    """The request's session, opened on first use (read-only for GET and HEAD)."""
    if "db_session" not in g:
        if _read_only():
            reads: sessionmaker[Session] = current_app.extensions["thidua.read_sessionmaker"]
            g.db_session = reads(bind=connection())
        else:
            g.db_session = current_app.extensions["thidua.sessionmaker"]()
    session: Session = g.db_session
    return session


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlyRequest(f"{request.method} {request.path} tried to write")


def _refuse_writes(state: ORMExecuteState) -> None:
    if not state.is_select:
        raise ReadOnlyRequest(f"{request.method} {request.path} tried to write")


def rollback() -> None:
    """Discard the request's uncommitted work and mark it so the boundary does not commit."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def commit() -> None:
    session = g.get("db_session")
    if session is not None and not _read_only():  # a read-only session has nothing to commit
        session.commit()


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        # Rollback first: closing an uncommitted session must never leave work behind.
        session.rollback()
        session.close()
    conn = g.pop("db_connection", None)
    if conn is not None:
        conn.close()


def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy"
        return False
    return True
