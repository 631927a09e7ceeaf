"""A document has one API address: the id as the API writes it, and no other spelling."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import Flask

from tests.web.test_api import token_for


def _spellings(document: int) -> list[str]:
    # All of these are the number to int(); none is how the API writes an id.
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in str(document))
    return [f"+{document}", f"0{document}", f"{document} ", f" {document}", arabic_indic]


def test_the_written_id_finds_the_document(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    client = app.test_client()
    headers = token_for(app, "vphu-md-signer")
    listed = client.get("/api/documents", headers=headers).get_json()
    written = next(row["id"] for row in listed if row["id"] == str(archived))
    response = client.get(f"/api/documents/{written}", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["id"] == written


@pytest.mark.parametrize("index", range(5))
def test_another_spelling_of_the_id_is_no_document(app: Flask, index: int) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    spelling = _spellings(archived)[index]
    client = app.test_client()
    headers = token_for(app, "vphu-md-signer")
    response = client.get(f"/api/documents/{quote(spelling)}", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_trigger_on_another_spelling_changes_nothing(app: Flask) -> None:
    draft = app.config["DEMO_DOCUMENTS"]["pledge-2019"]
    client = app.test_client()
    drafter = token_for(app, "vphu-uh-drafter")
    response = client.post(f"/api/documents/+{draft}/submit_for_review", headers=drafter, json={})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    state = client.get(f"/api/documents/{draft}", headers=drafter).get_json()["state"]
    assert state == "draft"
