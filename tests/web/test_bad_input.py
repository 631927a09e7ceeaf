"""Bad input gets a clear message on the page, never a traceback, and loses nothing."""

from __future__ import annotations

import html
import io
import re

from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import UNITS, login, signer


def form_fields(page: str) -> dict[str, str]:
    """What a browser would post from the editor as rendered (row templates excluded)."""
    page = re.sub(r"<template.*?</template>", "", page, flags=re.S)
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="file"' not in tag:
            fields[name.group(1)] = html.unescape(value.group(1) if value else "")
    for name, text in re.findall(r'<textarea [^>]*?name="([^"]+)"[^>]*>([^<]*)</textarea>', page):
        fields[name] = html.unescape(text)
    for name, options in re.findall(r'<select [^>]*?name="([^"]+)">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        fields[name] = html.unescape(chosen.group(1))
    fields.pop("csrf_token", None)
    return fields


def to_signing(app: Flask) -> int:
    """The 2019 pledge, reviewed and concurred by all eight, open for signing."""
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    assert drafter.post(f"/documents/{document}/action/submit_for_review").status_code == 302
    for code in UNITS:
        client = login(app, signer(code))
        assert client.post(f"/documents/{document}/action/concur").status_code == 302
    assert drafter.post(f"/documents/{document}/action/open_signing").status_code == 302
    return document


def test_wrong_pin_says_tries_left_and_five_lock(app: Flask) -> None:
    document = to_signing(app)
    client = login(app, "vphu-md-signer")
    for left in (4, 3, 2, 1):
        response = client.post(f"/documents/{document}/sign", data={"pin": "999999"})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert f"còn {left} lần thử" in page
    response = client.post(f"/documents/{document}/sign", data={"pin": "999999"})
    assert response.status_code == 423
    assert "khóa" in response.get_data(as_text=True)
    # Locked: even the right PIN is refused until an admin unlocks the credential.
    response = client.post(f"/documents/{document}/sign", data={"pin": "123456"})
    assert response.status_code == 423
    page = client.get(f"/documents/{document}").get_data(as_text=True)
    assert "0/8 đơn vị đã ký" in page


def test_garbage_signature_upload_is_refused_with_a_message(app: Flask) -> None:
    document = to_signing(app)
    client = login(app, "vphu-md-signer")
    response = client.post(
        f"/documents/{document}/sign",
        data={"signature_file": (io.BytesIO(b"this is not CMS"), "VPHU-MD.p7s")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-test="sign-error"' in page
    assert "Traceback" not in page


def test_garbage_instead_of_a_bundle_or_docx(client: FlaskClient) -> None:
    response = client.post(
        "/verify",
        data={"bundle": (io.BytesIO(b"garbage"), "x.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "không phải gói lưu trữ" in response.get_data(as_text=True)
    zip_garbage = b"PK\x03\x04" + b"\x00" * 200
    response = client.post(
        "/verify",
        data={"bundle": (io.BytesIO(zip_garbage), "x.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Không đọc được gói lưu trữ" in response.get_data(as_text=True)
    response = client.post(
        "/verify",
        data={
            "document": (io.BytesIO(b"not a docx"), "x.docx"),
            "signatures": (io.BytesIO(b"sig"), "VPHU-MD.p7s"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "không phải tệp DOCX" in response.get_data(as_text=True)
    response = client.post("/verify", data={}, content_type="multipart/form-data")
    assert response.status_code == 422


def test_garbage_p7s_next_to_a_real_docx_fails_per_unit(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    docx = login(app, "vphu-md-signer").get(f"/documents/{archived}/document.docx").data
    client = app.test_client()
    response = client.post(
        "/verify",
        data={
            "document": (io.BytesIO(docx), "document.docx"),
            "signatures": (io.BytesIO(b"\x30\x03garbage"), "VPHU-MD.p7s"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-indication="TOTAL_FAILED"' in page
    assert "FORMAT_FAILURE" in page


def test_oversize_upload_is_413_with_a_message(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post(
        "/verify",
        data={"bundle": (io.BytesIO(b"x" * 4096), "big.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "quá lớn" in response.get_data(as_text=True)
    response = client.post(
        "/api/verify",
        data={"bundle": (io.BytesIO(b"x" * 4096), "big.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_stale_form_gives_a_conflict_and_keeps_the_reason(app: Flask) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    stale = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    # Someone else acts meanwhile (the same drafter in another tab submits for review).
    assert (
        drafter.post(
            f"/documents/{document}/action/submit_for_review", data={"expected_version": stale}
        ).status_code
        == 302
    )
    reason = "Lý do hủy rất dài mà người dùng không muốn gõ lại"
    response = drafter.post(
        f"/documents/{document}/action/cancel", data={"expected_version": stale, "reason": reason}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'data-test="conflict"' in page
    assert reason in page
    assert "Đang góp ý" in page


def test_stale_editor_keeps_the_edits(app: Flask) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    fields = form_fields(drafter.get(f"/documents/{document}/edit").get_data(as_text=True))
    edit = "Cam kết mới gõ trong lúc người khác vừa lưu"
    fields["commitments[0]"] = edit
    # Meanwhile the same draft is saved elsewhere (another tab): the version moves on.
    other = dict(fields)
    other["commitments[1]"] = other["commitments[1]"] + " (đã sửa ở tab khác)"
    first = drafter.post(f"/documents/{document}/edit", data=other)
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    response = drafter.post(f"/documents/{document}/edit", data=fields)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert edit in page
    assert 'data-test="editor-error"' in page


def test_editor_error_lands_next_to_the_field(app: Flask) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    form_html = drafter.get(f"/documents/{document}/edit").get_data(as_text=True)
    assert 'data-total-of="criteria"' in form_html
    data = {
        "kind": "pledge",
        "year": "2019",
        "criteria.items[0].title": "Tiêu chí",
        "criteria.items[0].max_points": "abc",
    }
    response = drafter.post(f"/documents/{document}/edit", data=data)
    assert response.status_code == 422
    assert 'data-error-for="' in response.get_data(as_text=True)
