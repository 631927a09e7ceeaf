"""Public verification speaks signing's one message table, in the reader's language."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from signing import SubIndication, message
from tests.web.conftest import login


def _signed_docx(app: Flask) -> tuple[bytes, list[bytes]]:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    reader = login(app, "vphu-md-signer")
    page = reader.get(f"/documents/{archived}").get_data(as_text=True)
    links = re.findall(r'href="(/documents/\d+/signatures/\d+\.p7s)"', page)
    assert len(links) == 8
    docx = reader.get(f"/documents/{archived}/document.docx").data
    return docx, [reader.get(link).data for link in links]


def _verify(client: FlaskClient, docx: bytes, signatures: list[bytes]) -> dict[str, Any]:
    files = [(io.BytesIO(der), f"file{n}.p7s") for n, der in enumerate(signatures)]
    response = client.post(
        "/api/verify",
        data={"document": (io.BytesIO(docx), "gu.docx"), "signatures": files},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    report: dict[str, Any] = response.get_json()
    return report


def test_sentences_come_from_the_table_in_the_chosen_language(app: Flask) -> None:
    docx, signatures = _signed_docx(app)
    tampered = bytearray(docx)
    tampered[-100] ^= 0x01
    vietnamese = app.test_client()
    english = app.test_client()
    english.post("/language", data={"lang": "en", "next": "/verify"})

    for client, lang in ((vietnamese, "vi"), (english, "en")):
        report = _verify(client, docx, signatures[:7])
        assert report["indication"] == "INDETERMINATE"
        assert report["sub_indication"] == "SIGNED_DATA_NOT_FOUND"
        missing = [u for u in report["units"] if u["status"] == "missing"]
        assert [u["explanation"] for u in missing] == [
            message(SubIndication.SIGNED_DATA_NOT_FOUND, lang)
        ]
        passed = [u for u in report["units"] if u["status"] == "passed"]
        assert len(passed) == 7
        assert {u["explanation"] for u in passed} == {message(None, lang)}

        broken = _verify(client, bytes(tampered), signatures)
        assert broken["indication"] == "TOTAL_FAILED"
        assert broken["sub_indication"] == "HASH_FAILURE"
        assert {u["explanation"] for u in broken["units"]} == {
            message(SubIndication.HASH_FAILURE, lang)
        }
    assert message(SubIndication.HASH_FAILURE, "en") != message(SubIndication.HASH_FAILURE, "vi")
