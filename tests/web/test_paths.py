"""The other roads through the workflow in the UI: changes requested and revised (with a
diff), declined and returned signatures, a nomination approved with its decision, a new
document from the editor, and the admin's credential pages with the CRL."""

from __future__ import annotations

import re

from cryptography import x509
from flask import Flask

from tests.web.conftest import UNITS, login, signer
from tests.web.test_bad_input import form_fields, to_signing


def test_request_changes_revise_edit_and_diff(app: Flask) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    drafter.post(f"/documents/{document}/action/submit_for_review")
    px = login(app, "vphu-px-signer")
    page = px.get(f"/documents/{document}").get_data(as_text=True)
    assert 'data-action="request_changes"' in page
    assert 'name="reason"' in page
    response = px.post(
        f"/documents/{document}/action/request_changes",
        data={"reason": "Bổ sung cam kết về chuyển đổi số."},
    )
    assert response.status_code == 302
    # A second decision by the same unit on the same version is refused with the reason.
    response = px.post(f"/documents/{document}/action/concur")
    assert response.status_code == 422
    assert "Đơn vị đã cho ý kiến" in response.get_data(as_text=True)
    assert drafter.post(f"/documents/{document}/action/revise").status_code == 302
    fields = form_fields(drafter.get(f"/documents/{document}/edit").get_data(as_text=True))
    fields["commitments[0]"] = fields["commitments[0]"] + " Đẩy mạnh chuyển đổi số."
    assert drafter.post(f"/documents/{document}/edit", data=fields).status_code == 302
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    assert "Phiên bản 2" in page
    diff = drafter.get(f"/documents/{document}/diff?a=1&b=2").get_data(as_text=True)
    assert "commitments[0]" in diff
    assert "<ins>" in diff
    assert "chuyển đổi số." in diff


def test_decline_voids_signatures_and_returns_to_draft(app: Flask) -> None:
    document = to_signing(app)
    md = login(app, "vphu-md-signer")
    assert md.post(f"/documents/{document}/sign", data={"pin": "123456"}).status_code == 302
    uh = login(app, "vphu-uh-signer")
    page = uh.get(f"/documents/{document}").get_data(as_text=True)
    assert 'data-action="decline"' in page
    response = uh.post(f"/documents/{document}/action/decline", data={"reason": ""})
    assert response.status_code == 422
    assert "Cần nêu lý do" in response.get_data(as_text=True)
    response = uh.post(
        f"/documents/{document}/action/decline", data={"reason": "Sai tên đơn vị ở mục 3."}
    )
    assert response.status_code == 302
    page = uh.get(f"/documents/{document}").get_data(as_text=True)
    assert "Dự thảo" in page
    assert "Sai tên đơn vị ở mục 3." in page
    api = md.get(f"/api/documents/{document}").get_json()
    assert [s["voided"] for s in api["signatures"]] == [True]


def test_board_returns_with_a_reason(app: Flask) -> None:
    document = to_signing(app)
    for code in UNITS:
        client = login(app, signer(code))
        assert client.post(f"/documents/{document}/sign", data={"pin": "123456"}).status_code == 302
    drafter = login(app, "vphu-uh-drafter")
    assert drafter.post(f"/documents/{document}/action/submit").status_code == 302
    board = login(app, "board-approver")
    page = board.get(f"/documents/{document}/approve").get_data(as_text=True)
    assert 'data-action="return"' in page
    response = board.post(
        f"/documents/{document}/action/return", data={"reason": "Thiếu chữ ký số hợp lệ của Ban."}
    )
    assert response.status_code == 302
    page = board.get(f"/documents/{document}").get_data(as_text=True)
    assert "Dự thảo" in page
    assert "Chữ ký đã hủy trước đây" in page


