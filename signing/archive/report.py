"""Reports of bundle verification, on the vocabulary of signing.validation.status.

Every report carries an ``indication`` (and a sub-indication when it did not pass); the
bundle's own verdict is ``worst()`` of its parts' findings, computed once by the verifier.
``to_dict()`` keys are a contract (web pages, the CLI's JSON, archived reports): only ever
add to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from signing.archive.bag import FixityResult
from signing.archive.dossier import Dossier, DossierPart
from signing.archive.layout import BUNDLE_FORMAT
from signing.validation.status import (
    DocumentReport,
    Finding,
    Indication,
    IntactCheck,
    SignatureReport,
    SubIndication,
    UnitResult,
    code_text,
    message,
    worst,
)

if TYPE_CHECKING:
    from signing.archive.timestamps import ArchiveTimestamps
    from signing.pades import PdfReport

__all__ = [
    "IGNORED",
    "ApprovalResult",
    "AuditResult",
    "BundleReport",
    "FixityResult",
    "PartResult",
    "Problem",
]

# What verification reads but does not judge, said in every report: nothing in them can
# change what a verified bundle proves, and re-zipping a bag with another tool changes them.
IGNORED = (
    "siêu dữ liệu của vỏ zip (thời điểm, quyền tệp, thứ tự mục, trường phụ về thời gian và"
    " chủ sở hữu): vỏ zip không thuộc túi BagIt được ký",
    "các chứng thư số nhúng trong chữ ký của Ban (data/approval/manifest.json.p7s): chỉ dùng"
    " để dựng chuỗi tới neo tin cậy của người kiểm tra, chứng thư thêm vào không đổi được"
    " kết quả",
)

_FAILED = Indication.TOTAL_FAILED
_PASSED = Indication.TOTAL_PASSED


@dataclass(frozen=True)
class Problem:
    """One finding. ``code`` is stable for programs, ``message`` is for people (Vietnamese);
    ``path`` names the bundle file at fault, when there is one (``data/audit.jsonl``)."""

    code: str
    message: str
    indication: Indication = _FAILED
    sub_indication: SubIndication | None = SubIndication.FORMAT_FAILURE
    path: str | None = None

    @property
    def finding(self) -> Finding:
        return self.indication, self.sub_indication

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "indication": str(self.indication),
            "sub_indication": code_text(self.sub_indication),
            "explanation": message(self.sub_indication),
        }


@dataclass(frozen=True)
class ApprovalResult:
    """The board's signature over data/approval/manifest.json and whether the manifest names
    exactly this bundle's document, signatures and files."""

    report: SignatureReport | None
    manifest_matches: bool
    decision: Mapping[str, Any] | None = None
    approved_at: str | None = None
    mismatches: tuple[str, ...] = ()
    signer_is_member: bool = False  # a member unit, not the board, signed the approval

    @property
    def finding(self) -> Finding:
        if self.report is None:
            return _FAILED, SubIndication.FORMAT_FAILURE
        if not self.report.passed:
            return self.report.indication, self.report.sub_indication
        if not self.manifest_matches:
            return _FAILED, SubIndication.HASH_FAILURE
        if self.signer_is_member:
            return Indication.INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE
        return _PASSED, None

    @property
    def indication(self) -> Indication:
        return self.finding[0]

    @property
    def sub_indication(self) -> SubIndication | None:
        return self.finding[1]

    @property
    def passed(self) -> bool:
        return self.indication is _PASSED

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "indication": str(self.indication),
            "sub_indication": code_text(self.sub_indication),
            "manifest_matches": self.manifest_matches,
            "mismatches": list(self.mismatches),
            "signer_is_member": self.signer_is_member,
            "decision": None if self.decision is None else dict(self.decision),
            "approved_at": self.approved_at,
            "report": None if self.report is None else self.report.to_dict(),
        }


@dataclass(frozen=True)
class AuditResult(IntactCheck):
    """The document's audit-chain segment in data/audit.jsonl."""

    ok: bool
    events: int
    broken_index: int | None = None
    broken_id: Any = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "indication": str(self.indication),
            "sub_indication": code_text(self.sub_indication),
            "events": self.events,
            "broken_index": self.broken_index,
            "broken_id": self.broken_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PartResult:
    """One document of a dossier as data/dossier.json lists it, and whether the bundle holds
    exactly those bytes (``intact``: present with the listed SHA-256 and size)."""

    part: DossierPart
    intact: bool

    def to_dict(self) -> dict[str, Any]:
        return {**self.part.to_dict(), "path": self.part.path, "intact": self.intact}


