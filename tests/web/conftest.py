"""Fixtures for the web tests: a seeded demo instance, copied fresh for every test.

The demo is seeded once per session (the real ``seed_demo`` through the services), then each
test gets its own copy: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL (``THIDUA_TEST_DATABASE_URL``), so tests may change anything.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from web import create_app
from workflow.config import Config, init_instance
from workflow.db import make_engine, session_factory, upgrade
from workflow.seed import seed_demo

PASSWORD = "thidua-demo"
PIN = "123456"
UNITS = ["VPHU-MD", "VPHU-UH", "VPHU-PX", "VPHU-TT", "VPHU-TO", "VPHU-CM", "VPHU-QO", "VPTU-ST"]


@dataclass(frozen=True)
class Template:
    config: Config
    url: str
    documents: dict[str, int]


def _pg_admin_url(url: str) -> str:
    return os.environ.get("THIDUA_TEST_PG_ADMIN_URL") or str(
        make_url(url).set(database="postgres").render_as_string(hide_password=False)
    )


def _pg_create(url: str, name: str, template: str | None = None) -> str:
    admin = create_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _pg_drop(url: str, name: str) -> None:
    admin = create_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    instance = tmp_path_factory.mktemp("instance")
    env_backup = {
        k: os.environ.pop(k, None)
        for k in ("THIDUA_SECRET_KEY", "THIDUA_CA_SECRET", "DATABASE_URL")
    }
    try:
        base = init_instance(instance)
    finally:
        for k, v in env_backup.items():
            if v is not None:
                os.environ[k] = v
    pg = os.environ.get("THIDUA_TEST_DATABASE_URL", "").strip()
    tpl_name = None
    if pg:
        tpl_name = f"{make_url(pg).database}_webtpl_{uuid.uuid4().hex[:8]}"
        url = _pg_create(pg, tpl_name)
    else:
        url = f"sqlite:///{instance / 'template.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session:
        result = seed_demo(session, ca_secret=base.ca_master_secret)
        session.commit()
    engine.dispose()
    yield Template(replace(base, database_url=url), url, dict(result.documents))
    if pg and tpl_name:
        _pg_drop(pg, tpl_name)


@pytest.fixture
def app(template: Template, tmp_path: Path) -> Iterator[Flask]:
    pg = os.environ.get("THIDUA_TEST_DATABASE_URL", "").strip()
    name = None
    if pg:
        name = f"{make_url(pg).database}_web_{uuid.uuid4().hex[:10]}"
        url = _pg_create(pg, name, template=make_url(template.url).database)
    else:
        src = Path(make_url(template.url).database or "")
        dst = tmp_path / "thidua.db"
        shutil.copyfile(src, dst)
        url = f"sqlite:///{dst}"
    config = replace(template.config, database_url=url)
    application = create_app(
        {
            "THIDUA_CONFIG": config,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
        }
    )
    application.config["DEMO_DOCUMENTS"] = template.documents
    yield application
    application.extensions["thidua.engine"].dispose()
    if pg and name:
        _pg_drop(pg, name)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    """A fresh client logged in as ``username``."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def signer(code: str) -> str:
    return f"{code.lower()}-signer"


def drafter(code: str) -> str:
    return f"{code.lower()}-drafter"
