"""Review comments on the document page: where they sit and which version they were made on."""

from __future__ import annotations

import re

from flask import Flask

from tests.web.conftest import login
from tests.web.test_bad_input import form_fields


def _comment_meta(page: str, anchor: str) -> str:
    match = re.search(
        r'<div class="comment" data-anchor="'
        + re.escape(anchor)
        + r'">\s*<div class="meta">(.*?)</div>',
        page,
        re.S,
    )
    assert match, f"no comment shown at {anchor}"
    return " ".join(match.group(1).split())


def test_a_comment_names_the_version_it_was_made_on(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    page = login(app, "vphu-md-drafter").get(f"/documents/{archived}").get_data(as_text=True)
    # The demo's Ứng Hòa drafter commented on criteria item 4 of version 1.
    meta = _comment_meta(page, "criteria.items[3]")
    assert "Văn phòng Huyện ủy Ứng Hòa" in meta
    assert meta.endswith("· phiên bản 1")


def test_a_comment_on_an_earlier_version_keeps_that_version(app: Flask) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    assert drafter.post(f"/documents/{document}/action/submit_for_review").status_code == 302
    px = login(app, "vphu-px-signer")
    text = "Bổ sung cam kết về chuyển đổi số."
    response = px.post(
        f"/documents/{document}/action/comment", data={"anchor": "commitments[0]", "text": text}
    )
    assert response.status_code == 302
    response = px.post(f"/documents/{document}/action/request_changes", data={"reason": text})
    assert response.status_code == 302
    # The head drafter takes the draft back and saves it: version 2 is current.
    assert drafter.post(f"/documents/{document}/action/revise").status_code == 302
    fields = form_fields(drafter.get(f"/documents/{document}/edit").get_data(as_text=True))
    fields["commitments[0]"] += " Đẩy mạnh chuyển đổi số."
    assert drafter.post(f"/documents/{document}/edit", data=fields).status_code == 302
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    assert "Phiên bản 2" in page
    meta = _comment_meta(page, "commitments[0]")
    assert "Văn phòng Huyện ủy Phú Xuyên" in meta
    assert meta.endswith("· phiên bản 1")
