"""The JSON API: bearer tokens, the documented shapes, triggers, errors, and the OpenAPI
document kept in sync with the routes the app serves."""

from __future__ import annotations

import base64
import io
import re

from flask import Flask

from tests.web.conftest import UNITS, login, signer
from web import db
from web.actions import USER_TRIGGERS
from workflow.definitions import DEFINITIONS
from workflow.services.auth import create_token


def token_for(app: Flask, username: str) -> dict[str, str]:
    with app.app_context():
        session = db.get_session()
        token = create_token(session, None, username)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_list_and_detail_with_a_bearer_token(app: Flask) -> None:
    client = app.test_client()
    headers = token_for(app, "vphu-md-signer")
    response = client.get("/api/documents", headers=headers)
    assert response.status_code == 200
    rows = response.get_json()
    assert {r["kind"] for r in rows} == {"pledge", "nomination"}
    for row in rows:
        assert {"id", "kind", "year", "state", "cluster"} <= row.keys()
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    detail = client.get(f"/api/documents/{archived}", headers=headers).get_json()
    assert detail["state"] == "archived"
    assert detail["allowed_triggers"] == []
    assert len(detail["signatures"]) == 8
    for sig in detail["signatures"]:
        assert {"unit", "signer", "signed_at", "voided"} <= sig.keys()
        assert sig["voided"] is False
    assert {s["unit"] for s in detail["signatures"]} == set(UNITS)
    assert detail["bundle_url"].endswith(".zip")


