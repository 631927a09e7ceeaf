"""Status objects of validation: indications, sub-indications, the one aggregator and the
one table of messages (Vietnamese and English) that every surface shows.

The vocabulary is ETSI EN 319 102-1 §5.1.3: a validation ends TOTAL_PASSED, TOTAL_FAILED or
INDETERMINATE, and a failure names its sub-indication. Nothing here checks anything; the
checks live in the modules beside this one and only return these objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "CERTIFICATE_STATES",
    "INDICATION_NAMES",
    "MESSAGES",
    "ChainLink",
    "DocumentReport",
    "Finding",
    "Indication",
    "SignatureReport",
    "SignerInfo",
    "SubIndication",
    "TimestampInfo",
    "UnitResult",
    "certificate_state_text",
    "code_text",
    "indication_name",
    "message",
    "outcome_code",
    "worst",
]


class Indication(StrEnum):
    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


class SubIndication(StrEnum):
    # TOTAL_FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    # Archive bundles (not ETSI): a file of the bundle that no signature covers.
    UNSIGNED_CONTENT = "UNSIGNED_CONTENT"
    # INDETERMINATE
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"
    TRY_LATER = "TRY_LATER"


# (Vietnamese, English) for each outcome; ``None`` is the passed case. Every surface (CLI,
# pages, API, archived reports) takes its sentence from here.
MESSAGES: dict[SubIndication | None, tuple[str, str]] = {
    None: ("Chữ ký số hợp lệ", "The digital signature is valid"),
    SubIndication.FORMAT_FAILURE: (
        "Tệp chữ ký không đúng định dạng CMS/PKCS#7",
        "The signature file is not well-formed CMS/PKCS#7",
    ),
    SubIndication.HASH_FAILURE: (
        "Chữ ký không khớp với nội dung văn bản (văn bản đã bị thay đổi "
        "hoặc chữ ký thuộc văn bản khác)",
        "The signature does not match the document (the document was changed, "
        "or the signature belongs to another document)",
    ),
    SubIndication.SIG_CRYPTO_FAILURE: (
        "Giá trị chữ ký số không hợp lệ",
        "The signature value is not valid",
    ),
    SubIndication.REVOKED: (
        "Chứng thư số đã bị thu hồi trước thời điểm ký",
        "The certificate was revoked before the signing time",
    ),
    SubIndication.EXPIRED: (
        "Chứng thư số đã hết hạn tại thời điểm ký",
        "The certificate had expired at the signing time",
    ),
    SubIndication.NOT_YET_VALID: (
        "Chứng thư số chưa có hiệu lực",
        "The certificate is not yet valid",
    ),
    SubIndication.SIG_CONSTRAINTS_FAILURE: (
        "Chữ ký không đáp ứng yêu cầu",
        "The signature does not meet the requirements",
    ),
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: (
        "Chứng thư số không được phép dùng để ký văn bản",
        "The certificate may not be used to sign documents",
    ),
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: (
        "Thuật toán mật mã không được chấp nhận",
        "The cryptographic algorithm is not accepted",
    ),
    SubIndication.NO_SIGNING_CERTIFICATE_FOUND: (
        "Không tìm thấy chứng thư số của người ký",
        "The signer's certificate was not found",
    ),
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: (
        "Chứng thư số không do tổ chức cung cấp dịch vụ chứng thực tin cậy cấp",
        "The certificate was not issued by a trusted certification authority",
    ),
    SubIndication.REVOKED_NO_POE: (
        "Chứng thư số đã bị thu hồi; không có bằng chứng chữ ký được tạo trước khi thu hồi",
        "The certificate was revoked, and nothing proves the signature was made before",
    ),
    SubIndication.OUT_OF_BOUNDS_NO_POE: (
        "Chứng thư số đã hết hạn tại thời điểm kiểm tra",
        "The certificate had expired at the validation time",
    ),
    SubIndication.OUT_OF_BOUNDS_NOT_REVOKED: (
        "Chứng thư số đã hết hạn hoặc chưa có hiệu lực",
        "The certificate has expired or is not yet valid",
    ),
    SubIndication.SIGNED_DATA_NOT_FOUND: (
        "Không có chữ ký cho văn bản hoặc đơn vị này",
        "There is no signature for this document or unit",
    ),
    SubIndication.TRY_LATER: (
        "Chưa có thông tin thu hồi; hãy thử lại sau",
        "No revocation information yet; try again later",
    ),
    SubIndication.UNSIGNED_CONTENT: (
        "Gói lưu trữ chứa dữ liệu không được chữ ký số nào bảo vệ (tệp thừa hoặc đã bị sửa)",
        "The archive holds data that no digital signature covers (an extra or altered file)",
    ),
}


# The state of the signer's certificate as a validation at a time found it (issue 17): what
# the report says beside the verdict, so a reader sees why an expired or revoked certificate
# still passes (a timestamp proves the signature came first) or does not.
CERTIFICATE_STATES: dict[str, tuple[str, str]] = {
    "valid": (
        "Chứng thư số còn hiệu lực tại thời điểm kiểm tra",
        "The certificate was valid at the validation time",
    ),
    "expired_after_poe": (
        "Chứng thư số đã hết hạn, nhưng dấu thời gian chứng minh chữ ký được tạo khi còn hiệu lực",
        "The certificate has expired, but a timestamp proves the signature was made while "
        "it was valid",
    ),
    "revoked_after_poe": (
        "Chứng thư số bị thu hồi sau thời điểm ký đã được dấu thời gian chứng minh",
        "The certificate was revoked after the signing time a timestamp proves",
    ),
    "revoked": (
        "Chứng thư số đã bị thu hồi trước thời điểm ký",
        "The certificate was revoked before the signature was made",
    ),
    "expired_no_poe": (
        "Chứng thư số đã hết hạn và không có dấu thời gian chứng minh thời điểm ký",
        "The certificate has expired and no timestamp proves when the signature was made",
    ),
    "revoked_no_poe": (
        "Chứng thư số đã bị thu hồi và không có dấu thời gian chứng minh chữ ký có trước",
        "The certificate was revoked and no timestamp proves the signature came first",
    ),
}


def certificate_state_text(state: str | None, lang: str = "vi") -> str | None:
    """The sentence for a certificate state (None stays None; an unknown one is named)."""
    if state is None:
        return None
    vi, en = CERTIFICATE_STATES.get(state, (state, state))
    return en if lang == "en" else vi


# What an indication is called where a person reads it (CLI lines, the verdict).
INDICATION_NAMES: dict[Indication, tuple[str, str]] = {
    Indication.TOTAL_PASSED: ("hợp lệ", "valid"),
    Indication.TOTAL_FAILED: ("không hợp lệ", "not valid"),
    Indication.INDETERMINATE: ("chưa xác định được", "indeterminate"),
}


def message(sub: SubIndication | str | None, lang: str = "vi") -> str:
    """The sentence for an outcome in ``lang`` ("vi" or "en"); an unknown code gets the
    generic sentence of its family rather than an error (reports may be years old)."""
    try:
        key = None if sub is None else SubIndication(sub)
    except ValueError:
        key = SubIndication.SIG_CONSTRAINTS_FAILURE
    vi, en = MESSAGES[key]
    return en if lang == "en" else vi


def indication_name(indication: Indication | str, lang: str = "vi") -> str:
    """The indication in words ("hợp lệ", "không hợp lệ", "chưa xác định được")."""
    vi, en = INDICATION_NAMES[Indication(indication)]
    return en if lang == "en" else vi


def outcome_code(indication: Indication | str, sub: SubIndication | str | None) -> str:
    """``INDICATION/SUB_INDICATION`` (or the indication alone when it passed), the code a
    reader quotes when asking about a result."""
    return str(indication) if sub is None else f"{indication}/{sub}"


def code_text(code: Indication | SubIndication | None) -> str | None:
    """A code as plain text for a report's JSON (``None`` stays ``None``): canonical JSON
    and the archived reports take plain ``str``, not the enum."""
    return None if code is None else str(code)


Finding = tuple[Indication, SubIndication | None]


class IntactCheck:
    """The verdict of a report whose one question is "intact or not" (bag fixity, an audit
    hash chain): a broken one is TOTAL_FAILED / HASH_FAILURE. Its ``ok`` says only that,
    as pyHanko's ``intact`` does; what surfaces read is the indication."""

    ok: bool

    @property
    def indication(self) -> Indication:
        return Indication.TOTAL_PASSED if self.ok else Indication.TOTAL_FAILED

    @property
    def sub_indication(self) -> SubIndication | None:
        return None if self.ok else SubIndication.HASH_FAILURE


