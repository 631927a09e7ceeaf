"""The nomination dossier on the web: its page lists each document to download, signing
shows what is signed (the manifest), the API names the parts, and the public verification
takes the manifest with the units' signatures."""

from __future__ import annotations

import hashlib
import io
import json
import re

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DOSSIER_PARTS
from tests.web.conftest import UNITS, login, signer
from tests.web.test_api import token_for

PARTS = list(DOSSIER_PARTS)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _dossier(app: Flask) -> int:
    return int(app.config["DEMO_DOCUMENTS"]["nomination-2018"])


def _to_signing(app: Flask, doc: int) -> FlaskClient:
    """Every unit concurs, the cluster head opens signing; two units sign with their PIN."""
    client = app.test_client()
    for code in UNITS:
        client.post(f"/api/documents/{doc}/concur", headers=token_for(app, signer(code)), json={})
    head = token_for(app, "vphu-md-drafter")
    opened = client.post(f"/api/documents/{doc}/open_signing", headers=head, json={})
    assert opened.get_json()["state"] == "signing", opened.get_json()
    for code in UNITS[:2]:
        signed = client.post(
            f"/api/documents/{doc}/sign",
            headers=token_for(app, signer(code)),
            json={"pin": "123456"},
        )
        assert signed.status_code == 200, signed.get_json()
    return client


def _part_links(page: str, doc: int) -> list[str]:
    return re.findall(rf'href="(/documents/{doc}/parts/[^"]+)"', page)


def test_the_page_lists_each_document_of_the_draft_dossier(app: Flask) -> None:
    doc = _dossier(app)
    reader = login(app, "vphu-tt-signer")
    page = reader.get(f"/documents/{doc}").get_data(as_text=True)
    links = _part_links(page, doc)
    assert [link.rsplit("/", 1)[-1] for link in links] == PARTS
    assert "Các văn bản của hồ sơ (bản xem trước)" in page
    assert f"/documents/{doc}/document.docx" not in page
    response = reader.get(links[1])
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert response.data.startswith(b"PK\x03\x04")
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="thidua-{doc}-du-thao-02-bien-ban.docx"'
    # No merged DOCX of a dossier, no other name, nothing for a stranger.
    merged = reader.get(f"/documents/{doc}/document.docx")
    assert merged.status_code == 404
    assert "từng văn bản" in merged.get_data(as_text=True)
    for wrong in ("07-khac.docx", "..%2F01-to-trinh.docx", "dossier.json", "01-TO-TRINH.docx"):
        assert reader.get(f"/documents/{doc}/parts/{wrong}").status_code == 404, wrong
    assert app.test_client().get(links[0]).status_code in (302, 401)
    assert reader.get(f"/documents/{doc}/signed").status_code == 404  # nothing frozen yet


def test_a_frozen_dossier_is_signed_through_its_manifest(app: Flask) -> None:
    doc = _dossier(app)
    _to_signing(app, doc)
    reader = login(app, "vphu-tt-signer")
    page = reader.get(f"/documents/{doc}").get_data(as_text=True)
    assert "Các văn bản của hồ sơ đã chốt" in page
    manifest_response = reader.get(f"/documents/{doc}/signed")
    assert manifest_response.mimetype == "application/json"
    assert manifest_response.headers["Content-Disposition"] == 'attachment; filename="dossier.json"'
    manifest = json.loads(manifest_response.data)
    sha = re.search(r'data-test="sha256">([0-9a-f]{64})<', page)
    assert sha is not None
    assert sha.group(1) == hashlib.sha256(manifest_response.data).hexdigest()
    links = _part_links(page, doc)
    assert len(links) == len(PARTS)
    for link, listed in zip(links, manifest["parts"], strict=True):
        body = reader.get(link).data
        assert hashlib.sha256(body).hexdigest() == listed["sha256"], link
    sign_page = login(app, signer("VPHU-TT")).get(f"/documents/{doc}/sign").get_data(as_text=True)
    assert "-in dossier.json" in sign_page
    assert "bản kê hồ sơ" in sign_page
    # The API says the same: no docx_url, the signed manifest and each part.
    detail = (
        app.test_client()
        .get(f"/api/documents/{doc}", headers=token_for(app, "vphu-tt-signer"))
        .get_json()
    )
    assert detail["docx_url"] is None
    assert detail["signed_url"] == f"/documents/{doc}/signed"
    assert [p["name"] for p in detail["parts"]] == PARTS
    assert [p["sha256"] for p in detail["parts"]] == [p["sha256"] for p in manifest["parts"]]


def test_public_verification_takes_the_manifest_and_the_signatures(app: Flask) -> None:
    doc = _dossier(app)
    _to_signing(app, doc)
    reader = login(app, "vphu-tt-signer")
    page = reader.get(f"/documents/{doc}").get_data(as_text=True)
    signatures = [
        reader.get(link).data
        for link in re.findall(rf'href="(/documents/{doc}/signatures/\d+\.p7s)"', page)
    ]
    assert len(signatures) == 2
    manifest = reader.get(f"/documents/{doc}/signed").data

    def verify(document: bytes) -> dict:
        response = app.test_client().post(
            "/api/verify",
            data={
                "document": (io.BytesIO(document), "dossier.json"),
                "signatures": [(io.BytesIO(d), f"s{n}.p7s") for n, d in enumerate(signatures)],
            },
            content_type="multipart/form-data",
        )
        assert response.status_code in (200, 422), response.get_data(as_text=True)
        body: dict = response.get_json()
        return body

    report = verify(manifest)
    passed = sorted(u["code"] for u in report["units"] if u["status"] == "passed")
    assert passed == sorted(UNITS[:2])
    assert report["indication"] == "INDETERMINATE"  # six units have not signed yet
    edited = manifest.replace(b'"size":', b'"size": ', 1)
    broken = verify(edited)
    assert broken["indication"] != "TOTAL_PASSED"
    assert not any(u["status"] == "passed" for u in broken.get("units", []))
