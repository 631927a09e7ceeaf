"""Hostile strings at every route of the Flask url_map (issue 14, item 4): NUL and other
controls, CR/LF, lone surrogates, non-characters, bidi overrides and zero-width characters in
query strings, form fields, JSON fields, path segments and headers, as a demo user and
anonymously. Whatever arrives, the answer is never a 5xx and never a traceback."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from werkzeug.routing import Rule

from tests.fixtures_db import DemoData, restore
from tests.system.conftest import FIGURES, PASSWORD
from tests.web.conftest import make_app

# One of each class web.boundary refuses, and a few that pass it.
HOSTILE_CHARS = [
    "\x00",
    "\r\n",
    "\ud800",
    "\u202e",
    "\x01",
    "\x08",
    "\x1b",
    "\x7f",
    "\x85",
    "\r",
    "\n",
    "\t",
    "\ud800",
    "\udfff",
    "\ufdd0",
    "\ufffe",
    "\uffff",
    "\U0010ffff",
    "\u200b",
    "\u200e",
    "\u2066",
    "\u2069",
    "\ufeff",
    "%00",
    "\\",
    "//",
]
hostile_char = st.sampled_from(HOSTILE_CHARS)
plain = st.sampled_from(["", "1", "pledge", "draft", "in_review", "VPHU-MD", "Nguyễn", "/", "x"])
hostile = st.one_of(
    st.builds(lambda a, c, b: a + c + b, plain, hostile_char, plain),
    st.lists(hostile_char, min_size=1, max_size=4).map("".join),
    plain,
)
# Field names the views read, and made-up ones.
FIELDS = [
    "ref",
    "kind",
    "state",
    "year",
    "cluster",
    "a",
    "b",
    "next",
    "lang",
    "username",
    "password",
    "full_name",
    "name",
    "code",
    "unit_code",
    "cluster_code",
    "role",
    "pin",
    "reason",
    "text",
    "anchor",
    "expected_version",
    "decision_number",
    "decision_date",
    "term_id",
    "members",
    "title",
]
field_name = st.one_of(st.sampled_from(FIELDS), hostile.filter(bool))
# A few fields, or every field a view reads at once (so that whichever the route reads first
# is hostile).
fields = st.one_of(
    st.dictionaries(field_name, hostile, max_size=5),
    st.fixed_dictionaries({name: hostile for name in FIELDS}),
)
DEEP_JSON = "[" * 100_000 + "]" * 100_000
# Header values travel as latin-1 and cannot hold CR/LF (the client refuses to send them).
header_value = st.builds(
    lambda a, c, b: a + c + b, plain, st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "é"]), plain
)
HEADERS = ["Authorization", "Accept-Language", "Idempotency-Key", "X-Forwarded-For", "Referer"]

USERS = ["vphu-uh-drafter", "vphu-md-signer", "admin", None]


def _encode(value: str) -> str:
    """What a client can put on the wire: UTF-8, lone surrogates as their raw bytes."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _urlencoded(data: dict[str, str]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in data.items())


def _routes(app: Flask) -> list[Rule]:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"),
        key=lambda rule: rule.rule,
    )


def _path(rule: Rule, documents: list[int], segment: str) -> str:
    """The rule's URL: ints from the demo documents, other arguments ``segment``."""
    parts: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]  # werkzeug has no public accessor
        is_int = type(converter).__name__.endswith("IntConverter")
        parts[name] = documents[len(parts) % len(documents)] if is_int else "ARG"
    path = rule.build(parts, append_unknown=False)
    assert path is not None
    return path[1].replace("ARG", _encode(segment))


