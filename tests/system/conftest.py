"""System-test fixtures: the real server (gunicorn, several workers) on scratch PostgreSQL
databases, plus an in-process app over the shared demo database for the tests that need no
server (tamper, fuzz, authorisation matrix, secrets).

PostgreSQL: ``THIDUA_TEST_PG_ADMIN_URL`` (a superuser URL on the ``postgres`` database) lets
us create and drop scratch databases; without it it is derived from
``THIDUA_TEST_DATABASE_URL``. Server tests skip on the SQLite run, and only there.

Expensive setup happens once per session: a template database initialised with ``thidua
init`` + ``thidua seed-demo`` (the real CLI), and derived templates with the 2019 pledge at
``signing`` and at ``submitted``. Every test or crash trial gets a fresh copy in a fraction
of a second (``CREATE DATABASE ... TEMPLATE``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.fixtures_db import DemoData
from tests.web.conftest import make_app
from workflow.audit import verify_audit_chain
from workflow.db import make_engine, session_factory
from workflow.models import (
    Approval,
    AuditEvent,
    Blob,
    Credential,
    Document,
    DocumentVersion,
    Signature,
    User,
)
from workflow.seed import DEMO_PIN

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "thidua-demo"
PIN = DEMO_PIN
UNITS = ["VPHU-MD", "VPHU-UH", "VPHU-PX", "VPHU-TT", "VPHU-TO", "VPHU-CM", "VPHU-QO", "VPTU-ST"]
SIGNERS = [f"{c.lower()}-signer" for c in UNITS]
SECRET_KEY = "system-test-secret-key-not-for-production"
CA_SECRET = "system-test-ca-master-secret-0123456789abcdef"
PG_ONLY = (
    "needs PostgreSQL (gunicorn workers racing on row locks, scratch databases): runs in the "
    "PostgreSQL CI run; set THIDUA_TEST_DATABASE_URL=postgresql+psycopg://... to run locally"
)


# Figures for the closing note, printed at the end of the run (see pytest_terminal_summary).
FIGURES: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        line = ", ".join(f"{k}={v}" for k, v in sorted(FIGURES.items()))
        terminalreporter.write_line(f"system figures: {line}")


def pg_admin_url() -> str | None:
    admin = os.environ.get("THIDUA_TEST_PG_ADMIN_URL", "").strip()
    if admin:
        return admin
    url = os.environ.get("THIDUA_TEST_DATABASE_URL", "").strip()
    if url.startswith("postgresql"):
        return make_url(url).set(database="postgres").render_as_string(hide_password=False)
    return None


def is_pg_run() -> bool:
    return os.environ.get("THIDUA_TEST_DATABASE_URL", "").strip().startswith("postgresql")


# --- scratch PostgreSQL databases ----------------------------------------------------------


class Databases:
    """Creates and drops scratch databases on the PostgreSQL server."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=None)
        self.prefix = f"thidua_sys_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return (
            make_url(self.admin.url.render_as_string(hide_password=False))
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    def create(self, suffix: str, template: str | None = None) -> str:
        name = f"{self.prefix}_{suffix}"
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            tpl = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{tpl}'))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(reversed(self.created)):
            self.drop(name)
        self.admin.dispose()


def server_env(instance: Path, url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        THIDUA_INSTANCE=str(instance),
        DATABASE_URL=url,
        THIDUA_SECRET_KEY=SECRET_KEY,
        THIDUA_CA_SECRET=CA_SECRET,
        THIDUA_INSECURE_COOKIES="1",  # plain HTTP on 127.0.0.1
        PYTHONUNBUFFERED="1",
    )
    return env


def thidua(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real ``thidua`` console script."""
    return subprocess.run(
        [str(BIN / "thidua"), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Templates:
    """Template databases (never served) and what every copy of them holds."""

    dbs: Databases
    instance: Path
    seeded: str
    signing: str
    submitted: str
    documents: dict[str, int]

    def copy(self, template: str, suffix: str) -> tuple[str, str]:
        name = self.dbs.create(f"{suffix}_{uuid.uuid4().hex[:4]}", template=template)
        return name, self.dbs.url(name)

    def env(self, url: str) -> dict[str, str]:
        return server_env(self.instance, url)


def _drive(url: str, document_id: int, *, to: str) -> None:
    """Bring the 2019 pledge to ``signing`` (and on to ``submitted``) through the services."""
    from workflow.services import lifecycle

    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            head = _user(s, "vphu-uh-drafter")
            lifecycle.submit_for_review(s, head, document_id)
            for name in SIGNERS:
                lifecycle.concur(s, _user(s, name), document_id)
            lifecycle.open_signing(s, head, document_id)
            s.commit()
        if to == "submitted":
            # Eight PIN signatures in parallel sessions (the KDF dominates), then submit.
            def sign(name: str) -> None:
                with session_factory(engine)() as s:
                    lifecycle.sign(s, _user(s, name), document_id, pin=PIN)
                    s.commit()

            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(sign, SIGNERS))
            with session_factory(engine)() as s:
                lifecycle.submit(s, _user(s, "vphu-uh-drafter"), document_id)
                s.commit()
    finally:
        engine.dispose()


def _user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    admin = pg_admin_url()
    if not is_pg_run() or admin is None:
        pytest.skip(PG_ONLY)
    dbs = Databases(admin)
    instance = tmp_path_factory.mktemp("instance")
    try:
        seeded = dbs.create("seeded")
        env = server_env(instance, dbs.url(seeded))
        for args in (("init",), ("seed-demo",)):
            done = thidua(env, *args)
            assert done.returncode == 0, done.stderr
        engine = make_engine(dbs.url(seeded))
        with session_factory(engine)() as s:
            docs = {f"{d.kind}-{d.term.year}": d.id for d in s.scalars(select(Document)).all()}
        engine.dispose()
        signing = dbs.create("signing", template=seeded)
        _drive(dbs.url(signing), docs["pledge-2019"], to="signing")
        submitted = dbs.create("submitted", template=seeded)
        _drive(dbs.url(submitted), docs["pledge-2019"], to="submitted")
        yield Templates(dbs, instance, seeded, signing, submitted, docs)
    finally:
        dbs.close()


# --- the real server ------------------------------------------------------------------------


@functools.cache
def _control_socket_off() -> tuple[str, ...]:
    """Newer gunicorn opens a control socket in ~/.gunicorn shared by every server of the
    machine; parallel test servers must not fight over it (older versions have none)."""
    done = subprocess.run(
        [str(BIN / "gunicorn"), "--help"], capture_output=True, text=True, check=False
    )
    return ("--no-control-socket",) if "--no-control-socket" in done.stdout else ()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


class Server:
    """``gunicorn "web:create_app()"`` in its own process group, so kill -9 takes all of it."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 4) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.port = free_port()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--workers",
                    str(self.workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "120",
                    *_control_socket_off(),
                    "web:create_app()",
                ],
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited: {self.log.read_text()[-3000:]}")
            try:
                if self.request("GET", "/healthz", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"gunicorn not healthy in {timeout}s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """kill -9 the master and every worker (the whole process group)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        timeout: float = 120,
    ) -> Response:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - 127.0.0.1
                return Response(resp.status, resp.read().decode("utf-8"), dict(resp.headers))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read().decode("utf-8"), dict(exc.headers))


