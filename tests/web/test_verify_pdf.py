"""/verify and POST /api/verify take a signed PDF alone (issue 16): the units it must carry
come from the stored version when this system made it (DocumentVersion.pdf_sha256), else
from the PDF's own signature fields; tampering is named, garbage is a 422."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from signing import SubIndication, TrustStore, message
from signing.credentials import generate_private_key
from signing.pades import BOARD_FIELD, CERTIFICATION_FIELD, prepare_pdf, sign_final
from signing.pades.fields import verify_pdf_alone
from signing.signers import KeySigner
from tests.fixtures_db import DemoData
from tests.signing.bundle_pdf_helpers import edit_byte, fields_for, sign_in
from tests.signing.pades_helpers import Party, minimal_pdf, update_after
from tests.web.conftest import UNITS, login
from workflow import models
from workflow.db import session_factory
from workflow.pki import ca_pem, load_ca

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _party(ca: Any, code: str, unit: str, person: str) -> Party:
    """A key and a certificate of this deployment's CA, valid from the CA's own start
    (the demo seeds its CA at the real clock, moments before the tests run)."""
    key = generate_private_key()
    cert = ca.issue(
        key.public_key(),
        person=person,
        unit_name=unit,
        unit_code=code,
        user_id=f"{code.lower()}-pdf-test",
        now=ca.certificate.not_valid_before_utc,
    )
    return Party(code, unit, person, KeySigner(key, cert, [ca.certificate]))


def _signed_pdf(
    engine: Engine,
    demo: DemoData,
    *,
    codes: tuple[str, ...] = tuple(UNITS),
    skip: tuple[str, ...] = (),
) -> bytes:
    """A PDF as the workflow makes it, with certificates of this deployment's CA, every
    signature at the moment the CA's validity starts (never after the verification)."""
    with session_factory(engine)() as session:
        ca = load_ca(session, demo.ca_secret)
    start = ca.certificate.not_valid_before_utc
    certifier = _party(ca, "THIDUA", "Hệ thống thidua", "Chứng nhận lúc chốt")
    pdf = prepare_pdf(
        minimal_pdf(),
        fields_for(codes),
        certifier.signer,
        signing_time=start,
        certification_field=CERTIFICATION_FIELD,
    )
    for code in codes:
        if code in skip:
            continue
        party = _party(ca, code, f"Văn phòng {code}", f"Người ký {code}")
        pdf = sign_in(pdf, code, party, at=start)
    board = _party(ca, "BTDKT", "Ban Thi đua – Khen thưởng", "Trưởng ban")
    return sign_final(
        pdf,
        BOARD_FIELD,
        board.signer,
        signing_time=start,
        name=board.person,
        unit=board.unit,
    )


@pytest.fixture
def signed(demo_db: Engine, demo: DemoData) -> bytes:
    return _signed_pdf(demo_db, demo)


def _api(client: FlaskClient, data: bytes, field: str = "pdf", name: str = "ky.pdf"):
    return client.post(
        "/api/verify",
        data={field: (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _report(client: FlaskClient, data: bytes, field: str = "pdf") -> dict[str, Any]:
    response = _api(client, data, field)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def _store(engine: Engine, demo: DemoData, pdf: bytes) -> str:
    """Record ``pdf`` as the archived pledge's signed PDF, as freeze and approve do."""
    sha = hashlib.sha256(pdf).hexdigest()
    archived = int(demo.result.documents["pledge-2018"])
    with session_factory(engine)() as session:
        document = session.get(models.Document, archived)
        assert document is not None
        version = session.get(models.DocumentVersion, document.frozen_version_id)
        assert version is not None
        session.add(
            models.Blob(
                sha256=sha,
                size=len(pdf),
                media_type="application/pdf",
                data=pdf,
                created_at=NOW,
            )
        )
        session.flush()
        version.pdf_sha256 = sha
        session.commit()
        return str(document.title)


def test_a_signed_pdf_passes_through_the_api(client: FlaskClient, signed: bytes) -> None:
    report = _report(client, signed)
    assert report["kind"] == "pdf"
    assert report["indication"] == "TOTAL_PASSED", report
    assert report["document_sha256"] == hashlib.sha256(signed).hexdigest()
    by_code = {u["code"]: u for u in report["units"]}
    assert set(by_code) == {*UNITS, BOARD_FIELD, "THIDUA"}
    assert all(u["status"] == "passed" for u in report["units"])
    assert by_code["VPHU-MD"]["signer"] == "Người ký VPHU-MD"
    assert by_code["VPHU-MD"]["explanation"] == message(None)
    assert report["report"]["revisions"] == len(UNITS) + 3


def test_a_pdf_given_as_the_document_is_verified_as_a_pdf(
    client: FlaskClient, signed: bytes
) -> None:
    report = _report(client, signed, field="document")
    assert report["kind"] == "pdf"
    assert report["indication"] == "TOTAL_PASSED"


def test_an_edited_byte_is_a_hash_failure(client: FlaskClient, signed: bytes) -> None:
    report = _report(client, edit_byte(signed))
    assert report["indication"] == "TOTAL_FAILED"
    assert report["sub_indication"] == "HASH_FAILURE"
    assert {u["explanation"] for u in report["units"]} == {message(SubIndication.HASH_FAILURE)}


def test_an_update_after_the_board_is_unsigned_content(client: FlaskClient, signed: bytes) -> None:
    report = _report(client, update_after(signed))
    assert report["indication"] == "TOTAL_FAILED"
    assert report["sub_indication"] == "UNSIGNED_CONTENT"
    board = next(u for u in report["units"] if u["code"] == BOARD_FIELD)
    assert board["status"] == "failed"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"%PDF-1.7\nnot really a pdf\n%%EOF", "pdf"),
        (b"%PDF-", "document"),
        (b"hello, not a pdf at all", "pdf"),
    ],
    ids=["damaged", "truncated-as-document", "not-a-pdf"],
)
def test_garbage_is_a_422_with_a_message(client: FlaskClient, data: bytes, field: str) -> None:
    response = _api(client, data, field)
    assert response.status_code == 422, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert "PDF" in text


