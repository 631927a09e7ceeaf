"""Verification of a signed PDF: every signature in its field, reported in the project's
status vocabulary (signing/validation/status.py).

Per signature: the unit its certificate names against the unit its field belongs to,
integrity over its /ByteRange, the signature value, the chain to the trust store's anchors
and its CRLs (all of it signing.validation.verify_signature, the CMS verifier), the revision
it covers, and what changed after it: pyHanko's difference analysis, run once per pair of
consecutive revisions (not once per signature and later revision), must find nothing but a
signature filling one pre-existing field, and nothing at all after a field-locking signature
but validation data (a DSS, a document timestamp in its own field: PAdES B-LTA). Bytes after
the last signature or document timestamp are named as such (UNSIGNED_CONTENT).

Timestamps (issue 17): a signature's signature-time-stamp token is checked over its
signature value (the trusted time and TSA go in its result; a token that does not hold
becomes the signature's verdict); each document timestamp's token over its /ByteRange
(a broken one is the PDF's verdict); the DSS is counted, not used: the trust store and its
CRLs are what the verification trusts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from io import BytesIO
from typing import Any

from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffResult,
    ModificationLevel,
    SuspiciousModification,
)
from pyhanko.sign.fields import FieldMDPSpec, MDPPerm
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from signing._util import utc
from signing.errors import SigningError
from signing.validation.cms_reader import SIGNATURE_TIMESTAMP
from signing.validation.signature import verify_signature
from signing.validation.status import (
    Finding,
    Indication,
    SignatureReport,
    SubIndication,
    UnitResult,
    code_text,
    worst,
)
from signing.validation.status import message as message_for
from signing.validation.timestamp import HASH_ALGORITHMS, TimestampReport, verify_token
from signing.validation.trust import TrustStore

__all__ = [
    "MAX_PDF_BYTES",
    "DocumentTimestampResult",
    "PdfReport",
    "PdfSignatureResult",
    "timestamp_dict",
    "verify_pdf",
]

MAX_PDF_BYTES = 64 * 1024 * 1024
_FAILED, _INDET = Indication.TOTAL_FAILED, Indication.INDETERMINATE
_UNSIGNED = SubIndication.UNSIGNED_CONTENT


@dataclass(frozen=True)
class PdfSignatureResult:
    """One signature of the PDF: its field, the unit expected there (None: any unit), the
    revision it signs (0-based, as pyHanko counts), whether it covers the whole file, the
    worst change after it (a pyHanko ModificationLevel name, "NONE" for none), whether it
    locks the fields, its report (the CMS verifier's, or the PDF check that failed), and
    its signature-time-stamp's verification when it has one (PAdES B-T)."""

    field: str
    expected_unit: str | None
    expected: bool  # whether the field is one of those the caller listed
    revision: int
    covers_entire_file: bool
    modifications: str
    locks_fields: bool
    certification: bool
    report: SignatureReport
    timestamp: TimestampReport | None = None

    @property
    def finding(self) -> Finding:
        return self.report.finding

    @property
    def timestamped(self) -> bool:
        """The signature carries a signature-time-stamp token (trusted or not)."""
        return self.timestamp is not None

    @property
    def trusted_time(self) -> dt.datetime | None:
        """The time the signature-time-stamp proves, when its token passed."""
        stamp = self.timestamp
        return stamp.gen_time if stamp is not None and stamp.passed else None

    @property
    def tsa_name(self) -> str | None:
        return None if self.timestamp is None else self.timestamp.tsa_name

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "expected_unit": self.expected_unit,
            "expected": self.expected,
            "revision": self.revision,
            "covers_entire_file": self.covers_entire_file,
            "modifications": self.modifications,
            "locks_fields": self.locks_fields,
            "certification": self.certification,
            "report": self.report.to_dict(),
            "timestamped": self.timestamped,
            "trusted_time": self.trusted_time.isoformat() if self.trusted_time else None,
            "timestamp": timestamp_dict(self.timestamp),
        }


def timestamp_dict(report: TimestampReport | None) -> dict[str, Any] | None:
    """A timestamp token's verification as the JSON report carries it."""
    return None if report is None else report.to_dict()


