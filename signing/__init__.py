"""Pure cryptography and evidence: CA, credentials, CMS signatures, their validation and
archive bundles. No database, no Flask, no clock: callers pass the time.

Read downward: ``validation`` (status objects, trust store, CMS reading, the checks),
``signers`` and ``cms`` (making signatures), ``ca`` and ``credentials`` (keys and
certificates), ``audit`` (the hash chain of events), ``archive`` (bundles).
"""

from __future__ import annotations

from signing._util import sha256_hex
from signing.audit import GENESIS, ChainReport, canonical_json, event_hash, verify_chain
from signing.ca import (
    CertificateAuthority,
    Revocation,
    certificate_unit_code,
    fingerprint_sha256,
)
from signing.cms import sign_detached
from signing.credentials import (
    DEFAULT_KDF,
    TEST_KDF,
    ImportedCredential,
    KdfParams,
    PrivateKey,
    generate_private_key,
    import_pkcs12,
    load_certificate,
    load_certificates,
    seal_private_key,
    unseal_private_key,
)
from signing.errors import BundleError, FormatError, SigningError, WrongPassword, WrongPin
from signing.signers import KeySigner, Signer
from signing.validation import (
    ChainLink,
    DocumentDigests,
    DocumentReport,
    Finding,
    Indication,
    SignatureReport,
    SignerInfo,
    SubIndication,
    TrustStore,
    UnitResult,
    code_text,
    crl_issuer_der,
    indication_name,
    message,
    outcome_code,
    verify_document,
    verify_document_digests,
    verify_signature,
    worst,
)

__all__ = [
    "DEFAULT_KDF",
    "GENESIS",
    "TEST_KDF",
    "BundleError",
    "CertificateAuthority",
    "ChainLink",
    "ChainReport",
    "DocumentDigests",
    "DocumentReport",
    "Finding",
    "FormatError",
    "ImportedCredential",
    "Indication",
    "KdfParams",
    "KeySigner",
    "PrivateKey",
    "Revocation",
    "SignatureReport",
    "Signer",
    "SignerInfo",
    "SigningError",
    "SubIndication",
    "TrustStore",
    "UnitResult",
    "WrongPassword",
    "WrongPin",
    "canonical_json",
    "certificate_unit_code",
    "code_text",
    "crl_issuer_der",
    "event_hash",
    "fingerprint_sha256",
    "generate_private_key",
    "import_pkcs12",
    "indication_name",
    "load_certificate",
    "load_certificates",
    "message",
    "outcome_code",
    "seal_private_key",
    "sha256_hex",
    "sign_detached",
    "unseal_private_key",
    "verify_chain",
    "verify_document",
    "verify_document_digests",
    "verify_signature",
    "worst",
]
