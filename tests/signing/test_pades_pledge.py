"""The real thing: the 2018 pledge rendered, converted by LibreOffice, its fields placed over
the grid's cells, signed by the 8 member units and the board, and checked by the tools a
recipient has. The signature page is kept under tests/artifacts for a person to look at."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import documents
from documents import samples
from documents.pdf import docx_to_pdf, signature_cells
from signing.ca import CertificateAuthority
from signing.pades import FieldSpec, sign_final, verify_pdf
from signing.validation import Indication, TrustStore
from tests.conftest import require_executable
from tests.signing.pades_helpers import (
    BOARD_FIELD,
    MEMBERS,
    VERIFY_AT,
    ca_pem,
    expected_fields,
    freeze,
    nss_db,
    pdfsig,
    pki,
    png,
    pyhanko_cli,
    sign_unit,
)

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _fields(pdf: bytes) -> list[FieldSpec]:
    units = {u.code: u for u in samples.MEMBER_UNITS}
    assert set(units) == set(MEMBERS)
    cells = signature_cells(
        pdf, {code: (u.signer_title.upper(), u.signer_name) for code, u in units.items()}
    )
    fields = [FieldSpec(code, cell.page, cell.box) for code, cell in cells.items()]
    # The board signs as an agency does on a document it did not issue: top right of
    # page 1, in the margin above the header (Decree 30, Appendix I, II.8b).
    fields.append(FieldSpec(BOARD_FIELD, 0, (345, 790, 545, 835), lock_all=True))
    return fields


@pytest.fixture(scope="module")
def signed_pledge(ca: CertificateAuthority) -> tuple[bytes, CertificateAuthority]:
    require_executable("soffice")
    pdf = docx_to_pdf(documents.render(samples.pledge_2018()))
    parties = pki(ca)
    out = freeze(pdf, parties, _fields(pdf))
    seal = png(160, 160, (200, 16, 16, 230))
    signature = png(240, 90, (20, 40, 190, 255))
    for minute, code in enumerate(MEMBERS):
        images = {"signature_image": signature, "seal_image": seal} if minute < 2 else {}
        out = sign_unit(out, code, parties[code], minute, **images)
    board = parties["BTDKT"]
    out = sign_final(
        out,
        BOARD_FIELD,
        board.signer,
        signing_time=VERIFY_AT,
        name=board.person,
        unit=board.unit,
    )
    return out, ca


def test_the_signed_pledge_passes_every_check(signed_pledge, tmp_path):
    pdf, ca = signed_pledge
    report = verify_pdf(
        pdf, TrustStore([ca.certificate]), at=VERIFY_AT, expected_fields=expected_fields()
    )
    assert report.indication is Indication.TOTAL_PASSED, report.to_dict()
    assert len(report.signatures) == 10

    path = tmp_path / "pledge-signed.pdf"
    path.write_bytes(pdf)
    out = pdfsig(path, nss_db(ca, tmp_path / "nss"))
    assert out.count("Signature is Valid.") == 10, out
    assert out.count("Certificate is Trusted.") == 10, out

    done = subprocess.run(
        [
            pyhanko_cli(),
            "sign",
            "validate",
            "--pretty-print",
            "--trust",
            str(ca_pem(ca, tmp_path / "ca.pem")),
            "--trust-replace",
            "--no-revocation-check",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    qpdf = require_executable("qpdf")
    check = subprocess.run(
        [qpdf, "--check", str(path)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr

    # The stamps are text a reader can copy, in the cell of their unit, on the grid's page.
    pdftotext = require_executable("pdftotext")
    pages = subprocess.run(
        [pdftotext, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    last = " ".join(pages[-2].split())
    for code, (unit, person) in MEMBERS.items():
        assert f"Ký bởi: {person}" in last, code
        assert f"Cơ quan: {unit}" in last, code
    assert "Thời gian ký: 2018-03-31T09:12:05+07:00" in last
    assert "Ký bởi: Phạm Thị Bảng" in " ".join(pages[0].split())

    ARTIFACTS.mkdir(exist_ok=True)
    pdftoppm = require_executable("pdftoppm")
    grid_page = str(len(pages) - 1)
    for name, first in (("pades-pledge-signatures", grid_page), ("pades-pledge-page1", "1")):
        subprocess.run(
            [
                *(pdftoppm, "-png", "-r", "80", "-f", first, "-l", first, "-singlefile"),
                *(str(path), str(ARTIFACTS / name)),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    assert (ARTIFACTS / "pades-pledge-signatures.png").stat().st_size > 10_000


def test_bench_prints_one_json_object():
    import json
    import sys

    require_executable("soffice")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(root / "bench" / "pdf.py"), "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=root,
    )
    figures = json.loads(done.stdout)
    assert figures["signatures"] == 10
    assert figures["pyhanko_cli_exit"] == 0
    assert figures["pdfsig_valid"] == 10
    for key in ("freeze_ms", "sign_ms_per_unit", "verify_ms", "pyhanko_cli_ms", "pdfsig_ms"):
        assert figures[key] > 0, key
