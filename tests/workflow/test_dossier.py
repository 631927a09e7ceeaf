"""A nomination dossier through the workflow: freezing stores each document as a part and the
units sign the manifest that pins them; the archive carries every part and verifies offline,
by thidua and by openssl; downloads give each document, never a merged one."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import update

import documents
from signing import TrustStore
from signing.archive import verify_bundle
from tests.conftest import DOSSIER_PARTS, require_executable
from tests.workflow.helpers import (
    HEAD_2018,
    OTHER_DRAFTER,
    SIGNERS,
    approve_nomination,
    frozen_docx,
    other_cluster_pledge,
    sign_all_uploaded,
    user,
)
from web.cli import main
from workflow import blobs
from workflow.clock import utcnow
from workflow.errors import NotFound, WorkflowError
from workflow.models import Blob, Document
from workflow.services import (
    admin,
    document_docx,
    document_files,
    document_part,
    export_bundle,
    lifecycle,
    signed_file,
)

PARTS = DOSSIER_PARTS


def _open_signing(s, demo) -> Document:
    for signer in SIGNERS:
        lifecycle.concur(s, user(s, signer), demo.nomination_2018)
    return lifecycle.open_signing(s, user(s, HEAD_2018), demo.nomination_2018)


def _archive(s, demo) -> Document:
    _open_signing(s, demo)
    sign_all_uploaded(s, demo, demo.nomination_2018)
    lifecycle.submit(s, user(s, HEAD_2018), demo.nomination_2018)
    return approve_nomination(s, demo, demo.nomination_2018)


def test_freezing_stores_each_document_and_the_units_sign_their_manifest(demo_session, demo):
    s = demo_session
    doc = _open_signing(s, demo)
    version = doc.frozen_version
    assert [p.name for p in version.parts] == list(PARTS)
    manifest = json.loads(frozen_docx(s, doc.id))
    assert manifest["format"] == "thidua-dossier/1"
    assert manifest["reference_code"] == version.reference_code
    for listed, part in zip(manifest["parts"], version.parts, strict=True):
        data = blobs.get_blob(s, part.docx_sha256)
        assert listed["sha256"] == hashlib.sha256(data).hexdigest() == part.docx_sha256
        assert listed["signers"] == part.signers
        # Every document prints the version's reference code on its last page.
        assert version.reference_code.encode() in zipfile.ZipFile(io.BytesIO(data)).read(
            "word/document.xml"
        )
    # The rendering is the content's: the same documents as documents.render_dossier.
    again = documents.render_dossier(
        documents.content_from_dict(version.content), reference_code=version.reference_code
    )
    assert tuple(p.sha256 for p in again) == tuple(p.docx_sha256 for p in version.parts)


def test_downloads_give_each_document_and_the_manifest(demo_session, demo):
    s = demo_session
    reader = user(s, "vphu-tt-signer")
    preview = document_files(s, reader, demo.nomination_2018)
    assert [f.name for f in preview] == list(PARTS)
    assert all(f.sha256 is None for f in preview)
    draft_minutes = document_part(s, reader, demo.nomination_2018, "02-bien-ban.docx")
    assert draft_minutes.startswith(b"PK\x03\x04")
    with pytest.raises(NotFound):
        signed_file(s, reader, demo.nomination_2018)  # nothing is frozen yet
    doc = _open_signing(s, demo)
    files = document_files(s, reader, doc.id, doc.frozen_version.number)
    assert [f.sha256 for f in files] == [p.docx_sha256 for p in doc.frozen_version.parts]
    minutes = document_part(s, reader, doc.id, "02-bien-ban.docx", doc.frozen_version.number)
    assert hashlib.sha256(minutes).hexdigest() == files[1].sha256
    name, data = signed_file(s, reader, doc.id, doc.frozen_version.number)
    assert name == "dossier.json"
    assert data == frozen_docx(s, doc.id)
    for wrong in ("../02-bien-ban.docx", "07-khac.docx", "dossier.json", ""):
        with pytest.raises(NotFound):
            document_part(s, reader, doc.id, wrong)
    with pytest.raises(NotFound) as refused:
        document_docx(s, reader, doc.id)  # there is no merged DOCX of a dossier
    assert refused.value.code == "dossier_has_parts"
    other_cluster_pledge(s)
    stranger = user(s, OTHER_DRAFTER[0])
    for fetch in (document_files, signed_file):
        with pytest.raises(NotFound):  # a drafter of another cluster sees nothing of it
            fetch(s, stranger, doc.id)
    with pytest.raises(NotFound):
        document_part(s, stranger, doc.id, "01-to-trinh.docx")


def test_the_archived_dossier_verifies_offline_by_thidua_and_openssl(demo_session, demo, tmp_path):
    s = demo_session
    doc = _archive(s, demo)
    assert doc.state == "archived"
    bundle = export_bundle(s, user(s, "vptu-st-signer"), doc.id)
    trust = TrustStore.from_pem(admin.ca_pem(s))
    report = verify_bundle(bundle, trust=trust, ca_fingerprint=None, at=utcnow())
    assert report.passed, report.to_dict()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        archive.extractall(tmp_path)
        names = archive.namelist()
    top = tmp_path / f"thidua-{doc.id}"
    data = top / "data"
    assert f"thidua-{doc.id}/data/document.docx" not in names
    assert sorted(p.name for p in (data / "parts").iterdir()) == list(PARTS)
    # By hand: each unit's signature over dossier.json, then each part's hash against it.
    openssl = require_executable("openssl")
    ca = tmp_path / "ca.pem"
    ca.write_bytes(admin.ca_pem(s))
    for unit in doc.term.member_units:
        done = subprocess.run(
            [
                openssl, "cms", "-verify", "-binary", "-inform", "DER",
                "-in", str(data / "signatures" / f"{unit.code}.p7s"),
                "-content", str(data / "dossier.json"),
                "-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, (unit.code, done.stderr)
    manifest = json.loads((data / "dossier.json").read_bytes())
    for part in manifest["parts"]:
        body = (data / "parts" / part["name"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == part["sha256"]


def test_a_part_altered_in_the_database_stops_the_approval(demo_session, demo):
    """The units signed the manifest; a stored document that no longer matches its hash
    (a changed blob) must not reach the archive."""
    s = demo_session
    doc = _open_signing(s, demo)
    sign_all_uploaded(s, demo, doc.id)
    lifecycle.submit(s, user(s, HEAD_2018), doc.id)
    target = doc.frozen_version.parts[1].docx_sha256
    s.execute(update(Blob).where(Blob.sha256 == target).values(data=b"PK\x03\x04 altered"))
    with pytest.raises(WorkflowError, match=r"02-bien-ban\.docx"):
        approve_nomination(s, demo, doc.id)


def test_the_cli_names_each_document_of_an_archived_dossier(demo_session, demo, tmp_path):
    s = demo_session
    doc = _archive(s, demo)
    bundle = tmp_path / "dossier.zip"
    bundle.write_bytes(export_bundle(s, user(s, "vptu-st-signer"), doc.id))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(admin.ca_pem(s))
    result = CliRunner().invoke(main, ["verify", str(bundle), "--trust", str(ca)])
    assert result.exit_code == 0, result.output
    manifest = hashlib.sha256(frozen_docx(s, doc.id)).hexdigest()
    assert f"SHA-256 bản kê hồ sơ (dossier.json): {manifest}" in result.output
    for part in doc.frozen_version.parts:
        assert f"  {part.name}  {part.title}  khớp bản kê" in result.output
