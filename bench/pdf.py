"""PDF benchmark (issue 16). Prints exactly one JSON object on stdout:

    {"freeze_ms": .., "freeze_first_ms": .., "prepare_ms": .., "sign_ms_per_unit": ..,
     "sign_first_ms": .., "verify_ms": .., "pyhanko_cli_ms": .., "pdfsig_ms": .., ...}

* ``freeze_ms``: ``documents.pdf.docx_to_pdf`` of the 2018 pledge, median of ``--runs``
  conversions; every conversion is cold (a fresh LibreOffice profile and process each
  time, as in production); ``freeze_first_ms`` is the first of them (disk caches cold too).
* ``prepare_ms``: the 9 fields and the certification signature of the frozen PDF.
* ``sign_ms_per_unit``: median of the 8 member units' ``signing.pades.sign_field`` in
  process, font loaded (``sign_first_ms``: the first signature of the process, which loads
  and scales the stamp font once).
* ``verify_ms``: ``signing.pades.verify_pdf`` of the fully signed PDF (10 signatures), median
  of ``--runs``, in process (trust store and imports warm).
* ``pyhanko_cli_ms`` / ``pdfsig_ms``: wall time of ``pyhanko sign validate --trust ca.pem
  --trust-replace --no-revocation-check`` and of ``pdfsig -nssdir`` on the same file, median
  of ``--runs``, process start included, measured in the same run. ``verify_relative_to_cli``
  is ``verify_ms / pyhanko_cli_ms``.
* ``pyhanko_cli_exit``, ``pdfsig_valid``, ``pdfsig_trusted``: what those tools said.

Targets: sign <= 50 ms per unit, verify <= 1/3 of the pyHanko CLI, conversion <= 3 s cold.
Options: ``--runs N`` (default 5).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import documents
from documents import samples
from documents.pdf import docx_to_pdf, signature_cells
from signing import TEST_KDF, KeySigner, TrustStore
from signing.ca import CertificateAuthority
from signing.credentials import generate_private_key
from signing.pades import FieldSpec, prepare_pdf, sign_field, sign_final, verify_pdf

START = datetime(2018, 1, 2, tzinfo=UTC)
ISSUED = datetime(2018, 3, 1, tzinfo=UTC)
SIGNED_AT = datetime(2018, 3, 31, 2, 12, 5, tzinfo=UTC)
VERIFY_AT = datetime(2018, 4, 15, tzinfo=UTC)
BOARD = ("BTDKT", "Ban Thi đua – Khen thưởng", "Phạm Thị Bảng")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


class World:
    """The project CA, the 8 member units' signers and the board's; certificates valid ten
    years, so the third-party tools (which check at today's date) can accept them."""

    def __init__(self) -> None:
        self.ca = CertificateAuthority.create(
            "thidua bench CA", "Cụm thi đua", b"b" * 32, START, kdf_params=TEST_KDF
        )
        self.units = {u.code: (u.name, u.signer_name) for u in samples.MEMBER_UNITS}
        self.signers = {}
        for code, (unit, person) in {**self.units, BOARD[0]: BOARD[1:]}.items():
            key = generate_private_key("ec-p256")
            cert = self.ca.issue(
                key.public_key(),
                person=person,
                unit_name=unit,
                unit_code=code,
                user_id=code.lower(),
                now=ISSUED,
                validity_days=3660,
            )
            self.signers[code] = KeySigner(key, cert, [self.ca.certificate])
        # The workflow certifies with a one-time key issued for THIDUA (signed_pdf.py).
        key = generate_private_key("ec-p256")
        cert = self.ca.issue(
            key.public_key(),
            person="Hệ thống thidua",
            unit_name="Hệ thống thidua – chứng nhận văn bản đã chốt",
            unit_code="THIDUA",
            user_id="0",
            now=ISSUED,
            validity_days=3660,
        )
        self.certifier = KeySigner(key, cert, [self.ca.certificate])


def bench_freeze(docx: bytes, runs: int) -> tuple[list[float], bytes]:
    times, pdf = [], b""
    for _ in range(runs):
        ms, pdf = timed(lambda: docx_to_pdf(docx))
        times.append(ms)
    return times, pdf


def sign_everything(world: World, pdf: bytes) -> tuple[float, list[float], bytes]:
    cells = signature_cells(
        pdf, {u.code: (u.signer_title.upper(), u.signer_name) for u in samples.MEMBER_UNITS}
    )
    fields = [FieldSpec(code, c.page, c.box) for code, c in cells.items()]
    fields.append(FieldSpec("BOARD", 0, (345, 790, 545, 835), lock_all=True))
    prepare_ms, out = timed(
        lambda: prepare_pdf(
            pdf, fields, world.certifier, signing_time=SIGNED_AT - timedelta(hours=1)
        )
    )
    sign_times = []
    for minute, (code, (unit, person)) in enumerate(world.units.items()):
        ms, out = timed(
            lambda code=code, unit=unit, person=person, minute=minute, out=out: sign_field(
                out,
                code,
                world.signers[code],
                signing_time=SIGNED_AT + timedelta(minutes=minute),
                name=person,
                unit=unit,
            )
        )
        sign_times.append(ms)
    out = sign_final(
        out,
        "BOARD",
        world.signers[BOARD[0]],
        signing_time=VERIFY_AT - timedelta(days=1),
        name=BOARD[2],
        unit=BOARD[1],
    )
    return prepare_ms, sign_times, out


def run_tool(command: list[str], runs: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    times, done = [], None
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        times.append((time.perf_counter() - start) * 1000)
    assert done is not None
    return statistics.median(times), done


def pyhanko_cli() -> str:
    beside = Path(sys.executable).parent / "pyhanko"
    return str(beside) if beside.exists() else (shutil.which("pyhanko") or "pyhanko")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = max(1, args.runs)
    world = World()
    docx = documents.render(samples.pledge_2018())
    log("converting the pledge with LibreOffice ...")
    freeze_times, pdf = bench_freeze(docx, runs)
    log("signing ...")
    prepare_ms, sign_times, signed = sign_everything(world, pdf)
    trust = TrustStore([world.ca.certificate])
    expected: dict[str, str | None] = {code: code for code in world.units}
    expected.update({"BOARD": BOARD[0], "CERTIFICATION": "THIDUA"})
    verify_times = []
    for _ in range(runs):
        ms, report = timed(
            lambda: verify_pdf(signed, trust, at=VERIFY_AT, expected_fields=expected)
        )
        verify_times.append(ms)
    if not report.passed:
        raise SystemExit(f"verification failed: {report.to_dict()}")
    with tempfile.TemporaryDirectory(prefix="thidua-bench-pdf-") as work:
        root = Path(work)
        path, pem, nss = root / "signed.pdf", root / "ca.pem", root / "nss"
        path.write_bytes(signed)
        pem.write_bytes(world.ca.certificate_pem)
        nss.mkdir()
        log("third-party validators ...")
        cli = [pyhanko_cli(), "sign", "validate", "--pretty-print", "--trust", str(pem)]
        cli += ["--trust-replace", "--no-revocation-check", str(path)]
        cli_ms, cli_done = run_tool(cli, runs)
        subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nss}", "-n", "ca", "-t", "CT,C,C", "-i", str(pem)],
            check=True,
        )
        pdfsig_ms, pdfsig_done = run_tool(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], runs)
    verify_ms = statistics.median(verify_times)
    print(
        json.dumps(
            {
                "freeze_ms": round(statistics.median(freeze_times), 1),
                "freeze_first_ms": round(freeze_times[0], 1),
                "prepare_ms": round(prepare_ms, 1),
                "sign_ms_per_unit": round(statistics.median(sign_times[1:]), 1),
                "sign_first_ms": round(sign_times[0], 1),
                "verify_ms": round(verify_ms, 1),
                "pyhanko_cli_ms": round(cli_ms, 1),
                "pdfsig_ms": round(pdfsig_ms, 1),
                "verify_relative_to_cli": round(verify_ms / cli_ms, 3),
                "signatures": len(report.signatures),
                "pdf_bytes": len(signed),
                "pyhanko_cli_exit": cli_done.returncode,
                "pdfsig_valid": pdfsig_done.stdout.count("Signature is Valid."),
                "pdfsig_trusted": pdfsig_done.stdout.count("Certificate is Trusted."),
            }
        )
    )


if __name__ == "__main__":
    main()
