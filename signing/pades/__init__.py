"""PAdES signatures in the frozen PDF (ETSI EN 319 142, pyHanko): every field in the first
signed revision, certification at freeze, one signature per member unit, the board's last
with a FieldMDP lock, each B-T when given a Timestamper; the archived PDF extended to B-LTA
(DSS and document timestamp, ``extend_to_lta``); and verification in the project's status
vocabulary. Pure: no database, no clock (times are parameters)."""

from __future__ import annotations

import signing.pades._quiet  # noqa: F401  (first: pyHanko without cryptography's DSA warning)
from signing.pades.images import read_png
from signing.pades.ltv import DOC_TIMESTAMP_PREFIX, extend_to_lta
from signing.pades.sign import (
    BOARD_FIELD,
    CERTIFICATION_FIELD,
    FieldSpec,
    prepare_pdf,
    sign_field,
    sign_final,
    stamp_text,
)
from signing.pades.verify import (
    DocumentTimestampResult,
    PdfReport,
    PdfSignatureResult,
    timestamp_dict,
    verify_pdf,
)

__all__ = [
    "BOARD_FIELD",
    "CERTIFICATION_FIELD",
    "DOC_TIMESTAMP_PREFIX",
    "DocumentTimestampResult",
    "FieldSpec",
    "PdfReport",
    "PdfSignatureResult",
    "extend_to_lta",
    "prepare_pdf",
    "read_png",
    "sign_field",
    "sign_final",
    "stamp_text",
    "timestamp_dict",
    "verify_pdf",
]
