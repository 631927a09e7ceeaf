"""Fixtures for the web tests, on the shared database fixtures of tests/fixtures_db.py.

``app`` is the Flask application over ``demo_db`` (the seeded demo cluster, restored for every
test from a snapshot, on SQLite or on PostgreSQL with ``THIDUA_TEST_DATABASE_URL``), so tests
may change anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests.fixtures_db import DemoData
from web import create_app
from workflow.config import Config

PASSWORD = "thidua-demo"
PIN = "123456"
UNITS = ["VPHU-MD", "VPHU-UH", "VPHU-PX", "VPHU-TT", "VPHU-TO", "VPHU-CM", "VPHU-QO", "VPTU-ST"]


def web_config(instance: Path, url: str, ca_secret: bytes) -> Config:
    return Config(
        instance_dir=instance,
        database_url=url,
        secret_key="web-test-secret-key-not-for-production",
        ca_master_secret=ca_secret,
    )


def make_app(folder: Path, engine: Engine, ca_secret: bytes, **config: Any) -> Flask:
    """The application over a test database engine: testing mode, CSRF off and
    ``SERVER_NAME`` localhost unless ``config`` says otherwise."""
    url = engine.url.render_as_string(hide_password=False)
    return create_app(
        {
            "THIDUA_CONFIG": web_config(folder, url, ca_secret),
            "ENGINE": engine,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            **config,
        }
    )


@pytest.fixture
def app(demo_db: Engine, demo: DemoData, tmp_path: Path) -> Flask:
    application = make_app(tmp_path, demo_db, demo.ca_secret)
    application.config["DEMO_DOCUMENTS"] = dict(demo.result.documents)
    application.config["DEMO_DATA"] = demo
    return application


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
