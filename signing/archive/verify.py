"""Verifying an archive bundle offline, as small named steps over one ``Run``.

The verifier trusts nothing in the bundle and judges every part: the zip (one reading,
signing.archive.zipio), the layout, bag fixity, each unit's signature over the document,
that every member unit signed, the board's signature over the approval manifest and that
the manifest names exactly the bundle's document, signatures and files, the audit segment
up to the approval, and that every member is signed or rebuilt from signed data
(signing.archive.verify_pins).

Trust never comes from the bundle alone: its CA is used only when the caller passes that CA's
SHA-256 fingerprint (obtained out of band), otherwise signatures are INDETERMINATE.

Pure: no clock (``at`` is a parameter), no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from signing.archive.bag import FixityResult, bagit_validate, check_fixity, parse_tag_file
from signing.archive.canonical import iso_utc, strict_json
from signing.archive.layout import (
    APPROVAL_PATH,
    APPROVAL_SIGNATURE_PATH,
    BUNDLE_FORMAT,
    DOCUMENT_FORMAT,
    HEX64,
    REQUIRED_FILES,
    SAFE_NAME,
    cert_path,
    signature_path,
)
from signing.archive.manifest import MANIFEST_FORMAT, manifest_mismatches, pinned_files
from signing.archive.report import ApprovalResult, BundleReport, Problem
from signing.archive.run import Run
from signing.archive.verify_audit import check_audit
from signing.archive.verify_pins import (
    check_approval_signature_extras,
    check_folders,
    check_pinned_files,
    check_tag_files,
    rebuilt_tag_mismatches,
)
from signing.archive.verify_trust import check_certificate_files, choose_trust
from signing.archive.zipio import DEFAULT_LIMITS, ZipLimits, read_zip
from signing.errors import BundleError, FormatError, SigningError
from signing.validation.crypto import DocumentDigests
from signing.validation.document import verify_document_digests
from signing.validation.signature import verify_signature
from signing.validation.status import DocumentReport, Finding, Indication, SubIndication, worst
from signing.validation.trust import TrustStore

__all__ = ["normalize_fingerprint", "verify_bundle"]


def normalize_fingerprint(value: str) -> str:
    """SHA-256 fingerprint as 64 lower-case hex digits; accepts colons, spaces, upper case
    (``openssl x509 -fingerprint -sha256`` prints ``AB:CD:...``) and a ``sha256:`` prefix."""
    if not isinstance(value, str):
        raise FormatError("dấu vân tay SHA-256 phải là chuỗi")
    text = value.strip().lower()
    for prefix in ("sha256:", "sha256=", "sha256 fingerprint="):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = re.sub(r"[\s:]", "", text)
    if not HEX64.fullmatch(text):
        raise FormatError(
            f"dấu vân tay SHA-256 không hợp lệ: cần 64 chữ số hex, nhận {value[:100]!r}"
        )
    return text


def verify_bundle(
    data: bytes,
    *,
    trust: TrustStore | None,
    ca_fingerprint: str | None,
    at: datetime,
    limits: ZipLimits = DEFAULT_LIMITS,
    bagit_check: bool = True,
) -> BundleReport:
    """Verify an archive bundle offline.

    ``trust``: anchors to validate signer chains against. Without it the bundle's own CA
    certificate (data/certs) is used only if its SHA-256 equals ``ca_fingerprint``; otherwise
    every signature is INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND (a bundle must not vouch
    for itself). When both are given, ``trust`` decides and the fingerprint is not used.
    ``at``: the validation time (the caller's clock; none is read here).

    Fixity is always checked in memory (every file's SHA-256 against the bag's manifests);
    ``bagit_check`` adds the bagit library's own ``Bag.validate()`` on a private copy, an
    independent second opinion costing about 3 ms, which bulk re-verification may skip.

    The indication is TOTAL_PASSED only when everything passed; otherwise ``worst()`` of the
    findings, unit signatures first, then the approval signature, then the bundle's own
    findings in the order checked (each a Problem naming its file when it has one):
    HASH_FAILURE for bag fixity, a manifest or pinned file that names other bytes, or a
    broken audit chain; UNSIGNED_CONTENT for a member no signature covers; FORMAT_FAILURE
    for layout problems and for a member unit whose signature is missing (``status`` then
    says "incomplete"). Anything merely undecidable (no trust anchor, an approval signed by
    a member unit) makes it INDETERMINATE.

    Raises BundleError when the input is not a safe, readable bundle zip with one reading
    (limits, traversal, links, bombs, damage, bytes outside the entries, names two tools
    read apart) and FormatError for a malformed ``ca_fingerprint``; any problem inside a
    readable bundle yields a failed report instead.
    """
    wanted_fp = None if ca_fingerprint is None else normalize_fingerprint(ca_fingerprint)
    if trust is not None and not isinstance(trust, TrustStore):
        raise SigningError("trust phải là một TrustStore hoặc None")
    try:
        at_text = iso_utc(at)
    except FormatError as exc:
        raise BundleError(str(exc)) from None
    contents = read_zip(data, limits)
    if not contents.top.startswith("thidua-"):
        raise BundleError(
            f"không phải gói lưu trữ thidua: thư mục gốc là {contents.top!r}, cần 'thidua-<mã>'"
        )
    run = Run(contents.top, dict(contents.files), at)
    check_layout(run)
    check_folders(run, contents.folders)
    return _judge(run, trust, wanted_fp, at_text, bagit_check)


def _judge(
    run: Run,
    given: TrustStore | None,
    ca_fingerprint: str | None,
    at_text: str,
    bagit_check: bool,
) -> BundleReport:
    rebuilt = rebuilt_tag_mismatches(run, _document_body(run))
    fixity, bag_info = check_bag_fixity(run, bagit_check, proven=rebuilt == [])
    check_format(run, bag_info)
    docx = run.files.get("data/document.docx")
    doc_sha = None if docx is None else run.digest("data/document.docx").hex()
    doc_id, units = read_document_json(run, doc_sha, bag_info)
    trust, source, foreign_crl = choose_trust(run, given, ca_fingerprint)
    signatures = {
        path[len("data/signatures/") : -len(".p7s")]: content
        for path, content in sorted(run.files.items())
        if signature_path(path)
    }
    document = check_unit_signatures(run, units, signatures, trust)
    approval, manifest = check_approval(run, doc_id, doc_sha, signatures, units, trust)
    anchored = _anchored(document, approval)
    if foreign_crl is not None and anchored:
        # The signatures chain to an anchor in use, yet the CRL is not that anchor's: it
        # could hide a revocation. Same outcome as a missing data/crl.der.
        run.fail("crl", foreign_crl, path="data/crl.der")
    check_certificate_files(run, document, trust if anchored else None, source, ca_fingerprint)
    audit = check_audit(run, doc_id, _audit_head(manifest))
    check_pinned_files(run, _pins(manifest))
    check_tag_files(run, rebuilt)
    check_approval_signature_extras(run)
    indication, sub = worst(_findings(document, approval, run.problems))
    return BundleReport(
        indication=indication,
        sub_indication=sub,
        document_id=doc_id,
        document_sha256=doc_sha,
        verified_at=at_text,
        trust_source=source,
        ca_fingerprint=ca_fingerprint if source == "bundle_ca" else None,
        document=document,
        approval=approval,
        fixity=fixity,
        audit=audit,
        problems=tuple(run.problems),
    )


def _findings(
    document: DocumentReport | None, approval: ApprovalResult, problems: list[Problem]
) -> list[Finding]:
    """In the order a reader should hear of them: unit signatures, the approval signature,
    then the bundle-level findings as they were found."""
    out: list[Finding] = []
    if document is None:
        out.append((Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE))
    else:
        out += [u.report.finding for u in document.units if u.report and not u.report.passed]
    if approval.report is None:
        out.append((Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE))
    elif not approval.report.passed:
        out.append(approval.report.finding)
    return out + [problem.finding for problem in problems]


def _anchored(document: DocumentReport | None, approval: ApprovalResult) -> bool:
    """Whether some signature of the bundle chains to an anchor in use. If none does, the
    result is undecidable anyway and a CRL or CA file of another CA hides nothing (a
    caller checking the bundle against an unrelated CA gets INDETERMINATE, not a failure)."""
    reports = [u.report for u in (() if document is None else document.units)]
    reports.append(approval.report)
    return any(r is not None and r.chain for r in reports)


def _audit_head(manifest: Any) -> str | None:
    head = manifest.get("audit_head") if isinstance(manifest, dict) else None
    return head if isinstance(head, str) and HEX64.fullmatch(head) else None


def _pins(manifest: Any) -> dict[str, str]:
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return {}
    return pinned_files(manifest)


# -- layout and bag ---------------------------------------------------------------------


def check_layout(run: Run) -> None:
    """Every required file is there, and nothing outside the layout is."""
    for name in REQUIRED_FILES:
        if name not in run.files:
            run.fail("missing_file", f"gói thiếu tệp bắt buộc {name}", path=name)
    if not any(cert_path(p) for p in run.files):
        run.fail("missing_file", "gói không có chứng thư số nào trong data/certs/")
    for name in run.files:
        if name in REQUIRED_FILES or signature_path(name) or cert_path(name):
            continue
        run.fail("unexpected_file", f"gói chứa tệp lạ không thuộc cấu trúc: {name}", path=name)


def check_bag_fixity(
    run: Run, bagit_check: bool, *, proven: bool
) -> tuple[FixityResult, Mapping[str, Any]]:
    """The bag's fixity and bag-info's tags. ``proven``: every tag file equals its rebuild
    from the payload's digests, which implies every check of check_fixity; its line-by-line
    reading (the bulk verifier's cost) is then skipped."""
    if proven:
        result = FixityResult(True)
        info: Mapping[str, Any] = parse_tag_file(run.files["bag-info.txt"], "bag-info.txt")
    else:
        result, info = check_fixity(run.files, digests=run.digests)
    if bagit_check:
        result = result.merged(bagit_validate(run.files))
    if not result.ok:
        run.fail(
            "fixity",
            "túi BagIt không toàn vẹn: " + "; ".join(result.errors[:5]),
            SubIndication.HASH_FAILURE,
        )
    return result, info


def _document_body(run: Run) -> Any:
    try:
        return run.json("data/document.json") if "data/document.json" in run.files else None
    except BundleError:
        return None  # reported by read_document_json


def check_format(run: Run, info: Mapping[str, Any]) -> None:
    """A bundle of an unknown format version is not judged by this version's rules."""
    declared = info.get("Thidua-Bundle-Format")
    if info and declared != BUNDLE_FORMAT:
        run.fail(
            "format",
            f"định dạng gói {declared!r} không được hỗ trợ (phiên bản này đọc {BUNDLE_FORMAT})",
            path="bag-info.txt",
        )
    raw = run.files.get("data/verification.json")
    if raw is not None:
        try:
            if not isinstance(strict_json(raw, "data/verification.json"), dict):
                raise BundleError("data/verification.json phải là một đối tượng JSON")
        except BundleError as exc:
            run.fail("verification_json", str(exc), path="data/verification.json")


# -- document.json and bag-info ---------------------------------------------------------


def read_document_json(
    run: Run, doc_sha: str | None, bag_info: Mapping[str, Any]
) -> tuple[str | None, dict[str, str]]:
    """(document id, member units); the id comes from the top folder and must agree with
    document.json and bag-info."""
    expected_id = run.top[len("thidua-") :]
    raw = run.files.get("data/document.json")
    units: dict[str, str] = {}
    doc_id: str | None = expected_id if SAFE_NAME.fullmatch(expected_id) else None
    if doc_id is None:
        run.fail("layout", f"tên thư mục gốc {run.top!r} không chứa mã tài liệu hợp lệ")
    if raw is None:
        return doc_id, units
    try:
        body = run.json("data/document.json")
        if not isinstance(body, dict):
            raise BundleError("data/document.json phải là một đối tượng")
        if body.get("format") != DOCUMENT_FORMAT:
            raise BundleError(f"data/document.json: định dạng {body.get('format')!r} lạ")
        units = _units_from_list(body.get("member_units"))
    except BundleError as exc:
        run.fail("document_json", str(exc), path="data/document.json")
        return doc_id, units
    if body.get("document_id") != expected_id:
        run.fail(
            "document_json",
            f"mã tài liệu trong document.json ({body.get('document_id')!r}) khác thư mục gốc"
            f" ({expected_id!r})",
            path="data/document.json",
        )
    if doc_sha is not None and body.get("document_sha256") != doc_sha:
        run.fail(
            "document_hash",
            "SHA-256 của document.docx khác giá trị ghi trong document.json",
            SubIndication.HASH_FAILURE,
            path="data/document.docx",
        )
    _compare_bag_info(run, bag_info, expected_id, doc_sha, units)
    return doc_id, units


def _units_from_list(value: Any) -> dict[str, str]:
    if not isinstance(value, list) or not value:
        raise BundleError("document.json: member_units phải là danh sách khác rỗng")
    out: dict[str, str] = {}
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"code", "name"}:
            raise BundleError(f"document.json: member_units[{index}] phải có code và name")
        code, name = item["code"], item["name"]
        if not isinstance(code, str) or not SAFE_NAME.fullmatch(code):
            raise BundleError(f"document.json: member_units[{index}].code không hợp lệ")
        if not isinstance(name, str) or not name.strip():
            raise BundleError(f"document.json: member_units[{index}].name không hợp lệ")
        if code in out:
            raise BundleError(f"document.json: đơn vị {code} bị lặp")
        out[code] = name
    return out


def _compare_bag_info(
    run: Run, info: Mapping[str, Any], doc_id: str, doc_sha: str | None, units: Mapping[str, str]
) -> None:
    if not info:
        return  # bag-info unreadable: already a fixity problem
    listed = info.get("Thidua-Member-Unit")
    if isinstance(listed, str):
        listed = [listed]
    if not isinstance(listed, list):
        run.fail("bag_info", "bag-info.txt không liệt kê đơn vị thành viên", path="bag-info.txt")
        return
    mine = [f"{code} {name}" for code, name in units.items()]
    if [unicodedata.normalize("NFC", item) for item in listed] != mine:
        run.fail(
            "bag_info",
            "danh sách đơn vị thành viên trong bag-info.txt khác document.json",
            path="bag-info.txt",
        )
    if info.get("Thidua-Document-Id") != doc_id:
        run.fail("bag_info", "mã tài liệu trong bag-info.txt khác thư mục gốc", path="bag-info.txt")
    if doc_sha is not None and info.get("Thidua-Document-SHA256") != doc_sha:
        run.fail(
            "bag_info",
            "SHA-256 tài liệu trong bag-info.txt khác document.docx",
            SubIndication.HASH_FAILURE,
            path="bag-info.txt",
        )


# -- signatures -------------------------------------------------------------------------


def check_unit_signatures(
    run: Run,
    units: Mapping[str, str],
    signatures: Mapping[str, bytes],
    trust: TrustStore | None,
) -> DocumentReport | None:
    """Each member unit's signature over the document (hashed once, by the fixity check)."""
    docx = run.files.get("data/document.docx")
    if docx is None or not units:
        return None  # already reported as a missing or unreadable file
    digests = DocumentDigests(docx, {"sha256": run.digest("data/document.docx")})
    document = verify_document_digests(digests, units, signatures, trust, at=run.at)
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
        mismatches = manifest_mismatches(body, doc_id, doc_sha, hashes, units or None)
    decision, approved_at, board_code = _decision_fields(body)
    report = verify_signature(manifest, signature, trust, at=run.at, expected_unit_code=board_code)
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
