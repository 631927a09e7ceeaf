"""Public verification of what someone received: a bundle, a DOCX with .p7s files, or a
signed PDF alone.

Trust comes from this deployment's CA and its current CRL, never from the uploaded files.
The verdicts are signing's (each report's indication, aggregated there with ``worst()``);
the sentence for each is signing's one message table, in the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from signing import (
    Indication,
    SignatureReport,
    SigningError,
    SubIndication,
    TrustStore,
    message,
    sha256_hex,
    verify_document,
    verify_signature,
    worst,
)
from signing.archive import BundleReport, verify_bundle
from signing.pades import PdfReport
from signing.pades.fields import PDF_MAGIC, verify_pdf_alone
from web import db
from web.i18n import current_language
from web.views.ca import current_crl
from workflow import models, pki
from workflow.errors import NotFound

ZIP_MAGIC = b"PK\x03\x04"
# What a dossier manifest starts with (canonical JSON: its first sorted key is "format").
DOSSIER_MAGIC = b'{"format":"thidua-dossier/'


class VerificationInputError(ValueError):
    """The upload is not something we can verify; the message says why, in Vietnamese."""


@dataclass
class UnitLine:
    code: str
    name: str | None
    status: str  # passed | failed | missing | indeterminate
    indication: str | None = None
    sub_indication: str | None = None
    signer: str | None = None
    signer_unit: str | None = None
    signing_time: datetime | None = None
    certificate_sha256: str | None = None
    explanation: str = ""
    detail: str | None = None
    filename: str | None = None


@dataclass
class Verification:
    kind: str  # "bundle" | "document" | "signatures" | "pdf"
    indication: str
    sub_indication: str | None
    summary: str
    units: list[UnitLine] = field(default_factory=list)
    document_sha256: str | None = None
    document: models.Document | None = None
    approval: dict[str, Any] | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    # A bundle's signed PDFs as the bundle reads them: name, indication, sub-indication,
    # valid and total signatures, fields left unsigned (the unit signed by its CMS).
    pdfs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.indication == "TOTAL_PASSED"

    @property
    def signed_count(self) -> int:
        return sum(1 for u in self.units if u.status == "passed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "passed": self.passed,
            "summary": self.summary,
            "document_sha256": self.document_sha256,
            "units": [
                {
                    "code": u.code,
                    "name": u.name,
                    "status": u.status,
                    "indication": u.indication,
                    "sub_indication": u.sub_indication,
                    "signer": u.signer,
                    "signing_time": u.signing_time.isoformat() if u.signing_time else None,
                    "explanation": u.explanation,
                }
                for u in self.units
            ],
            "report": self.report,
            "pdfs": self.pdfs,
        }


def trust_store(now: datetime) -> TrustStore | None:
    """This deployment's CA and its CRL; None before ``thidua init`` created the CA."""
    try:
        pem = pki.ca_pem(db.get_session())
    except NotFound:
        return None
    return TrustStore.from_pem(pem, crls=[current_crl(now)])


_LINE_STATUS = {
    Indication.TOTAL_PASSED: "passed",
    Indication.TOTAL_FAILED: "failed",
    Indication.INDETERMINATE: "indeterminate",
}


def _line_from_report(code: str, name: str | None, report: SignatureReport | None) -> UnitLine:
    if report is None:
        explanation = message(SubIndication.SIGNED_DATA_NOT_FOUND, current_language())
        return UnitLine(code, name, "missing", explanation=explanation)
    sub = str(report.sub_indication) if report.sub_indication else None
    signer = report.signer
    return UnitLine(
        code,
        name,
        _LINE_STATUS[report.indication],
        indication=str(report.indication),
        sub_indication=sub,
        signer=signer.name if signer else None,
        signer_unit=signer.unit if signer else None,
        signing_time=report.signing_time,
        certificate_sha256=signer.certificate_sha256 if signer else None,
        explanation=message(report.sub_indication, current_language()),
        detail=report.message or None,
    )


def _read(upload: FileStorage | None) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    data: bytes = upload.read()
    return data


def _summary(indication: str, signed: int, total: int, kind: str) -> str:
    text: str
    if indication == "TOTAL_PASSED" and kind == "bundle":
        text = _(
            "Hồ sơ lưu trữ hợp lệ: đủ %(n)d/%(t)d chữ ký đơn vị và quyết định phê duyệt, "
            "nội dung còn nguyên vẹn.",
            n=signed,
            t=total,
        )
    elif indication == "TOTAL_PASSED" and kind == "pdf":
        text = _(
            "Tệp PDF hợp lệ: đủ %(n)d/%(t)d chữ ký số, không bị sửa sau chữ ký cuối cùng.",
            n=signed,
            t=total,
        )
    elif indication == "TOTAL_PASSED":
        text = _(
            "Văn bản hợp lệ: %(n)d/%(t)d đơn vị đã ký, nội dung còn nguyên vẹn.", n=signed, t=total
        )
    elif indication == "INDETERMINATE":
        text = _("Chưa đủ căn cứ để kết luận: %(n)d/%(t)d chữ ký được xác nhận.", n=signed, t=total)
    else:
        text = _("Không hợp lệ: %(n)d/%(t)d chữ ký được xác nhận.", n=signed, t=total)
    return text


