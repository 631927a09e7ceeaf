"""The signed PDF through the workflow (issue 16): frozen and certified with every field at
open_signing, one PAdES signature per unit signing with its server key, the board's last;
what pyHanko's CLI, pdfsig and our verifier say of the archived PDF."""

from __future__ import annotations

import io
import subprocess
import zipfile

import pytest

from signing import Indication, TrustStore
from signing.archive import verify_bundle
from signing.ca import CERTIFIER_UNIT
from signing.pades import BOARD_FIELD, CERTIFICATION_FIELD, verify_pdf
from tests.conftest import require_executable
from tests.workflow.helpers import (
    HEAD_2018,
    HEAD_2019,
    SIGNERS,
    approve_nomination,
    frozen_docx,
    sign_all_uploaded,
    user,
)
from workflow import blobs
from workflow.clock import utcnow
from workflow.errors import ConverterUnavailable
from workflow.models import Document
from workflow.seed import DEMO_PIN
from workflow.services import admin, export_bundle, lifecycle

pytestmark = pytest.mark.slow

UNITS = ["VPHU-MD", "VPHU-UH", "VPHU-PX", "VPHU-TT", "VPHU-TO", "VPHU-CM", "VPHU-QO", "VPTU-ST"]


def _open(s, demo, doc_id: int, head: str) -> Document:
    if head == HEAD_2019:  # the demo's 2019 pledge is a draft, its nomination in review
        lifecycle.submit_for_review(s, user(s, head), doc_id)
    for signer in SIGNERS:
        lifecycle.concur(s, user(s, signer), doc_id)
    return lifecycle.open_signing(
        s, user(s, head), doc_id, ca_secret=demo.ca_secret, signed_pdf=True
    )


def _expected(units, board: str | None = None) -> dict[str, str | None]:
    return {**{u: u for u in units}, BOARD_FIELD: board, CERTIFICATION_FIELD: CERTIFIER_UNIT}


def _trust(s) -> TrustStore:
    return TrustStore.from_pem(admin.ca_pem(s))


def test_a_pledge_is_frozen_with_a_certified_pdf_and_signed_unit_by_unit(demo_session, demo):
    s = demo_session
    doc = _open(s, demo, demo.pledge_2019, HEAD_2019)
    frozen = doc.frozen_version
    first = blobs.get_blob(s, frozen.pdf_sha256)
    report = verify_pdf(first, _trust(s), at=utcnow(), expected_fields=_expected(UNITS))
    assert report.indication is Indication.INDETERMINATE  # nobody has signed yet
    assert set(report.unsigned_fields) == {*UNITS, BOARD_FIELD}
    (certification,) = report.signatures
    assert certification.certification
    assert certification.report.passed
    # Two units sign with their key, one uploads a CMS made elsewhere (no PDF signature).
    for signer in SIGNERS[:2]:
        lifecycle.sign(s, user(s, signer), doc.id, pin=DEMO_PIN)
    sign_all_uploaded(s, demo, doc.id, SIGNERS[2:3])
    pdf = blobs.get_blob(s, frozen.pdf_sha256)
    assert pdf.startswith(first)  # incremental: every earlier revision stays as it was
    report = verify_pdf(pdf, _trust(s), at=utcnow(), expected_fields=_expected(UNITS))
    signed = {r.field for r in report.signatures if r.report.passed}
    assert signed == {CERTIFICATION_FIELD, "VPHU-UH", "VPHU-MD"}
    assert "VPHU-PX" in report.unsigned_fields


def test_without_the_ca_secret_nothing_is_frozen(demo_session, demo):
    s = demo_session
    lifecycle.submit_for_review(s, user(s, HEAD_2019), demo.pledge_2019)
    for signer in SIGNERS:
        lifecycle.concur(s, user(s, signer), demo.pledge_2019)
    with pytest.raises(Exception, match="bí mật CA"):
        lifecycle.open_signing(s, user(s, HEAD_2019), demo.pledge_2019, signed_pdf=True)
    assert s.get(Document, demo.pledge_2019).frozen_version is None


def test_a_missing_converter_is_a_clear_error_and_nothing_is_frozen(
    demo_session, demo, monkeypatch
):
    s = demo_session
    lifecycle.submit_for_review(s, user(s, HEAD_2019), demo.pledge_2019)
    for signer in SIGNERS:
        lifecycle.concur(s, user(s, signer), demo.pledge_2019)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConverterUnavailable, match="LibreOffice") as refused:
        lifecycle.open_signing(
            s, user(s, HEAD_2019), demo.pledge_2019, ca_secret=demo.ca_secret, signed_pdf=True
        )
    assert refused.value.code == "pdf_failed"
    assert refused.value.http_status == 503  # the server's fault, and a retry may succeed