def test_nomination_needs_a_decision_to_be_approved(app: Flask) -> None:
    document = app.config["DEMO_DOCUMENTS"]["nomination-2018"]
    for code in UNITS:
        client = login(app, signer(code))
        response = client.post(f"/documents/{document}/action/concur")
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    drafter = login(app, "vphu-md-drafter")
    assert drafter.post(f"/documents/{document}/action/open_signing").status_code == 302
    for code in UNITS:
        client = login(app, signer(code))
        assert client.post(f"/documents/{document}/sign", data={"pin": "123456"}).status_code == 302
    assert drafter.post(f"/documents/{document}/action/submit").status_code == 302
    board = login(app, "board-approver")
    page = board.get(f"/documents/{document}/approve").get_data(as_text=True)
    assert 'name="decision_number"' in page
    assert 'name="decision_date"' in page
    response = board.post(
        f"/documents/{document}/approve",
        data={"pin": "123456", "decision_number": "", "decision_date": ""},
    )
    assert response.status_code == 422
    assert "số và ngày của quyết định" in response.get_data(as_text=True)
    response = board.post(
        f"/documents/{document}/approve",
        data={"pin": "123456", "decision_number": "125/QĐ-HĐTĐKT", "decision_date": "2019-01-15"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    page = board.get(f"/documents/{document}").get_data(as_text=True)
    assert "Đã lưu trữ" in page
    assert "125/QĐ-HĐTĐKT" in page
    assert "ngày 15 tháng 1 năm 2019" in page


def test_open_signing_without_every_concurrence_needs_a_reason(app: Flask) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    drafter.post(f"/documents/{document}/action/submit_for_review")
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    assert 'name="override"' in page
    response = drafter.post(
        f"/documents/{document}/action/open_signing", data={"override": "1", "reason": ""}
    )
    assert response.status_code == 422
    response = drafter.post(
        f"/documents/{document}/action/open_signing",
        data={"override": "1", "reason": "Hạn ký theo kế hoạch của Thành ủy."},
    )
    assert response.status_code == 302
    assert "0/8 đơn vị đã ký" in drafter.get(f"/documents/{document}").get_data(as_text=True)


def test_new_nomination_from_the_editor(app: Flask) -> None:
    drafter = login(app, "vphu-uh-drafter")
    listing = drafter.get("/documents").get_data(as_text=True)
    link = re.search(r'href="(/documents/new\?kind=nomination[^"]*)"', listing).group(1)
    page = drafter.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'data-test="editor"' in page
    fields = form_fields(page)
    assert fields["year"] == "2019"
    action = (
        re.search(r'<form method="post" class="stack" data-test="editor" action="([^"]+)"', page)
        .group(1)
        .replace("&amp;", "&")
    )
    response = drafter.post(action, data=fields)
    assert response.status_code == 302, re.findall(
        r'data-error-for="([^"]+)"', response.get_data(as_text=True)
    )
    page = drafter.get(response.headers["Location"]).get_data(as_text=True)
    assert "HỒ SƠ ĐỀ NGHỊ KHEN THƯỞNG NĂM 2019" in page
    assert "Dự thảo" in page


def test_admin_issues_and_revokes_a_credential_and_the_crl_follows(app: Flask) -> None:
    admin = login(app, "admin")
    before = x509.load_der_x509_crl(admin.get("/ca/crl.der").data)
    response = admin.post(
        "/admin/credentials",
        data={"username": "vphu-md-signer", "unit_code": "VPHU-MD", "pin": "246810"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    page = admin.get("/admin/credentials").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'data-credential="(\d+)"', page)]
    newest = max(ids)
    response = admin.post(f"/admin/credentials/{newest}/revoke", data={"reason": "key_compromise"})
    assert response.status_code == 302
    after = x509.load_der_x509_crl(admin.get("/ca/crl.der").data)
    assert len(list(after)) == len(list(before)) + 1
    signer_client = login(app, "vphu-md-signer")
    response = signer_client.post(
        "/admin/credentials",
        data={"username": "vphu-md-signer", "unit_code": "VPHU-MD", "pin": "1"},
    )
    assert response.status_code == 403


def test_admin_adds_unit_and_user_and_sees_errors_next_to_input(app: Flask) -> None:
    admin = login(app, "admin")
    response = admin.post(
        "/admin/units",
        data={"code": "VPHU-BV", "name": "Văn phòng Huyện ủy Ba Vì", "kind": "member"},
    )
    assert response.status_code == 302
    response = admin.post(
        "/admin/units", data={"code": "VPHU-BV", "name": "Trùng", "kind": "member"}
    )
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'data-test="admin-error"' in body
    assert 'value="Trùng"' in body
    response = admin.post(
        "/admin/users",
        data={
            "username": "vphu-bv-drafter",
            "full_name": "Chuyên viên Ba Vì",
            "password": "mot-mat-khau-dai",
            "role": "drafter",
            "unit_code": "VPHU-BV",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert "vphu-bv-drafter" in admin.get("/admin/users").get_data(as_text=True)
    assert login(app, "vphu-bv-drafter", "mot-mat-khau-dai").get("/").status_code == 200


def test_a_non_member_sees_nothing_of_the_cluster(app: Flask) -> None:
    admin = login(app, "admin")
    assert (
        admin.post(
            "/admin/units",
            data={"code": "VPHU-BV", "name": "Văn phòng Huyện ủy Ba Vì", "kind": "member"},
        ).status_code
        == 302
    )
    assert (
        admin.post(
            "/admin/users",
            data={
                "username": "vphu-bv-drafter",
                "full_name": "Chuyên viên Ba Vì",
                "password": "mot-mat-khau-dai",
                "role": "drafter",
                "unit_code": "VPHU-BV",
            },
        ).status_code
        == 302
    )
    outsider = login(app, "vphu-bv-drafter", "mot-mat-khau-dai")
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    assert outsider.get(f"/documents/{archived}").status_code == 404
    assert outsider.get(f"/archive/{archived}/thidua-{archived}.zip").status_code == 404
    assert outsider.get(f"/api/documents/{archived}").status_code == 404
    assert outsider.get("/api/documents").get_json() == []
    assert "GIAO ƯỚC" not in outsider.get("/documents").get_data(as_text=True)
    assert outsider.get("/clusters/terms/1").status_code == 404
    # The public check of a received document still works for them, as for anyone.
    assert outsider.get("/verify").status_code == 200