def make_tokens(url: str, usernames: list[str]) -> dict[str, str]:
    """API tokens made by the workflow service (what ``thidua token create`` calls)."""
    from workflow.services import auth

    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            tokens = {name: auth.create_token(s, None, name) for name in usernames}
            s.commit()
    finally:
        engine.dispose()
    return tokens


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    """Start servers for a test; every one is stopped at the end, even on failure."""
    started: list[Server] = []

    def make(env: dict[str, str], workers: int = 4, log: str = "gunicorn.log") -> Server:
        server = Server(env, tmp_path / log, workers=workers)
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.stop()


# --- invariants an auditor checks after anything happened -----------------------------------


def integrity_problems(engine: Engine) -> list[str]:
    """What would make an auditor refuse the database: a document past signing without a
    live signature from every member unit, an archive without its bundle or approval, a
    record naming a blob that is not stored, a broken audit chain."""
    problems: list[str] = []
    with session_factory(engine)() as s:
        blobs = set(s.scalars(select(Blob.sha256)))
        for doc in s.scalars(select(Document)):
            members = {u.id for u in doc.term.member_units}
            if doc.state in {"signed", "submitted", "approved", "archived"}:
                if doc.frozen_version_id is None:
                    problems.append(f"document {doc.id} is {doc.state} without a frozen version")
                live = set(
                    s.scalars(
                        select(Signature.unit_id).where(
                            Signature.version_id == doc.frozen_version_id,
                            Signature.voided_at.is_(None),
                        )
                    )
                )
                if live != members:
                    problems.append(
                        f"document {doc.id} is {doc.state} with {len(live)}/{len(members)} "
                        "live signatures"
                    )
            if doc.state == "archived":
                if not doc.bundle_sha256 or doc.bundle_sha256 not in blobs:
                    problems.append(f"document {doc.id} is archived without its bundle")
                if s.scalar(select(Approval).where(Approval.document_id == doc.id)) is None:
                    problems.append(f"document {doc.id} is archived without an approval")
            elif doc.bundle_sha256:
                problems.append(f"document {doc.id} is {doc.state} but has a bundle")
            if doc.state == "approved":
                # approve reaches archived in the same transaction; approved alone is a
                # half-done archive.
                problems.append(f"document {doc.id} stopped at approved")
            moves = list(
                s.scalars(
                    select(AuditEvent.to_state).where(
                        AuditEvent.document_id == doc.id,
                        AuditEvent.to_state.in_(("signing", "signed")),
                        AuditEvent.from_state != AuditEvent.to_state,
                    )
                )
            )
            if moves.count("signed") > moves.count("signing"):
                problems.append(
                    f"document {doc.id}: {moves.count('signed')} moves to signed for "
                    f"{moves.count('signing')} openings of signing"
                )
        for sha in s.scalars(select(Signature.cms_sha256)):
            if sha not in blobs:
                problems.append(f"a signature points to missing blob {sha}")
        for sha in s.scalars(
            select(DocumentVersion.signed_sha256).where(DocumentVersion.signed_sha256.is_not(None))
        ):
            if sha not in blobs:
                problems.append(f"a version points to missing blob {sha}")
        for sha in s.scalars(select(Approval.manifest_sha256)):
            if sha and sha not in blobs:
                problems.append(f"an approval points to missing blob {sha}")
        report = verify_audit_chain(s)
        if not report.ok:
            problems.append(f"audit chain: {report.describe()}")
        locked = s.scalar(
            select(func.count()).select_from(Credential).where(Credential.status != "active")
        )
        if locked:
            problems.append(f"{locked} credentials not active")
    return problems


# --- the in-process app over the shared demo database (both backends) ----------------------


@pytest.fixture
def app(demo_db: Engine, demo: DemoData, tmp_path: Path) -> Flask:
    return make_app(tmp_path, demo_db, demo.ca_secret)
