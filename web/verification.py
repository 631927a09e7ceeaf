"""Public verification of what someone received: a bundle, a DOCX with .p7s files, or a
signed PDF alone.

Trust comes from this deployment's CA and its current CRL, never from the uploaded files.
Validation may be asked for at another time (``at``, as ``thidua verify --at``): the
signatures are judged as of then, with their timestamps as proof of existence, while the
CRL stays today's, the best knowledge of revocations there is. The verdicts are signing's
(each report's indication, aggregated there with ``worst()``); the sentence for each is
signing's one message table, in the page's language.
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
from signing.validation.status import TimestampInfo, certificate_state_text
from web import db
from web.i18n import current_language
from web.views.ca import current_crl
from workflow import models, pki
from workflow.errors import NotFound

ZIP_MAGIC = b"PK\x03\x04"
# What a dossier manifest starts with (canonical JSON: its first sorted key is "format").
DOSSIER_MAGIC = b'{"format":"thidua-dossier/'


# A validation time outside these years is a typing slip, not a question anyone asks.
AT_YEARS = (1950, 2100)
MAX_AT_TEXT = 64


class VerificationInputError(ValueError):
    """The upload is not something we can verify; the message says why, in Vietnamese."""

    status = 422


class ValidationTimeError(VerificationInputError):
    """The validation time asked for (``at``) is not a date or time we can read."""

    status = 400


def parse_at(text: str | None) -> datetime | None:
    """The validation time a form field or query parameter asks for, read by the rules of
    ``thidua verify --at``: a date (``2035-01-01``, midnight UTC) or an ISO 8601 date and
    time, UTC when it names no offset. None when nothing was given (validate now)."""
    raw = (text or "").strip()
    if not raw:
        return None
    try:
        if len(raw) > MAX_AT_TEXT:
            raise ValueError(raw)
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationTimeError(
            _(
                "Thời điểm kiểm tra “%(at)s” không đọc được: hãy ghi một ngày (ví dụ "
                "2035-01-01) hoặc ngày giờ ISO 8601 (ví dụ 2035-01-01T08:00:00+07:00).",
                at=raw[:MAX_AT_TEXT],
            )
        ) from None
    if not AT_YEARS[0] <= moment.year <= AT_YEARS[1]:
        raise ValidationTimeError(
            _(
                "Thời điểm kiểm tra phải nằm trong khoảng từ năm %(first)d đến năm %(last)d.",
                first=AT_YEARS[0],
                last=AT_YEARS[1],
            )
        )
    return moment


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
    # Issue 17: the time a timestamp proves, the TSA that gave it, and the state of the
    # certificate at the validation time (a key of signing's CERTIFICATE_STATES, and its
    # sentence in the page's language).
    trusted_time: datetime | None = None
    tsa: str | None = None
    certificate_state: str | None = None
    certificate_state_text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "status": self.status,
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "signer": self.signer,
            "signing_time": _iso(self.signing_time),
            "explanation": self.explanation,
            "trusted_time": _iso(self.trusted_time),
            "tsa": self.tsa,
            "certificate_state": self.certificate_state,
            "certificate_state_text": self.certificate_state_text,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


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
    # The time the signatures were judged at (now, or the ``at`` asked for) and whether it
    # was asked for.
    validation_time: datetime | None = None
    at_requested: bool = False
    # A bundle's archive timestamps: proven_at (when the chain holds) and each token's time,
    # TSA and verdict; None for other uploads.
    archive_timestamps: dict[str, Any] | None = None

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
            "validation_time": _iso(self.validation_time),
            "units": [u.to_dict() for u in self.units],
            "report": self.report,
            "pdfs": self.pdfs,
            "archive_timestamps": self.archive_timestamps,
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
    lang = current_language()
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
        explanation=message(report.sub_indication, lang),
        detail=report.message or None,
        trusted_time=report.trusted_time,
        tsa=_tsa_name(report.timestamps),
        certificate_state=report.certificate_state,
        certificate_state_text=certificate_state_text(report.certificate_state, lang),
    )


def _tsa_name(stamps: tuple[TimestampInfo, ...]) -> str | None:
    """The TSA of the first timestamp that passed, else of the first one."""
    chosen = next((t for t in stamps if t.passed), stamps[0] if stamps else None)
    return chosen.tsa_name if chosen is not None else None


def _stamp_dict(stamp: TimestampInfo) -> dict[str, Any]:
    return {
        "time": _iso(stamp.gen_time),
        "tsa": stamp.tsa_name,
        "passed": stamp.passed,
        "indication": str(stamp.indication),
        "sub_indication": str(stamp.sub_indication) if stamp.sub_indication else None,
    }


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


def verify_bundle_bytes(data: bytes, now: datetime, at: datetime | None = None) -> Verification:
    if not data.startswith(ZIP_MAGIC):
        raise VerificationInputError(_("Tệp tải lên không phải gói lưu trữ (.zip) của thidua."))
    try:
        report: BundleReport = verify_bundle(
            data, trust=trust_store(now), ca_fingerprint=None, at=at or now
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
        archive_timestamps=_archive_timestamps(report),
    )
    return result


def _archive_timestamps(report: BundleReport) -> dict[str, Any]:
    stamps = report.archive_timestamps
    if stamps is None:
        return {"proven_at": None, "timestamps": []}
    return {
        "proven_at": _iso(stamps.proven_at),
        "timestamps": [_stamp_dict(t) for t in stamps.timestamps],
    }


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
    docx: bytes, signatures: list[tuple[str, bytes]], now: datetime, at: datetime | None = None
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
    at = at or now
    sha = sha256_hex(docx)
    version = (
        db.get_session()
        .scalars(select(models.DocumentVersion).where(models.DocumentVersion.signed_sha256 == sha))
        .first()
    )
    if version is None:
        return _verify_unknown_document(docx, sha, signatures, trust, at)
    expected = _expected_units(version)
    by_unit = _place_signatures(docx, expected, signatures, trust, at)
    try:
        doc_report = verify_document(docx, expected, by_unit, trust, at=at)
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
    at: datetime,
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
        report = verify_signature(docx, data, trust, at=at)
        code = report.signer.unit_code if report.signer else None
        if code is not None and code in expected and code not in by_unit:
            by_unit[code] = data
    return by_unit


def _verify_unknown_document(
    docx: bytes, sha: str, signatures: list[tuple[str, bytes]], trust: TrustStore, at: datetime
) -> Verification:
    """A DOCX this system never froze: judge each signature on its own."""
    units = []
    reports = []
    for filename, data in signatures:
        report = verify_signature(docx, data, trust, at=at)
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


def verify_pdf_bytes(data: bytes, now: datetime, at: datetime | None = None) -> Verification:
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
            data, trust, at=at or now, members=None if members is None else list(members)
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


def verify_uploads(
    files: Any, now: datetime | None = None, at: datetime | None = None
) -> Verification:
    """Dispatch on what was uploaded (form fields ``bundle``, ``pdf``, ``document``,
    ``signatures``; a PDF given as ``document`` is verified as a PDF). The signatures are
    judged at ``at`` (default ``now``); the trust store and its CRL are ``now``'s."""
    now = now or datetime.now(UTC)
    result = _dispatch(files, now, at or now)
    result.validation_time = at or now
    result.at_requested = at is not None
    return result


def _dispatch(files: Any, now: datetime, at: datetime) -> Verification:
    bundle = _read(files.get("bundle"))
    if bundle:
        return verify_bundle_bytes(bundle, now, at)
    pdf = _read(files.get("pdf"))
    if pdf:
        return verify_pdf_bytes(pdf, now, at)
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
        return verify_pdf_bytes(docx, now, at)
    if docx:
        return verify_document_bytes(docx, [(n, d) for n, d in signatures if d], now, at)
    if signatures:
        raise VerificationInputError(_("Hãy tải lên cả văn bản DOCX mà các chữ ký đi kèm."))
    raise VerificationInputError(
        _(
            "Hãy chọn một gói lưu trữ (.zip), một tệp PDF đã ký, hoặc một văn bản DOCX kèm các"
            " tệp chữ ký .p7s."
        )
    )
