"""The document page of the demo's archived pledge offers its signed PDF and says how many
of its signatures verify, from verifying the PDF itself."""

from __future__ import annotations

import dataclasses
import re

from flask import Flask

from tests.web.conftest import UNITS, login, signer
from tests.web.test_api import token_for


def test_the_archived_pledge_offers_its_pdf_signed_by_eight_units(app: Flask) -> None:
    doc = int(app.config["DEMO_DOCUMENTS"]["pledge-2018"])
    reader = login(app, "vphu-tt-signer")
    page = reader.get(f"/documents/{doc}").get_data(as_text=True)
    assert "Tải PDF đã ký" in page
    status = re.search(r'data-test="pdf-status">([^<]+)<', page)
    assert status is not None
    assert status.group(1).startswith("8/8 chữ ký hợp lệ")
    assert "Ban Thi đua – Khen thưởng đã ký" in status.group(1)
    link = re.search(rf'href="(/documents/{doc}/pdf/document\.pdf)"', page)
    assert link is not None
    response = reader.get(link.group(1))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].endswith('-document.pdf"')
    for wrong in ("other.pdf", "..%2Fdocument.pdf", "document.docx"):
        assert reader.get(f"/documents/{doc}/pdf/{wrong}").status_code == 404
    assert app.test_client().get(link.group(1)).status_code in (302, 401)


def test_a_draft_has_no_signed_pdf(app: Flask) -> None:
    draft = int(app.config["DEMO_DOCUMENTS"]["pledge-2019"])
    page = login(app, "vphu-uh-drafter").get(f"/documents/{draft}").get_data(as_text=True)
    assert "Tải PDF đã ký" not in page
    assert (
        login(app, "vphu-uh-drafter").get(f"/documents/{draft}/pdf/document.pdf").status_code == 404
    )


def _with_signed_pdf(app: Flask) -> Flask:
    app.config["THIDUA_CONFIG"] = dataclasses.replace(app.config["THIDUA_CONFIG"], signed_pdf=True)
    return app


def _to_open_signing(app: Flask) -> tuple[int, dict[str, str]]:
    doc = int(app.config["DEMO_DOCUMENTS"]["nomination-2018"])
    client = app.test_client()
    for code in UNITS:
        client.post(f"/api/documents/{doc}/concur", headers=token_for(app, signer(code)), json={})
    return doc, token_for(app, "vphu-md-drafter")


def test_opening_signing_makes_each_documents_pdf_with_nobody_signed_yet(app: Flask) -> None:
    doc, head = _to_open_signing(_with_signed_pdf(app))
    opened = app.test_client().post(f"/api/documents/{doc}/open_signing", headers=head, json={})
    assert opened.status_code == 200, opened.get_json()
    page = login(app, "vphu-tt-signer").get(f"/documents/{doc}").get_data(as_text=True)
    statuses = re.findall(r'data-test="pdf-status">([^<]+)<', page)
    assert len(statuses) == 6  # one signed PDF per document of the dossier
    assert statuses[1].startswith("0/8 chữ ký hợp lệ")  # the minutes: every unit signs
    assert statuses[0].startswith("0/1 chữ ký hợp lệ")  # the submission: the cluster head


def test_without_libreoffice_opening_signing_is_a_503_and_nothing_is_frozen(
    app: Flask, monkeypatch
) -> None:
    doc, head = _to_open_signing(_with_signed_pdf(app))
    monkeypatch.setenv("PATH", "/nonexistent")
    client = app.test_client()
    refused = client.post(f"/api/documents/{doc}/open_signing", headers=head, json={})
    assert refused.status_code == 503
    error = refused.get_json()["error"]
    assert error["code"] == "pdf_failed"
    assert "LibreOffice" in error["message"]
    detail = client.get(f"/api/documents/{doc}", headers=head).get_json()
    assert detail["state"] == "in_review"
    assert detail["frozen"] is None


def test_the_sign_page_says_which_way_of_signing_reaches_the_pdf(app: Flask) -> None:
    doc, head = _to_open_signing(_with_signed_pdf(app))
    app.test_client().post(f"/api/documents/{doc}/open_signing", headers=head, json={})
    page = login(app, signer("VPHU-TT")).get(f"/documents/{doc}/sign").get_data(as_text=True)
    assert 'data-test="signs-pdf"' in page
    assert 'data-test="p7s-not-pdf"' in page
