"""Every page and endpoint for every role: the right status, a message where refused, never
a 500 and never a traceback."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask import Flask

from tests.web.conftest import login
from web import create_app, db
from workflow.models import Document

ROLES = ["vphu-uh-drafter", "vphu-md-signer", "vphu-px-drafter", "board-approver", "admin"]


def _reference_code(app: Flask, document_id: int) -> str:
    """The code printed on the document's frozen version (it has a random part)."""
    with app.app_context():
        document = db.get_session().get(Document, document_id)
        assert document is not None
        assert document.frozen_version is not None
        code = document.frozen_version.reference_code
    assert code is not None
    return code


def pages(app: Flask) -> list[str]:
    docs = app.config["DEMO_DOCUMENTS"]
    archived, review, draft = docs["pledge-2018"], docs["nomination-2018"], docs["pledge-2019"]
    return [
        "/",
        "/documents",
        "/documents?kind=pledge&year=2018&state=archived",
        f"/documents/{archived}",
        f"/documents/{review}",
        f"/documents/{draft}",
        f"/documents/{draft}/edit",
        f"/documents/{archived}/sign",
        f"/documents/{review}/approve",
        f"/documents/{archived}/document.docx",
        f"/documents/{draft}/document.docx",
        f"/documents/{archived}/diff",
        "/documents/new?kind=pledge&term_id=2",
        "/clusters",
        "/clusters/terms/1",
        "/archive",
        "/archive?year=2018&kind=pledge",
        f"/archive/{archived}/thidua-{archived}.zip",
        "/admin/units",
        "/admin/clusters",
        "/admin/users",
        "/admin/credentials",
        "/workflow",
        "/verify",
        f"/verify?ref={_reference_code(app, archived)}",
        "/ca/ca.pem",
        "/ca/crl.der",
        "/api/documents",
        f"/api/documents/{archived}",
        "/api/openapi.json",
        "/healthz",
    ]


@pytest.mark.parametrize("username", ROLES)
def test_every_page_for_every_role(app: Flask, username: str) -> None:
    client = login(app, username)
    for path in pages(app):
        response = client.get(path)
        body = response.data.decode("utf-8", "replace")
        assert response.status_code in (200, 302, 403), (username, path, response.status_code)
        assert "Traceback" not in body
        if response.status_code == 403:
            assert 'data-test="error-message"' in body, (username, path)
            assert "Chỉ" in body or "không có quyền" in body.lower(), (username, path)


def test_admin_pages_refuse_others_with_a_message(app: Flask) -> None:
    for username in ("vphu-uh-drafter", "vphu-md-signer", "board-approver"):
        response = login(app, username).get("/admin/users")
        assert response.status_code == 403
        assert "Chỉ quản trị viên" in response.get_data(as_text=True)


def test_admin_sees_admin_pages(app: Flask) -> None:
    client = login(app, "admin")
    for section in ("units", "clusters", "users", "credentials"):
        response = client.get(f"/admin/{section}")
        assert response.status_code == 200
    assert "VPHU-MD" in client.get("/admin/units").get_data(as_text=True)


def test_anonymous_is_sent_to_login_but_verify_is_public(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/documents", "/documents/1", "/archive", "/admin/units", "/clusters"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    for path in ("/verify", "/workflow", "/login", "/ca/ca.pem", "/api/openapi.json", "/healthz"):
        assert client.get(path).status_code == 200, path


def test_unknown_document_is_404_with_a_message(app: Flask) -> None:
    client = login(app, "vphu-md-signer")
    response = client.get("/documents/99999")
    assert response.status_code == 404
    assert "Không tìm thấy" in response.get_data(as_text=True)


def test_signer_of_one_unit_cannot_submit_for_review(app: Flask) -> None:
    """The drafter's step refused to a signer: 403 with the engine's reason, state unchanged."""
    draft = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    client = login(app, "vphu-md-signer")
    page = client.get(f"/documents/{draft}").get_data(as_text=True)
    assert 'data-action="submit_for_review"' not in page
    response = client.post(f"/documents/{draft}/action/submit_for_review", data={})
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "Chỉ chuyên viên soạn thảo của đơn vị cụm trưởng" in body
    assert "Dự thảo" in client.get(f"/documents/{draft}").get_data(as_text=True)


def test_board_cannot_sign_for_a_unit(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    response = login(app, "board-approver").post(
        f"/documents/{archived}/sign", data={"pin": "123456"}
    )
    assert response.status_code in (403, 409)
    assert 'data-test="sign-error"' in response.get_data(as_text=True)


def test_healthz_reports_a_dead_database(app: Flask) -> None:
    config = replace(
        app.config["THIDUA_CONFIG"], database_url="postgresql+psycopg://postgres@127.0.0.1:1/none"
    )
    dead = create_app({"THIDUA_CONFIG": config, "TESTING": True})
    response = dead.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "database unavailable"}


def test_verify_by_reference_code_shows_the_frozen_hash(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    detail = login(app, "vphu-md-signer").get(f"/api/documents/{archived}").get_json()
    ref, sha = detail["frozen"]["reference_code"], detail["frozen"]["sha256"]
    page = app.test_client().get(f"/verify?ref={ref}").get_data(as_text=True)
    assert sha in page
    assert "GIAO ƯỚC THI ĐUA NĂM 2018" in page
    page = app.test_client().get("/verify?ref=TD-GU-1999-99999-V9").get_data(as_text=True)
    assert "Không tìm thấy văn bản nào có mã này" in page


def test_an_unexpected_error_is_a_plain_500_page(app: Flask) -> None:
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/boom", view_func=boom)
    app.add_url_rule("/api/boom", view_func=boom, endpoint="api_boom")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    response = client.get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Lỗi hệ thống" in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body
    response = client.get("/api/boom")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"


def test_the_inbox_badge_counts_waiting_documents_on_every_page(app: Flask) -> None:
    drafter = login(app, "vphu-uh-drafter")
    page = drafter.get("/archive").get_data(as_text=True)
    assert re.search(r'Việc chờ tôi xử lý<span class="count">1</span>', page)
    board = login(app, "board-approver").get("/archive").get_data(as_text=True)
    assert '<span class="count">' not in board
