"""The PDF step of bundle verification: each signed PDF of the bundle (data/document.pdf, a
dossier part's data/parts/NN-name.pdf) checked with signing.pades.verify_pdf.

Expected fields: each unit that signs that document (a pledge: every member unit of
document.json; a dossier part: the part's ``signers`` in dossier.json), the board's field
(BOARD) for the board the approval manifest names, and the certification field
(CERTIFICATION) for the one-time certificate the project CA issues at freeze (unit code
``THIDUA``).

Rules: every signature of the PDF that verify_pdf rules TOTAL_FAILED (an edited byte, a bad
signature value, a change after a signature, data after the last one...) fails the bundle
with its sub-indication, naming the PDF; one it rules INDETERMINATE (a foreign CA, a field
signed by another unit's certificate, the board's field signed by a member unit) makes the
bundle INDETERMINATE the same way. A unit's field left empty is no failure when that unit's
CMS signature in the bundle passed (units that upload a detached CMS made elsewhere have no
PDF signature; the report lists the field as unsigned), but the board's field and the
certification must be signed: the archived PDF is certified at freeze and closed by the
board. A bundle without a PDF has nothing to check
here (bundles made before PDFs, deployments without LibreOffice).

signing.pades (pyHanko) is imported only when a bundle holds a PDF: bulk re-verification of
bundles without one does not pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from signing.archive.dossier import Dossier
from signing.archive.layout import (
    DOCUMENT_PATH,
    DOCUMENT_PDF_PATH,
    DOSSIER_PATH,
    PARTS_DIR,
    part_pdf_name,
)
from signing.archive.run import Run
from signing.ca import CERTIFIER_UNIT
from signing.validation.status import DocumentReport, Indication, SubIndication
from signing.validation.trust import TrustStore

if TYPE_CHECKING:
    from signing.pades import PdfReport

__all__ = ["check_pdfs", "pdf_paths"]


def pdf_paths(
    run: Run, signed: str | None, dossier: Dossier | None, units: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """The bundle's signed PDFs, path -> the units that sign that document, in order."""
    if signed == DOCUMENT_PATH and DOCUMENT_PDF_PATH in run.files:
        return {DOCUMENT_PDF_PATH: tuple(units)}
    if signed != DOSSIER_PATH or dossier is None:
        return {}
    out = {}
    for part in dossier.parts:
        path = PARTS_DIR + part_pdf_name(part.name)
        if path in run.files:
            out[path] = part.signers
    return out


def _board_code(decision: Mapping[str, Any] | None) -> str | None:
    board = decision.get("board") if isinstance(decision, Mapping) else None
    code = board.get("code") if isinstance(board, Mapping) else None
    return code if isinstance(code, str) else None


def _cms_passed(document: DocumentReport | None) -> set[str]:
    if document is None:
        return set()
    return {u.code for u in document.units if u.expected and u.report and u.report.passed}


def check_pdfs(
    run: Run,
    signed: str | None,
    dossier: Dossier | None,
    units: Mapping[str, str],
    decision: Mapping[str, Any] | None,
    trust: TrustStore | None,
    document: DocumentReport | None,
) -> dict[str, PdfReport]:
    """Verify every signed PDF of the bundle; returns path -> its PdfReport."""
    paths = pdf_paths(run, signed, dossier, units)
    if not paths:
        return {}
    from signing.pades import BOARD_FIELD, CERTIFICATION_FIELD, verify_pdf

    board = _board_code(decision)
    proven = _cms_passed(document)
    reports: dict[str, PdfReport] = {}
    for path, signers in paths.items():
        expected: dict[str, str | None] = {code: code for code in signers}
        expected[BOARD_FIELD] = board
        expected[CERTIFICATION_FIELD] = CERTIFIER_UNIT
        report = verify_pdf(run.files[path], trust, at=run.at, expected_fields=expected)
        reports[path] = report
        members = set(units) | set(signers)
        _judge(run, path, report, proven, members, BOARD_FIELD, CERTIFICATION_FIELD)
    return reports


def _judge(
    run: Run,
    path: str,
    report: PdfReport,
    proven: set[str],
    members: set[str],
    board_field: str,
    certification_field: str,
) -> None:
    if not report.signatures and report.indication is Indication.TOTAL_FAILED:
        # Not readable as a PDF at all.
        run.fail("pdf", f"{path}: {report.message}", _sub(report.sub_indication), path=path)
        return
    undecided: dict[SubIndication, list[str]] = {}
    for sig in report.signatures:
        finding = sig.report
        signer = finding.signer.unit_code if finding.signer else None
        if sig.field == board_field and finding.passed and signer in members:
            # A member unit cannot close its own document, whatever the manifest names
            # (or fails to name) as the board; as the approval step rules its signature.
            run.note(
                "pdf_board_signer",
                f"{path}: trường {sig.field} do đơn vị thành viên {signer} ký, không phải Ban"
                " Thi đua – Khen thưởng",
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                path=path,
            )
        if finding.indication is Indication.TOTAL_FAILED:
            run.fail(
                "pdf_signature",
                f"{path}: chữ ký trong trường {sig.field} không hợp lệ: {finding.message}",
                _sub(finding.sub_indication),
                path=path,
            )
        elif finding.indication is Indication.INDETERMINATE:
            undecided.setdefault(_sub(finding.sub_indication), []).append(sig.field)
    for sub, fields in undecided.items():
        first = next(s for s in report.signatures if s.field == fields[0])
        run.note(
            "pdf_signature",
            f"{path}: chưa xác định được chữ ký trong trường {', '.join(fields)}:"
            f" {first.report.message}",
            sub,
            path=path,
        )
    if report.unsigned_tail:
        # After the board only the archive's DSS and document timestamp may follow (B-LTA,
        # issue 17); verify_pdf says whether anything else comes after the last of them.
        run.fail(
            "pdf_unsigned_content",
            f"{path}: có dữ liệu được thêm sau chữ ký hoặc dấu thời gian cuối cùng",
            SubIndication.UNSIGNED_CONTENT,
            path=path,
        )
    for stamp in report.document_timestamps:
        if stamp.passed:
            continue
        message = f"{path}: dấu thời gian tài liệu {stamp.field}: {stamp.report.message}"
        sub = _sub(stamp.report.sub_indication)
        if stamp.report.indication is Indication.TOTAL_FAILED:
            run.fail("pdf_document_timestamp", message, sub, path=path)
        else:
            run.note("pdf_document_timestamp", message, sub, path=path)
    for name in report.unsigned_fields:
        if name == board_field:
            run.fail(
                "pdf_board_unsigned",
                f"{path}: thiếu chữ ký của Ban Thi đua – Khen thưởng (trường {name}): bản PDF"
                " lưu trữ phải được Ban ký khóa",
                SubIndication.SIGNED_DATA_NOT_FOUND,
                path=path,
            )
        elif name == certification_field:
            run.fail(
                "pdf_not_certified",
                f"{path}: thiếu chữ ký chứng nhận lúc chốt văn bản (trường {name})",
                SubIndication.SIGNED_DATA_NOT_FOUND,
                path=path,
            )
        elif name not in proven:
            run.note(
                "pdf_unit_unsigned",
                f"{path}: đơn vị {name} chưa ký trong bản PDF và không có chữ ký CMS hợp lệ"
                " trong gói",
                SubIndication.SIGNED_DATA_NOT_FOUND,
                path=path,
            )


def _sub(sub: SubIndication | None) -> SubIndication:
    return SubIndication.FORMAT_FAILURE if sub is None else sub
