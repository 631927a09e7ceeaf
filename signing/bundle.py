"""Archive bundles: a BagIt bag (RFC 8493) in a zip that proves an approved document offline.

Layout (DESIGN.md, "Evidence and archive")::

    thidua-<document-id>/
      bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
      data/document.docx             frozen bytes every signature covers
      data/document.json             structured content, metadata, member units
      data/signatures/<UNIT>.p7s     one detached CMS per member unit
      data/approval/manifest.json    what the board approved (+ manifest.json.p7s)
      data/certs/*.pem               signer certificates and the CA chain
      data/crl.der                   the CA's CRL at archive time
      data/audit.jsonl               this document's audit events with their chain hashes
      data/verification.json         the verification report at archive time

The builder packages evidence and refuses inconsistent input; the verifier trusts nothing in
the bundle and judges every part: bag fixity, each unit's signature over the document, that
every member unit signed, the board's signature over the approval manifest and that the
manifest names exactly the bundle's document and signatures, and the audit-chain segment.

Trust never comes from the bundle alone: its CA is used only when the caller passes that CA's
SHA-256 fingerprint (obtained out of band), otherwise signatures are INDETERMINATE.

Pure: no clock (``created_at`` and ``at`` are parameters), no database.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import bagit
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signing.audit import verify_chain
from signing.bagfixity import FixityResult, bagit_validate, check_fixity, make_bag_files
from signing.ca import certificate_unit_code, fingerprint_sha256
from signing.credentials import load_certificates
from signing.errors import BundleError, FormatError, SigningError
from signing.safezip import DEFAULT_LIMITS, ZipLimits, read_zip, write_zip, zip_timestamp
from signing.verify import (
    DocumentReport,
    Indication,
    SignatureReport,
    SubIndication,
    TrustStore,
    UnitResult,
    _Digests,
    _verify_document,
    crl_issuer_der,
    verify_signature,
)

__all__ = [
    "BUNDLE_FORMAT",
    "MANIFEST_FORMAT",
    "ApprovalResult",
    "AuditResult",
    "BundleInput",
    "BundleReport",
    "FixityResult",
    "Problem",
    "approval_manifest",
    "build_bundle",
    "normalize_fingerprint",
    "verify_bundle",
]

BUNDLE_FORMAT = "thidua-bundle/1"
MANIFEST_FORMAT = "thidua-approval-manifest/1"
DOCUMENT_FORMAT = "thidua-document/1"

# Unit codes and document ids become file and folder names; keep them portable.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt")
_MAX_JSON_DEPTH = 64
_MAX_AUDIT_EVENTS = 100_000


# ---------------------------------------------------------------------------------------
# canonical JSON and small checks


def _json_value(value: Any, path: str) -> Any:
    """Plain JSON value with NFC strings; datetimes as ISO 8601 UTC, dates as ISO dates."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BundleError(f"{path}: số không hữu hạn (NaN/Infinity) không được phép")
        return value
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise BundleError(f"{path}: khóa {key!r} phải là chuỗi")
            norm = unicodedata.normalize("NFC", key)
            if norm in out:
                raise BundleError(f"{path}: khóa {norm!r} bị trùng sau chuẩn hóa NFC")
            out[norm] = _json_value(item, f"{path}.{norm}")
        return out
    if isinstance(value, list | tuple):
        return [_json_value(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise BundleError(f"{path}: kiểu {type(value).__name__} không ghi được thành JSON")


def canonical_json(value: Any) -> bytes:
    """Canonical UTF-8 JSON: sorted keys, no insignificant spaces, non-ASCII kept, NFC."""
    return json.dumps(
        _json_value(value, "$"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def _pretty_json(value: Any) -> bytes:
    """Readable JSON for files people open in an archive (still deterministic)."""
    text = json.dumps(
        _json_value(value, "$"), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode("utf-8")


def _iso(moment: datetime) -> str:
    if not isinstance(moment, datetime):
        raise BundleError(f"cần một datetime, không phải {type(moment).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    except OverflowError:
        raise BundleError(f"thời điểm {moment!r} nằm ngoài phạm vi biểu diễn được") from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_name(value: Any, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value):
        raise BundleError(
            f"{what} {value!r} không hợp lệ: chỉ dùng chữ cái không dấu, chữ số, '-', '_', '.'"
            " (tối đa 128 ký tự, bắt đầu bằng chữ hoặc số)"
        )
    return value


def _check_text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BundleError(f"{what} phải là chuỗi khác rỗng")
    if any(ord(ch) < 0x20 for ch in value):
        raise BundleError(f"{what} không được chứa ký tự điều khiển (xuống dòng, tab...)")
    return unicodedata.normalize("NFC", value.strip())


def _check_units(units: Any, what: str) -> dict[str, str]:
    if not isinstance(units, Mapping) or not units:
        raise BundleError(f"{what}: cần ít nhất một đơn vị (mã → tên)")
    out: dict[str, str] = {}
    folded: set[str] = set()
    for code, name in units.items():
        code = _check_name(code, "mã đơn vị")
        if code.casefold() in folded:
            raise BundleError(f"{what}: mã đơn vị {code!r} bị trùng")
        folded.add(code.casefold())
        out[code] = _check_text(name, f"tên đơn vị {code}")
    return out


def _check_bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or not value:
        raise BundleError(f"{what} phải là dữ liệu nhị phân khác rỗng")
    return bytes(value)


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
    if not _HEX64.fullmatch(text):
        raise FormatError(
            f"dấu vân tay SHA-256 không hợp lệ: cần 64 chữ số hex, nhận {value[:100]!r}"
        )
    return text


# ---------------------------------------------------------------------------------------
# approval manifest


def approval_manifest(
    document_id: str,
    document_sha256: str,
    unit_signatures: Mapping[str, bytes],
    decision: Mapping[str, Any],
    approved_at: datetime,
    *,
    member_units: Mapping[str, str] | None = None,
    audit_head: str | None = None,
) -> bytes:
    """Canonical JSON the board signs when it approves: which document (id and SHA-256),
    the SHA-256 of each member unit's signature by unit code, the decision (e.g. number,
    date and the approving board as ``{"board": {"code": ..., "name": ...}}``) and when.

    ``member_units`` (code → name), when given, binds the list of units that had to sign to
    the board's signature as well. ``decision["board"]["code"]``, when given, is the unit
    code the approval signer's certificate must carry.

    ``audit_head``, when given, is the hash of the document's last audit event before the
    approval. Signed by the board, it pins the archived audit segment: a verifier requires
    that event in data/audit.jsonl followed only by the approval (and archive) events, so a
    segment cut short (a prefix of a hash chain is still a valid chain) is caught.
    """
    doc_id = _check_name(document_id, "mã tài liệu")
    if not isinstance(document_sha256, str) or not _HEX64.fullmatch(document_sha256.lower()):
        raise BundleError("document_sha256 phải là 64 chữ số hex (SHA-256)")
    if not isinstance(unit_signatures, Mapping) or not unit_signatures:
        raise BundleError("bản kê phê duyệt cần chữ ký của ít nhất một đơn vị")
    signatures = {
        _check_name(code, "mã đơn vị"): _sha256(_check_bytes(der, f"chữ ký của {code}"))
        for code, der in unit_signatures.items()
    }
    if not isinstance(decision, Mapping):
        raise BundleError("quyết định phê duyệt (decision) phải là một đối tượng")
    body: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "document_id": doc_id,
        "document_sha256": document_sha256.lower(),
        "unit_signatures": signatures,
        "decision": decision,
        "approved_at": _iso(approved_at),
    }
    if audit_head is not None:
        if not isinstance(audit_head, str) or not _HEX64.fullmatch(audit_head.lower()):
            raise BundleError("audit_head phải là 64 chữ số hex (SHA-256 của sự kiện nhật ký)")
        body["audit_head"] = audit_head.lower()
    if member_units is not None:
        units = _check_units(member_units, "member_units")
        body["member_units"] = units
        missing = sorted(set(units) - set(signatures))
        if missing:
            raise BundleError("chưa đủ chữ ký để phê duyệt, thiếu: " + ", ".join(missing))
    return canonical_json(body)


# ---------------------------------------------------------------------------------------
# building


@dataclass(frozen=True)
class BundleInput:
    """Everything an archive bundle holds. ``certificates`` are the signers' certificates
    and the CA chain (x509 objects, or PEM/DER bytes); ``crl`` is DER; ``audit_events`` are
    this document's events in order, each with its fields, ``hash`` and ``id`` (see
    signing.audit); ``verification`` is the report produced at archive time."""

    document_id: str
    document_docx: bytes
    document_json: Mapping[str, Any]
    expected_units: Mapping[str, str]
    unit_signatures: Mapping[str, bytes]
    approval_manifest: bytes
    approval_signature: bytes
    certificates: Sequence[x509.Certificate | bytes]
    crl: bytes
    audit_events: Sequence[Mapping[str, Any]]
    verification: Mapping[str, Any]
    created_at: datetime


def build_bundle(inp: BundleInput) -> bytes:
    """The archive zip for ``inp``. Deterministic: the same input gives the same bytes.

    Refuses (BundleError) input that would make a bundle contradicting itself: a signature
    missing for a member unit or present for a stranger, an approval manifest naming other
    bytes, no CA certificate to anchor the chain.
    """
    if not isinstance(inp, BundleInput):
        raise BundleError("build_bundle cần một BundleInput")
    doc_id = _check_name(inp.document_id, "mã tài liệu")
    docx = _check_bytes(inp.document_docx, "document_docx")
    units = _check_units(inp.expected_units, "expected_units")
    if not isinstance(inp.unit_signatures, Mapping):
        raise BundleError("unit_signatures phải là ánh xạ mã đơn vị → chữ ký DER")
    signatures = {
        _check_name(code, "mã đơn vị"): _check_bytes(der, f"chữ ký của {code}")
        for code, der in inp.unit_signatures.items()
    }
    missing = [code for code in units if code not in signatures]
    if missing:
        raise BundleError("thiếu chữ ký của đơn vị: " + ", ".join(missing))
    strangers = sorted(set(signatures) - set(units))
    if strangers:
        raise BundleError("có chữ ký của đơn vị không thuộc danh sách: " + ", ".join(strangers))
    manifest = _check_bytes(inp.approval_manifest, "approval_manifest")
    _check_manifest_matches(manifest, doc_id, docx, signatures)
    approval_sig = _check_bytes(inp.approval_signature, "approval_signature")
    crl = _check_bytes(inp.crl, "crl")
    if not isinstance(inp.document_json, Mapping):
        raise BundleError("document_json phải là một đối tượng")
    if not isinstance(inp.verification, Mapping):
        raise BundleError("verification phải là một đối tượng")
    certs = _certificate_files(inp.certificates)
    created = _iso(inp.created_at)
    zip_timestamp(inp.created_at)  # refuse a date zip cannot carry before doing the work

    payload: dict[str, bytes] = {
        "document.docx": docx,
        "document.json": _pretty_json(
            {
                "format": DOCUMENT_FORMAT,
                "document_id": doc_id,
                "document_sha256": _sha256(docx),
                "document_size": len(docx),
                "member_units": [{"code": c, "name": n} for c, n in units.items()],
                "content": inp.document_json,
                "created_at": created,
            }
        ),
        "approval/manifest.json": manifest,
        "approval/manifest.json.p7s": approval_sig,
        "crl.der": crl,
        "audit.jsonl": _audit_lines(inp.audit_events),
        "verification.json": _pretty_json(inp.verification),
    }
    for code, der in signatures.items():
        payload[f"signatures/{code}.p7s"] = der
    for name, pem in certs.items():
        payload[f"certs/{name}"] = pem

    title = inp.document_json.get("title")
    bag_info: dict[str, Any] = {
        "Bag-Software-Agent": f"thidua ({BUNDLE_FORMAT}; bagit.py {bagit.VERSION})",
        "Bagging-Date": created[:10],  # the date in UTC; bagit would stamp today
        "External-Identifier": doc_id,
        "External-Description": _check_text(title, "title")
        if isinstance(title, str) and title.strip()
        else f"thidua document {doc_id}",
        "Thidua-Bundle-Format": BUNDLE_FORMAT,
        "Thidua-Document-Id": doc_id,
        "Thidua-Document-SHA256": _sha256(docx),
        "Thidua-Created-At": created,
        "Thidua-Member-Unit-Count": str(len(units)),
        "Thidua-Member-Unit": [f"{code} {name}" for code, name in units.items()],
    }
    top = f"thidua-{doc_id}"
    bag_files = make_bag_files(payload, bag_info)
    ordered = [name for name in _TAG_FILES if name in bag_files]
    ordered += sorted(name for name in bag_files if name not in _TAG_FILES)
    return write_zip(
        ((f"{top}/{name}", bag_files[name]) for name in ordered), moment=inp.created_at
    )


def _check_manifest_matches(
    manifest: bytes, doc_id: str, docx: bytes, signatures: Mapping[str, bytes]
) -> None:
    try:
        body = _strict_json(manifest, "approval/manifest.json")
    except BundleError as exc:
        raise BundleError(f"approval_manifest không đọc được: {exc}") from None
    hashes = {code: _sha256(der) for code, der in signatures.items()}
    problems = _manifest_mismatches(body, doc_id, _sha256(docx), hashes, None)
    if problems:
        raise BundleError("bản kê phê duyệt không khớp gói: " + "; ".join(problems))


def _certificate_files(certificates: Sequence[x509.Certificate | bytes]) -> dict[str, bytes]:
    """PEM files named by role and fingerprint: ``ca-<fp16>.pem`` for CA certificates,
    ``<UNIT-CODE>-<fp16>.pem`` for signers (``cert-<fp16>.pem`` without a usable code)."""
    if isinstance(certificates, bytes | bytearray) or not isinstance(certificates, Sequence):
        raise BundleError("certificates phải là danh sách chứng thư số")
    parsed: list[x509.Certificate] = []
    for item in certificates:
        if isinstance(item, x509.Certificate):
            parsed.append(item)
        elif isinstance(item, bytes | bytearray):
            try:
                parsed.extend(load_certificates(bytes(item)))
            except FormatError as exc:
                raise BundleError(f"chứng thư số không đọc được: {exc}") from None
        else:
            raise BundleError(
                f"chứng thư số phải là x509.Certificate hoặc PEM/DER, không phải {item!r}"
            )
    files: dict[str, bytes] = {}
    seen: set[str] = set()
    has_ca = False
    for cert in parsed:
        fp = fingerprint_sha256(cert)
        if fp in seen:
            continue
        seen.add(fp)
        if _is_ca(cert):
            has_ca = True
            name = f"ca-{fp[:16]}.pem"
        else:
            code = certificate_unit_code(cert)
            prefix = code if code and _SAFE_NAME.fullmatch(code) else "cert"
            name = f"{prefix}-{fp[:16]}.pem"
        files[name] = cert.public_bytes(serialization.Encoding.PEM)
    if not has_ca:
        raise BundleError("gói cần chứng thư số của CA (để kiểm tra ngoại tuyến)")
    return dict(sorted(files.items()))


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _audit_lines(events: Sequence[Mapping[str, Any]]) -> bytes:
    if isinstance(events, Mapping | str | bytes) or not isinstance(events, Sequence):
        raise BundleError("audit_events phải là danh sách sự kiện")
    lines = []
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise BundleError(f"audit_events[{index}] phải là một đối tượng")
        lines.append(canonical_json(event) + b"\n")
    return b"".join(lines)


# ---------------------------------------------------------------------------------------
# verification report


@dataclass(frozen=True)
class Problem:
    """One finding. ``code`` is stable for programs, ``message`` is for people (Vietnamese)."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class ApprovalResult:
    """The board's signature over data/approval/manifest.json and whether the manifest names
    exactly this bundle's document and signatures."""

    report: SignatureReport | None
    manifest_matches: bool
    decision: Mapping[str, Any] | None = None
    approved_at: str | None = None
    mismatches: tuple[str, ...] = ()
    signer_is_member: bool = False  # a member unit, not the board, signed the approval

    @property
    def passed(self) -> bool:
        return (
            self.report is not None
            and self.report.passed
            and self.manifest_matches
            and not self.signer_is_member
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "manifest_matches": self.manifest_matches,
            "mismatches": list(self.mismatches),
            "signer_is_member": self.signer_is_member,
            "decision": None if self.decision is None else dict(self.decision),
            "approved_at": self.approved_at,
            "report": None if self.report is None else self.report.to_dict(),
        }


@dataclass(frozen=True)
class AuditResult:
    """The document's audit-chain segment in data/audit.jsonl."""

    ok: bool
    events: int
    broken_index: int | None = None
    broken_id: Any = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "broken_index": self.broken_index,
            "broken_id": self.broken_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class BundleReport:
    """Outcome of verifying an archive bundle. ``indication`` is TOTAL_PASSED only when the
    bag is intact, every member unit's signature passed, the board's approval passed and
    matches, and the audit segment is unbroken."""

    indication: Indication
    sub_indication: SubIndication | None
    document_id: str | None
    document_sha256: str | None
    verified_at: str
    trust_source: str  # "given" | "bundle_ca" | "none"
    ca_fingerprint: str | None
    document: DocumentReport | None  # None when data/document.docx is missing
    approval: ApprovalResult
    fixity: FixityResult
    audit: AuditResult
    problems: tuple[Problem, ...] = field(default_factory=tuple)

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "indication": str(self.indication),
            "sub_indication": None if self.sub_indication is None else str(self.sub_indication),
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
        }


# ---------------------------------------------------------------------------------------
# verification


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

    The indication is TOTAL_PASSED only when everything passed. Otherwise it is that of the
    first failure, unit signatures first: a signature's own ETSI result; HASH_FAILURE for
    bag fixity, an approval manifest that names other bytes, or a broken audit chain;
    FORMAT_FAILURE for layout problems and for a member unit whose signature is missing (an
    archived bundle asserts that every member signed: ``status`` then says "incomplete").
    Anything merely undecidable (no trust anchor, an approval signed by a member unit)
    makes it INDETERMINATE.

    Raises BundleError when the input is not a safe, readable bundle zip (limits, traversal,
    links, bombs, damage) and FormatError for a malformed ``ca_fingerprint``; any problem
    inside a readable bundle yields a failed report instead.
    """
    wanted_fp = None if ca_fingerprint is None else normalize_fingerprint(ca_fingerprint)
    if trust is not None and not isinstance(trust, TrustStore):
        raise SigningError("trust phải là một TrustStore hoặc None")
    at_text = _iso(at)
    contents = read_zip(data, limits)
    if not contents.top.startswith("thidua-"):
        raise BundleError(
            f"không phải gói lưu trữ thidua: thư mục gốc là {contents.top!r}, cần 'thidua-<mã>'"
        )
    verifier = _Verifier(contents.top, contents.files, trust, wanted_fp, at, bagit_check)
    return verifier.run(at_text)


class _Verifier:
    """One verification run; collects problems instead of stopping at the first."""

    def __init__(
        self,
        top: str,
        files: dict[str, bytes],
        trust: TrustStore | None,
        ca_fingerprint: str | None,
        at: datetime,
        bagit_check: bool,
    ) -> None:
        self.top = top
        self.bagit_check = bagit_check
        self.files = files
        self.given_trust = trust
        self.ca_fingerprint = ca_fingerprint
        self.at = at
        self.problems: list[Problem] = []
        # SHA-256 of the payload files hashed by the fixity check, by path: the document is
        # hashed once, not again for document.json and for every signature.
        self.digests: dict[str, bytes] = {}
        # (indication, sub-indication) of every finding that is not a signature report
        self.findings: list[tuple[Indication, SubIndication]] = []
        # The hash of the document's last audit event before approval, as the board signed
        # it in the approval manifest (None for manifests written without a chain).
        self.audit_head: str | None = None
        # Why data/crl.der belongs to no anchor in use, when it does not.
        self.foreign_crl: str | None = None

    def fail(
        self, code: str, message: str, sub: SubIndication = SubIndication.FORMAT_FAILURE
    ) -> None:
        self.problems.append(Problem(code, message))
        self.findings.append((Indication.TOTAL_FAILED, sub))

    def note(self, code: str, message: str, sub: SubIndication) -> None:
        self.problems.append(Problem(code, message))
        self.findings.append((Indication.INDETERMINATE, sub))

    # -- the run ------------------------------------------------------------------------
    def run(self, at_text: str) -> BundleReport:
        self._check_layout()
        fixity, bag_info = self._fixity()
        self._check_format(bag_info)
        docx = self.files.get("data/document.docx")
        doc_digest = None
        if docx is not None:
            doc_digest = self.digests.get("data/document.docx") or hashlib.sha256(docx).digest()
        doc_sha = None if doc_digest is None else doc_digest.hex()
        doc_id, units = self._document_json(doc_sha, bag_info)
        trust, source = self._trust()
        signatures = {
            path[len("data/signatures/") : -len(".p7s")]: content
            for path, content in sorted(self.files.items())
            if _signature_path(path)
        }
        document = self._units(units, docx, doc_digest, signatures, trust)
        approval = self._approval(doc_id, doc_sha, signatures, units, trust)
        anchored = _anchored(document, approval)
        if self.foreign_crl is not None and anchored:
            # The signatures chain to an anchor in use, yet the CRL is not that anchor's: it
            # could hide a revocation. Same outcome as a missing data/crl.der (see _with_crl).
            self.fail("crl", self.foreign_crl)
        self._certificates(document, trust if anchored else None, source)
        audit = self._audit(doc_id)
        indication, sub = self._overall(document, approval)
        return BundleReport(
            indication=indication,
            sub_indication=sub,
            document_id=doc_id,
            document_sha256=doc_sha,
            verified_at=at_text,
            trust_source=source,
            ca_fingerprint=self.ca_fingerprint if source == "bundle_ca" else None,
            document=document,
            approval=approval,
            fixity=fixity,
            audit=audit,
            problems=tuple(self.problems),
        )

    # -- layout -------------------------------------------------------------------------
    def _check_layout(self) -> None:
        required = [
            *_TAG_FILES,
            "data/document.docx",
            "data/document.json",
            "data/approval/manifest.json",
            "data/approval/manifest.json.p7s",
            "data/crl.der",
            "data/audit.jsonl",
            "data/verification.json",
        ]
        for name in required:
            if name not in self.files:
                self.fail("missing_file", f"gói thiếu tệp bắt buộc {name}")
        if not any(_cert_path(p) for p in self.files):
            self.fail("missing_file", "gói không có chứng thư số nào trong data/certs/")
        for name in self.files:
            if name in required or _signature_path(name) or _cert_path(name):
                continue
            self.fail("unexpected_file", f"gói chứa tệp lạ không thuộc cấu trúc: {name}")

    # -- fixity -------------------------------------------------------------------------
    def _fixity(self) -> tuple[FixityResult, Mapping[str, Any]]:
        result, info = check_fixity(self.files, digests=self.digests)
        if self.bagit_check:
            result = result.merged(bagit_validate(self.files))
        if not result.ok:
            self.fail(
                "fixity",
                "túi BagIt không toàn vẹn: " + "; ".join(result.errors[:5]),
                SubIndication.HASH_FAILURE,
            )
        return result, info

    # -- document.json and bag-info -----------------------------------------------------
    def _document_json(
        self, doc_sha: str | None, bag_info: Mapping[str, Any]
    ) -> tuple[str | None, dict[str, str]]:
        expected_id = self.top[len("thidua-") :]
        raw = self.files.get("data/document.json")
        units: dict[str, str] = {}
        doc_id: str | None = expected_id if _SAFE_NAME.fullmatch(expected_id) else None
        if doc_id is None:
            self.fail("layout", f"tên thư mục gốc {self.top!r} không chứa mã tài liệu hợp lệ")
        if raw is None:
            return doc_id, units
        try:
            body = _strict_json(raw, "data/document.json")
            if not isinstance(body, dict):
                raise BundleError("data/document.json phải là một đối tượng")
            if body.get("format") != DOCUMENT_FORMAT:
                raise BundleError(f"data/document.json: định dạng {body.get('format')!r} lạ")
            units = _units_from_list(body.get("member_units"))
        except BundleError as exc:
            self.fail("document_json", str(exc))
            return doc_id, units
        if body.get("document_id") != expected_id:
            self.fail(
                "document_json",
                f"mã tài liệu trong document.json ({body.get('document_id')!r}) khác thư mục gốc"
                f" ({expected_id!r})",
            )
        if doc_sha is not None and body.get("document_sha256") != doc_sha:
            self.fail(
                "document_hash",
                "SHA-256 của document.docx khác giá trị ghi trong document.json",
                SubIndication.HASH_FAILURE,
            )
        self._compare_bag_info(bag_info, expected_id, doc_sha, units)
        return doc_id, units

    def _check_format(self, info: Mapping[str, Any]) -> None:
        """A bundle of an unknown format version is not judged by this version's rules."""
        declared = info.get("Thidua-Bundle-Format")
        if info and declared != BUNDLE_FORMAT:
            self.fail(
                "format",
                f"định dạng gói {declared!r} không được hỗ trợ (phiên bản này đọc {BUNDLE_FORMAT})",
            )
        raw = self.files.get("data/verification.json")
        if raw is not None:
            try:
                if not isinstance(_strict_json(raw, "data/verification.json"), dict):
                    raise BundleError("data/verification.json phải là một đối tượng JSON")
            except BundleError as exc:
                self.fail("verification_json", str(exc))

    def _compare_bag_info(
        self,
        info: Mapping[str, Any],
        doc_id: str,
        doc_sha: str | None,
        units: Mapping[str, str],
    ) -> None:
        if not info:
            return  # bag-info unreadable: already a fixity problem
        listed = info.get("Thidua-Member-Unit")
        if isinstance(listed, str):
            listed = [listed]
        if not isinstance(listed, list):
            self.fail("bag_info", "bag-info.txt không liệt kê đơn vị thành viên")
            return
        mine = [f"{code} {name}" for code, name in units.items()]
        if [unicodedata.normalize("NFC", item) for item in listed] != mine:
            self.fail(
                "bag_info",
                "danh sách đơn vị thành viên trong bag-info.txt khác document.json",
            )
        if info.get("Thidua-Document-Id") != doc_id:
            self.fail("bag_info", "mã tài liệu trong bag-info.txt khác thư mục gốc")
        if doc_sha is not None and info.get("Thidua-Document-SHA256") != doc_sha:
            self.fail(
                "bag_info",
                "SHA-256 tài liệu trong bag-info.txt khác document.docx",
                SubIndication.HASH_FAILURE,
            )

    # -- trust --------------------------------------------------------------------------
    def _trust(self) -> tuple[TrustStore | None, str]:
        crl = self.files.get("data/crl.der")
        if self.given_trust is not None:
            return self._with_crl(self.given_trust, crl), "given"
        if self.ca_fingerprint is None:
            self.note(
                "untrusted",
                "không có neo tin cậy: cần --trust CA.pem, hoặc --ca-fingerprint của CA "
                "(lấy từ nguồn tin cậy) để dùng CA trong gói",
                SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
            )
            return None, "none"
        # CA files first: they are the only ones that can match.
        candidates = sorted(
            (path for path in self.files if _cert_path(path)),
            key=lambda path: (not path.startswith("data/certs/ca-"), path),
        )
        for path in candidates:
            pem = self.files[path]
            try:
                certs = load_certificates(pem)
            except FormatError as exc:
                self.fail("certificate", f"{path}: {exc}")
                continue
            for cert in certs:
                if fingerprint_sha256(cert) == self.ca_fingerprint and _is_ca(cert):
                    return self._with_crl(_anchor_store(cert), crl), "bundle_ca"
        self.note(
            "untrusted",
            "không có CA nào trong gói khớp dấu vân tay SHA-256 đã cho: "
            "gói không thể tự chứng thực",
            SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
        )
        return None, "none"

    def _with_crl(self, store: TrustStore, crl: bytes | None) -> TrustStore:
        """``store`` plus the bundle's CRL. The CRL must be issued (name) and signed (key) by
        an anchor in use, the caller's or the bundle CA accepted by fingerprint; it is applied
        unless the store already has revocation data of its own for that anchor (a CRL the
        caller supplies is at least as fresh as the archived one); the store's CRLs for
        other anchors are kept.

        Any other CRL fails the bundle. A CRL claiming an anchor's name but not signed by it
        is a forgery (SIG_CRYPTO_FAILURE). A CRL of an unrelated CA would hide a revocation
        from an offline verifier, and leaves the bundle without the one piece of revocation
        evidence its format requires: it is treated exactly like a missing data/crl.der,
        TOTAL_FAILED / FORMAT_FAILURE. (ETSI EN 319 102-1 would say INDETERMINATE /
        TRY_LATER for a signature whose revocation status is merely unknown, but an archive
        is fixed evidence: trying later cannot add the CRL it lacks, so it does not conform
        to its format.) Checks are cached by the CRL's exact bytes."""
        if crl is None:
            return store
        try:
            if crl.lstrip().startswith(b"-----BEGIN"):
                raise FormatError("không phải DER (có vẻ là PEM)")
            issuer_der = crl_issuer_der(crl)
        except FormatError as exc:
            self.fail("crl", f"data/crl.der không đọc được: {exc}")
            return store
        try:
            # Checks the issuer's exact name and its signature against the anchors.
            extended = _store_with_crl(store, crl)
        except SigningError as exc:
            try:
                issuer: x509.Name | None = x509.load_der_x509_crl(crl).issuer
            except ValueError:
                issuer = None
            # Compare names by meaning too: a CRL claiming an anchor's name in another
            # encoding is a forgery as well.
            if store.has_anchor_named(issuer_der) or any(
                a.subject == issuer for a in store.anchors
            ):
                self.fail(
                    "crl", f"data/crl.der không hợp lệ: {exc}", SubIndication.SIG_CRYPTO_FAILURE
                )
            else:
                # Judged once the signatures are checked (see _foreign_crl).
                self.foreign_crl = (
                    "data/crl.der không do CA tin cậy đang dùng phát hành và ký"
                    f" (bên phát hành: {_name_text(issuer)}): gói thiếu CRL của CA"
                )
            return store
        if store.has_crl_from(issuer_der):
            return store
        return extended

    # -- certificate files ---------------------------------------------------------------
    def _certificates(
        self, document: DocumentReport | None, trust: TrustStore | None, source: str
    ) -> None:
        """Each data/certs file must be what its name claims: its SHA-256 starts with the
        ``<fp16>`` of the name; a member unit's ``<UNIT>-<fp16>.pem`` is the signer
        certificate inside data/signatures/<UNIT>.p7s; ``ca-<fp16>.pem`` is the trust anchor
        in use. (The board's file is checked against its name only: an approval may come
        from a certificate of another trusted CA.) Signatures carry their own certificates,
        so a lying file changes no signature's result, but an archive must not hold a file
        that claims to be a certificate it is not."""
        signers: dict[str, str] = {}
        for unit in () if document is None else document.units:
            if unit.report is not None and unit.report.signer is not None:
                signers[unit.code] = unit.report.signer.certificate_sha256
        if trust is None:
            # No signature chains to an anchor in use (another CA's trust store): the CA file
            # cannot be compared with anything that matters, like the CRL.
            anchors = None
        elif source == "given":
            anchors = set(trust.anchor_fingerprints)
        elif source == "bundle_ca" and self.ca_fingerprint is not None:
            anchors = {self.ca_fingerprint}
        else:
            anchors = None  # no anchor in use: nothing to compare the CA file with
        for path in sorted(p for p in self.files if _cert_path(p)):
            name = path[len("data/certs/") : -len(".pem")]
            prefix, _, fp16 = name.rpartition("-")
            try:
                found = _pem_fingerprints(self.files[path])
            except FormatError as exc:
                if Problem("certificate", f"{path}: {exc}") not in self.problems:  # _trust's
                    self.fail("certificate", f"{path}: {exc}")
                continue
            if len(found) != 1:
                self.fail("certificate", f"{path} phải chứa đúng một chứng thư số")
                continue
            fp, is_ca = found[0]
            if not prefix or not fp.startswith(fp16.lower()) or len(fp16) != 16:
                self.fail(
                    "certificate",
                    f"{path}: dấu vân tay SHA-256 của chứng thư ({fp[:16]}) khác tên tệp",
                )
            elif prefix == "ca":
                if not is_ca:
                    self.fail("certificate", f"{path} không phải chứng thư số của CA")
                elif anchors is not None and fp not in anchors:
                    self.fail(
                        "certificate",
                        f"{path} không phải chứng thư CA tin cậy đang dùng (dấu vân tay khác)",
                    )
            elif prefix in signers and signers[prefix] != fp:
                self.fail(
                    "certificate",
                    f"{path} không phải chứng thư số đã ký của {prefix} (khác chứng thư trong"
                    " chữ ký .p7s)",
                )

    # -- signatures ---------------------------------------------------------------------
    def _units(
        self,
        units: Mapping[str, str],
        docx: bytes | None,
        doc_digest: bytes | None,
        signatures: Mapping[str, bytes],
        trust: TrustStore | None,
    ) -> DocumentReport | None:
        if docx is None or doc_digest is None or not units:
            return None  # already reported as a missing or unreadable file
        digests = _Digests(docx, {"sha256": doc_digest})
        document = _verify_document(digests, units, signatures, trust, at=self.at)
        for unit in document.units:
            if not unit.expected:
                self.fail(
                    "unexpected_signature",
                    f"chữ ký của đơn vị {unit.code} không thuộc danh sách đơn vị thành viên",
                )
            elif unit.report is None:
                self.fail("missing_signature", f"thiếu chữ ký của đơn vị {unit.code} ({unit.name})")
        return document

    def _signature_hashes(self, signatures: Mapping[str, bytes]) -> dict[str, str]:
        """SHA-256 (hex) of each signature file, reusing what the fixity check hashed."""
        out = {}
        for code, der in signatures.items():
            digest = self.digests.get(f"data/signatures/{code}.p7s")
            out[code] = digest.hex() if digest is not None else _sha256(der)
        return out

    def _approval(
        self,
        doc_id: str | None,
        doc_sha: str | None,
        signatures: Mapping[str, bytes],
        units: Mapping[str, str],
        trust: TrustStore | None,
    ) -> ApprovalResult:
        manifest = self.files.get("data/approval/manifest.json")
        signature = self.files.get("data/approval/manifest.json.p7s")
        if manifest is None or signature is None:
            return ApprovalResult(None, False, mismatches=("thiếu bản kê hoặc chữ ký phê duyệt",))
        try:
            body = _strict_json(manifest, "data/approval/manifest.json")
        except BundleError as exc:
            body = None
            mismatches = [str(exc)]
        else:
            mismatches = _manifest_mismatches(
                body, doc_id, doc_sha, self._signature_hashes(signatures), units if units else None
            )
        board_code = None
        decision = None
        approved_at = None
        if isinstance(body, dict):
            decision = body.get("decision") if isinstance(body.get("decision"), dict) else None
            board = decision.get("board") if decision else None
            if isinstance(board, dict) and isinstance(board.get("code"), str):
                board_code = board["code"]
            approved_at = (
                body.get("approved_at") if isinstance(body.get("approved_at"), str) else None
            )
            head = body.get("audit_head")
            if isinstance(head, str) and _HEX64.fullmatch(head):
                self.audit_head = head
        report = _verify(manifest, signature, trust, self.at, board_code)
        signer_code = report.signer.unit_code if report.signer else None
        signer_is_member = signer_code is not None and signer_code in units
        if signer_is_member:
            # A member unit cannot approve its own pledge, whatever the manifest claims the
            # board's code to be.
            self.note(
                "approval_signer",
                f"bản kê phê duyệt do đơn vị thành viên {signer_code} ký, không phải Ban Thi đua"
                " – Khen thưởng",
                SubIndication.SIG_CONSTRAINTS_FAILURE,
            )
        for item in mismatches:
            self.fail("approval_manifest", item, SubIndication.HASH_FAILURE)
        return ApprovalResult(
            report=report,
            manifest_matches=not mismatches,
            decision=decision,
            approved_at=approved_at,
            mismatches=tuple(mismatches),
            signer_is_member=signer_is_member,
        )

    # -- audit --------------------------------------------------------------------------
    def _audit_tail(self, events: list[Any], doc_id: str | None) -> str | None:
        """Why the (unbroken) segment is not this document's complete history up to its
        approval, or None. A prefix of a hash chain is itself a valid chain, so the end is
        checked separately: the segment must end with this document's approval events as
        the workflow writes them (``approve``, then ``archive`` once archived), and when the
        board signed an ``audit_head`` that event must be present with only those approval
        events after it, so no event between it and the approval can be cut either."""
        if self.audit_head is not None:
            index = next(
                (
                    i
                    for i in range(len(events) - 1, -1, -1)
                    if isinstance(events[i], dict) and events[i].get("hash") == self.audit_head
                ),
                None,
            )
            if index is None:
                return (
                    "thiếu sự kiện cuối trước phê duyệt mà Ban đã ký trong bản kê"
                    f" (audit_head {self.audit_head[:16]}…)"
                )
            tail = events[index + 1 :]
        else:
            # No anchor: the approval events at the end are all that can be required.
            tail = events[-2:] if _action(events[-1]) == "archive" else events[-1:]
        actions = [_action(event) for event in tail]
        if actions not in _APPROVAL_TAILS:
            shown = ", ".join(str(a) for a in actions) or "không có"
            return f"sau sự kiện được phê duyệt phải là phê duyệt/lưu trữ, nhưng có: {shown}"
        for event in tail:
            if "document_id" in event and str(event["document_id"]) != doc_id:
                return f"sự kiện {_action(event)} thuộc tài liệu khác ({event['document_id']!r})"
        return None

    def _audit(self, doc_id: str | None = None) -> AuditResult:
        raw = self.files.get("data/audit.jsonl")
        if raw is None:
            return AuditResult(False, 0, reason="thiếu data/audit.jsonl")
        events: list[Any] = []
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            result = AuditResult(False, 0, reason="audit.jsonl không phải UTF-8")
            self.fail("audit", result.reason or "", SubIndication.FORMAT_FAILURE)
            return result
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) > _MAX_AUDIT_EVENTS:
            result = AuditResult(False, len(lines), reason="audit.jsonl có quá nhiều dòng")
            self.fail("audit", result.reason or "")
            return result
        for index, line in enumerate(lines):
            try:
                # No depth limit here: verify_chain's recursion errors are caught below and
                # only scalars of an event reach the report.
                events.append(
                    _strict_json_text(line, f"audit.jsonl dòng {index + 1}", check_depth=False)
                )
            except BundleError as exc:
                result = AuditResult(False, len(lines), broken_index=index, reason=str(exc))
                self.fail("audit", f"nhật ký kiểm toán hỏng ở dòng {index + 1}: {exc}")
                return result
        if not events:
            result = AuditResult(False, 0, reason="nhật ký kiểm toán rỗng")
            self.fail("audit", "nhật ký kiểm toán (audit.jsonl) rỗng")
            return result
        try:
            chain = verify_chain(events, link="doc_prev_hash")
        except (SigningError, ValueError, TypeError, RecursionError) as exc:
            chain = None
            reason = f"không kiểm tra được chuỗi: {exc}"
        if chain is not None and chain.ok:
            reason = self._audit_tail(events, doc_id)
            if reason is None:
                return AuditResult(True, len(events))
            self.fail(
                "audit", f"nhật ký kiểm toán không đầy đủ: {reason}", SubIndication.HASH_FAILURE
            )
            return AuditResult(False, len(events), reason=reason)
        if chain is not None:
            broken_id = chain.broken_id if _json_scalar(chain.broken_id) else str(chain.broken_id)
            result = AuditResult(False, len(events), chain.broken_index, broken_id, chain.reason)
        else:
            result = AuditResult(False, len(events), reason=reason)
        where = "" if result.broken_index is None else f" tại sự kiện thứ {result.broken_index + 1}"
        self.fail(
            "audit",
            f"chuỗi nhật ký kiểm toán bị phá vỡ{where}: {result.reason}",
            SubIndication.HASH_FAILURE,
        )
        return result

    # -- overall ------------------------------------------------------------------------
    def _overall(
        self, document: DocumentReport | None, approval: ApprovalResult
    ) -> tuple[Indication, SubIndication | None]:
        """TOTAL_FAILED if anything failed, else INDETERMINATE if anything could not be
        decided, else TOTAL_PASSED; the sub-indication of the first such finding, in the
        order: unit signatures, approval signature, then bundle-level findings."""
        outcomes: list[tuple[Indication, SubIndication | None]] = []
        if document is None:
            outcomes.append((Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE))
        else:
            for unit in document.units:
                if unit.report is not None and not unit.report.passed:
                    outcomes.append((unit.report.indication, unit.report.sub_indication))
        if approval.report is not None and not approval.report.passed:
            outcomes.append((approval.report.indication, approval.report.sub_indication))
        elif approval.report is None:
            outcomes.append((Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE))
        outcomes.extend(self.findings)
        for wanted in (Indication.TOTAL_FAILED, Indication.INDETERMINATE):
            for indication, sub in outcomes:
                if indication == wanted:
                    return indication, sub
        return Indication.TOTAL_PASSED, None


# How the workflow ends a document's segment: the approve event (the bundle is built inside
# the approval), followed by the archive event in a segment exported later.
_APPROVAL_TAILS = (["approve"], ["approve", "archive"])


def _anchored(document: DocumentReport | None, approval: ApprovalResult) -> bool:
    """Whether some signature of the bundle chains to an anchor in use. If none does, the
    result is undecidable anyway and a CRL or CA file of another CA hides nothing (a
    caller checking the bundle against an unrelated CA gets INDETERMINATE, not a failure)."""
    reports = [u.report for u in (() if document is None else document.units)]
    reports.append(approval.report)
    return any(r is not None and r.chain for r in reports)


def _name_text(name: x509.Name | None) -> str:
    if name is None:
        return "không đọc được"
    try:
        return name.rfc4514_string()[:200]
    except ValueError:
        return "không đọc được"


@lru_cache(maxsize=1024)
def _pem_fingerprints_cached(pem: bytes) -> tuple[tuple[str, bool], ...]:
    return tuple((fingerprint_sha256(c), _is_ca(c)) for c in load_certificates(pem))


def _pem_fingerprints(pem: bytes) -> tuple[tuple[str, bool], ...]:
    """(SHA-256, is CA) of each certificate in a PEM file; remembered for small files, which
    bulk re-verification meets again and again (the same CA and signers)."""
    if len(pem) <= 16 * 1024:
        return _pem_fingerprints_cached(pem)
    return tuple((fingerprint_sha256(c), _is_ca(c)) for c in load_certificates(pem))


def _action(event: Any) -> Any:
    return event.get("action") if isinstance(event, dict) else None


def _json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | bool)


@lru_cache(maxsize=256)
def _anchor_store(cert: x509.Certificate) -> TrustStore:
    """One store per CA certificate, reused across bundles so its chain cache is warm."""
    return TrustStore([cert])


def _store_with_crl(store: TrustStore, crl: bytes) -> TrustStore:
    """``store`` plus one CRL; remembered for CRLs up to 256 KiB (memory stays bounded
    whatever bundles arrive)."""
    if len(crl) <= 256 * 1024:
        return _store_with_small_crl(store, crl)
    return store.with_crls([crl])


@lru_cache(maxsize=64)
def _store_with_small_crl(store: TrustStore, crl: bytes) -> TrustStore:
    # ``store`` is never changed once built, so it is a fine cache key.
    return store.with_crls([crl])


def _verify(
    data: bytes, der: bytes, trust: TrustStore | None, at: datetime, unit_code: str | None
) -> SignatureReport:
    return verify_signature(data, der, trust, at=at, expected_unit_code=unit_code)


def _signature_path(path: str) -> bool:
    if not path.startswith("data/signatures/") or not path.endswith(".p7s"):
        return False
    code = path[len("data/signatures/") : -len(".p7s")]
    return bool(_SAFE_NAME.fullmatch(code))


def _cert_path(path: str) -> bool:
    if not path.startswith("data/certs/") or not path.endswith(".pem"):
        return False
    return "/" not in path[len("data/certs/") :]


def _units_from_list(value: Any) -> dict[str, str]:
    if not isinstance(value, list) or not value:
        raise BundleError("document.json: member_units phải là danh sách khác rỗng")
    out: dict[str, str] = {}
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"code", "name"}:
            raise BundleError(f"document.json: member_units[{index}] phải có code và name")
        code, name = item["code"], item["name"]
        if not isinstance(code, str) or not _SAFE_NAME.fullmatch(code):
            raise BundleError(f"document.json: member_units[{index}].code không hợp lệ")
        if not isinstance(name, str) or not name.strip():
            raise BundleError(f"document.json: member_units[{index}].name không hợp lệ")
        if code in out:
            raise BundleError(f"document.json: đơn vị {code} bị lặp")
        out[code] = name
    return out


def _manifest_mismatches(
    body: Any,
    doc_id: str | None,
    doc_sha: str | None,
    hashes: Mapping[str, str],
    units: Mapping[str, str] | None,
) -> list[str]:
    """What in the approval manifest contradicts the bundle (empty when it matches).
    ``hashes``: unit code -> SHA-256 (hex) of the bundle's signature file."""
    if not isinstance(body, dict):
        return ["bản kê phê duyệt phải là một đối tượng JSON"]
    out = []
    if body.get("format") != MANIFEST_FORMAT:
        out.append(f"bản kê phê duyệt có định dạng lạ {body.get('format')!r}")
    if doc_id is not None and body.get("document_id") != doc_id:
        out.append(
            f"bản kê phê duyệt nói về tài liệu {body.get('document_id')!r}, không phải {doc_id!r}"
        )
    if doc_sha is not None and body.get("document_sha256") != doc_sha:
        out.append("SHA-256 tài liệu trong bản kê phê duyệt khác document.docx")
    listed = body.get("unit_signatures")
    if not isinstance(listed, dict):
        out.append("bản kê phê duyệt không liệt kê chữ ký các đơn vị")
    else:
        for code in sorted(set(listed) | set(hashes)):
            if code not in hashes:
                out.append(f"bản kê phê duyệt liệt kê chữ ký của {code} nhưng gói không có")
            elif code not in listed:
                out.append(f"chữ ký của {code} không có trong bản kê phê duyệt")
            elif listed[code] != hashes[code]:
                out.append(f"chữ ký của {code} khác chữ ký được phê duyệt (SHA-256 không khớp)")
    if units is not None and "member_units" in body and body["member_units"] != dict(units):
        out.append("danh sách đơn vị thành viên trong bản kê phê duyệt khác document.json")
    head = body.get("audit_head")
    if "audit_head" in body and not (isinstance(head, str) and _HEX64.fullmatch(head)):
        out.append("audit_head trong bản kê phê duyệt không phải 64 chữ số hex")
    return out


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # dict() in C, then a length comparison: the Python loop runs only to name a duplicate.
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise BundleError(f"khóa JSON bị lặp: {key!r}")
            seen.add(key)
    return out


def _reject_constant(name: str) -> Any:
    raise BundleError(f"JSON chứa hằng số không chuẩn {name}")


# One decoder for every bundle: building a JSONDecoder per document shows up in bulk runs.
_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)


def _strict_json(raw: bytes, what: str) -> Any:
    """JSON as RFC 8259 means it: UTF-8, no duplicate keys (two readers could pick different
    values), no NaN/Infinity, bounded nesting."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{what} không phải UTF-8: {exc}") from None
    # Nesting deeper than the limit needs more opening brackets than the limit; a text with
    # fewer (counted in C, strings included) cannot be too deep, so the walk is skipped.
    deep = raw.count(b"[") + raw.count(b"{") > _MAX_JSON_DEPTH
    return _strict_json_text(text, what, check_depth=deep)


def _strict_json_text(text: str, what: str, *, check_depth: bool = True) -> Any:
    try:
        value = _DECODER.decode(text)
    except BundleError as exc:
        raise BundleError(f"{what}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise BundleError(f"{what} không phải JSON hợp lệ: {exc}") from None
    if check_depth:
        _check_depth(value, what)
    return value


def _check_depth(value: Any, what: str) -> None:
    """Refuse deeply nested JSON: later recursive code (comparisons, re-encoding for the
    report) would otherwise hit Python's recursion limit."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_JSON_DEPTH:
            raise BundleError(f"{what}: JSON lồng quá sâu")
        if isinstance(item, dict | list):
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