@dataclass(frozen=True)
class DocumentTimestampResult:
    """A document timestamp (/DocTimeStamp, PAdES B-LTA): its field, the revision it
    covers, whether it covers the whole file, and its token's verification over the
    bytes its /ByteRange names."""

    field: str
    revision: int
    covers_entire_file: bool
    report: TimestampReport

    @property
    def passed(self) -> bool:
        return self.report.passed

    @property
    def finding(self) -> Finding:
        return self.report.finding

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "revision": self.revision,
            "covers_entire_file": self.covers_entire_file,
            "report": timestamp_dict(self.report),
        }


@dataclass(frozen=True)
class PdfReport:
    """Every signature of one PDF; the indication is ``worst()`` of the signatures'
    findings, the document timestamps', then data after the last signature or document
    timestamp (``unsigned_tail``), then fields left unsigned. ``dss_certificates`` and
    ``dss_crls`` count the Document Security Store's entries (None: no DSS)."""

    indication: Indication
    sub_indication: SubIndication | None
    message: str
    signatures: tuple[PdfSignatureResult, ...]
    unsigned_fields: tuple[str, ...]
    revisions: int
    document_sha256: str
    validation_time: dt.datetime
    detail: str | None = None
    document_timestamps: tuple[DocumentTimestampResult, ...] = ()
    dss_certificates: int | None = None
    dss_crls: int | None = None
    unsigned_tail: bool = False

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    @property
    def has_dss(self) -> bool:
        return self.dss_certificates is not None

    @property
    def lta(self) -> bool:
        """PAdES B-LTA: a DSS and a passed document timestamp after every signature."""
        last_signature = max((s.revision for s in self.signatures), default=-1)
        return self.has_dss and any(
            t.passed and t.revision > last_signature for t in self.document_timestamps
        )

    @property
    def level(self) -> str | None:
        """The PAdES baseline level the PDF reaches (B-B, B-T, B-LT, B-LTA), None when it
        has no signature. B-T and up need every signature's timestamp to pass."""
        if not self.signatures:
            return None
        if not all(s.trusted_time is not None for s in self.signatures):
            return "B-B"
        if self.lta:
            return "B-LTA"
        return "B-LT" if self.has_dss else "B-T"

    @property
    def finding(self) -> Finding:
        return self.indication, self.sub_indication

    @property
    def units(self) -> tuple[UnitResult, ...]:
        """The signatures as the CMS document report has them (signing.validation's
        UnitResult: one per field, keyed by the unit the field expects, the certificate's
        unit name), then the unsigned fields; a signed field nobody expected is marked so."""
        results = [
            UnitResult(
                code=s.expected_unit or s.field,
                name=s.report.signer.unit if s.report.signer else None,
                report=s.report,
                expected=s.expected,
            )
            for s in self.signatures
        ]
        results += [UnitResult(code=f, name=None, report=None) for f in self.unsigned_fields]
        return tuple(results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "indication": str(self.indication),
            "sub_indication": code_text(self.sub_indication),
            "passed": self.passed,
            "message": self.message,
            "detail": self.detail,
            "revisions": self.revisions,
            "document_sha256": self.document_sha256,
            "validation_time": self.validation_time.isoformat(),
            "signatures": [s.to_dict() for s in self.signatures],
            "unsigned_fields": list(self.unsigned_fields),
            "document_timestamps": [t.to_dict() for t in self.document_timestamps],
            "dss": None
            if not self.has_dss
            else {"certificates": self.dss_certificates, "crls": self.dss_crls},
            "lta": self.lta,
            "level": self.level,
            "unsigned_tail": self.unsigned_tail,
        }

    def with_signatures(self, signatures: Sequence[PdfSignatureResult], message: str) -> PdfReport:
        """This report with ``signatures`` judged anew (e.g. a stricter rule on one of
        them), the document timestamps, the unsigned tail and the unsigned fields as they
        were, and ``message``."""
        findings = [s.finding for s in signatures]
        findings += [t.finding for t in self.document_timestamps]
        if self.unsigned_tail:
            findings.append((_FAILED, _UNSIGNED))
        findings += [(_INDET, SubIndication.SIGNED_DATA_NOT_FOUND)] * len(self.unsigned_fields)
        indication, sub = worst(findings)
        return replace(
            self,
            indication=indication,
            sub_indication=sub,
            message=message,
            signatures=tuple(signatures),
        )


