"""TEMPORARY compatibility module: the validation code lives in signing/validation/ and the
package API in signing/__init__.py. It kept signing/bundle.py working while that was split
into signing/archive/; nothing in the tree imports it any more, and it goes with the lead's
final clean-up.

``_Digests`` and ``_verify_document`` are the old private names of ``DocumentDigests`` and
``verify_document_digests``: import the public ones.
"""

from __future__ import annotations

from signing.validation.crypto import DocumentDigests
from signing.validation.document import verify_document, verify_document_digests
from signing.validation.signature import verify_signature
from signing.validation.status import (
    ChainLink,
    DocumentReport,
    Indication,
    SignatureReport,
    SignerInfo,
    SubIndication,
    UnitResult,
)
from signing.validation.trust import TrustStore, crl_issuer_der

_Digests = DocumentDigests
_verify_document = verify_document_digests

__all__ = [
    "ChainLink",
    "DocumentDigests",
    "DocumentReport",
    "Indication",
    "SignatureReport",
    "SignerInfo",
    "SubIndication",
    "TrustStore",
    "UnitResult",
    "_Digests",
    "_verify_document",
    "crl_issuer_der",
    "verify_document",
    "verify_document_digests",
    "verify_signature",
]
