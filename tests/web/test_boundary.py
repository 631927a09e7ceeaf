"""The input boundary (web.boundary): input that PostgreSQL, the headers or the JSON parser
cannot take is refused with a 4xx naming the field, before any view sees it. Each finding of
issue 14 item 4 is one test here; they answered 500 before (most only on PostgreSQL, which
refuses NUL in text)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.conftest import PASSWORD, login
from web.boundary import json_depth_exceeds, safe_redirect_target


def refused(response: TestResponse, status: int, field: str) -> str:
    """Assert a refusal with ``status`` whose message names ``field``; return the message."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if response.is_json:
        error = response.get_json()["error"]
        assert error["field"] == field
        message: str = error["message"]
    else:
        message = response.get_data(as_text=True)
    assert f"“{field}”" in message
    assert "Traceback" not in message
    return message


def to_review(app: Flask) -> int:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    assert drafter.post(f"/documents/{document}/action/submit_for_review").status_code == 302
    return document


def first_anchor(client: FlaskClient, document: int) -> str:
    page = client.get(f"/documents/{document}").get_data(as_text=True)
    select = re.search(r'<select id="anchor" name="anchor">(.*?)</select>', page, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]+)"', select.group(1))[0]


def comment_count(client: FlaskClient, document: int) -> int:
    page = client.get(f"/documents/{document}").get_data(as_text=True)
    return page.count('<div class="comment" ')


# --- NUL in query strings, login names and JSON fields (500 on PostgreSQL before) ----------


def test_nul_in_the_public_reference_lookup(client: FlaskClient) -> None:
    message = refused(client.get("/verify?ref=TD-2019%00"), 422, "ref")
    assert "ký tự điều khiển" in message


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/documents", "kind"),
        ("/documents", "state"),
        ("/archive", "kind"),
        ("/api/documents", "kind"),
        ("/api/documents", "state"),
    ],
)
def test_nul_in_a_list_filter(app: Flask, path: str, field: str) -> None:
    client = login(app, "vphu-uh-drafter")
    refused(client.get(f"{path}?{field}=pledge%00"), 422, field)
    # The same filter without the NUL still works.
    assert client.get(f"{path}?{field}=pledge").status_code == 200


def test_nul_in_a_login_name(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"username": "admin\x00", "password": PASSWORD})
    refused(response, 422, "username")
    assert client.get("/documents").status_code == 302  # not signed in


def test_nul_in_a_json_field(app: Flask) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    client = login(app, "vphu-uh-drafter")
    response = client.post(
        f"/api/documents/{document}/submit_for_review", json={"reason": "xin góp ý\x00"}
    )
    refused(response, 422, "reason")
    assert client.get(f"/api/documents/{document}").get_json()["state"] == "draft"


# --- CR/LF in redirect targets (500 before: the Location header refused the newline) ------


def test_crlf_in_next_on_login_query_is_refused(app: Flask) -> None:
    client = app.test_client()
    response = client.post(
        "/login?next=/%0D%0ASet-Cookie:%20planted=1",
        data={"username": "vphu-uh-drafter", "password": PASSWORD},
    )
    refused(response, 422, "next")
    assert "planted" not in response.headers.get("Set-Cookie", "")


def test_crlf_in_next_on_login_form_goes_to_the_inbox(app: Flask) -> None:
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "username": "vphu-uh-drafter",
            "password": PASSWORD,
            "next": "/documents\r\nSet-Cookie: planted=1",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "target",
    [
        "/\r\nSet-Cookie: planted=1",
        "/documents\nX: y",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "https://evil.example/",
        "javascript:alert(1)",
        "",
    ],
)
def test_language_switch_only_goes_to_local_paths(client: FlaskClient, target: str) -> None:
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_language_switch_keeps_a_local_path(client: FlaskClient) -> None:
    response = client.post("/language", data={"lang": "en", "next": "/documents?kind=pledge"})
    assert response.headers["Location"] == "/documents?kind=pledge"


def test_redirect_target_rule() -> None:
    assert safe_redirect_target("/terms/3", "/") == "/terms/3"
    for bad in ("/a\rb", "/a\tb", "/\u202e", "//x", "/\\x", "http:/x", None, 42, "x"):
        assert safe_redirect_target(bad, "/home") == "/home"


# --- lone surrogates (500 before: they cannot be encoded for the database) ----------------


def test_lone_surrogate_in_a_comment(app: Flask) -> None:
    document = to_review(app)
    client = login(app, "vphu-md-signer")
    before = comment_count(client, document)
    anchor = first_anchor(client, document)
    body = '{"anchor": "' + anchor + '", "text": "G\\u00f3p \\ud800 \\u00fd"}'
    response = client.post(
        f"/api/documents/{document}/comment", data=body, content_type="application/json"
    )
    message = refused(response, 422, "text")
    assert "Unicode" in message
    assert "U+D800" in message
    assert comment_count(client, document) == before