def worst(findings: Iterable[Finding]) -> Finding:
    """The one verdict of many: the first TOTAL_FAILED if any, else the first INDETERMINATE,
    else TOTAL_PASSED. Order matters only between findings of the same indication: callers
    list what they checked in the order a reader should hear about it."""
    first_indeterminate: Finding | None = None
    for indication, sub in findings:
        if indication is Indication.TOTAL_FAILED:
            return indication, sub
        if indication is Indication.INDETERMINATE and first_indeterminate is None:
            first_indeterminate = (indication, sub)
    return first_indeterminate or (Indication.TOTAL_PASSED, None)


# --------------------------------------------------------------------------- reports
@dataclass(frozen=True)
class SignerInfo:
    """Who a certificate names: what a report tells about the signer."""

    name: str | None
    unit: str | None
    unit_code: str | None
    user_id: str | None
    certificate_sha256: str
    serial_number: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "unit_code": self.unit_code,
            "user_id": self.user_id,
            "certificate_sha256": self.certificate_sha256,
            "serial_number": self.serial_number,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
        }


@dataclass(frozen=True)
class ChainLink:
    subject: str
    certificate_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "certificate_sha256": self.certificate_sha256}


@dataclass(frozen=True)
class TimestampInfo:
    """A signature's timestamp as its report shows it: the trusted time and the TSA, and
    whether the token itself passed (``message`` Vietnamese, from the timestamp verifier)."""

    indication: Indication
    sub_indication: SubIndication | None
    message: str
    gen_time: dt.datetime | None
    tsa_name: str | None
    serial: int | None
    policy: str | None

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    def to_dict(self) -> dict[str, Any]:
        return {
            "indication": str(self.indication),
            "sub_indication": code_text(self.sub_indication),
            "passed": self.passed,
            "message": self.message,
            "gen_time": self.gen_time.isoformat() if self.gen_time else None,
            "tsa": self.tsa_name,
            # A string: serials are up to 160 bits, beyond what JSON readers keep exact.
            "serial": None if self.serial is None else str(self.serial),
            "policy": self.policy,
        }


