"""Verifying an archive bundle offline, as small named steps over one ``Run``.

The verifier trusts nothing in the bundle and judges every part: the zip (one reading,
signing.archive.zipio), the layout, bag fixity, each unit's signature over the signed file
(data/document.docx, or a dossier's data/dossier.json, whose listed documents must be in
data/parts with their SHA-256 and size, and nothing else there), that every member unit
signed, the board's signature over the approval manifest and that the manifest names
exactly the bundle's document, signatures and files, the audit segment up to the approval,
and that every member is signed or rebuilt from signed data (signing.archive.verify_pins).

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
from signing.archive.dossier import Dossier, parse_dossier
from signing.archive.layout import (
    APPROVAL_PATH,
    APPROVAL_SIGNATURE_PATH,
    BUNDLE_FORMAT,
    DOCUMENT_FORMAT,
    DOCUMENT_PATH,
    DOSSIER_PATH,
    HEX64,
    PARTS_DIR,
    REQUIRED_FILES,
    SAFE_NAME,
    SIGNED_FILES,
    cert_path,
    part_path,
    signature_path,
    signed_file,
)
from signing.archive.manifest import MANIFEST_FORMAT, manifest_mismatches, pinned_files
from signing.archive.report import ApprovalResult, BundleReport, PartResult, Problem
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
    HASH_FAILURE for bag fixity, a manifest or pinned file that names other bytes, a
    dossier's document that differs from (or is missing against) its signed dossier.json,
    or a broken audit chain; UNSIGNED_CONTENT for a member no signature covers (a document
    in data/parts that dossier.json does not list among them); FORMAT_FAILURE
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
    signed = check_layout(run)
    check_folders(run, contents.folders)
    return _judge(run, signed, trust, wanted_fp, at_text, bagit_check)


def _judge(
    run: Run,
    signed: str | None,
    given: TrustStore | None,
    ca_fingerprint: str | None,
    at_text: str,
    bagit_check: bool,
) -> BundleReport:
    rebuilt = rebuilt_tag_mismatches(run, _document_body(run))
    fixity, bag_info = check_bag_fixity(run, bagit_check, proven=rebuilt == [])
    check_format(run, bag_info)
    doc_sha = None if signed is None else run.digest(signed).hex()
    doc_id, units = read_document_json(run, doc_sha, bag_info, signed)
    dossier, parts = check_dossier(run, signed)
    trust, source, foreign_crl = choose_trust(run, given, ca_fingerprint)
    signatures = {
        path[len("data/signatures/") : -len(".p7s")]: content
        for path, content in sorted(run.files.items())
        if signature_path(path)
    }
    document = check_unit_signatures(run, units, signatures, trust, signed)
    approval, manifest = check_approval(run, doc_id, doc_sha, signatures, units, trust, signed)
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
        signed_path=signed,
        dossier=dossier,
        parts=parts,
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


def check_layout(run: Run) -> str | None:
    """Every required file is there, exactly one signed file (data/document.docx, or a
    dossier's data/dossier.json), data/parts/ only beside a dossier.json, and nothing
    outside the layout. Returns the signed file's path (None when there is none)."""
    for name in REQUIRED_FILES:
        if name not in run.files:
            run.fail("missing_file", f"gói thiếu tệp bắt buộc {name}", path=name)
    signed = _signed_path(run)
    has_parts = any(p.startswith(PARTS_DIR) for p in run.files)
    if signed is None:
        run.fail(
            "missing_file",
            f"gói thiếu tệp được ký: cần {DOCUMENT_PATH} (một văn bản) hoặc {DOSSIER_PATH}"
            " (hồ sơ nhiều văn bản)",
            path=DOSSIER_PATH if has_parts else DOCUMENT_PATH,
        )
    for other in SIGNED_FILES:
        if signed is not None and other != signed and other in run.files:
            run.fail(
                "unexpected_file",
                f"gói chứa cả {DOCUMENT_PATH} lẫn {DOSSIER_PATH}, chỉ được có một tệp được"
                f" ký: các đơn vị ký {signed}, {other} không thuộc cấu trúc",
                path=other,
            )
    if not any(cert_path(p) for p in run.files):
        run.fail("missing_file", "gói không có chứng thư số nào trong data/certs/")
    for name in run.files:
        if name.startswith(PARTS_DIR):
            if not part_path(name):
                run.fail(
                    "unexpected_file",
                    f"tên văn bản của hồ sơ không hợp lệ: {name} (cần dạng"
                    f" {PARTS_DIR}01-ten-van-ban.docx)",
                    path=name,
                )
            elif signed == DOCUMENT_PATH:
                run.fail(
                    "unexpected_file",
                    f"gói chứa {name} nhưng không phải hồ sơ: văn bản trong {PARTS_DIR} chỉ"
                    f" được có cùng {DOSSIER_PATH}",
                    path=name,
                )
            continue
        if (
            name in REQUIRED_FILES
            or name in SIGNED_FILES
            or signature_path(name)
            or cert_path(name)
        ):
            continue
        run.fail("unexpected_file", f"gói chứa tệp lạ không thuộc cấu trúc: {name}", path=name)
    return signed


def _signed_path(run: Run) -> str | None:
    """The file the unit signatures cover: the one of document.docx and dossier.json the
    bundle holds; with both, the one document.json names (its ``signed_file``), else the
    dossier's."""
    body = _document_body(run)
    declared = body.get("signed_file") if isinstance(body, dict) else None
    if declared in SIGNED_FILES and declared in run.files:
        return str(declared)
    return signed_file(run.files)


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
    run: Run, doc_sha: str | None, bag_info: Mapping[str, Any], signed: str | None
) -> tuple[str | None, dict[str, str]]:
    """(document id, member units); the id comes from the top folder and must agree with
    document.json and bag-info, and document.json must describe the signed file ``signed``
    (its ``signed_file`` and SHA-256; a bundle made before dossiers existed has no
    ``signed_file``, and its signed file is document.docx)."""
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
    declared = body.get("signed_file", DOCUMENT_PATH)
    if signed is not None and declared != signed:
        run.fail(
            "document_json",
            f"document.json ghi tệp được ký là {declared!r}, nhưng gói có {signed}",
            path="data/document.json",
        )
    if signed is not None and doc_sha is not None and body.get("document_sha256") != doc_sha:
        run.fail(
            "document_hash",
            f"SHA-256 của {_short(signed)} khác giá trị ghi trong document.json",
            SubIndication.HASH_FAILURE,
            path=signed,
        )
    _compare_bag_info(run, bag_info, expected_id, doc_sha, units, signed)
    return doc_id, units