def test_errors_are_one_envelope(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/api/documents")
    assert response.status_code == 401
    assert set(response.get_json()["error"]) >= {"code", "message"}
    response = client.get("/api/documents", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    headers = token_for(app, "vphu-md-signer")
    response = client.get("/api/documents/424242", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    draft = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    response = client.post(f"/api/documents/{draft}/submit_for_review", headers=headers, json={})
    assert response.status_code == 403
    assert "Chỉ chuyên viên soạn thảo" in response.get_json()["error"]["message"]
    response = client.post(f"/api/documents/{draft}/fly", headers=headers, json={})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"
    drafter = token_for(app, "vphu-uh-drafter")
    response = client.post(f"/api/documents/{draft}/cancel", headers=drafter, json={})
    assert response.status_code == 422
    response = client.post(
        f"/api/documents/{draft}/submit_for_review", headers=drafter, json={"expected_version": 999}
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "stale_version"


def test_session_writes_must_be_json(app: Flask) -> None:
    draft = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    client = login(app, "vphu-uh-drafter")
    response = client.post(f"/api/documents/{draft}/submit_for_review", data={"x": "1"})
    assert response.status_code == 415
    response = client.post(f"/api/documents/{draft}/submit_for_review", json={})
    assert response.status_code == 200
    assert response.get_json()["state"] == "in_review"


def test_sign_through_the_api_with_pin_and_uploaded_signature(app: Flask) -> None:
    draft = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    client = app.test_client()
    drafter = token_for(app, "vphu-uh-drafter")
    assert (
        client.post(
            f"/api/documents/{draft}/submit_for_review", headers=drafter, json={}
        ).status_code
        == 200
    )
    for code in UNITS:
        response = client.post(
            f"/api/documents/{draft}/concur", headers=token_for(app, signer(code)), json={}
        )
        assert response.status_code == 200, response.get_json()
    opened = client.post(f"/api/documents/{draft}/open_signing", headers=drafter, json={})
    assert opened.get_json()["state"] == "signing"
    md = token_for(app, "vphu-md-signer")
    wrong = client.post(f"/api/documents/{draft}/sign", headers=md, json={"pin": "000000"})
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["tries_left"] == 4
    signed = client.post(f"/api/documents/{draft}/sign", headers=md, json={"pin": "123456"})
    assert signed.status_code == 200
    body = signed.get_json()
    assert body["signed"] == 1
    assert body["signatures"][0]["unit"] == "VPHU-MD"
    garbage = base64.b64encode(b"not a signature").decode()
    response = client.post(
        f"/api/documents/{draft}/sign",
        headers=token_for(app, "vphu-uh-signer"),
        json={"signature": garbage},
    )
    assert response.status_code == 422
    response = client.post(
        f"/api/documents/{draft}/sign",
        headers=token_for(app, "vphu-uh-signer"),
        json={"signature": "%%%"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "signature"


def test_api_verify(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    bundle = login(app, "vphu-md-signer").get(f"/archive/{archived}/thidua-{archived}.zip").data
    client = app.test_client()
    response = client.post(
        "/api/verify",
        data={"bundle": (io.BytesIO(bundle), "b.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    report = response.get_json()
    assert report["indication"] == "TOTAL_PASSED"
    assert len(report["units"]) == 8
    tampered = bytearray(bundle)
    tampered[len(tampered) // 2] ^= 0xFF
    response = client.post(
        "/api/verify",
        data={"bundle": (io.BytesIO(bytes(tampered)), "b.zip")},
        content_type="multipart/form-data",
    )
    if response.status_code == 200:
        assert response.get_json()["indication"] != "TOTAL_PASSED"
    else:
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "unverifiable_input"


def _flask_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_openapi_document_matches_the_routes(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
            served.setdefault(_flask_path(rule.rule), set()).update(methods)
    documented = {
        path: {m for m in item if m in {"get", "post", "put", "patch", "delete"}}
        for path, item in spec["paths"].items()
    }
    assert served == documented
    refs = str(spec)
    for name in spec["components"]["schemas"]:
        assert f"#/components/schemas/{name}" in refs, f"unused schema {name}"


def test_openapi_lists_exactly_the_user_triggers(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/openapi.json").get_json()
    params = spec["paths"]["/api/documents/{document_id}/{trigger}"]["parameters"]
    enum = set(params[1]["schema"]["enum"])
    for definition in DEFINITIONS.values():
        assert enum == set(definition.user_triggers)
    assert enum == set(USER_TRIGGERS)


def test_verify_a_docx_with_its_p7s_files(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    reader = login(app, "vphu-md-signer")
    page = reader.get(f"/documents/{archived}").get_data(as_text=True)
    links = re.findall(r'href="(/documents/\d+/signatures/\d+\.p7s)"', page)
    assert len(links) == 8
    files = [(io.BytesIO(reader.get(link).data), f"file{n}.p7s") for n, link in enumerate(links)]
    docx = reader.get(f"/documents/{archived}/document.docx").data
    public = app.test_client()
    response = public.post(
        "/verify",
        data={"document": (io.BytesIO(docx), "gu.docx"), "signatures": files},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert 'data-indication="TOTAL_PASSED"' in html
    assert html.count('data-status="passed"') == 8
    # Seven of eight signatures: the missing unit is named, nothing is called valid overall.
    files = [(io.BytesIO(reader.get(link).data), f"file{n}.p7s") for n, link in enumerate(links)]
    response = public.post(
        "/verify",
        data={"document": (io.BytesIO(docx), "gu.docx"), "signatures": files[:7]},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert 'data-indication="INDETERMINATE"' in html
    assert html.count('data-status="missing"') == 1
    # Any changed byte of the document: every signature fails with the hash explained.
    tampered = bytearray(docx)
    tampered[-100] ^= 0x01
    files = [(io.BytesIO(reader.get(link).data), f"file{n}.p7s") for n, link in enumerate(links)]
    response = public.post(
        "/api/verify",
        data={"document": (io.BytesIO(bytes(tampered)), "gu.docx"), "signatures": files},
        content_type="multipart/form-data",
    )
    report = response.get_json()
    assert report["indication"] != "TOTAL_PASSED"
    assert all(u["status"] != "passed" for u in report["units"])
