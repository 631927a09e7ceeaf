"""Issue 16's "done when", end to end on a fresh instance: seed the demo, export the 2018
bundle, and the PDF inside it is valid and trusted for every unit, the board and the
certification in pdfsig, and TOTAL_PASSED in ``thidua verify``; the same PDF with a byte
changed, with an update appended after the board's signature, or checked against another
CA is not."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from pyhanko.pdf_utils.generic import NameObject, TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.ca import CertificateAuthority
from signing.credentials import TEST_KDF
from tests.conftest import require_executable
from tests.workflow.test_cli import cli  # noqa: F401 (the fixture)
from workflow.clock import utcnow

pytestmark = pytest.mark.slow


def _exported_pdf(cli, tmp_path: Path) -> tuple[Path, Path]:  # noqa: F811
    assert cli("init").exit_code == 0
    seeded = cli("seed-demo")
    assert seeded.exit_code == 0, seeded.output
    listing = json.loads(cli("list", "--json", "--state", "archived").output)
    (pledge,) = listing
    bundle, ca = tmp_path / "pledge-2018.zip", tmp_path / "ca.pem"
    assert cli("export", str(pledge["id"]), "--out", str(bundle)).exit_code == 0
    assert cli("ca", "export", "--out", str(ca)).exit_code == 0
    with zipfile.ZipFile(bundle) as archive:
        pdf = archive.read(f"thidua-{pledge['id']}/data/document.pdf")
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return path, ca


def _pdfsig(pdf: Path, ca: Path, nss: Path) -> str:
    certutil = require_executable("certutil")
    nss.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(
        [certutil, "-A", "-d", f"sql:{nss}", "-n", "ca", "-t", "CT,C,C", "-i", str(ca)],
        check=True,
    )
    done = subprocess.run(
        [require_executable("pdfsig"), "-nssdir", f"sql:{nss}", str(pdf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout + done.stderr


def test_the_demo_pdf_passes_pdfsig_and_thidua_verify_and_tampering_does_not(
    cli,  # noqa: F811
    tmp_path,
):
    pdf, ca = _exported_pdf(cli, tmp_path)
    out = _pdfsig(pdf, ca, tmp_path / "nss")
    assert out.count("Signature is Valid.") == 10, out  # certification, 8 units, the board
    assert out.count("Certificate is Trusted.") == 10, out
    verified = cli("verify", str(pdf), "--trust", str(ca))
    assert verified.exit_code == 0, verified.output
    as_json = json.loads(cli("verify", str(pdf), "--trust", str(ca), "--json").output)
    assert as_json["indication"] == "TOTAL_PASSED", as_json

    data = pdf.read_bytes()
    edited = bytearray(data)
    edited[len(edited) // 3] ^= 0x01
    (tmp_path / "edited.pdf").write_bytes(bytes(edited))
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.root[NameObject("/Lang")] = TextStringObject("en")  # anything, after the board
    writer.update_root()
    appended = io.BytesIO()
    writer.write(appended)
    (tmp_path / "appended.pdf").write_bytes(appended.getvalue())
    for name in ("edited.pdf", "appended.pdf"):
        result = json.loads(
            cli("verify", str(tmp_path / name), "--trust", str(ca), "--json").output
        )
        assert result["indication"] == "TOTAL_FAILED", (name, result)
    assert cli("verify", str(tmp_path / "appended.pdf"), "--trust", str(ca)).exit_code == 1
    other = CertificateAuthority.create(
        "thidua CA", "Cụm thi đua – hệ thống thidua", b"o" * 32, utcnow(), kdf_params=TEST_KDF
    )
    foreign = tmp_path / "foreign.pem"
    foreign.write_bytes(other.certificate_pem)
    result = json.loads(cli("verify", str(pdf), "--trust", str(foreign), "--json").output)
    assert result["indication"] == "INDETERMINATE", result
    assert result["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND", result
