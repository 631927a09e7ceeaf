"""Public verification of what someone received: a bundle, or a DOCX with .p7s files.

Trust comes from this deployment's CA and its current CRL, never from the uploaded files.
The result carries ETSI EN 319 102-1 indications and a plain Vietnamese explanation of
each.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from signing.archive import BundleReport, verify_bundle
from signing.errors import SigningError
from signing.verify import SignatureReport, TrustStore, verify_document, verify_signature
from web import db
from web.views.ca import current_crl
from workflow import models, pki
from workflow.errors import NotFound

ZIP_MAGIC = b"PK\x03\x04"


class VerificationInputError(ValueError):
    """The upload is not something we can verify; the message says why, in Vietnamese."""


def explain(indication: str | None, sub: str | None) -> str:
    """One sentence a non-specialist understands."""
    if indication == "TOTAL_PASSED":
        return _(
            "Hợp lệ: văn bản không bị thay đổi kể từ khi ký, chứng thư do đơn vị cấp chứng thư "
            "tin cậy cấp và còn hiệu lực tại thời điểm ký."
        )
    table = {
        "HASH_FAILURE": _("Văn bản đã bị thay đổi sau khi ký (mã băm không khớp)."),
        "SIG_CRYPTO_FAILURE": _("Chữ ký không khớp với chứng thư của người ký (sai về mật mã)."),
        "REVOKED": _("Chứng thư của người ký đã bị thu hồi."),
        "NO_CERTIFICATE_CHAIN_FOUND": _(
            "Chứng thư của người ký không do đơn vị cấp chứng thư tin cậy cấp."
        ),
        "OUT_OF_BOUNDS_NO_POE": _("Chứng thư đã hết hạn hoặc chưa có hiệu lực vào thời điểm ký."),
        "OUT_OF_BOUNDS_NOT_REVOKED": _("Chứng thư đã hết hạn hoặc chưa có hiệu lực."),
        "EXPIRED": _("Chứng thư đã hết hạn."),
        "NOT_YET_VALID": _("Chứng thư chưa có hiệu lực."),
        "FORMAT_FAILURE": _("Tệp chữ ký không đúng định dạng CMS hoặc bị hỏng."),
        "SIGNED_DATA_NOT_FOUND": _("Không có chữ ký cho văn bản hoặc đơn vị này."),
        "CHAIN_CONSTRAINTS_FAILURE": _("Chứng thư không được phép dùng để ký văn bản."),
        "SIG_CONSTRAINTS_FAILURE": _(
            "Chữ ký không đáp ứng yêu cầu (đơn vị hoặc người ký không khớp)."
        ),
        "REVOCATION_OUT_OF_BOUNDS_NO_POE": _(
            "Không xác định được tình trạng thu hồi của chứng thư."
        ),
        "TRY_LATER": _("Chưa có thông tin thu hồi; hãy thử lại sau."),
    }
    if sub and sub in table:
        return table[sub]
    if indication == "INDETERMINATE":
        return _("Chưa kết luận được: thiếu thông tin để xác nhận chữ ký.")
    return _("Không hợp lệ.")


@dataclass
class UnitLine:
    code: str
    name: str
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
    kind: str  # "bundle" | "document" | "signatures"
    indication: str
    sub_indication: str | None
    summary: str
    units: list[UnitLine] = field(default_factory=list)
    document_sha256: str | None = None
    document: models.Document | None = None
    approval: dict[str, Any] | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)

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
        }


def trust_store(now: datetime) -> TrustStore | None:
    """This deployment's CA and its CRL; None before ``thidua init`` created the CA."""
    try:
        pem = pki.ca_pem(db.get_session())
    except NotFound:
        return None
    return TrustStore.from_pem(pem, crls=[current_crl(now)])


def _line_from_report(code: str, name: str, report: SignatureReport | None) -> UnitLine:
    if report is None:
        return UnitLine(code, name, "missing", explanation=_("Chưa có chữ ký của đơn vị này."))
    indication = str(report.indication)
    sub = str(report.sub_indication) if report.sub_indication else None
    signer = report.signer
    status = (
        "passed"
        if report.passed
        else ("indeterminate" if indication == "INDETERMINATE" else "failed")
    )
    return UnitLine(
        code,
        name,
        status,
        indication=indication,
        sub_indication=sub,
        signer=getattr(signer, "name", None) if signer else None,
        signer_unit=getattr(signer, "unit", None) if signer else None,
        signing_time=report.signing_time,
        certificate_sha256=getattr(signer, "certificate_sha256", None) if signer else None,
        explanation=explain(indication, sub),
        detail=report.message or None,
    )


def _read(upload: FileStorage | None) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    return upload.read()


def _summary(indication: str, signed: int, total: int, kind: str) -> str:
    if indication == "TOTAL_PASSED":
        if kind == "bundle":
            return _(
                "Hồ sơ lưu trữ hợp lệ: đủ %(n)d/%(t)d chữ ký đơn vị và quyết định phê duyệt, "
                "nội dung còn nguyên vẹn.",
                n=signed,
                t=total,
            )
        return _(
            "Văn bản hợp lệ: %(n)d/%(t)d đơn vị đã ký, nội dung còn nguyên vẹn.", n=signed, t=total
        )
    if indication == "INDETERMINATE":
        return _("Chưa đủ căn cứ để kết luận: %(n)d/%(t)d chữ ký được xác nhận.", n=signed, t=total)
    return _("Không hợp lệ: %(n)d/%(t)d chữ ký được xác nhận.", n=signed, t=total)


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
    )
    return result


