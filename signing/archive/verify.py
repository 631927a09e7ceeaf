"""Verifying an archive bundle offline, as small named steps over one ``Run``.

The verifier trusts nothing in the bundle and judges every part: the zip (one reading,
signing.archive.zipio), the layout and bag fixity (signing.archive.verify_layout),
document.json and a dossier's documents, whose listed documents must be in data/parts with
their SHA-256 and size, and nothing else there (verify_document), each unit's signature over
the signed file (data/document.docx, or a dossier's data/dossier.json), that every member
unit signed, the board's signature over the approval manifest and that the manifest names
exactly the bundle's document, signatures and files (verify_signatures), trust
(verify_trust), the signed PDFs' PAdES signatures (verify_pdfs), the audit segment up to
the approval (verify_audit), and that every member is signed or rebuilt from signed data
(verify_pins). This module holds the entry point and
the order of the steps.

Trust never comes from the bundle alone: its CA is used only when the caller passes that CA's
SHA-256 fingerprint (obtained out of band), otherwise signatures are INDETERMINATE.

Pure: no clock (``at`` is a parameter), no database.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from signing.archive.canonical import iso_utc
from signing.archive.layout import HEX64, signature_path
from signing.archive.manifest import MANIFEST_FORMAT, pinned_files
from signing.archive.report import ApprovalResult, BundleReport, Problem
from signing.archive.run import Run
from signing.archive.verify_audit import check_audit
from signing.archive.verify_document import check_dossier, document_body, read_document_json
from signing.archive.verify_layout import check_bag_fixity, check_format, check_layout
from signing.archive.verify_pdfs import check_pdfs
from signing.archive.verify_pins import (
    check_approval_signature_extras,
    check_folders,
    check_pinned_files,
    check_tag_files,
    rebuilt_tag_mismatches,
)
from signing.archive.verify_signatures import check_approval, check_unit_signatures
from signing.archive.verify_timestamps import check_reused_serials, check_timestamps
from signing.archive.verify_trust import check_certificate_files, choose_trust
from signing.archive.zipio import DEFAULT_LIMITS, ZipLimits, read_zip
from signing.errors import BundleError, FormatError, SigningError
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
    says "incomplete"). A signed PDF (data/document.pdf, data/parts/NN-name.pdf) fails with
    the sub-indication of each PAdES signature verify_pdf rules failed, and when the board's
    field is unsigned (SIGNED_DATA_NOT_FOUND), naming the PDF (signing.archive.verify_pdfs).
    Anything merely undecidable (no trust anchor, an approval signed by
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
    rebuilt = rebuilt_tag_mismatches(run, document_body(run))
    fixity, bag_info = check_bag_fixity(run, bagit_check, proven=rebuilt == [])
    check_format(run, bag_info)
    doc_sha = None if signed is None else run.digest(signed).hex()
    doc_id, units = read_document_json(run, doc_sha, bag_info, signed)
    dossier, parts = check_dossier(run, signed)
    trust, source, foreign_crl = choose_trust(run, given, ca_fingerprint)
    archive_timestamps = check_timestamps(run, trust)
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
    pdfs = check_pdfs(run, signed, dossier, units, approval.decision, trust, document)
    audit = check_audit(run, doc_id, _audit_head(manifest))
    check_pinned_files(run, _pins(manifest))
    check_tag_files(run, rebuilt)
    check_approval_signature_extras(run)
    check_reused_serials(run, document, approval, archive_timestamps)
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
        pdfs=pdfs,
        archive_timestamps=archive_timestamps,
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
