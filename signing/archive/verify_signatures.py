"""The signature steps of bundle verification: each member unit's signature over the signed
file, and the board's signature over the approval manifest with the manifest checked against
the bundle (a member unit cannot approve its own pledge)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from signing.archive.canonical import strict_json
from signing.archive.layout import APPROVAL_PATH, APPROVAL_SIGNATURE_PATH, DOCUMENT_PATH
from signing.archive.manifest import manifest_mismatches
from signing.archive.report import ApprovalResult
from signing.archive.run import Run
from signing.errors import BundleError
from signing.validation.crypto import DocumentDigests
from signing.validation.document import verify_document_digests
from signing.validation.signature import verify_signature
from signing.validation.status import DocumentReport, SubIndication
from signing.validation.trust import TrustStore

__all__ = ["check_approval", "check_unit_signatures"]


def check_unit_signatures(
    run: Run,
    units: Mapping[str, str],
    signatures: Mapping[str, bytes],
    trust: TrustStore | None,
    signed: str | None = DOCUMENT_PATH,
) -> DocumentReport | None:
    """Each member unit's signature over the signed file ``signed`` (document.docx or a
    dossier's dossier.json; hashed once, by the fixity check)."""
    content = None if signed is None else run.files.get(signed)
    if signed is None or content is None or not units:
        return None  # already reported as a missing or unreadable file
    digests = DocumentDigests(content, {"sha256": run.digest(signed)})
    document = verify_document_digests(
        digests, units, signatures, trust, at=run.at, proven_at=run.proven_at
    )
    for unit in document.units:
        path = f"data/signatures/{unit.code}.p7s"
        if not unit.expected:
            run.fail(
                "unexpected_signature",
                f"chữ ký của đơn vị {unit.code} không thuộc danh sách đơn vị thành viên",
                path=path,
            )
        elif unit.report is None:
            run.fail(
                "missing_signature",
                f"thiếu chữ ký của đơn vị {unit.code} ({unit.name})",
                path=path,
            )
    return document


def _decision_fields(body: Any) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(decision, approved_at, board code) as the manifest states them, when well-formed."""
    if not isinstance(body, dict):
        return None, None, None
    decision = body.get("decision") if isinstance(body.get("decision"), dict) else None
    board = decision.get("board") if decision else None
    code = board["code"] if isinstance(board, dict) and isinstance(board.get("code"), str) else None
    approved = body.get("approved_at") if isinstance(body.get("approved_at"), str) else None
    return decision, approved, code


def check_approval(
    run: Run,
    doc_id: str | None,
    doc_sha: str | None,
    signatures: Mapping[str, bytes],
    units: Mapping[str, str],
    trust: TrustStore | None,
    signed: str | None = DOCUMENT_PATH,
) -> tuple[ApprovalResult, Any]:
    """The board's signature over the approval manifest, and the manifest against the
    bundle; returns the result and the manifest's body (None when unreadable)."""
    manifest = run.files.get(APPROVAL_PATH)
    signature = run.files.get(APPROVAL_SIGNATURE_PATH)
    if manifest is None or signature is None:
        return ApprovalResult(None, False, mismatches=("thiếu bản kê hoặc chữ ký phê duyệt",)), None
    try:
        body = strict_json(manifest, APPROVAL_PATH)
    except BundleError as exc:
        body, mismatches = None, [str(exc)]
    else:
        hashes = {code: run.digest(f"data/signatures/{code}.p7s").hex() for code in signatures}
        mismatches = manifest_mismatches(
            body, doc_id, doc_sha, hashes, units or None, signed or DOCUMENT_PATH
        )
    decision, approved_at, board_code = _decision_fields(body)
    report = verify_signature(
        manifest,
        signature,
        trust,
        at=run.at,
        expected_unit_code=board_code,
        proven_at=run.proven_at,
    )
    signer_code = report.signer.unit_code if report.signer else None
    signer_is_member = signer_code is not None and signer_code in units
    if signer_is_member:
        # A member unit cannot approve its own pledge, whatever the manifest claims the
        # board's code to be.
        run.note(
            "approval_signer",
            f"bản kê phê duyệt do đơn vị thành viên {signer_code} ký, không phải Ban Thi đua"
            " – Khen thưởng",
            SubIndication.SIG_CONSTRAINTS_FAILURE,
            path=APPROVAL_SIGNATURE_PATH,
        )
    for item in mismatches:
        run.fail("approval_manifest", item, SubIndication.HASH_FAILURE, path=APPROVAL_PATH)
    result = ApprovalResult(
        report=report,
        manifest_matches=not mismatches,
        decision=decision,
        approved_at=approved_at,
        mismatches=tuple(mismatches),
        signer_is_member=signer_is_member,
    )
    return result, body