def test_lone_surrogate_in_a_reason(app: Flask) -> None:
    document = to_review(app)
    client = login(app, "vphu-md-signer")
    response = client.post(
        f"/api/documents/{document}/request_changes",
        data='{"reason": "s\\u1eeda \\udc00"}',
        content_type="application/json",
    )
    refused(response, 422, "reason")
    assert client.get(f"/api/documents/{document}").get_json()["state"] == "in_review"


# --- JSON bodies: depth, size, syntax -------------------------------------------------------


def test_json_nested_100000_deep_is_400(app: Flask) -> None:
    document = to_review(app)
    client = login(app, "vphu-md-signer")
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post(
        f"/api/documents/{document}/comment", data=deep, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "json_too_deep"
    assert "quá sâu" in response.get_json()["error"]["message"]


def test_json_too_large_is_413(app: Flask) -> None:
    document = to_review(app)
    client = login(app, "vphu-md-signer")
    big = '{"text": "' + "a" * (600 * 1024) + '"}'
    response = client.post(
        f"/api/documents/{document}/comment", data=big, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert "512 KB" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("body", [b'{"text": ', b"\xff\xfe{}", b'{"a": 1}}'])
def test_malformed_json_is_400(app: Flask, body: bytes) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    client = login(app, "vphu-uh-drafter")
    response = client.post(
        f"/api/documents/{document}/comment", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_json"


def test_json_depth_scanner_ignores_brackets_in_strings() -> None:
    assert not json_depth_exceeds('{"a": "[[[[[[[[[[", "b": [[1]]}', 3)
    assert json_depth_exceeds('{"a": [[[1]]]}', 3)
    assert not json_depth_exceeds('{"a": "\\"[[[["}', 1)


# --- invisible characters in names; multi-line text keeps its lines ------------------------


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200b", "\ufeff", "\t"])
def test_invisible_characters_in_a_name(app: Flask, char: str) -> None:
    admin = login(app, "admin")
    response = admin.post(
        "/admin/users",
        data={
            "username": "vphu-bv-drafter",
            "full_name": f"Nguyễn{char} Văn A",
            "password": "mot-mat-khau-dai",
        },
    )
    refused(response, 422, "full_name")
    assert "vphu-bv-drafter" not in admin.get("/admin/users").get_data(as_text=True)


def test_a_multi_line_comment_passes_the_boundary(app: Flask) -> None:
    document = to_review(app)
    client = login(app, "vphu-md-signer")
    anchor = first_anchor(client, document)
    response = client.post(
        f"/api/documents/{document}/comment",
        json={"anchor": anchor, "text": "Dòng một\nDòng hai\tcó tab"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_messages_in_english(client: FlaskClient) -> None:
    client.post("/language", data={"lang": "en", "next": "/"})
    message = refused(client.get("/verify?ref=%00"), 422, "ref")
    assert "contains a control character (U+0000)" in message


# --- headers and paths -----------------------------------------------------------------------


def test_control_character_in_a_header(client: FlaskClient) -> None:
    response = client.get("/api/documents", headers={"Authorization": "Bearer abc\x00def"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_header"


def test_nul_in_a_path_segment(app: Flask) -> None:
    client = login(app, "vphu-uh-drafter")
    response = client.post("/api/documents/1/comm%00ent", json={})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_path"


def test_multipart_part_without_a_name(client: FlaskClient) -> None:
    body = (
        b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="bundle"; filename="x.zip"\r\n\r\n'
        b"PK\r\n--XyZ--\r\n"
    )
    response = client.post(
        "/api/verify", data=body, content_type="multipart/form-data; boundary=XyZ"
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_form"


def test_openapi_states_the_boundary_answers(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"400", "422"} <= paths["/api/documents"]["get"]["responses"].keys()
    fire = paths["/api/documents/{document_id}/{trigger}"]["post"]["responses"]
    assert {"400", "413", "422"} <= fire.keys()


def test_a_comment_typed_in_a_browser_keeps_its_line_breaks(app: Flask) -> None:
    # A textarea submits its line breaks as CRLF; the workflow refused the CR (422).
    document = to_review(app)
    client = login(app, "vphu-md-signer")
    anchor = first_anchor(client, document)
    response = client.post(
        f"/documents/{document}/action/comment",
        data={"anchor": anchor, "text": "Dòng một\r\nDòng hai"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    page = client.get(f"/documents/{document}").get_data(as_text=True)
    assert "Dòng một" in page
    assert "Dòng hai" in page
