"""Database fixtures shared by the workflow and web tests (registered in tests/conftest.py).

The database is ``THIDUA_TEST_DATABASE_URL`` (PostgreSQL in CI's second run) or a temporary
SQLite file. The schema comes from the Alembic migrations (never ``create_all``), once per
session; every test starts from empty tables (``db``) or from the demo data (``demo_db``),
which is seeded once per session through the real ``seed_demo`` and restored from a snapshot
so that each test pays milliseconds, not the seconds of key sealing.

Fixtures:
    db_url          the database URL of this run
    db_engine       session-wide engine, schema at head (tables may hold anything)
    db              the engine, all tables empty (and the audit chain at GENESIS)
    db_session      a session on ``db``; commit in the test when the code under test expects it
    demo_db         the engine, holding the seeded demo cluster (see workflow.seed)
    demo            facts about the demo data: document ids, the CA secret, signer keys
    ca_secret       the CA master secret the demo CA was created with
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.orm import Session

from signing.audit import GENESIS
from signing.credentials import unseal_private_key
from workflow.db import make_engine, session_factory, upgrade
from workflow.models import AuditChainHead, Base, Credential, Document, User
from workflow.seed import DEMO_PIN, SeedResult, seed_demo

TEST_CA_SECRET = b"thidua-test-ca-master-secret-0123456789"


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("THIDUA_TEST_DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'thidua-test.db'}"


@pytest.fixture(scope="session")
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    if is_postgres(engine):
        # A database left by an earlier run: start from nothing, then migrate.
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


def _tables() -> list[Any]:
    return list(Base.metadata.sorted_tables)


def clear(engine: Engine) -> None:
    """Empty every table and reset the audit chain head to GENESIS."""
    names = [t.name for t in _tables()]
    if is_postgres(engine):
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
            conn.execute(insert(AuditChainHead.__table__).values(id=1, seq=0, hash=GENESIS))
        return
    with engine.connect() as conn:
        # The documents <-> versions cycle cannot be deleted in any FK-respecting order, and
        # the pragma only takes effect outside a transaction.
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            for table in reversed(_tables()):
                conn.execute(delete(table))
            conn.execute(insert(AuditChainHead.__table__).values(id=1, seq=0, hash=GENESIS))
            conn.commit()
        finally:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


Snapshot = dict[str, list[dict[str, Any]]]


def snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as conn:
        return {t.name: [dict(row._mapping) for row in conn.execute(select(t))] for t in _tables()}


def restore(engine: Engine, data: Snapshot) -> None:
    """Empty the tables and load ``data`` back, ids included."""
    clear(engine)
    with engine.connect() as conn:
        # Rows go back exactly as they were, including the documents <-> versions cycle, so
        # foreign-key checks are off while loading (both backends check them per statement).
        if is_postgres(engine):
            conn.exec_driver_sql("SET session_replication_role = replica")
        else:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            conn.execute(delete(AuditChainHead.__table__))
            for table in _tables():
                rows = data.get(table.name) or []
                if rows:
                    conn.execute(insert(table), rows)
            if is_postgres(engine):
                # Every integer key with a sequence (ids, and timestamp_tokens.serial): after
                # loading rows with their keys the sequence must move past them.
                for table in _tables():
                    if not data.get(table.name):
                        continue
                    for column in table.primary_key.columns:
                        if column.autoincrement is False or column.type.python_type is not int:
                            continue
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', "  # noqa: S608 - names from our metadata
                                f"'{column.name}'), (SELECT MAX({column.name}) FROM {table.name}))"
                            )
                        )
            conn.commit()
        finally:
            conn.rollback()
            if is_postgres(engine):
                conn.exec_driver_sql("SET session_replication_role = DEFAULT")
            else:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


@pytest.fixture
def db(db_engine: Engine) -> Engine:
    clear(db_engine)
    return db_engine


@pytest.fixture
def db_session(db: Engine) -> Iterator[Session]:
    with session_factory(db)() as session:
        yield session


@pytest.fixture(scope="session")
def ca_secret() -> bytes:
    return TEST_CA_SECRET


@dataclass
class DemoData:
    """What the demo seeding produced, plus the signers' keys opened once for fast tests."""

    result: SeedResult
    ca_secret: bytes
    snapshot: Snapshot
    keys: dict[str, Any]  # username -> private key (opened with the demo PIN)
    certificates: dict[str, bytes]  # username -> certificate DER

    @property
    def pledge_2018(self) -> int:
        return self.result.documents["pledge-2018"]

    @property
    def nomination_2018(self) -> int:
        return self.result.documents["nomination-2018"]

    @property
    def pledge_2019(self) -> int:
        return self.result.documents["pledge-2019"]


@pytest.fixture(scope="session")
def demo_data(db_engine: Engine, ca_secret: bytes) -> DemoData:
    clear(db_engine)
    with session_factory(db_engine)() as session:
        result = seed_demo(session, ca_secret=ca_secret)
        session.commit()
        creds = session.execute(
            select(User.username, Credential.sealed_key, Credential.certificate_der).join(
                Credential, Credential.user_id == User.id
            )
        ).all()
    with ThreadPoolExecutor(max_workers=4) as pool:
        opened = list(pool.map(lambda c: unseal_private_key(bytes(c[1]), DEMO_PIN), creds))
    keys = {c[0]: key for c, key in zip(creds, opened, strict=True)}
    certs = {c[0]: bytes(c[2]) for c in creds}
    return DemoData(result, ca_secret, snapshot(db_engine), keys, certs)


@pytest.fixture
def demo_db(db_engine: Engine, demo_data: DemoData) -> Engine:
    restore(db_engine, demo_data.snapshot)
    return db_engine


@pytest.fixture
def demo(demo_db: Engine, demo_data: DemoData) -> DemoData:
    return demo_data


@pytest.fixture
def demo_session(demo_db: Engine) -> Iterator[Session]:
    with session_factory(demo_db)() as session:
        yield session


def user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


def document(session: Session, document_id: int) -> Document:
    found = session.get(Document, document_id)
    assert found is not None
    return found
