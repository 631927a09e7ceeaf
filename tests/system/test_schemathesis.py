"""Schemathesis against the app's own /api/openapi.json (in process, WSGI): every operation
the schema declares, with generated parameters and bodies, as a signer with a Bearer token;
bounded examples. No 5xx, no traceback, and error answers carry the documented envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.fixtures_db import DemoData, restore
from tests.system.conftest import FIGURES
from tests.web.conftest import make_app
from workflow.db import session_factory
from workflow.services import auth


@pytest.fixture(scope="module")
def api_world(
    db_engine: Engine, demo_data: DemoData, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    restore(db_engine, demo_data.snapshot)
    with session_factory(db_engine)() as s:
        token = auth.create_token(s, None, "vphu-md-signer")
        s.commit()
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    app = make_app(folder, db_engine, demo_data.ca_secret, SERVER_NAME=None)
    return {"app": app, "token": token}


def test_openapi_operations_never_5xx(api_world: dict[str, Any]) -> None:
    # Loaded in the test (not at import): the schema comes from the app over the test database.
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", api_world["app"])
    headers = {"Authorization": f"Bearer {api_world['token']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4  # documents list/detail, triggers, verify, openapi itself
    seen: list[str] = []

    for operation in operations:

        @settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            FIGURES["schemathesis examples"] += 1
            assert_documented(case, response)

        check()
        seen.append(operation.label)
    assert len(seen) == len(operations)


def assert_documented(case: Any, response: Any) -> None:
    """No 5xx, no traceback, and an error answer in JSON carries the documented envelope."""
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    assert "Traceback" not in response.text
    content_type = response.headers.get("Content-Type", response.headers.get("content-type", ""))
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if response.status_code >= 400 and "json" in content_type:
        error = response.json()["error"]
        assert error["code"]
        assert error["message"]


# Issue 14, item 4: what web.boundary refuses. No lone surrogates: schemathesis itself cannot
# encode them (test_boundary_fuzz sends them in JSON bodies).
HOSTILE = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\r\n", "\ufdd0", "\uffff", "\u200b", "\u202e"]


def poison(value: Any, draw: Any, chars: list[str]) -> Any:
    """``value`` with a hostile character drawn into each of its strings (keys included)."""
    if isinstance(value, str):
        char = draw(st.sampled_from(chars))
        cut = draw(st.integers(0, len(value)))
        return value[:cut] + char + value[cut:]
    if isinstance(value, dict):
        return {poison(k, draw, chars): poison(v, draw, chars) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, draw, chars) for v in value]
    return value


def test_openapi_operations_take_hostile_strings(api_world: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", api_world["app"])
    headers = {"Authorization": f"Bearer {api_world['token']}"}
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:

        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), data=st.data())
        def check(case: Any, data: st.DataObject) -> None:
            # Every declared query parameter, generated or not, carries one.
            query = {param.name: "" for param in case.operation.query}
            query.update(case.query or {})
            if query:  # values only: a poisoned name is a parameter no view reads
                case.query = {name: poison(v, data.draw, HOSTILE) for name, v in query.items()}
            if case.path_parameters:
                case.path_parameters = {
                    name: poison(value, data.draw, HOSTILE)
                    for name, value in case.path_parameters.items()
                }
            if isinstance(case.body, dict | list | str):
                case.body = poison(case.body, data.draw, HOSTILE)
            response = case.call(headers=headers)
            FIGURES["schemathesis hostile examples"] += 1
            assert_documented(case, response)

        check()
