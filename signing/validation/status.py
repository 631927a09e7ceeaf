"""Status objects of validation: indications, sub-indications, the one aggregator and the
one table of messages (Vietnamese and English) that every surface shows.

The vocabulary is ETSI EN 319 102-1 §5.1.3: a validation ends TOTAL_PASSED, TOTAL_FAILED or
INDETERMINATE, and a failure names its sub-indication. Nothing here checks anything; the
checks live in the modules beside this one and only return these objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


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


Finding = tuple[Indication, SubIndication | None]


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
