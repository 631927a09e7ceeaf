"""The document page of the demo's archived pledge offers its signed PDF and says how many
of its signatures verify, from verifying the PDF itself."""

from __future__ import annotations

import re

from flask import Flask

from tests.web.conftest import login


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
