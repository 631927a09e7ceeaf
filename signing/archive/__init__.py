"""Archive bundles: a BagIt bag (RFC 8493) in a zip that proves an approved document offline.

Building::

    evidence = ArchiveEvidence(...)                  # everything but the approval
    manifest = approval_manifest(evidence, decision=..., approved_at=...)
    signature = <the board's detached CMS over manifest>
    bundle = build_bundle(evidence, manifest, signature)

Verifying: ``verify_bundle(bundle, trust=..., ca_fingerprint=..., at=...)`` gives a
``BundleReport``. Every member of the zip is covered by a signature (the manifest by the
board's, every payload file by the manifest's pins), or rebuilt from covered data and
compared (the four tag files), or refused.

A pledge's member units sign data/document.docx; a nomination dossier's sign its manifest
data/dossier.json (signing.archive.dossier), which lists its documents, data/parts/*.docx,
by SHA-256 and size. A bundle may also hold the signed PDFs (PAdES, issue 16):
data/document.pdf beside a pledge's DOCX, data/parts/NN-name.pdf beside a dossier's part;
the board pins them and the verifier checks each PDF's signatures (verify_pdfs).

Modules: canonical (the one canonical JSON), layout (names and paths), dossier (a dossier's
manifest), evidence (the payload files), manifest, build, zipio (one reading of a zip), bag
(BagIt), report, and the verifier's steps: verify (the entry point), verify_layout,
verify_document, verify_signatures, verify_trust, verify_pdfs, verify_audit, verify_pins.
"""

from signing.archive.bag import FixityResult
from signing.archive.build import build_bundle
from signing.archive.canonical import canonical_json
from signing.archive.dossier import DOSSIER_FORMAT, Dossier, DossierPart, parse_dossier
from signing.archive.evidence import ArchiveEvidence
from signing.archive.layout import BUNDLE_FORMAT
from signing.archive.manifest import MANIFEST_FORMAT, approval_manifest
from signing.archive.report import (
    ApprovalResult,
    AuditResult,
    BundleReport,
    PartResult,
    Problem,
)
from signing.archive.verify import normalize_fingerprint, verify_bundle
from signing.archive.zipio import DEFAULT_LIMITS, ZipLimits, read_zip

__all__ = [
    "BUNDLE_FORMAT",
    "DEFAULT_LIMITS",
    "DOSSIER_FORMAT",
    "MANIFEST_FORMAT",
    "ApprovalResult",
    "ArchiveEvidence",
    "AuditResult",
    "BundleReport",
    "Dossier",
    "DossierPart",
    "FixityResult",
    "PartResult",
    "Problem",
    "ZipLimits",
    "approval_manifest",
    "build_bundle",
    "canonical_json",
    "normalize_fingerprint",
    "parse_dossier",
    "read_zip",
    "verify_bundle",
]
