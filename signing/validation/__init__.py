"""Validation of signatures, the ETSI EN 319 102-1 way: status objects (``status``) apart
from the checks (``trust``, ``cms_reader``, ``signature``, ``document``)."""

from __future__ import annotations

from signing.validation.crypto import DocumentDigests
from signing.validation.document import verify_document, verify_document_digests
from signing.validation.signature import verify_signature
from signing.validation.status import (
    ChainLink,
    DocumentReport,
    Finding,
    Indication,
    SignatureReport,
    SignerInfo,
    SubIndication,
    UnitResult,
    code_text,
    indication_name,
    message,
    outcome_code,
    worst,
)
from signing.validation.trust import TrustStore, crl_issuer_der

__all__ = [
    "ChainLink",
    "DocumentDigests",
    "DocumentReport",
    "Finding",
    "Indication",
    "SignatureReport",
    "SignerInfo",
    "SubIndication",
    "TrustStore",
    "UnitResult",
    "code_text",
    "crl_issuer_der",
    "indication_name",
    "message",
    "outcome_code",
    "verify_document",
    "verify_document_digests",
    "verify_signature",
    "worst",
]
