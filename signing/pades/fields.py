"""A signed PDF checked on its own, without the system that made it: the expected fields
come from the PDF's own signature fields (each unit's field is named by its unit code, the
board's is BOARD, the certification CERTIFICATION), read with pyHanko's reader.

Used by ``thidua verify signed.pdf`` and, for a PDF the system does not know, by the web's
verification. Pure: no database, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from signing.ca import CERTIFIER_UNIT
from signing.errors import SigningError
from signing.pades.sign import BOARD_FIELD, CERTIFICATION_FIELD
from signing.pades.verify import MAX_PDF_BYTES, PdfReport, verify_pdf
from signing.validation.status import Indication, SubIndication
from signing.validation.trust import TrustStore

__all__ = [
    "PDF_MAGIC",
    "expected_from_fields",
    "signature_field_names",
    "verify_pdf_alone",
]

PDF_MAGIC = b"%PDF-"


def _is_document_timestamp(value: object) -> bool:
    try:
        return value is not None and value.get_object().get("/Type") == "/DocTimeStamp"  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return False


def signature_field_names(pdf: bytes) -> tuple[str, ...]:
    """The names of every signature field of ``pdf`` (signed or not), in the order of its
    form, but document timestamps' (PAdES B-LTA, no unit signs them). Raises SigningError
    when ``pdf`` is not a PDF pyHanko can read."""
    if not isinstance(pdf, bytes | bytearray | memoryview):
        raise SigningError("pdf phải là dữ liệu nhị phân")
    data = bytes(pdf)
    if not data.startswith(PDF_MAGIC):
        raise SigningError("tệp không phải PDF (không bắt đầu bằng %PDF-)")
    if len(data) > MAX_PDF_BYTES:
        raise SigningError(f"tệp PDF quá lớn (tối đa {MAX_PDF_BYTES} byte)")
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        names = [
            str(name)
            for name, value, _ref in enumerate_sig_fields(reader)
            if not _is_document_timestamp(value)
        ]
    except Exception as exc:  # pyHanko raises many types on damaged files
        raise SigningError(f"tệp PDF hỏng, không đọc được: {exc}") from None
    return tuple(dict.fromkeys(names))


def expected_from_fields(
    names: Iterable[str], members: Iterable[str] | None = None
) -> dict[str, str | None]:
    """Field name -> the unit code that must sign it: ``members`` when the caller knows
    the document's member units (else every field but BOARD and CERTIFICATION, each named
    by its unit code), BOARD for any certificate of the trust store, CERTIFICATION for the
    freeze certificate (THIDUA)."""
    expected: dict[str, str | None] = {}
    units = (
        [n for n in names if n not in (BOARD_FIELD, CERTIFICATION_FIELD)]
        if members is None
        else list(members)
    )
    for code in units:
        expected[code] = code
    expected[BOARD_FIELD] = None
    expected[CERTIFICATION_FIELD] = CERTIFIER_UNIT
    return expected


def verify_pdf_alone(
    pdf: bytes,
    trust: TrustStore | None,
    *,
    at: dt.datetime,
    members: Iterable[str] | None = None,
) -> PdfReport:
    """``verify_pdf`` with the expected fields of ``expected_from_fields``; the board's
    field signed by a certificate whose unit code is one of the member units (a member
    cannot close its own document) is SIG_CONSTRAINTS_FAILURE, INDETERMINATE as the
    bundle rules an approval signed by a member. Raises SigningError for bytes that are
    not a readable PDF."""
    names = signature_field_names(pdf)
    expected = expected_from_fields(names, members)
    report = verify_pdf(pdf, trust, at=at, expected_fields=expected)
    units = {code for code, unit in expected.items() if unit is not None} - {CERTIFICATION_FIELD}
    return _board_not_member(report, units)


def _board_not_member(report: PdfReport, members: set[str]) -> PdfReport:
    signatures = list(report.signatures)
    changed = False
    for index, sig in enumerate(signatures):
        signer = sig.report.signer
        code = signer.unit_code if signer else None
        if sig.field != BOARD_FIELD or not sig.report.passed or code not in members:
            continue
        signatures[index] = replace(
            sig,
            report=replace(
                sig.report,
                indication=Indication.INDETERMINATE,
                sub_indication=SubIndication.SIG_CONSTRAINTS_FAILURE,
                message=f"Chữ ký trong trường {BOARD_FIELD} là của đơn vị thành viên {code},"
                " không phải Ban Thi đua – Khen thưởng",
                detail=f"board field signed by member unit {code!r}",
            ),
        )
        changed = True
    if not changed:
        return report
    bad = [s.field for s in signatures if not s.report.passed]
    return report.with_signatures(signatures, f"Tệp PDF có chữ ký không hợp lệ: {', '.join(bad)}")