@dataclass(frozen=True)
class SignatureReport:
    """The validation of one signature: its indication and, unless it passed, the
    sub-indication naming what went wrong; ``message`` is the Vietnamese sentence archived
    with it (the table's, or a more specific one naming the unit)."""

    indication: Indication
    sub_indication: SubIndication | None
    message: str
    validation_time: dt.datetime
    signer: SignerInfo | None = None
    signing_time: dt.datetime | None = None
    chain: tuple[ChainLink, ...] = ()
    revocation_checked: bool = False
    detail: str | None = None  # technical detail (English), for logs and the JSON report
    # Issue 17: the signature's timestamps (CAdES-T), the earliest time a passed one (or an
    # archive timestamp over the bundle) proves the signature existed, and the state of the
    # certificate the validation found (a key of CERTIFICATE_STATES).
    timestamps: tuple[TimestampInfo, ...] = ()
    trusted_time: dt.datetime | None = None
    certificate_state: str | None = None

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    @property
    def finding(self) -> Finding:
        return self.indication, self.sub_indication

    @property
    def code(self) -> str:
        """The most specific ETSI code: the sub-indication, or TOTAL_PASSED. Kept for
        readers of the archived JSON and for workflow's approval check."""
        return str(self.sub_indication or self.indication)

    def to_dict(self) -> dict[str, Any]:
        return {
            "indication": str(self.indication),
            "sub_indication": code_text(self.sub_indication),
            "passed": self.passed,
            "code": self.code,
            "message": self.message,
            "detail": self.detail,
            "validation_time": self.validation_time.isoformat(),
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "signer": self.signer.to_dict() if self.signer else None,
            "chain": [link.to_dict() for link in self.chain],
            "revocation_checked": self.revocation_checked,
            "timestamps": [t.to_dict() for t in self.timestamps],
            "trusted_time": self.trusted_time.isoformat() if self.trusted_time else None,
            "certificate_state": self.certificate_state,
        }


@dataclass(frozen=True)
class UnitResult:
    """One unit's slot in a document: its signature's report, or none (not signed)."""

    code: str
    name: str | None
    report: SignatureReport | None
    expected: bool = True  # False for a signature from a unit that is not a member

    @property
    def signed(self) -> bool:
        return self.report is not None

    @property
    def finding(self) -> Finding:
        """A missing signature is SIGNED_DATA_NOT_FOUND; a signature from a unit that is
        not a member fails the document even when the signature itself is good."""
        if self.report is None:
            return Indication.INDETERMINATE, SubIndication.SIGNED_DATA_NOT_FOUND
        if not self.expected and self.report.indication is not Indication.TOTAL_FAILED:
            return Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE
        return self.report.finding

    @property
    def indication(self) -> Indication:
        return self.finding[0]

    @property
    def sub_indication(self) -> SubIndication | None:
        return self.finding[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "expected": self.expected,
            "signed": self.signed,
            "report": self.report.to_dict() if self.report else None,
        }


@dataclass(frozen=True)
class DocumentReport:
    """Every member unit's signature over one document. The indication is ``worst()`` of
    the units' findings, the signatures' first and the missing ones last, so a document
    that only lacks signatures reads INDETERMINATE/SIGNED_DATA_NOT_FOUND."""

    indication: Indication
    sub_indication: SubIndication | None
    units: tuple[UnitResult, ...]
    document_sha256: str
    validation_time: dt.datetime
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    @property
    def status(self) -> str:
        """The indication in the workflow's words, "complete", "incomplete" (only
        signatures missing) or "failed"; kept for workflow's approval check and for the
        archived verification.json, which carry this word."""
        if self.passed:
            return "complete"
        if self.sub_indication is SubIndication.SIGNED_DATA_NOT_FOUND:
            return "incomplete"
        return "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "passed": self.passed,
            "message": self.message,
            "document_sha256": self.document_sha256,
            "validation_time": self.validation_time.isoformat(),
            "units": [u.to_dict() for u in self.units],
            "indication": str(self.indication),
            "sub_indication": code_text(self.sub_indication),
        }