def _short(path: str) -> str:
    return path.removeprefix("data/")


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
    run: Run,
    info: Mapping[str, Any],
    doc_id: str,
    doc_sha: str | None,
    units: Mapping[str, str],
    signed: str | None,
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
    if signed is not None and doc_sha is not None and info.get("Thidua-Document-SHA256") != doc_sha:
        run.fail(
            "bag_info",
            f"SHA-256 tài liệu trong bag-info.txt khác {_short(signed)}",
            SubIndication.HASH_FAILURE,
            path="bag-info.txt",
        )


# -- a dossier's documents --------------------------------------------------------------


def check_dossier(run: Run, signed: str | None) -> tuple[Dossier | None, tuple[PartResult, ...]]:
    """With data/dossier.json (what the units sign): it reads strictly, every document it
    lists is in data/parts with the listed SHA-256 and size (HASH_FAILURE naming the part,
    a missing part too: the signed hash finds no document), and every file in data/parts is
    listed (UNSIGNED_CONTENT naming it). Returns the dossier and its parts' results."""
    if signed != DOSSIER_PATH:
        return None, ()
    try:
        dossier = parse_dossier(run.files[DOSSIER_PATH])
    except BundleError as exc:
        run.fail("dossier_json", str(exc), path=DOSSIER_PATH)
        return None, ()
    results = []
    for part in dossier.parts:
        content = run.files.get(part.path)
        intact = (
            content is not None
            and len(content) == part.size
            and run.digest(part.path).hex() == part.sha256
        )
        if content is None:
            run.fail(
                "missing_part",
                f"gói thiếu văn bản {part.path} ({part.title}) mà {DOSSIER_PATH} (được các đơn"
                " vị ký) liệt kê",
                SubIndication.HASH_FAILURE,
                path=part.path,
            )
        elif not intact:
            run.fail(
                "part_hash",
                f"{part.path} ({part.title}) khác văn bản các đơn vị đã ký: SHA-256 hoặc kích"
                f" thước không khớp {DOSSIER_PATH}",
                SubIndication.HASH_FAILURE,
                path=part.path,
            )
        results.append(PartResult(part, intact))
    listed = {part.path for part in dossier.parts}
    for path in sorted(run.files):
        if path.startswith(PARTS_DIR) and path not in listed:
            run.fail(
                "unlisted_part",
                f"{path} không có trong {DOSSIER_PATH}: văn bản không được các đơn vị ký",
                SubIndication.UNSIGNED_CONTENT,
                path=path,
            )
    return dossier, tuple(results)


# -- signatures -------------------------------------------------------------------------


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