def test_a_pdf_with_signature_files_is_refused(client: FlaskClient, signed: bytes) -> None:
    response = client.post(
        "/api/verify",
        data={
            "document": (io.BytesIO(signed), "ky.pdf"),
            "signatures": [(io.BytesIO(b"0"), "VPHU-MD.p7s")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert ".p7s" in response.get_data(as_text=True)


def test_the_page_shows_the_pdf_result(client: FlaskClient, signed: bytes) -> None:
    page = client.get("/verify").get_data(as_text=True)
    assert 'name="pdf"' in page
    response = client.post(
        "/verify",
        data={"pdf": (io.BytesIO(signed), "ky.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-indication="TOTAL_PASSED"' in html
    assert 'data-unit="VPHU-MD" data-status="passed"' in html
    assert "không có trong hệ thống" in html  # units from the field names

    tampered = client.post(
        "/verify",
        data={"pdf": (io.BytesIO(edit_byte(signed)), "ky.pdf")},
        content_type="multipart/form-data",
    )
    assert 'data-indication="TOTAL_FAILED"' in tampered.get_data(as_text=True)
    updated = client.post(
        "/verify",
        data={"pdf": (io.BytesIO(update_after(signed)), "ky.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    # what happened in this PDF, not only the table's generic sentence
    assert "sau chữ ký khóa văn bản" in updated
    broken = client.post(
        "/verify",
        data={"pdf": (io.BytesIO(b"%PDF-1.7 garbage"), "ky.pdf")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422
    assert 'data-test="verify-error"' in broken.get_data(as_text=True)


def test_the_page_speaks_english(client: FlaskClient, signed: bytes) -> None:
    client.post("/language", data={"lang": "en", "next": "/verify"})
    assert "Check a digitally signed PDF" in client.get("/verify").get_data(as_text=True)
    report = _report(client, signed)
    assert "The PDF is valid" in report["summary"]


def test_a_stored_pdf_takes_its_units_from_the_version(
    app: Flask, client: FlaskClient, demo_db: Engine, demo: DemoData
) -> None:
    # VPHU-TO signed by an uploaded CMS: its field stays empty in the PDF
    pdf = _signed_pdf(demo_db, demo, skip=("VPHU-TO",))
    title = _store(demo_db, demo, pdf)
    report = _report(client, pdf)
    assert report["indication"] == "INDETERMINATE"
    assert report["sub_indication"] == "SIGNED_DATA_NOT_FOUND"
    missing = [u for u in report["units"] if u["status"] == "missing"]
    assert [u["code"] for u in missing] == ["VPHU-TO"]
    # the name is the stored version's member unit, not the field name
    assert missing[0]["name"] != "VPHU-TO"
    assert "không có trong hệ thống" not in report["summary"]
    html = client.post(
        "/verify",
        data={"pdf": (io.BytesIO(pdf), "ky.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert title in html


def test_the_demos_archived_pdf_passes_with_the_versions_units(app: Flask, demo_db: Engine) -> None:
    """End to end: the PDF the workflow froze, signed and closed, downloaded from the
    document page, verified by the public page against the stored version's units."""
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    reader = login(app, "vphu-md-signer")
    response = reader.get(f"/documents/{archived}/pdf/document.pdf")
    assert response.status_code == 200, response.status_code
    pdf = response.data
    report = _report(app.test_client(), pdf)
    assert report["indication"] == "TOTAL_PASSED", report["summary"]
    codes = {u["code"] for u in report["units"]}
    assert set(UNITS) <= codes
    assert "không có trong hệ thống" not in report["summary"]
    # and the CLI's reading, from the PDF's own field names, agrees
    with session_factory(demo_db)() as session:
        trust = TrustStore.from_pem(ca_pem(session))
    alone = verify_pdf_alone(pdf, trust, at=dt.datetime.now(dt.UTC))
    assert alone.passed, alone.message
    assert {s.field for s in alone.signatures} >= {*UNITS, BOARD_FIELD, CERTIFICATION_FIELD}


def test_the_demos_archived_bundle_carries_and_passes_its_pdf(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    reader = login(app, "vphu-md-signer")
    page = reader.get(f"/documents/{archived}").get_data(as_text=True)
    link = re.search(r'href="(/archive/\d+/thidua-\d+\.zip)"', page)
    assert link is not None
    bundle = reader.get(link.group(1))
    assert bundle.status_code == 200
    response = app.test_client().post(
        "/api/verify",
        data={"bundle": (io.BytesIO(bundle.data), "thidua.zip")},
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert body["indication"] == "TOTAL_PASSED", body["report"]["problems"]
    pdf = body["report"]["pdfs"]["data/document.pdf"]
    assert pdf["bundle_indication"] == "TOTAL_PASSED"
    (shown,) = body["pdfs"]
    assert shown["name"] == "document.pdf"
    assert shown["indication"] == "TOTAL_PASSED"
    assert shown["valid"] == shown["total"] == len(UNITS) + 2
    assert {s["field"] for s in pdf["signatures"]} >= {*UNITS, BOARD_FIELD, CERTIFICATION_FIELD}


def _store_part(engine: Engine, demo: DemoData, pdf: bytes, signers: list[str]) -> None:
    """Record ``pdf`` as a dossier part's signed PDF (a part row on the archived version:
    the lookup is by the part's pdf_sha256, whatever the version holds besides)."""
    sha = hashlib.sha256(pdf).hexdigest()
    archived = int(demo.result.documents["pledge-2018"])
    with session_factory(engine)() as session:
        document = session.get(models.Document, archived)
        assert document is not None
        version = session.get(models.DocumentVersion, document.frozen_version_id)
        assert version is not None
        assert version.signed_sha256 is not None
        session.add(
            models.Blob(
                sha256=sha, size=len(pdf), media_type="application/pdf", data=pdf, created_at=NOW
            )
        )
        session.flush()
        session.add(
            models.VersionPart(
                version_id=version.id,
                position=99,
                name="01-to-trinh.docx",
                title="Tờ trình",
                docx_sha256=version.signed_sha256,
                signers=signers,
                pdf_sha256=sha,
            )
        )
        session.commit()


def test_a_stored_dossier_parts_pdf_takes_the_parts_signers(
    client: FlaskClient, demo_db: Engine, demo: DemoData
) -> None:
    pdf = _signed_pdf(demo_db, demo, codes=("VPHU-MD", "VPHU-UH"))
    _store_part(demo_db, demo, pdf, ["VPHU-MD", "VPHU-UH"])
    report = _report(client, pdf)
    assert report["indication"] == "TOTAL_PASSED", report
    assert {u["code"] for u in report["units"]} == {"VPHU-MD", "VPHU-UH", BOARD_FIELD, "THIDUA"}
    md = next(u for u in report["units"] if u["code"] == "VPHU-MD")
    assert md["name"] == "Văn phòng Huyện ủy Mỹ Đức"  # the version's member unit
    assert "không có trong hệ thống" not in report["summary"]


def test_a_stored_parts_pdf_with_a_field_of_a_unit_not_among_its_signers_fails(
    client: FlaskClient, demo_db: Engine, demo: DemoData
) -> None:
    pdf = _signed_pdf(demo_db, demo, codes=("VPHU-MD", "VPHU-UH"))
    _store_part(demo_db, demo, pdf, ["VPHU-MD"])
    report = _report(client, pdf)
    assert report["indication"] == "TOTAL_FAILED"
    assert report["sub_indication"] == "SIG_CONSTRAINTS_FAILURE"
    uh = next(u for u in report["units"] if u["code"] == "VPHU-UH")
    assert uh["status"] == "failed"


def test_the_bundle_page_shows_its_pdf(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    reader = login(app, "vphu-md-signer")
    page = reader.get(f"/documents/{archived}").get_data(as_text=True)
    link = re.search(r'href="(/archive/\d+/thidua-\d+\.zip)"', page)
    assert link is not None
    bundle = reader.get(link.group(1)).data
    html = (
        app.test_client()
        .post(
            "/verify",
            data={"bundle": (io.BytesIO(bundle), "thidua.zip")},
            content_type="multipart/form-data",
        )
        .get_data(as_text=True)
    )
    assert 'data-test="bundle-pdf" data-pdf-indication="TOTAL_PASSED"' in html
    assert "document.pdf" in html
    assert f"{len(UNITS) + 2}/{len(UNITS) + 2} chữ ký hợp lệ" in html