def verify_bundle_bytes(data: bytes, now: datetime) -> Verification:
    if not data.startswith(ZIP_MAGIC):
        raise VerificationInputError(_("Tệp tải lên không phải gói lưu trữ (.zip) của thidua."))
    try:
        report: BundleReport = verify_bundle(
            data, trust=trust_store(now), ca_fingerprint=None, at=now
        )
    except SigningError as exc:
        raise VerificationInputError(
            _("Không đọc được gói lưu trữ: %(why)s", why=str(exc))
        ) from None
    units = [_line_from_report(u.code, u.name, u.report) for u in report.units]
    indication = str(report.indication)
    sub = str(report.sub_indication) if report.sub_indication else None
    approval = report.approval.to_dict()
    document = None
    if report.document_sha256:
        document = _document_for_sha(report.document_sha256)
    result = Verification(
        kind="bundle",
        indication=indication,
        sub_indication=sub,
        summary=_summary(
            indication, sum(u.status == "passed" for u in units), len(units), "bundle"
        ),
        units=units,
        document_sha256=report.document_sha256,
        document=document,
        approval=approval,
        problems=[p.to_dict() for p in report.problems],
        report=report.to_dict(),
        pdfs=[_bundle_pdf(report, path, pdf) for path, pdf in report.pdfs.items()],
    )
    return result


def _bundle_pdf(report: BundleReport, path: str, pdf: PdfReport) -> dict[str, Any]:
    indication, sub = report.pdf_finding(path)
    return {
        "name": path.removeprefix("data/"),
        "indication": str(indication),
        "sub_indication": str(sub) if sub else None,
        "valid": sum(1 for s in pdf.signatures if s.report.passed),
        "total": len(pdf.signatures),
        "unsigned": list(pdf.unsigned_fields),
    }


def _document_for_sha(sha: str) -> models.Document | None:
    version = (
        db.get_session()
        .scalars(select(models.DocumentVersion).where(models.DocumentVersion.signed_sha256 == sha))
        .first()
    )
    return version.document if version is not None else None


def _expected_units(version: models.DocumentVersion) -> dict[str, str]:
    units = version.content.get("member_units") or []
    return {u["code"]: u["name"] for u in units if isinstance(u, dict) and "code" in u}


def verify_document_bytes(
    docx: bytes, signatures: list[tuple[str, bytes]], now: datetime
) -> Verification:
    if not (docx.startswith(ZIP_MAGIC) or docx.startswith(DOSSIER_MAGIC)):
        raise VerificationInputError(
            _("Tệp văn bản không phải tệp DOCX hay bản kê hồ sơ (dossier.json).")
        )
    if not signatures:
        raise VerificationInputError(_("Hãy chọn ít nhất một tệp chữ ký .p7s đi kèm văn bản."))
    trust = trust_store(now)
    if trust is None:
        raise VerificationInputError(_("Hệ thống chưa có chứng thư gốc (CA) để đối chiếu."))
    sha = sha256_hex(docx)
    version = (
        db.get_session()
        .scalars(select(models.DocumentVersion).where(models.DocumentVersion.signed_sha256 == sha))
        .first()
    )
    if version is None:
        return _verify_unknown_document(docx, sha, signatures, trust, now)
    expected = _expected_units(version)
    by_unit = _place_signatures(docx, expected, signatures, trust, now)
    try:
        doc_report = verify_document(docx, expected, by_unit, trust, at=now)
    except SigningError as exc:
        raise VerificationInputError(str(exc)) from None
    units = [_line_from_report(u.code, u.name, u.report) for u in doc_report.units]
    indication = str(doc_report.indication)
    signed = sum(u.status == "passed" for u in units)
    return Verification(
        kind="document",
        indication=indication,
        sub_indication=str(doc_report.sub_indication) if doc_report.sub_indication else None,
        summary=_summary(indication, signed, len(units), "document"),
        units=units,
        document_sha256=sha,
        document=version.document,
        report=doc_report.to_dict(),
    )


def _place_signatures(
    docx: bytes,
    expected: dict[str, str],
    signatures: list[tuple[str, bytes]],
    trust: TrustStore,
    now: datetime,
) -> dict[str, bytes]:
    """Each signature in its unit's slot: by file name (``VPHU-MD.p7s``), else by the unit
    code its certificate names."""
    by_unit: dict[str, bytes] = {}
    unplaced: list[bytes] = []
    for filename, data in signatures:
        stem = PurePosixPath(filename).stem.upper()
        if stem in expected and stem not in by_unit:
            by_unit[stem] = data
        else:
            unplaced.append(data)
    for data in unplaced:
        report = verify_signature(docx, data, trust, at=now)
        code = report.signer.unit_code if report.signer else None
        if code is not None and code in expected and code not in by_unit:
            by_unit[code] = data
    return by_unit


