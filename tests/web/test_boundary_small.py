"""Issue 14, item 6: the smaller leaks of the web boundary, each as a user or an attacker
would meet it (caches keeping signed files, the public lookup telling more than the paper,
guessable reference codes, server paths in reports, a revoked certificate's upload)."""

from __future__ import annotations

import base64
import io
import re
import tempfile
import zipfile
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from tests.web.conftest import login
from tests.web.test_bad_input import to_signing
from tests.workflow.helpers import cms_for, frozen_docx
from web import db
from web.cli import main
from workflow.models import Comment, Credential, Document, Signature, User
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


# --- c. no report names a server's temporary folder ---------------------------------------


def _rezipped(bundle: bytes, extra: dict[str, bytes]) -> bytes:
    """The bundle with ``extra`` entries added (paths below its top folder)."""
    source = zipfile.ZipFile(io.BytesIO(bundle))
    top = source.namelist()[0].split("/")[0]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if not info.is_dir():
                target.writestr(info.filename, source.read(info))
        for name, data in extra.items():
            target.writestr(f"{top}/{name}", data)
    return out.getvalue()


def _server_paths(text: str) -> list[str]:
    folders = {tempfile.gettempdir(), "/tmp", "/dev/shm", "/var/tmp"}
    return [folder for folder in folders if folder in text]


def test_a_verification_report_never_names_a_server_temporary_path(
    app: Flask, tmp_path: Path
) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    bundle = login(app, "vphu-md-signer").get(f"/archive/{archived}/thidua-{archived}.zip").data
    # A file where the bag has a folder, and a bag without its payload: the bagit library's
    # own check meets them in the private copy it validates.
    broken = {
        "a file below a file": _rezipped(bundle, {"data/document.docx/extra": b"x"}),
        "no payload": _rezip_without_payload(bundle),
    }
    for what, data in broken.items():
        for url in ("/verify", "/api/verify"):
            response = app.test_client().post(
                url,
                data={"bundle": (io.BytesIO(data), "bundle.zip")},
                content_type="multipart/form-data",
            )
            assert response.status_code in (200, 422), (what, url)
            text = response.get_data(as_text=True)
            assert "INDETERMINATE" in text or "TOTAL_FAILED" in text, (what, url)
            assert _server_paths(text) == [], (what, url, text[:2000])
        path = tmp_path / "received.zip"
        path.write_bytes(data)
        for args in (["verify", str(path)], ["verify", "--json", str(path)]):
            result = CliRunner().invoke(main, args)
            shown = result.output.replace(str(path), "received.zip")
            assert "túi BagIt không toàn vẹn" in shown or "bagit" in shown, (what, shown)
            assert _server_paths(shown) == [], (what, args, shown)


def _rezip_without_payload(bundle: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(bundle))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if not info.is_dir() and "/data/" not in info.filename:
                target.writestr(info.filename, source.read(info))
    return out.getvalue()


# --- b. the public look-up tells a paper's holder only what the paper shows ---------------


def _frozen(app: Flask, document_id: int) -> tuple[str, str]:
    """(reference code, SHA-256) of the document's frozen version, as printed on its paper."""
    detail = login(app, "vphu-md-signer").get(f"/api/documents/{document_id}").get_json()
    return detail["frozen"]["reference_code"], detail["frozen"]["sha256"]


def _lookup_panel(page: str) -> str:
    match = re.search(r"Tra cứu theo mã văn bản.*?</section>", page, re.S)
    assert match is not None
    return match.group(0)


def _what_only_members_know(app: Flask, document_id: int) -> list[str]:
    """Names of units and signers, comments, cluster and internal links of the document."""
    with app.app_context():
        session = db.get_session()
        document = session.get(Document, document_id)
        assert document is not None
        known = [document.term.cluster.name, f"/documents/{document_id}"]
        known += [u["name"] for u in document.frozen_version.content["member_units"]]
        signatures = session.scalars(select(Signature).where(Signature.document_id == document_id))
        known += [s.signer.full_name for s in signatures]
        comments = session.scalars(select(Comment).where(Comment.document_id == document_id))
        known += [c.body for c in comments]
    return known


def test_the_public_lookup_shows_only_code_title_state_and_hash(app: Flask) -> None:
    archived = app.config["DEMO_DOCUMENTS"]["pledge-2018"]
    ref, sha = _frozen(app, archived)
    page = app.test_client().get(f"/verify?ref={ref}").get_data(as_text=True)
    panel = _lookup_panel(page)
    labels = re.findall(r"<dt>(.*?)</dt>", panel)
    assert labels == ["Mã văn bản", "Văn bản", "Trạng thái", "SHA-256"]
    assert ref in panel
    assert sha in panel
    assert "GIAO ƯỚC THI ĐUA NĂM 2018" in panel
    assert 'data-state="archived"' in panel
    leaked = [text for text in _what_only_members_know(app, archived) if text in page]
    assert leaked == []


def test_a_version_reopened_for_changes_is_shown_as_no_longer_valid(app: Flask) -> None:
    document = to_signing(app)
    ref, sha = _frozen(app, document)
    declined = login(app, "vphu-uh-signer").post(
        f"/documents/{document}/action/decline", data={"reason": "Sai tên đơn vị ở mục 3."}
    )
    assert declined.status_code == 302
    panel = _lookup_panel(app.test_client().get(f"/verify?ref={ref}").get_data(as_text=True))
    assert sha in panel
    assert "Không còn hiệu lực" in panel
    assert 'data-state="draft"' not in panel
    assert "Sai tên đơn vị" not in panel


def test_the_next_reference_code_cannot_be_guessed_from_a_known_one(app: Flask) -> None:
    known, _sha = _frozen(app, app.config["DEMO_DOCUMENTS"]["pledge-2018"])
    document = to_signing(app)  # the 2019 pledge, frozen just now
    actual, sha = _frozen(app, document)
    prefix = f"TD-GU-2019-{document:05d}-V1"
    known_part = known.rsplit("-", 2)[-2:]
    guesses = [
        prefix,  # the scheme without its random part
        f"{prefix}-{'-'.join(known_part)}",  # the known code's random part
        f"{prefix}-0000-0000",
        prefix.replace("-V1", "-V2"),
        f"TD-GU-2019-{document + 1:05d}-V1",
    ]
    anonymous = app.test_client()
    for guess in guesses:
        page = anonymous.get(f"/verify?ref={guess}").get_data(as_text=True)
        assert "Không tìm thấy văn bản nào có mã này" in page, guess
        assert sha not in page, guess
    assert re.fullmatch(re.escape(prefix) + r"-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", actual)
    # The holder of the paper finds it, even typed in lower case with O for 0 and l for 1.
    typed = actual.lower()
    head, first, second = typed.rsplit("-", 2)
    typed = f"{head}-{first.replace('0', 'o').replace('1', 'l')}-{second.replace('0', 'o')}"
    for code in (actual, typed):
        assert sha in _lookup_panel(anonymous.get(f"/verify?ref={code}").get_data(as_text=True))
