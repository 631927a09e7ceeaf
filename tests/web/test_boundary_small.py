"""Issue 14, item 6: the smaller leaks of the web boundary, each as a user or an attacker
would meet it (caches keeping signed files, the public lookup telling more than the paper,
guessable reference codes, server paths in reports, a revoked certificate's upload)."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import select

from tests.web.conftest import login
from web import db
from workflow.models import Signature


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
