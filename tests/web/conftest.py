"""Fixtures for the web tests, on the shared database fixtures of tests/fixtures_db.py.

``app`` is the Flask application over ``demo_db`` (the seeded demo cluster, restored for every
test from a snapshot, on SQLite or on PostgreSQL with ``THIDUA_TEST_DATABASE_URL``), so tests
may change anything.
"""

from __future__ import annotations

from pathlib import Path

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


@pytest.fixture
def app(demo_db: Engine, demo: DemoData, db_url: str, tmp_path: Path) -> Flask:
    config = web_config(tmp_path, db_url, demo.ca_secret)
    application = create_app(
        {
            "THIDUA_CONFIG": config,
            "ENGINE": demo_db,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
        }
    )
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
