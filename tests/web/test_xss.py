"""Hostile text in every kind of text field: escaped in the HTML, literal in the DOCX."""

from __future__ import annotations

import io

import docx
import pytest
from flask import Flask

from tests.web.conftest import login
from tests.web.test_bad_input import form_fields

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"

FIELDS = [
    "legal_bases[0]",
    "preamble[0]",
    "contents[1]",
    "targets[0]",
    "commitments[0]",
    "criteria.items[2].title",
    "member_units[3].signer_name",
    "member_units[4].signer_title",
    "issuer.name",
    "recipients[0]",
]


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.append(cell.text)
                for inner in cell.tables:
                    parts.extend(c.text for r in inner.rows for c in r.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.footer.paragraphs)
        parts.extend(p.text for p in section.header.paragraphs)
    return "\n".join(parts)


@pytest.mark.parametrize("field", FIELDS)
def test_payload_in_a_content_field(app: Flask, field: str) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    fields = form_fields(drafter.get(f"/documents/{document}/edit").get_data(as_text=True))
    assert field in fields
    fields[field] = f"{fields[field]} {PAYLOAD}".strip()
    response = drafter.post(f"/documents/{document}/edit", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    for path in (f"/documents/{document}", f"/documents/{document}/edit"):
        page = drafter.get(path).get_data(as_text=True)
        assert PAYLOAD not in page
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    # The editor shows every field back, escaped.
    assert ESCAPED in page
    data = drafter.get(f"/documents/{document}/document.docx").data
    # Titles print upper-case in the signature grid: compare without case.
    assert PAYLOAD.casefold() in docx_text(data).casefold()


def test_payload_in_comment_and_reason(app: Flask) -> None:
    document = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    drafter = login(app, "vphu-uh-drafter")
    drafter.post(f"/documents/{document}/action/submit_for_review")
    signer = login(app, "vphu-md-signer")
    response = signer.post(
        f"/documents/{document}/action/comment", data={"anchor": "contents[0]", "text": PAYLOAD}
    )
    assert response.status_code == 302
    response = signer.post(
        f"/documents/{document}/action/request_changes", data={"reason": PAYLOAD}
    )
    assert response.status_code == 302
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    assert PAYLOAD not in page
    assert page.count("&lt;script&gt;") >= 2
    api = drafter.get(f"/api/documents/{document}")
    assert api.status_code == 200


def test_payload_in_login_and_search_fields_is_escaped(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"username": PAYLOAD, "password": "x"})
    page = response.get_data(as_text=True)
    assert PAYLOAD not in page
    assert "&lt;script&gt;" in page
    page = client.get("/verify", query_string={"ref": PAYLOAD}).get_data(as_text=True)
    assert PAYLOAD not in page
