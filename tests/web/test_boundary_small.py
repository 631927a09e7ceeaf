"""Issue 14, item 6: the smaller leaks of the web boundary, each as a user or an attacker
would meet it (caches keeping signed files, the public lookup telling more than the paper,
guessable reference codes, server paths in reports, a revoked certificate's upload)."""

from __future__ import annotations

import base64
import io

from flask import Flask
from sqlalchemy import select

from tests.web.conftest import login
from tests.web.test_bad_input import to_signing
from tests.workflow.helpers import cms_for, frozen_docx
from web import db
from workflow.models import Credential, Signature, User
from workflow.services import admin


def _a_signature_id(app: Flask, document_id: int) -> int:
    with app.app_context():
        found = db.get_session().scalar(
            select(Signature.id).where(Signature.document_id == document_id)
        )
    assert found is not None
    return found


# --- a. no shared cache keeps a signed file or an API answer ------------------------------


def test_docx_bundle_signature_and_api_answers_are_never_stored(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    client = login(app, "vphu-md-signer")
    signature = _a_signature_id(app, archived)
    for url in (
        f"/documents/{archived}/document.docx",
        f"/documents/{archived}/versions/1.docx",
        f"/documents/{archived}/signatures/{signature}.p7s",
        f"/archive/{archived}/thidua-{archived}.zip",
        "/api/documents",
        f"/api/documents/{archived}",
        "/api/openapi.json",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("Cache-Control") == "no-store", url
    # Refusals and anonymous answers too: a 401 from the API, a verification report.
    anonymous = app.test_client()
    assert anonymous.get("/api/documents").headers.get("Cache-Control") == "no-store"
    report = anonymous.post(
        "/api/verify",
        data={"bundle": (io.BytesIO(b"not a zip"), "b.zip")},
        content_type="multipart/form-data",
    )
    assert report.headers.get("Cache-Control") == "no-store"


def test_static_files_stay_cacheable(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/static/css/thidua.css")
    assert first.status_code == 200
    assert "no-store" not in (first.headers.get("Cache-Control") or "")
    etag = first.headers["ETag"]
    again = client.get("/static/css/thidua.css", headers={"If-None-Match": etag})
    assert again.status_code == 304


# --- d. a signature made with a revoked certificate is refused like any bad upload --------


def _revoke_and_sign_outside(app: Flask, document_id: int, username: str) -> bytes:
    """Revoke ``username``'s certificate, then make a detached CMS with its key outside
    thidua (as openssl or a token would)."""
    demo = app.config["DEMO_DATA"]
    with app.app_context():
        session = db.get_session()
        owner = session.scalar(select(User).where(User.username == username))
        assert owner is not None
        credential = session.scalar(select(Credential).where(Credential.user_id == owner.id))
        assert credential is not None
        admin.revoke_credential(session, None, credential.id, reason="key_compromise")
        session.commit()
        cms = cms_for(session, demo, username, frozen_docx(session, document_id))
    return cms


def test_a_revoked_certificate_upload_answers_422_with_a_message(app: Flask) -> None:
    document = to_signing(app)
    cms = _revoke_and_sign_outside(app, document, "vphu-md-signer")
    client = login(app, "vphu-md-signer")
    page = client.post(
        f"/documents/{document}/sign",
        data={"signature_file": (io.BytesIO(cms), "VPHU-MD.p7s")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    assert "Chứng thư số đã bị thu hồi" in page.get_data(as_text=True)
    answer = client.post(
        f"/api/documents/{document}/sign", json={"signature": base64.b64encode(cms).decode()}
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "credential_revoked"
    assert "0/8 đơn vị đã ký" in client.get(f"/documents/{document}").get_data(as_text=True)