def _der_length(content: bytes) -> int:
    """Length of the DER element at the start of /Contents (which is zero-padded)."""
    if len(content) < 2 or content[0] != 0x30:
        return len(content)
    first = content[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if not 0 < count <= 4 or len(content) < 2 + count:
        return len(content)
    return 2 + count + int.from_bytes(content[2 : 2 + count], "big")


def _signed_bytes(pdf: bytes, byte_range: Sequence[int]) -> bytes | None:
    if len(byte_range) != 4 or byte_range[0] != 0:
        return None
    _, len1, start2, len2 = (int(v) for v in byte_range)
    if min(len1, start2, len2) < 0 or start2 < len1 or start2 + len2 > len(pdf):
        return None
    return pdf[:len1] + pdf[start2 : start2 + len2]


def _document_report(
    at: dt.datetime,
    sub: SubIndication,
    message: str,
    detail: str,
    digest: str,
    revisions: int = 0,
) -> PdfReport:
    return PdfReport(_FAILED, sub, message, (), (), revisions, digest, at, detail)


def verify_pdf(
    pdf: bytes,
    trust: TrustStore | None,
    *,
    at: dt.datetime,
    expected_fields: Mapping[str, str | None],
) -> PdfReport:
    """Verify every signature of ``pdf`` at validation time ``at``.

    ``expected_fields``: field name -> the unit code whose certificate must sign it (None:
    any certificate the trust store accepts, e.g. the deployment's document key). A signed
    field not listed fails (SIG_CONSTRAINTS_FAILURE); a listed field left unsigned makes
    the PDF INDETERMINATE/SIGNED_DATA_NOT_FOUND. Never raises on bad PDF bytes."""
    at = utc(at, "at")
    if not isinstance(expected_fields, Mapping):
        raise SigningError("expected_fields must map field names to unit codes")
    if trust is not None and not isinstance(trust, TrustStore):
        raise SigningError("trust must be a TrustStore or None")
    if not isinstance(pdf, bytes | bytearray | memoryview):
        raise SigningError("pdf must be bytes")
    data = bytes(pdf)
    digest = hashlib.sha256(data).hexdigest()
    fmt = SubIndication.FORMAT_FAILURE
    if len(data) > MAX_PDF_BYTES:
        return _document_report(at, fmt, "Tệp PDF quá lớn", "PDF too large", digest)
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded = list(reader.embedded_regular_signatures)
        stamps = list(reader.embedded_timestamp_signatures)
        revisions = int(reader.xrefs.total_revisions)
        signed_at = {int(s.signed_revision): str(s.field_name) for s in embedded}
        stamped_at = {int(s.signed_revision): str(s.field_name) for s in stamps}
    except Exception as exc:  # pyHanko raises many types on damaged files
        return _document_report(
            at, fmt, "Tệp PDF hỏng, không đọc được", f"unreadable PDF: {exc}", digest
        )
    if not embedded:
        return PdfReport(
            _INDET,
            SubIndication.SIGNED_DATA_NOT_FOUND,
            "Tệp PDF không có chữ ký số nào",
            (),
            tuple(expected_fields),
            revisions,
            digest,
            at,
        )
    try:
        changes = _revision_changes(reader, embedded, revisions)
    except Exception as exc:  # a structure the difference analysis cannot walk
        first = min(signed_at)
        changes = {
            r: _Change(r, ModificationLevel.OTHER, frozenset(), f"not analysable: {exc}")
            for r in range(first + 1, revisions)
        }
    results = [
        _check_one(data, sig, trust, at, expected_fields, changes, signed_at, stamped_at)
        for sig in embedded
    ]
    timestamps = [_check_document_timestamp(data, sig, trust, at) for sig in stamps]
    certificates, crls = _dss_counts(reader)
    report = _summarise(results, timestamps, expected_fields, revisions, digest, at)
    return replace(report, dss_certificates=certificates, dss_crls=crls)


# --------------------------------------------------------------------------- modifications
@dataclass(frozen=True)
class _Change:
    """What revision ``revision`` changed with respect to the one before it."""

    revision: int
    level: ModificationLevel  # OTHER for a suspicious modification
    fields: frozenset[str]
    detail: str | None


def _revision_changes(
    reader: PdfFileReader, embedded: Sequence[EmbeddedPdfSignature], revisions: int
) -> dict[int, _Change]:
    """pyHanko's difference analysis of each revision after the first signed one.

    Each revision is compared with one base, the first signed revision, as pyHanko's
    ``review_file`` compares every later revision with a signature's revision; the base
    moves to a signature's revision only when that signature brings a new constraint
    (a field lock, a stricter DocMDP). pyHanko reviewing each signature on its own compares
    every pair (signature, later revision) and reads the base's whole object graph each
    time; here it is read once per base. Which fields a revision touched comes from the
    objects it rewrites, so a revision filling a field other than its own signature's is
    named even though the comparison with the base is cumulative."""
    first = min(int(s.signed_revision) for s in embedded)
    by_revision = {int(s.signed_revision): s for s in embedded}
    fields = _field_refs(reader)
    docmdp: MDPPerm | None = None
    locks: list[FieldMDPSpec] = []
    base = reader.get_historical_resolver(first)
    changes: dict[int, _Change] = {}
    for revision in range(first + 1, revisions):
        signer = by_revision.get(revision - 1)
        if signer is not None:
            stricter = signer.docmdp_level
            if stricter is not None and (docmdp is None or stricter < docmdp):
                docmdp = stricter
                base = reader.get_historical_resolver(revision - 1)
            if signer.fieldmdp is not None:
                locks.append(signer.fieldmdp)
                base = reader.get_historical_resolver(revision - 1)
        touched = frozenset(
            fields[ref.idnum]
            for ref in reader.xrefs.explicit_refs_in_revision(revision)
            if ref.idnum in fields
        )
        try:
            new = reader.get_historical_resolver(revision)
            result: DiffResult | SuspiciousModification = DEFAULT_DIFF_POLICY.apply(
                base, new, field_mdp_spec=_union(locks), doc_mdp=docmdp
            )
        except SuspiciousModification as exc:
            result = exc
        except Exception as exc:  # a revision pyHanko cannot even compare
            result = SuspiciousModification(str(exc))
        if isinstance(result, DiffResult):
            level = result.modification_level
            if docmdp is not None and level.value > docmdp.value:
                level = ModificationLevel.OTHER
            changes[revision] = _Change(revision, level, touched, None)
        else:
            changes[revision] = _Change(revision, ModificationLevel.OTHER, touched, str(result))
    return changes


def _field_refs(reader: PdfFileReader) -> dict[int, str]:
    """Object number -> name of every top-level form field (ours are all top-level)."""
    try:
        items = reader.root["/AcroForm"]["/Fields"]
        return {ref.idnum: str(ref.get_object().get("/T", "")) for ref in items}
    except (KeyError, AttributeError, TypeError):
        return {}


def _union(locks: Sequence[FieldMDPSpec]) -> FieldMDPSpec | None:
    """One FieldMDP spec locking every field any of ``locks`` locks (pyHanko takes one)."""
    if not locks:
        return None
    if len(locks) == 1:
        return locks[0]
    return _AnyLock(locks)


class _AnyLock(FieldMDPSpec):
    def __init__(self, locks: Sequence[FieldMDPSpec]) -> None:
        super().__init__(action=locks[0].action, fields=locks[0].fields)
        self._locks = tuple(locks)

    def is_locked(self, field_name: str) -> bool:
        return any(lock.is_locked(field_name) for lock in self._locks)


# --------------------------------------------------------------------------- one signature
def _check_one(
    data: bytes,
    sig: EmbeddedPdfSignature,
    trust: TrustStore | None,
    at: dt.datetime,
    expected_fields: Mapping[str, str | None],
    changes: Mapping[int, _Change],
    signed_at: Mapping[int, str],
    stamped_at: Mapping[int, str],
) -> PdfSignatureResult:
    field = str(sig.field_name)
    revision = int(sig.signed_revision)
    expected = expected_fields.get(field)
    later = [c for r, c in sorted(changes.items()) if r > revision]
    worst_level = max((c.level for c in later), default=ModificationLevel.NONE)
    try:
        coverage = sig.evaluate_signature_coverage().name
        locks = sig.fieldmdp is not None
        certification = _is_author(sig)
    except Exception:  # unreadable signature dictionary
        coverage, locks, certification = "UNCLEAR", False, False
    coverage_whole = coverage == "ENTIRE_FILE"
    stamp = _signature_timestamp(sig, trust, at)

    def result(report: SignatureReport) -> PdfSignatureResult:
        return PdfSignatureResult(
            field,
            expected,
            field in expected_fields,
            revision,
            coverage_whole,
            worst_level.name,
            locks,
            certification,
            report,
            stamp,
        )

    try:
        content = bytes(sig.pkcs7_content)
        cms_der = content[: _der_length(content)]
        signed = _signed_bytes(data, [int(v) for v in sig.byte_range])
    except Exception:  # no /Contents or /ByteRange that can be read
        signed = None
    if signed is None:
        return result(
            _pdf_failure(
                at,
                SubIndication.FORMAT_FAILURE,
                "Chữ ký trong tệp PDF không đọc được (/Contents, /ByteRange)",
                "unreadable /Contents or /ByteRange",
            )
        )
    report = verify_signature(
        signed, cms_der, trust, at=at, expected_unit_code=expected if expected else None
    )
    when = _claimed_time(sig)
    if when is not None and report.signing_time is None:
        report = replace(report, signing_time=when)
    if field not in expected_fields and report.indication is not _FAILED:
        report = replace(
            report,
            indication=_FAILED,
            sub_indication=SubIndication.SIG_CONSTRAINTS_FAILURE,
            message=f"Chữ ký trong trường {field} không thuộc danh sách trường cần ký",
            detail=f"unexpected signature field {field!r}",
        )
    if not report.passed:
        return result(report)
    problem = _stamp_problem(field, report, stamp) or _time_problem(report)
    if problem is None and coverage not in ("ENTIRE_FILE", "ENTIRE_REVISION"):
        problem = {
            "indication": _FAILED,
            "sub_indication": _UNSIGNED,
            "message": f"Chữ ký trong trường {field} không bao trọn phiên bản tệp PDF nó ký",
            "detail": f"signature coverage {coverage}",
        }
    if problem is None:
        problem = _modification_problem(field, revision, later, locks, signed_at, stamped_at)
    return result(report if problem is None else replace(report, **problem))


_NO_TRUST = TimestampReport(
    _INDET,
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    "Không có tổ chức chứng thực tin cậy để kiểm tra dấu thời gian",
    detail="no trust anchors given",
)


def _check_token(
    token: bytes, signed: bytes, trust: TrustStore | None, at: dt.datetime
) -> TimestampReport:
    """``token`` over ``signed``, hashed with the algorithm its message imprint names."""
    try:
        info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
        algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"].native
    except (ValueError, TypeError, KeyError, AttributeError):
        algorithm = "sha256"  # verify_token names the format failure
    if algorithm not in HASH_ALGORITHMS:
        algorithm = "sha256"
    if trust is None:
        return _NO_TRUST
    digest = hashlib.new(algorithm, signed).digest()
    return verify_token(token, trust, digest=digest, at=at)


def _signature_timestamp(
    sig: EmbeddedPdfSignature, trust: TrustStore | None, at: dt.datetime
) -> TimestampReport | None:
    """The signature-time-stamp tokens over this signature's value (PAdES B-T): the first
    that fails, else the earliest; None without one."""
    try:
        signer_info = sig.signer_info
        value = bytes(signer_info["signature"].native)
        tokens = [
            token.dump()
            for attribute in signer_info["unsigned_attrs"] or ()
            if attribute["type"].native == SIGNATURE_TIMESTAMP
            for token in attribute["values"]
        ]
    except Exception as exc:  # a CMS asn1crypto cannot walk: verify_signature says more
        return TimestampReport(
            _FAILED,
            SubIndication.FORMAT_FAILURE,
            "Dấu thời gian của chữ ký không đọc được",
            detail=f"unsigned attributes unreadable: {exc}",
        )
    if not tokens:
        return None
    reports = [_check_token(token, value, trust, at) for token in tokens[:8]]
    failed = [r for r in reports if not r.passed]
    if failed:
        return failed[0]
    return min(reports, key=lambda r: r.gen_time or at)


def _stamp_problem(
    field: str, report: SignatureReport, stamp: TimestampReport | None
) -> dict[str, Any] | None:
    """A signature-time-stamp that does not hold is not passed over: its verdict becomes
    the signature's (a foreign TSA: INDETERMINATE, a token over other bytes: FAILED); nor
    is a claimed time (/M) later than the trusted one."""
    if stamp is None:
        return None
    if not stamp.passed:
        return {
            "indication": stamp.indication,
            "sub_indication": stamp.sub_indication,
            "message": f"Dấu thời gian của chữ ký trong trường {field}: {stamp.message}",
            "detail": f"signature timestamp: {stamp.detail}",
        }
    claimed, trusted = report.signing_time, stamp.gen_time
    if claimed is not None and trusted is not None and claimed > trusted:
        return {
            "indication": _INDET,
            "sub_indication": SubIndication.SIG_CONSTRAINTS_FAILURE,
            "message": f"Thời điểm ký khai báo trong trường {field} muộn hơn dấu thời"
            " gian của chữ ký",
            "detail": "signing time (/M) is after the signature timestamp's genTime",
        }
    return None


def _check_document_timestamp(
    data: bytes, sig: EmbeddedPdfSignature, trust: TrustStore | None, at: dt.datetime
) -> DocumentTimestampResult:
    """A /DocTimeStamp: its token (the whole /Contents) over the bytes of its /ByteRange."""
    field = str(sig.field_name)
    revision = int(sig.signed_revision)
    try:
        whole = sig.evaluate_signature_coverage().name == "ENTIRE_FILE"
        content = bytes(sig.pkcs7_content)
        token = content[: _der_length(content)]
        signed = _signed_bytes(data, [int(v) for v in sig.byte_range])
    except Exception:  # no /Contents or /ByteRange that can be read
        whole, signed = False, None
    if signed is None:
        report = TimestampReport(
            _FAILED,
            SubIndication.FORMAT_FAILURE,
            "Dấu thời gian tài liệu không đọc được (/Contents, /ByteRange)",
            detail="unreadable /Contents or /ByteRange",
        )
    else:
        report = _check_token(token, signed, trust, at)
    return DocumentTimestampResult(field, revision, whole, report)


def _dss_counts(reader: PdfFileReader) -> tuple[int | None, int | None]:
    """(certificates, CRLs) of the Document Security Store; (None, None) without one."""
    try:
        if "/DSS" not in reader.root:
            return None, None
        dss = DocumentSecurityStore.read_dss(reader)
        return len(dss.certs), len(dss.crls)
    except Exception:  # a DSS pyHanko cannot read counts as none
        return None, None


def _is_author(sig: EmbeddedPdfSignature) -> bool:
    """A certification signature: its signature dictionary carries a DocMDP reference."""
    try:
        references = sig.sig_object.get("/Reference", [])
        return any(ref.get_object().get("/TransformMethod") == "/DocMDP" for ref in references)
    except (KeyError, AttributeError, TypeError):
        return False


def _claimed_time(sig: EmbeddedPdfSignature) -> dt.datetime | None:
    try:
        moment = sig.self_reported_timestamp
    except Exception:  # an unreadable /M is no claimed time
        return None
    return None if moment is None else utc(moment)


def _time_problem(report: SignatureReport) -> dict[str, Any] | None:
    """The certificate was valid at the time the signature dictionary claims (/M)."""
    when, signer = report.signing_time, report.signer
    if when is None or signer is None:
        return None
    if when < signer.not_before:
        return {
            "indication": _FAILED,
            "sub_indication": SubIndication.NOT_YET_VALID,
            "message": "Chứng thư số chưa có hiệu lực tại thời điểm ký",
            "detail": "signing time (/M) precedes the certificate's notBefore",
        }
    if when > signer.not_after:
        return {
            "indication": _FAILED,
            "sub_indication": SubIndication.EXPIRED,
            "message": message_for(SubIndication.EXPIRED),
            "detail": "signing time (/M) is after the certificate's notAfter",
        }
    return None


def _modification_problem(
    field: str,
    revision: int,
    later: Sequence[_Change],
    locks: bool,
    signed_at: Mapping[int, str],
    stamped_at: Mapping[int, str],
) -> dict[str, Any] | None:
    """After a signature only signatures filling pre-existing fields, each revision the one
    field its signature fills; after a field-locking signature nothing but validation data
    (LTA updates: a DSS, a document timestamp in its own field). A revision without a
    signature may only add validation data."""
    for change in later:
        filled = signed_at.get(change.revision)
        stamp = stamped_at.get(change.revision)
        allowed = (
            ModificationLevel.LTA_UPDATES
            if locks or filled is None
            else ModificationLevel.FORM_FILLING
        )
        other_fields = change.fields - {filled, stamp}
        if change.level > allowed or other_fields:
            what = "sau chữ ký khóa văn bản" if locks else "ngoài việc ký vào các ô chữ ký có sẵn"
            return {
                "indication": _FAILED,
                "sub_indication": _UNSIGNED,
                "message": f"Tệp PDF bị thay đổi {what} (sau chữ ký trong trường {field})",
                "detail": f"revision {change.revision} after revision {revision}: "
                f"{change.level.name}, fields {sorted(change.fields)}"
                + (f" ({change.detail})" if change.detail else ""),
            }
    return None


def _pdf_failure(at: dt.datetime, sub: SubIndication, message: str, detail: str) -> SignatureReport:
    return SignatureReport(
        indication=_FAILED, sub_indication=sub, message=message, validation_time=at, detail=detail
    )


# --------------------------------------------------------------------------- the verdict
def _summarise(
    results: list[PdfSignatureResult],
    timestamps: list[DocumentTimestampResult],
    expected_fields: Mapping[str, str | None],
    revisions: int,
    digest: str,
    at: dt.datetime,
) -> PdfReport:
    findings = [r.finding for r in results]
    findings += [t.finding for t in timestamps]
    signed = {r.field for r in results}
    unsigned = tuple(f for f in expected_fields if f not in signed)
    # The file must end with what a signature or a document timestamp covers.
    ends: list[tuple[int, str, bool]] = [
        (r.revision, r.field, r.covers_entire_file) for r in results
    ]
    ends += [(t.revision, t.field, t.covers_entire_file) for t in timestamps]
    _, last_field, last_whole = max(ends)
    trailing = not last_whole
    if trailing:
        findings.append((_FAILED, _UNSIGNED))
    findings += [(_INDET, SubIndication.SIGNED_DATA_NOT_FOUND)] * len(unsigned)
    indication, sub = worst(findings)
    bad = [r.field for r in results if not r.report.passed]
    bad_stamps = [t for t in timestamps if not t.passed]
    if bad:
        message = f"Tệp PDF có chữ ký không hợp lệ: {', '.join(bad)}"
    elif bad_stamps:
        first = bad_stamps[0]
        message = (
            f"Dấu thời gian tài liệu (trường {first.field}) không hợp lệ: {first.report.message}"
        )
    elif trailing:
        message = f"Tệp PDF có dữ liệu được thêm sau chữ ký cuối cùng (trường {last_field})"
    elif unsigned:
        message = f"Còn {len(unsigned)} trường chưa ký: {', '.join(unsigned)}"
    else:
        message = f"Đủ {len(results)} chữ ký số hợp lệ"
        if timestamps:
            message += ", có dấu thời gian tài liệu để lưu trữ dài hạn"
    detail = "data after the last signature" if trailing else None
    if bad_stamps and not bad:
        detail = f"document timestamp {bad_stamps[0].field}: {bad_stamps[0].report.detail}"
    return PdfReport(
        indication,
        sub,
        message,
        tuple(results),
        unsigned,
        revisions,
        digest,
        at,
        detail,
        document_timestamps=tuple(timestamps),
        unsigned_tail=trailing,
    )