@dataclass(frozen=True)
class BundleReport:
    """Outcome of verifying an archive bundle. ``indication`` is TOTAL_PASSED only when the
    bag is intact and every file is signed or rebuilt from signed data, every member unit's
    signature passed, the board's approval passed and matches, and the audit segment is
    unbroken up to the approval.

    ``signed_path`` is the file the member units' signatures cover (data/document.docx, or
    a dossier's data/dossier.json; None when there is neither); for a dossier, ``dossier``
    is its manifest and ``parts`` its documents, in order. ``pdfs``: each signed PDF of the
    bundle (data/document.pdf, data/parts/NN-name.pdf) with its PAdES report; a unit's field
    is listed in ``unsigned_fields`` when that unit signed only by its CMS."""

    indication: Indication
    sub_indication: SubIndication | None
    document_id: str | None
    document_sha256: str | None
    verified_at: str
    trust_source: str  # "given" | "bundle_ca" | "none"
    ca_fingerprint: str | None
    document: DocumentReport | None  # None when the signed file is missing
    approval: ApprovalResult
    fixity: FixityResult
    audit: AuditResult
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    ignored: tuple[str, ...] = IGNORED
    signed_path: str | None = None
    dossier: Dossier | None = None
    parts: tuple[PartResult, ...] = ()
    pdfs: Mapping[str, PdfReport] = field(default_factory=dict)
    # Issue 17: the archive timestamps and the proof of existence their chain gives.
    archive_timestamps: ArchiveTimestamps | None = None

    @property
    def passed(self) -> bool:
        return self.indication == Indication.TOTAL_PASSED

    @property
    def units(self) -> tuple[UnitResult, ...]:
        """Each member unit with its signature's report (report None: not signed), then any
        signature from a unit that is not a member (``expected`` False)."""
        return () if self.document is None else tuple(self.document.units)

    @property
    def status(self) -> str:
        """Of the member units' signatures: 'complete', 'incomplete' (some unit has not
        signed, none failed) or 'failed'."""
        return "failed" if self.document is None else self.document.status

    def pdf_finding(self, path: str) -> Finding:
        """What the bundle concludes of its PDF ``path``: ``worst()`` of the problems that
        name it. It differs from ``pdfs[path]``'s own finding where the bundle knows more:
        a unit's field left empty in the PDF is no problem when its CMS passed."""
        found = [p.finding for p in self.problems if p.path == path]
        return worst(found)

    @property
    def failed_paths(self) -> tuple[str, ...]:
        """The bundle files some problem names, in the order found."""
        return tuple(dict.fromkeys(p.path for p in self.problems if p.path is not None))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "indication": str(self.indication),
            "sub_indication": code_text(self.sub_indication),
            "passed": self.passed,
            "status": self.status,
            "document_id": self.document_id,
            "document_sha256": self.document_sha256,
            "verified_at": self.verified_at,
            "trust": {"source": self.trust_source, "ca_fingerprint": self.ca_fingerprint},
            "units": [unit.to_dict() for unit in self.units],
            "units_message": None if self.document is None else self.document.message,
            "approval": self.approval.to_dict(),
            "fixity": self.fixity.to_dict(),
            "audit": self.audit.to_dict(),
            "problems": [problem.to_dict() for problem in self.problems],
            "failed_paths": list(self.failed_paths),
            "ignored": list(self.ignored),
            "signed_path": self.signed_path,
            "dossier": None
            if self.dossier is None
            else {"reference_code": self.dossier.reference_code, "title": self.dossier.title},
            "parts": [part.to_dict() for part in self.parts],
            "pdfs": {
                path: {
                    **report.to_dict(),
                    "bundle_indication": str(self.pdf_finding(path)[0]),
                    "bundle_sub_indication": code_text(self.pdf_finding(path)[1]),
                }
                for path, report in self.pdfs.items()
            },
            "archive_timestamps": (
                None if self.archive_timestamps is None else self.archive_timestamps.to_dict()
            ),
        }