def _archive_pledge(s, demo) -> Document:
    doc = _open(s, demo, demo.pledge_2019, HEAD_2019)
    for signer in SIGNERS:
        lifecycle.sign(s, user(s, signer), doc.id, pin=DEMO_PIN)
    lifecycle.submit(s, user(s, "vphu-uh-signer"), doc.id)
    return lifecycle.approve(
        s, user(s, "board-approver"), doc.id, pin=DEMO_PIN, ca_secret=demo.ca_secret
    )


def test_the_archived_pdf_passes_our_verifier_pyhanko_and_pdfsig(demo_session, demo, tmp_path):
    s = demo_session
    doc = _archive_pledge(s, demo)
    assert doc.state == "archived"
    pdf = blobs.get_blob(s, doc.frozen_version.pdf_sha256)
    board = doc.term.board_unit.code
    report = verify_pdf(pdf, _trust(s), at=utcnow(), expected_fields=_expected(UNITS, board))
    assert report.indication is Indication.TOTAL_PASSED, report.to_dict()
    assert len(report.signatures) == 10  # certification, 8 units, the board
    bundle = export_bundle(s, user(s, "vptu-st-signer"), doc.id)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        assert archive.read(f"thidua-{doc.id}/data/document.pdf") == pdf
    assert verify_bundle(bundle, trust=_trust(s), ca_fingerprint=None, at=utcnow()).passed
    path, ca = tmp_path / "signed.pdf", tmp_path / "ca.pem"
    path.write_bytes(pdf)
    ca.write_bytes(admin.ca_pem(s))
    cli = subprocess.run(
        [
            require_executable("pyhanko"), "sign", "validate", "--pretty-print",
            "--trust", str(ca), "--trust-replace", "--no-revocation-check", str(path),
        ],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stdout + cli.stderr
    nss = tmp_path / "nss"
    nss.mkdir()
    certutil = require_executable("certutil")
    subprocess.run([certutil, "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(
        [certutil, "-A", "-d", f"sql:{nss}", "-n", "ca", "-t", "CT,C,C", "-i", str(ca)],
        check=True,
    )
    out = subprocess.run(
        [require_executable("pdfsig"), "-nssdir", f"sql:{nss}", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    ).stdout  # fmt: skip
    assert out.count("Signature is Valid.") == 10, out
    assert out.count("Certificate is Trusted.") == 10, out


def test_each_document_of_a_dossier_gets_its_own_pdf_signed_by_its_units(demo_session, demo):
    s = demo_session
    doc = _open(s, demo, demo.nomination_2018, HEAD_2018)
    parts = doc.frozen_version.parts
    assert all(p.pdf_sha256 for p in parts)
    lifecycle.sign(s, user(s, "vphu-uh-signer"), doc.id, pin=DEMO_PIN)
    sign_all_uploaded(s, demo, doc.id, [x for x in SIGNERS if x != "vphu-uh-signer"])
    lifecycle.submit(s, user(s, HEAD_2018), doc.id)
    doc = approve_nomination(s, demo, doc.id)
    board = doc.term.board_unit.code
    for part in doc.frozen_version.parts:
        pdf = blobs.get_blob(s, part.pdf_sha256)
        report = verify_pdf(
            pdf, _trust(s), at=utcnow(), expected_fields=_expected(part.signers, board)
        )
        signed = {r.field for r in report.signatures if r.report.passed}
        # VPHU-UH signed with its key: in the minutes and its own achievement report only.
        assert ("VPHU-UH" in signed) == ("VPHU-UH" in part.signers), part.name
        assert BOARD_FIELD in signed, part.name
    assert frozen_docx(s, doc.id).startswith(b'{"format":"thidua-dossier/1"')


def test_the_demo_archives_the_2018_pledge_with_a_pdf_signed_by_all(demo_session, demo):
    s = demo_session
    doc = s.get(Document, demo.pledge_2018)
    assert doc.state == "archived"
    pdf = blobs.get_blob(s, doc.frozen_version.pdf_sha256)
    board = doc.term.board_unit.code
    report = verify_pdf(pdf, _trust(s), at=utcnow(), expected_fields=_expected(UNITS, board))
    assert report.indication is Indication.TOTAL_PASSED, report.to_dict()
    passed = {r.field for r in report.signatures if r.report.passed}
    assert passed == {*UNITS, BOARD_FIELD, CERTIFICATION_FIELD}
    bundle = export_bundle(s, user(s, "vptu-st-signer"), doc.id)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        assert archive.read(f"thidua-{doc.id}/data/document.pdf") == pdf
