"""Validation of a document signed by several units: one signature per member unit, all
over the same bytes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from cryptography import x509

from signing._util import utc
from signing.errors import SigningError
from signing.validation.crypto import DocumentDigests
from signing.validation.signature import check_trust, verify_with_digests
from signing.validation.status import DocumentReport, UnitResult, worst
from signing.validation.trust import TrustStore

__all__ = ["verify_document", "verify_document_digests"]


def verify_document(
    data: bytes,
    expected_units: Mapping[str, str],
    signatures: Mapping[str, bytes],
    trust: TrustStore | None,
    *,
    at: dt.datetime,
    expected_certificates: Mapping[str, x509.Certificate] | None = None,
) -> DocumentReport:
    """Check every member unit's signature over the same document bytes.

    ``expected_units``: unit code -> unit name, in the order to report them.
    ``signatures``: unit code -> detached CMS DER. A signature must come from a certificate
    naming its slot's unit code (or, for an external certificate without one, from the
    certificate registered in ``expected_certificates``).

    The indication is TOTAL_PASSED when every member signed and every signature passed;
    a signature that does not pass, or one from a unit that is not a member, gives its own
    indication (a stranger's is TOTAL_FAILED); when only signatures are missing it is
    INDETERMINATE/SIGNED_DATA_NOT_FOUND.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SigningError("document data must be bytes")
    return verify_document_digests(
        DocumentDigests(bytes(data)),
        expected_units,
        signatures,
        trust,
        at=at,
        expected_certificates=expected_certificates,
    )


def verify_document_digests(
    digests: DocumentDigests,
    expected_units: Mapping[str, str],
    signatures: Mapping[str, bytes],
    trust: TrustStore | None,
    *,
    at: dt.datetime,
    expected_certificates: Mapping[str, x509.Certificate] | None = None,
    proven_at: dt.datetime | None = None,
) -> DocumentReport:
    """verify_document over a document whose digests the caller already holds (the bundle
    verifier has hashed the document for the bag's fixity). ``proven_at``: a time an
    archive timestamp proves the signatures existed (see verify_signature)."""
    at = utc(at, "at")
    proven_at = None if proven_at is None else utc(proven_at, "proven_at")
    check_trust(trust)
    if not isinstance(expected_units, Mapping) or not isinstance(signatures, Mapping):
        raise SigningError("expected_units and signatures must be mappings keyed by unit code")
    registered = dict(expected_certificates or {})
    for cert in registered.values():
        if not isinstance(cert, x509.Certificate):
            raise SigningError("expected_certificates must map unit codes to certificates")

    units: list[UnitResult] = []
    for code, name in expected_units.items():
        raw = signatures.get(code)
        report = None
        if raw is not None:
            report = verify_with_digests(
                digests, raw, trust, at, registered.get(code), code, proven_at=proven_at
            )
        units.append(UnitResult(code=code, name=name, report=report))
    for code, raw in signatures.items():
        if code not in expected_units:
            report = verify_with_digests(
                digests, raw, trust, at, registered.get(code), code, proven_at=proven_at
            )
            units.append(UnitResult(code=code, name=None, report=report, expected=False))
    # Signatures first, missing ones last: a document that merely lacks signatures reads
    # SIGNED_DATA_NOT_FOUND, one with a bad signature reads that signature's finding.
    indication, sub = worst(
        [u.finding for u in units if u.signed] + [u.finding for u in units if not u.signed]
    )
    return DocumentReport(
        indication=indication,
        sub_indication=sub,
        units=tuple(units),
        document_sha256=digests.get("sha256").hex(),
        validation_time=at,
        message=_message(units),
    )


def _message(units: list[UnitResult]) -> str:
    """The Vietnamese sentence naming the units a reader must look at."""
    unsigned = [u.code for u in units if u.report is None]
    bad = [u.code for u in units if u.report is not None and not u.report.passed]
    strangers = [u.code for u in units if not u.expected]
    if bad or strangers:
        parts = []
        if bad:
            parts.append(f"chữ ký không hợp lệ: {', '.join(bad)}")
        if strangers:
            parts.append(f"chữ ký của đơn vị không thuộc danh sách: {', '.join(strangers)}")
        return "Văn bản không hợp lệ — " + "; ".join(parts)
    if unsigned:
        return f"Còn {len(unsigned)} đơn vị chưa ký: {', '.join(unsigned)}"
    return f"Đủ chữ ký hợp lệ của {len(units)} đơn vị"