@pytest.fixture(scope="module")
def world(
    db_engine: Engine, demo_data: DemoData, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    restore(db_engine, demo_data.snapshot)
    app = make_app(tmp_path_factory.mktemp("boundary-fuzz"), db_engine, demo_data.ca_secret)
    world: dict[str, Any] = {
        "app": app,
        "routes": _routes(app),
        "documents": [demo_data.pledge_2018, demo_data.nomination_2018, demo_data.pledge_2019],
        "clients": {},
    }
    return world


def _client(world: dict[str, Any], who: str | None) -> FlaskClient:
    clients: dict[str | None, FlaskClient] = world["clients"]
    if who not in clients:
        client = world["app"].test_client()
        if who is not None:
            response = client.post("/login", data={"username": who, "password": PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
        clients[who] = client
    return clients[who]


def _assert_clean(response: Any, what: str) -> None:
    text = response.get_data().decode("utf-8", "replace")  # DOCX, CRL and zips are bytes
    assert response.status_code < 500, (what, text[:500])
    assert "Traceback" not in text
    if response.is_json and response.status_code >= 400:
        assert response.get_json()["error"]["message"].strip(), what


def _send(
    world: dict[str, Any],
    rule: Rule,
    method: str,
    example: dict[str, Any],
) -> None:
    path = _path(rule, world["documents"], example["segment"])
    query, body, as_json = example["query"], example["body"], example["as_json"]
    url = f"{path}?{_urlencoded(query)}" if query else path
    headers = dict([example["header"]]) if example["header"] else {}
    who = example["who"]
    client = _client(world, who)
    if method == "GET":
        response = client.get(url, headers=headers)
    elif as_json is not False:
        # Lone surrogates travel as \\udXXX escapes.
        payload = json.dumps(body) if as_json else DEEP_JSON
        response = client.post(url, data=payload, headers=headers, content_type="application/json")
    else:
        response = client.post(
            url,
            data=_urlencoded(body),
            headers=headers,
            content_type="application/x-www-form-urlencoded",
        )
    _assert_clean(response, f"{method} {url} {body!r} {headers!r} as {who}")
    if rule.endpoint == "auth.logout" or (rule.endpoint == "auth.login" and method == "POST"):
        world["clients"].pop(who, None)  # signed out (or in as someone else): start again
    FIGURES["boundary fuzz examples"] += 1


examples = st.fixed_dictionaries(
    {
        "who": st.sampled_from(USERS),
        "query": fields,
        "body": fields,
        "as_json": st.sampled_from([True, False, None]),  # None: nested 100,000 deep
        "segment": hostile,
        "header": st.none() | st.tuples(st.sampled_from(HEADERS), header_value),
    }
)


def _every_field(value: str) -> dict[str, str]:
    return dict.fromkeys(FIELDS, value)


# Tried first at every route: every field a view reads carries one class of hostile text.
FIRST = [
    {
        "who": "vphu-uh-drafter",
        "query": _every_field("pledge\x00"),
        "body": _every_field("/\r\nSet-Cookie: x=1"),
        "as_json": False,
        "segment": "comment",
        "header": None,
    },
    {
        "who": "vphu-md-signer",
        "query": _every_field("/\u202e"),
        "body": _every_field("G\u00f3p \ud800 \x00"),
        "as_json": True,
        "segment": "comment",
        "header": ("Authorization", "Bearer \x00"),
    },
    {
        "who": None,
        "query": _every_field("x\r\n"),
        "body": {},
        "as_json": None,
        "segment": "\x00",
        "header": None,
    },
]


def _route_check(world: dict[str, Any], rule: Rule, method: str) -> Any:
    @settings(
        max_examples=len(FIRST) + 2,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(example=examples)
    @example(example=FIRST[0])
    @example(example=FIRST[1])
    @example(example=FIRST[2])
    def check(example: dict[str, Any]) -> None:
        _send(world, rule, method, example)

    return check


def test_every_route_takes_hostile_strings_without_a_5xx(world: dict[str, Any]) -> None:
    routes = [
        (rule, method)
        for rule in world["routes"]
        for method in sorted((rule.methods or set()) & {"GET", "POST"})
    ]
    assert len(routes) > 40
    for rule, method in routes:
        _route_check(world, rule, method)()