def _verify_unknown_document(
    docx: bytes, sha: str, signatures: list[tuple[str, bytes]], trust: TrustStore, now: datetime
) -> Verification:
    """A DOCX this system never froze: judge each signature on its own."""
    units = []
    reports = []
    for filename, data in signatures:
        report = verify_signature(docx, data, trust, at=now)
        code = (report.signer.unit_code if report.signer else None) or PurePosixPath(filename).stem
        name = (report.signer.unit if report.signer else None) or filename
        line = _line_from_report(code, name, report)
        line.filename = filename
        units.append(line)
        reports.append(report)
    verdict, sub = worst(r.finding for r in reports)
    indication = str(verdict)
    signed = sum(u.status == "passed" for u in units)
    summary = (
        _summary(indication, signed, len(units), "signatures")
        + " "
        + _("Văn bản này không có trong hệ thống nên không kiểm tra được đủ đơn vị phải ký.")
    )
    return Verification(
        kind="signatures",
        indication=indication,
        sub_indication=str(sub) if sub else None,
        summary=summary,
        units=units,
        document_sha256=sha,
        report={"signatures": [u.filename for u in units]},
    )


# -- a signed PDF ---------------------------------------------------------------------------


def _pdf_owner(sha: str) -> tuple[models.Document | None, dict[str, str] | None]:
    """The document whose signed PDF (newest revision) has SHA-256 ``sha``, and the units
    that sign it: a pledge version's member units, or a dossier part's signers."""
    session = db.get_session()
    version = session.scalars(
        select(models.DocumentVersion).where(models.DocumentVersion.pdf_sha256 == sha)
    ).first()
    if version is not None:
        return version.document, _expected_units(version)
    part = session.scalars(
        select(models.VersionPart).where(models.VersionPart.pdf_sha256 == sha)
    ).first()
    if part is None:
        return None, None
    owner = session.get(models.DocumentVersion, part.version_id)
    names = _expected_units(owner) if owner is not None else {}
    return (
        owner.document if owner is not None else None,
        {code: names.get(code, code) for code in part.signers},
    )


def verify_pdf_bytes(data: bytes, now: datetime) -> Verification:
    """A signed PDF on its own: the units it must carry come from the stored version when
    this system made it (looked up by SHA-256), else from its own signature fields."""
    if not data.startswith(PDF_MAGIC):
        raise VerificationInputError(_("Tệp tải lên không phải tệp PDF."))
    trust = trust_store(now)
    if trust is None:
        raise VerificationInputError(_("Hệ thống chưa có chứng thư gốc (CA) để đối chiếu."))
    sha = sha256_hex(data)
    document, members = _pdf_owner(sha)
    try:
        report: PdfReport = verify_pdf_alone(
            data, trust, at=now, members=None if members is None else list(members)
        )
    except SigningError:
        raise VerificationInputError(
            _("Tệp PDF bị hỏng hoặc không đọc được, không kiểm tra được chữ ký.")
        ) from None
    names = members or {}
    units = [_line_from_report(u.code, names.get(u.code, u.name), u.report) for u in report.units]
    indication = str(report.indication)
    signed = sum(u.status == "passed" for u in units)
    summary = _summary(indication, signed, len(units), "pdf")
    if document is None:
        summary += " " + _(
            "Tệp PDF này không có trong hệ thống: các đơn vị phải ký được lấy theo tên các ô"
            " chữ ký trong tệp."
        )
    problems = [
        {"code": s.field, "message": s.report.message}
        for s in report.signatures
        if not s.report.passed
    ]
    return Verification(
        kind="pdf",
        indication=indication,
        sub_indication=str(report.sub_indication) if report.sub_indication else None,
        summary=summary,
        units=units,
        document_sha256=sha,
        document=document,
        problems=problems,
        report=report.to_dict(),
    )


def verify_uploads(files: Any, now: datetime | None = None) -> Verification:
    """Dispatch on what was uploaded (form fields ``bundle``, ``pdf``, ``document``,
    ``signatures``; a PDF given as ``document`` is verified as a PDF)."""
    now = now or datetime.now(UTC)
    bundle = _read(files.get("bundle"))
    if bundle:
        return verify_bundle_bytes(bundle, now)
    pdf = _read(files.get("pdf"))
    if pdf:
        return verify_pdf_bytes(pdf, now)
    docx = _read(files.get("document"))
    signatures = [
        (f.filename or "signature.p7s", f.read())
        for f in files.getlist("signatures")
        if f is not None and f.filename
    ]
    if docx and docx.startswith(PDF_MAGIC):
        if signatures:
            raise VerificationInputError(
                _("Tệp PDF mang chữ ký số bên trong: không cần tải kèm tệp chữ ký .p7s.")
            )
        return verify_pdf_bytes(docx, now)
    if docx:
        return verify_document_bytes(docx, [(n, d) for n, d in signatures if d], now)
    if signatures:
        raise VerificationInputError(_("Hãy tải lên cả văn bản DOCX mà các chữ ký đi kèm."))
    raise VerificationInputError(
        _(
            "Hãy chọn một gói lưu trữ (.zip), một tệp PDF đã ký, hoặc một văn bản DOCX kèm các"
            " tệp chữ ký .p7s."
        )
    )
