"""The approval manifest: the canonical JSON the board signs when it approves a document.

Format ``thidua-approval-manifest/2`` pins, besides the document (its id and the SHA-256 of
the file the units signed: document.docx, or a dossier's dossier.json), each
member unit's signature hash, the member units, the decision and its time, the SHA-256 of
every payload file of the bundle (``files``) but the manifest and its own signature. So the
board's signature covers document.json, every byte of the audit segment (which ends with
the approval event, ``audit_head``), the certificates, the CRL and verification.json; a
verifier refuses whatever is neither pinned here nor rebuilt from what is.

Version 1 pinned only the document and the signatures; it is refused (no archive of it was
ever kept: the demo seeds afresh).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from signing.archive.canonical import canonical_json, iso_utc
from signing.archive.evidence import ArchiveEvidence, payload_files
from signing.archive.layout import DOCUMENT_PATH, HEX64, check_units, signed_file
from signing.errors import BundleError, FormatError

__all__ = [
    "APPROVAL_ACTION",
    "MANIFEST_FORMAT",
    "approval_manifest",
    "audit_head_of",
    "manifest_body",
    "manifest_mismatches",
    "pinned_files",
]

MANIFEST_FORMAT = "thidua-approval-manifest/2"
_OLD_FORMATS = ("thidua-approval-manifest/1",)
# The audit event the workflow writes when the board approves; the pinned segment ends there.
APPROVAL_ACTION = "approve"


def audit_head_of(evidence: ArchiveEvidence) -> str:
    """The hash of the evidence's last audit event, which must be this document's approval:
    the segment the board signs runs up to and including it."""
    events = evidence.audit_events
    last = events[-1] if isinstance(events, list | tuple) and events else None
    if not isinstance(last, Mapping) or last.get("action") != APPROVAL_ACTION:
        raise BundleError("nhật ký kiểm toán phải kết thúc bằng sự kiện phê duyệt (approve)")
    if "document_id" in last and str(last["document_id"]) != str(evidence.document_id):
        raise BundleError("sự kiện phê duyệt cuối nhật ký thuộc tài liệu khác")
    head = last.get("hash")
    if not isinstance(head, str) or not HEX64.fullmatch(head):
        raise BundleError("sự kiện phê duyệt thiếu mã băm (hash) 64 chữ số hex")
    return head


def manifest_body(
    evidence: ArchiveEvidence,
    payload: Mapping[str, bytes],
    *,
    decision: Mapping[str, Any],
    approved_at: datetime,
) -> dict[str, Any]:
    """The manifest's fields for ``evidence`` whose payload files are ``payload``."""
    if not isinstance(decision, Mapping):
        raise BundleError("quyết định phê duyệt (decision) phải là một đối tượng")
    units = check_units(evidence.expected_units, "expected_units")
    files = {path: hashlib.sha256(content).hexdigest() for path, content in payload.items()}
    signed = signed_file(files)
    if signed is None:
        raise BundleError("bằng chứng không có tệp được ký (document.docx hoặc dossier.json)")
    try:
        approved = iso_utc(approved_at)
    except FormatError as exc:
        raise BundleError(str(exc)) from None
    return {
        "format": MANIFEST_FORMAT,
        "document_id": str(evidence.document_id),
        "document_sha256": files[signed],
        "unit_signatures": {code: files[f"data/signatures/{code}.p7s"] for code in units},
        "member_units": units,
        "decision": decision,
        "approved_at": approved,
        "audit_head": audit_head_of(evidence),
        "files": dict(sorted(files.items())),
    }


def approval_manifest(
    evidence: ArchiveEvidence, *, decision: Mapping[str, Any], approved_at: datetime
) -> bytes:
    """Canonical JSON the board signs when it approves ``evidence``: which document, the
    SHA-256 of each member unit's signature, the member units, the decision (e.g. number,
    date and the approving board as ``{"board": {"code": ..., "name": ...}}``), when, the
    hash of the approval's audit event and the SHA-256 of every payload file.

    ``decision["board"]["code"]``, when given, is the unit code the approval signer's
    certificate must carry."""
    body = manifest_body(
        evidence, payload_files(evidence), decision=decision, approved_at=approved_at
    )
    try:
        return canonical_json(body)
    except FormatError as exc:
        raise BundleError(f"bản kê phê duyệt: {exc}") from None


def manifest_mismatches(
    body: Any,
    doc_id: str | None,
    doc_sha: str | None,
    hashes: Mapping[str, str],
    units: Mapping[str, str] | None,
    signed_path: str = DOCUMENT_PATH,
) -> list[str]:
    """What in the approval manifest contradicts the bundle (empty when it matches).
    ``doc_sha``: SHA-256 (hex) of the file the units signed, ``signed_path`` (document.docx
    or a dossier's dossier.json); ``hashes``: unit code -> SHA-256 (hex) of the bundle's
    signature file. The pinned ``files`` are compared by the verifier's coverage step,
    file by file."""
    if not isinstance(body, dict):
        return ["bản kê phê duyệt phải là một đối tượng JSON"]
    fmt = body.get("format")
    if fmt in _OLD_FORMATS:
        return [
            f"bản kê phê duyệt định dạng cũ {fmt!r} không ghim các tệp của gói (nhật ký,"
            f" document.json, chứng thư...): phiên bản này chỉ chấp nhận {MANIFEST_FORMAT}"
        ]
    out = []
    if fmt != MANIFEST_FORMAT:
        out.append(f"bản kê phê duyệt có định dạng lạ {fmt!r}")
    if doc_id is not None and body.get("document_id") != doc_id:
        out.append(
            f"bản kê phê duyệt nói về tài liệu {body.get('document_id')!r}, không phải {doc_id!r}"
        )
    if doc_sha is not None and body.get("document_sha256") != doc_sha:
        out.append(
            "SHA-256 tài liệu trong bản kê phê duyệt khác " + signed_path.removeprefix("data/")
        )
    out += _signature_mismatches(body.get("unit_signatures"), hashes)
    if units is not None and body.get("member_units") != dict(units):
        out.append("danh sách đơn vị thành viên trong bản kê phê duyệt khác document.json")
    head = body.get("audit_head")
    if not (isinstance(head, str) and HEX64.fullmatch(head)):
        out.append("audit_head trong bản kê phê duyệt không phải 64 chữ số hex")
    if not pinned_files(body):
        out.append("bản kê phê duyệt không ghim danh sách tệp (files) hợp lệ")
    return out


def _signature_mismatches(listed: Any, hashes: Mapping[str, str]) -> list[str]:
    if not isinstance(listed, dict):
        return ["bản kê phê duyệt không liệt kê chữ ký các đơn vị"]
    out = []
    for code in sorted(set(listed) | set(hashes)):
        if code not in hashes:
            out.append(f"bản kê phê duyệt liệt kê chữ ký của {code} nhưng gói không có")
        elif code not in listed:
            out.append(f"chữ ký của {code} không có trong bản kê phê duyệt")
        elif listed[code] != hashes[code]:
            out.append(f"chữ ký của {code} khác chữ ký được phê duyệt (SHA-256 không khớp)")
    return out


def pinned_files(body: Any) -> dict[str, str]:
    """The manifest's ``files`` (path -> SHA-256 hex), or {} when absent or malformed."""
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict) or not files:
        return {}
    for path, digest in files.items():
        if not (path.startswith("data/") and isinstance(digest, str) and HEX64.fullmatch(digest)):
            return {}
    return files