def _document_for_sha(sha: str) -> models.Document | None:
    version = (
        db.get_session()
        .scalars(select(models.DocumentVersion).where(models.DocumentVersion.docx_sha256 == sha))
        .first()
    )
    return version.document if version is not None else None


def _expected_units(version: models.DocumentVersion) -> dict[str, str]:
    units = version.content.get("member_units") or []
    return {u["code"]: u["name"] for u in units if isinstance(u, dict) and "code" in u}


def verify_document_bytes(
    docx: bytes, signatures: list[tuple[str, bytes]], now: datetime
) -> Verification:
    if not docx.startswith(ZIP_MAGIC):
        raise VerificationInputError(_("Tệp văn bản không phải tệp DOCX."))
    if not signatures:
        raise VerificationInputError(_("Hãy chọn ít nhất một tệp chữ ký .p7s đi kèm văn bản."))
    trust = trust_store(now)
    if trust is None:
        raise VerificationInputError(_("Hệ thống chưa có chứng thư gốc (CA) để đối chiếu."))
    sha = hashlib.sha256(docx).hexdigest()
    version = (
        db.get_session()
        .scalars(select(models.DocumentVersion).where(models.DocumentVersion.docx_sha256 == sha))
        .first()
    )
    if version is not None:
        expected = _expected_units(version)
        by_unit: dict[str, bytes] = {}
        unplaced: list[tuple[str, bytes]] = []
        for filename, data in signatures:
            stem = PurePosixPath(filename).stem.upper()
            if stem in expected and stem not in by_unit:
                by_unit[stem] = data
            else:
                unplaced.append((filename, data))
        for _filename, data in unplaced:
            # Name the file after its unit or not: the certificate says which unit signed.
            report = verify_signature(docx, data, trust, at=now)
            code = report.signer.unit_code if report.signer else None
            if code in expected and code not in by_unit:
                by_unit[code] = data
        try:
            doc_report = verify_document(docx, expected, by_unit, trust, at=now)
        except SigningError as exc:
            raise VerificationInputError(str(exc)) from None
        units = [_line_from_report(u.code, u.name, u.report) for u in doc_report.units]
        if doc_report.status == "complete":
            indication = "TOTAL_PASSED"
        elif doc_report.status == "failed":
            indication = "TOTAL_FAILED"
        else:
            indication = "INDETERMINATE"
        signed = sum(u.status == "passed" for u in units)
        return Verification(
            kind="document",
            indication=indication,
            sub_indication=None if indication != "INDETERMINATE" else "SIGNED_DATA_NOT_FOUND",
            summary=_summary(indication, signed, len(units), "document"),
            units=units,
            document_sha256=sha,
            document=version.document,
            report=doc_report.to_dict(),
        )
    # A DOCX this system never froze: judge each signature on its own.
    units = []
    for filename, data in signatures:
        report = verify_signature(docx, data, trust, at=now)
        code = (report.signer.unit_code if report.signer else None) or PurePosixPath(filename).stem
        name = (report.signer.unit if report.signer else None) or filename
        line = _line_from_report(code, name, report)
        line.filename = filename
        units.append(line)
    if all(u.status == "passed" for u in units):
        indication, sub = "TOTAL_PASSED", None
    elif any(u.status == "failed" for u in units):
        indication, sub = (
            "TOTAL_FAILED",
            next((u.sub_indication for u in units if u.status == "failed"), None),
        )
    else:
        indication, sub = "INDETERMINATE", None
    signed = sum(u.status == "passed" for u in units)
    summary = (
        _summary(indication, signed, len(units), "signatures")
        + " "
        + _("Văn bản này không có trong hệ thống nên không kiểm tra được đủ đơn vị phải ký.")
    )
    return Verification(
        kind="signatures",
        indication=indication,
        sub_indication=sub,
        summary=summary,
        units=units,
        document_sha256=sha,
        report={"signatures": [u.filename for u in units]},
    )


def verify_uploads(files: Any, now: datetime | None = None) -> Verification:
    """Dispatch on what was uploaded (form fields ``bundle``, ``document``, ``signatures``)."""
    now = now or datetime.now(UTC)
    bundle = _read(files.get("bundle"))
    if bundle:
        return verify_bundle_bytes(bundle, now)
    docx = _read(files.get("document"))
    signatures = [
        (f.filename or "signature.p7s", f.read())
        for f in files.getlist("signatures")
        if f is not None and f.filename
    ]
    if docx:
        return verify_document_bytes(docx, [(n, d) for n, d in signatures if d], now)
    if signatures:
        raise VerificationInputError(_("Hãy tải lên cả văn bản DOCX mà các chữ ký đi kèm."))
    raise VerificationInputError(
        _("Hãy chọn một gói lưu trữ (.zip), hoặc một văn bản DOCX kèm các tệp chữ ký .p7s.")
    )
