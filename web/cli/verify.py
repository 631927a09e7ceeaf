"""``thidua verify``: check an archive bundle, a DOCX with its detached signatures, or a
signed PDF alone, offline.

Exit status: 0 when everything passed, 1 when anything failed or is indeterminate, 2 on a
usage error or unreadable input. The CLI is the one place that reads the clock (``--at``
defaults to now, UTC); everything below it takes the time as a parameter.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from signing import (
    Finding,
    Indication,
    SignatureReport,
    SigningError,
    SubIndication,
    TrustStore,
    code_text,
    indication_name,
    message,
    outcome_code,
    sha256_hex,
    verify_signature,
    worst,
)
from signing.archive import BundleReport, normalize_fingerprint, verify_bundle
from signing.archive.zipio import DEFAULT_LIMITS
from signing.pades.fields import PDF_MAGIC, verify_pdf_alone
from signing.validation.status import certificate_state_text
from web.cli import main

MAX_SIGNATURE_FILE = 1024 * 1024
MAX_TRUST_FILE = 4 * 1024 * 1024


class InputError(click.ClickException):
    """Unreadable or unusable input: a clear message and exit status 2."""

    exit_code = 2


def _read(path: Path, limit: int, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(f"{what} {path} không phải là tệp")
        if size > limit:
            raise InputError(f"{what} {path} quá lớn ({size} byte, tối đa {limit})")
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"không tìm thấy {what} {path}") from None
    except OSError as exc:
        raise InputError(f"không đọc được {what} {path}: {exc.strerror or exc}") from None


def _parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise click.BadParameter(
            f"{text!r} không phải thời điểm ISO 8601 (ví dụ 2018-04-15T08:00:00Z)",
            param_hint="--at",
        ) from None


def _load_trust(path: Path | None, fingerprint: str | None) -> TrustStore | None:
    if path is None:
        return None
    try:
        store = TrustStore.from_pem(_read(path, MAX_TRUST_FILE, "tệp CA"))
    except SigningError as exc:
        raise InputError(f"tệp CA {path} không dùng được: {exc}") from None
    if fingerprint is not None and normalize_fingerprint(fingerprint) not in (
        store.anchor_fingerprints
    ):
        raise InputError(
            f"không chứng thư nào trong {path} có dấu vân tay SHA-256 {fingerprint}: "
            "kiểm tra lại tệp CA"
        )
    return store


def _emit_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False))


@main.command("verify")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--trust",
    "trust_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Tệp PEM chứng thư CA tin cậy (neo tin cậy).",
)
@click.option(
    "--ca-fingerprint",
    help="SHA-256 của chứng thư CA (lấy từ nguồn tin cậy) để tin CA nằm trong gói.",
)
@click.option("--json", "as_json", is_flag=True, help="In toàn bộ báo cáo dạng JSON.")
@click.option(
    "--signature",
    "signature_paths",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Tệp chữ ký rời .p7s của một đơn vị (PATH khi đó là tệp DOCX); lặp lại được.",
)
@click.option("--at", "at_text", help="Thời điểm kiểm tra, ISO 8601 (mặc định: bây giờ, UTC).")
@click.pass_context
def verify_command(
    ctx: click.Context,
    path: Path,
    trust_path: Path | None,
    ca_fingerprint: str | None,
    as_json: bool,
    signature_paths: Sequence[Path],
    at_text: str | None,
) -> None:
    """Kiểm tra gói lưu trữ (zip), tệp DOCX cùng các chữ ký rời, hoặc tệp PDF đã ký, không
    cần cơ sở dữ liệu.

    Mã thoát: 0 khi mọi thứ hợp lệ, 1 khi có chữ ký không hợp lệ hoặc chưa xác định được,
    2 khi sai cách dùng hoặc không đọc được đầu vào.
    """
    at = _parse_at(at_text)
    if ca_fingerprint is not None:
        try:
            normalize_fingerprint(ca_fingerprint)
        except SigningError as exc:
            raise click.BadParameter(str(exc), param_hint="--ca-fingerprint") from None
    trust = _load_trust(trust_path, ca_fingerprint)
    data = _read(path, DEFAULT_LIMITS.max_archive_bytes, "tệp")
    if data.startswith(PDF_MAGIC) or path.suffix.lower() == ".pdf":
        if signature_paths:
            raise click.UsageError("tệp PDF mang chữ ký bên trong: không dùng --signature")
        if ca_fingerprint is not None and trust is None:
            raise click.UsageError(
                "--ca-fingerprint chỉ dùng với gói lưu trữ; để kiểm tra PDF hãy dùng --trust CA.pem"
            )
        passed = _verify_pdf(data, path, trust, at, as_json)
    elif signature_paths:
        if ca_fingerprint is not None and trust is None:
            raise click.UsageError(
                "--ca-fingerprint chỉ dùng với gói lưu trữ; "
                "để kiểm tra DOCX hãy dùng --trust CA.pem"
            )
        passed = _verify_docx(data, path, signature_paths, trust, at, as_json)
    else:
        passed = _verify_bundle(data, path, trust, ca_fingerprint, at, as_json)
    ctx.exit(0 if passed else 1)


# -- bundle ---------------------------------------------------------------------------------


def _looks_like_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "[Content_Types].xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _verify_bundle(
    data: bytes,
    path: Path,
    trust: TrustStore | None,
    fingerprint: str | None,
    at: datetime,
    as_json: bool,
) -> bool:
    try:
        report = verify_bundle(data, trust=trust, ca_fingerprint=fingerprint, at=at)
    except SigningError as exc:
        if _looks_like_docx(data):
            raise InputError(
                f"{path} là tệp DOCX, không phải gói lưu trữ: thêm --signature UNIT.p7s "
                "cho mỗi chữ ký rời"
            ) from None
        raise InputError(f"không đọc được gói lưu trữ {path}: {exc}") from None
    if as_json:
        _emit_json(report.to_dict())
    else:
        _print_bundle(report, path)
    return report.passed


def _unit_line(code: str, name: str | None, report: SignatureReport | None) -> str:
    """``CODE  Name  status (ETSI code)``, e.g.
    ``VPHU-MD  Văn phòng Huyện ủy Mỹ Đức  hợp lệ (TOTAL_PASSED)``."""
    if name is None and report is not None and report.signer is not None:
        name = report.signer.unit
    parts = [code, name] if name else [code]
    if report is None:
        parts.append("thiếu chữ ký")
    else:
        code_text = outcome_code(report.indication, report.sub_indication)
        status = f"{indication_name(report.indication)} ({code_text})"
        if not report.passed:
            # The report's sentence is signing's table's, or a more precise one naming
            # the unit; the CLI speaks Vietnamese.
            status += f": {report.message or message(report.sub_indication)}"
        parts.append(status)
    line = "  ".join(parts)
    evidence = None if report is None else _evidence_line(report)
    return line if evidence is None else f"{line}\n{evidence}"


def _evidence_line(report: SignatureReport) -> str | None:
    """``  thời điểm tin cậy … (TSA …); <the certificate's state>``: what proves when the
    signature was made, and what that means for its certificate (issue 17)."""
    bits = []
    if report.trusted_time is not None:
        when = report.trusted_time.astimezone(_VN).isoformat()
        stamp = next((t for t in report.timestamps if t.passed), None)
        source = f"TSA {stamp.tsa_name}" if stamp else "dấu thời gian lưu trữ của gói"
        bits.append(f"thời điểm tin cậy {when} ({source})")
    elif not report.timestamps:
        bits.append("không có dấu thời gian")
    state = certificate_state_text(report.certificate_state)
    if state:
        bits.append(state)
    return "    " + "; ".join(bits) if bits else None


def _print_bundle(report: BundleReport, path: Path) -> None:
    echo = click.echo
    echo(f"Gói lưu trữ: {path.name} (tài liệu {report.document_id or '?'})")
    if report.document_sha256:
        signed = (report.signed_path or "").removeprefix("data/")
        what = "bản kê hồ sơ" if report.parts else "văn bản"
        echo(f"SHA-256 {what} ({signed}): {report.document_sha256}")
    for result in report.parts:
        state = "khớp bản kê" if result.intact else "KHÔNG khớp bản kê"
        echo(f"  {result.part.name}  {result.part.title}  {state}")
    trust = {
        "given": "chứng thư CA từ --trust",
        "bundle_ca": f"CA trong gói, khớp dấu vân tay {report.ca_fingerprint}",
        "none": "không có (kết quả chưa xác định được)",
    }[report.trust_source]
    echo(f"Neo tin cậy: {trust}")
    echo(f"Thời điểm kiểm tra: {report.verified_at}")
    echo("")
    for unit in report.units:
        line = _unit_line(unit.code, unit.name, unit.report)
        if not unit.expected:
            line += " (không thuộc danh sách đơn vị thành viên)"
        echo(line)
    approval = report.approval
    if approval.report is None:
        echo("Phê duyệt  thiếu chữ ký phê duyệt")
    else:
        signer = approval.report.signer
        who = signer.unit if signer and signer.unit else "Ban Thi đua – Khen thưởng"
        line = _unit_line("Phê duyệt", who, approval.report)
        if approval.report.passed and not approval.manifest_matches:
            line += "; nhưng bản kê phê duyệt không khớp gói"
        if approval.signer_is_member:
            line += "; nhưng người ký là đơn vị thành viên, không phải Ban Thi đua – Khen thưởng"
        echo(line)
    stamps = report.archive_timestamps
    if stamps is not None and stamps.timestamps:
        since = stamps.proven_at.astimezone(_VN).isoformat() if stamps.proven_at else None
        proof = f"chứng minh gói tồn tại từ {since}" if since else "không chứng minh được"
        echo(f"Dấu thời gian lưu trữ  {len(stamps.timestamps)} dấu, {proof}")
        for stamp in stamps.timestamps:
            when = stamp.gen_time.astimezone(_VN).isoformat() if stamp.gen_time else "?"
            echo(f"    {when}  {stamp.tsa_name}  {stamp.message}")
    elif stamps is not None:
        echo("Dấu thời gian lưu trữ  không có (gói lập trước khi có dấu thời gian)")
    if report.fixity.ok:
        echo("Toàn vẹn BagIt  hợp lệ")
    else:
        echo(f"Toàn vẹn BagIt  không hợp lệ: {'; '.join(report.fixity.errors[:3])}")
    audit = report.audit
    if audit.ok:
        echo(f"Nhật ký kiểm toán  hợp lệ ({audit.events} sự kiện)")
    else:
        where = "" if audit.broken_index is None else f" tại sự kiện thứ {audit.broken_index + 1}"
        echo(f"Nhật ký kiểm toán  không hợp lệ{where}: {audit.reason}")
    for pdf_path, pdf in report.pdfs.items():
        # The bundle's reading of its PDF (a unit whose CMS passed may leave its field empty)
        indication, sub = report.pdf_finding(pdf_path)
        name = pdf_path.removeprefix("data/")
        line = f"Bản PDF {name}  {indication_name(indication)} ({outcome_code(indication, sub)})"
        valid = sum(1 for s in pdf.signatures if s.report.passed)
        echo(f"{line}: {valid}/{len(pdf.signatures)} chữ ký số hợp lệ")
        if pdf.unsigned_fields:
            echo(f"  chưa ký trong bản PDF: {', '.join(pdf.unsigned_fields)}")
        if pdf.document_timestamps:
            echo(
                f"  lưu trữ dài hạn (PAdES B-LTA): DSS với {pdf.dss_certificates or 0} chứng thư,"
                f" {pdf.dss_crls or 0} CRL; {len(pdf.document_timestamps)} dấu thời gian tài liệu"
            )
    if report.problems:
        echo("")
        echo("Vấn đề:")
        for problem in report.problems:
            echo(f"  - {problem.message}")
    echo("")
    echo(_verdict(report.indication, report.sub_indication))


def _verdict(indication: Indication, sub: SubIndication | None) -> str:
    return f"Kết luận: {indication_name(indication).upper()} ({outcome_code(indication, sub)})"


# -- a signed PDF alone ---------------------------------------------------------------------

_VN = timezone(timedelta(hours=7), "ICT")


def _verify_pdf(
    data: bytes, path: Path, trust: TrustStore | None, at: datetime, as_json: bool
) -> bool:
    """The PDF's signatures, each field expected to be signed by the unit it is named
    after (signing.pades.fields.verify_pdf_alone)."""
    if not data.startswith(PDF_MAGIC):
        raise InputError(f"{path} không phải tệp PDF (không bắt đầu bằng %PDF-)")
    try:
        report = verify_pdf_alone(data, trust, at=at)
    except SigningError as exc:
        raise InputError(f"không đọc được tệp PDF {path}: {exc}") from None
    if as_json:
        _emit_json({"mode": "pdf", "file": path.name, **report.to_dict()})
        return report.passed
    echo = click.echo
    echo(f"Tệp PDF: {path.name}")
    echo(f"SHA-256 tệp PDF: {report.document_sha256}")
    echo(f"Số phiên bản (revision): {report.revisions}")
    echo(f"Thời điểm kiểm tra: {at.isoformat().replace('+00:00', 'Z')}")
    if trust is None:
        echo("Neo tin cậy: không có (thêm --trust CA.pem để xác định được người ký)")
    echo("")
    for sig in sorted(report.signatures, key=lambda s: s.revision):
        echo(_pdf_line(sig.field, sig.report))
    for name in report.unsigned_fields:
        echo(f"{name}  chưa ký")
    echo("")
    echo(report.message)
    echo(_verdict(report.indication, report.sub_indication))
    return report.passed


def _pdf_line(field: str, report: SignatureReport) -> str:
    """``FIELD  signer name (unit)  signing time  status (code)[: why]``."""
    signer = report.signer
    parts = [field]
    if signer is not None:
        who = signer.name or "?"
        parts.append(f"{who} ({signer.unit})" if signer.unit else who)
    if report.signing_time is not None:
        parts.append(report.signing_time.astimezone(_VN).isoformat())
    code = outcome_code(report.indication, report.sub_indication)
    if report.passed:
        status = f"{message(None)} ({code})"
    else:
        # The report's sentence names what happened in this PDF; the table's is generic
        # (and, for UNSIGNED_CONTENT, speaks of bundles).
        why = report.message or message(report.sub_indication)
        status = f"{indication_name(report.indication)} ({code}): {why}"
    parts.append(status)
    return "  ".join(parts)


# -- DOCX with detached signatures ----------------------------------------------------------


def _verify_docx(
    data: bytes,
    path: Path,
    signature_paths: Sequence[Path],
    trust: TrustStore | None,
    at: datetime,
    as_json: bool,
) -> bool:
    results: list[tuple[Path, SignatureReport]] = []
    for sig_path in signature_paths:
        signature = _read(sig_path, MAX_SIGNATURE_FILE, "tệp chữ ký")
        try:
            report = verify_signature(data, signature, trust, at=at)
        except SigningError as exc:
            raise InputError(f"không kiểm tra được {sig_path}: {exc}") from None
        results.append((sig_path, report))

    problems, findings = _docx_problems(results, trust)
    indication, sub = worst([*(r.finding for _, r in results), *findings])
    passed = indication is Indication.TOTAL_PASSED
    document_sha256 = sha256_hex(data)
    if as_json:
        _emit_json(
            {
                "mode": "document",
                "document": path.name,
                "document_sha256": document_sha256,
                "verified_at": at.isoformat().replace("+00:00", "Z"),
                "indication": str(indication),
                "sub_indication": code_text(sub),
                "passed": passed,
                "signatures": [
                    {
                        "file": sig_path.name,
                        "unit_code": report.signer.unit_code if report.signer else None,
                        "report": report.to_dict(),
                    }
                    for sig_path, report in results
                ],
                "problems": problems,
            }
        )
        return passed
    echo = click.echo
    echo(f"Văn bản: {path.name}")
    echo(f"SHA-256 văn bản: {document_sha256}")
    echo(f"Thời điểm kiểm tra: {at.isoformat().replace('+00:00', 'Z')}")
    echo("")
    for sig_path, report in results:
        code = report.signer.unit_code if report.signer and report.signer.unit_code else None
        unit = report.signer.unit if report.signer else None
        echo(_unit_line(code or sig_path.name, unit, report))
    if problems:
        echo("")
        echo("Vấn đề:")
        for problem in problems:
            echo(f"  - {problem}")
    echo("")
    echo(_verdict(indication, sub))
    return passed


def _docx_problems(
    results: Sequence[tuple[Path, SignatureReport]], trust: TrustStore | None
) -> tuple[list[str], list[Finding]]:
    """What is wrong with the set of signatures as a whole, and the findings it adds: two
    signatures of one unit fail the set (FORMAT_FAILURE, as a malformed submission)."""
    problems = []
    findings: list[Finding] = []
    if trust is None:
        problems.append("không có neo tin cậy: thêm --trust CA.pem để xác định được người ký")
    seen: dict[str, Path] = {}
    for sig_path, report in results:
        code = report.signer.unit_code if report.signer else None
        if code is None:
            continue
        if code in seen:
            problems.append(
                f"hai chữ ký của cùng đơn vị {code}: {seen[code].name}, {sig_path.name}"
            )
            findings.append((Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE))
        seen.setdefault(code, sig_path)
    return problems, findings
