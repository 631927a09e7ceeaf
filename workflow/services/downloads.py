"""The files a reader downloads: a pledge's DOCX, a dossier's documents and manifest, a
unit's signature. Frozen versions give the stored bytes (exactly what was signed); an
unfrozen one a preview rendered from its content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from sqlalchemy.orm import Session

import documents
from signing.ca import CERTIFIER_UNIT
from signing.pades import BOARD_FIELD, CERTIFICATION_FIELD, verify_pdf
from workflow import blobs
from workflow.clock import aware
from workflow.errors import NotFound
from workflow.models import DocumentVersion, Signature, User
from workflow.services._common import current_actor, load_document
from workflow.services.keys import trust_store
from workflow.services.queries import get_version
from workflow.services.signed_pdf import pdf_name

__all__ = [
    "DocumentFile",
    "PdfFile",
    "document_docx",
    "document_files",
    "document_part",
    "document_pdf",
    "signature_der",
    "signed_file",
    "signed_pdfs",
]

SIGNED_DOCX, DOSSIER_MANIFEST = "document.docx", "dossier.json"


@dataclass(frozen=True)
class DocumentFile:
    """One document of a dossier version: its file name, title, the SHA-256 of its frozen
    bytes (None for a preview) and the units whose signature block it carries."""

    name: str
    title: str
    sha256: str | None
    signers: tuple[str, ...]


@dataclass(frozen=True)
class PdfFile:
    """A frozen document's signed PDF, newest revision: its file name, title, SHA-256, how
    many of the units that sign it have a signature in it that verifies now, out of how
    many, and whether the board's closing signature is there and verifies."""

    name: str
    title: str
    sha256: str
    valid: int
    units: int
    closed: bool


# (PDF SHA-256, CA fingerprint) -> (valid, units, closed): a PDF revision never changes,
# and verifying a fully signed one costs ~0.2 s, too much for every page view.
_STATUS: dict[tuple[str, str], tuple[int, int, bool]] = {}
_STATUS_MAX = 1024


def _pdf_status(
    session: Session, sha: str, signers: list[str], now: datetime
) -> tuple[int, int, bool]:
    trust = trust_store(session)
    key = (sha, trust.anchors[0].fingerprint(hashes.SHA256()).hex())
    if key not in _STATUS:
        expected = {**{code: code for code in signers}, BOARD_FIELD: None}
        expected[CERTIFICATION_FIELD] = CERTIFIER_UNIT
        report = verify_pdf(blobs.get_blob(session, sha), trust, at=now, expected_fields=expected)
        passed = {r.field for r in report.signatures if r.report.passed}
        if len(_STATUS) >= _STATUS_MAX:
            _STATUS.clear()
        _STATUS[key] = (len(passed & set(signers)), len(signers), BOARD_FIELD in passed)
    return _STATUS[key]


def signed_pdfs(
    session: Session, actor: User, document_id: int, *, now: datetime | None = None
) -> list[PdfFile]:
    """The frozen version's signed PDFs (one for a pledge, one per dossier document); empty
    before freezing or where no PDF was made."""
    document = load_document(session, current_actor(session, actor), document_id)
    version = document.frozen_version
    if version is None:
        return []
    now = aware(now)
    if version.parts:
        return [
            PdfFile(
                pdf_name(p.name),
                p.title,
                p.pdf_sha256,
                *_pdf_status(session, p.pdf_sha256, list(p.signers), now),
            )
            for p in version.parts
            if p.pdf_sha256
        ]
    if version.pdf_sha256 is None:
        return []
    units = [u.code for u in document.term.member_units]
    status = _pdf_status(session, version.pdf_sha256, units, now)
    return [PdfFile("document.pdf", document.title, version.pdf_sha256, *status)]


def document_pdf(session: Session, actor: User, document_id: int, name: str) -> bytes:
    """One signed PDF of the frozen version by file name (``NotFound`` for any other)."""
    for pdf in signed_pdfs(session, actor, document_id):
        if pdf.name == name:
            return blobs.get_blob(session, pdf.sha256)
    raise NotFound("Văn bản không có bản PDF đã ký này.", code="pdf_not_found")


def _is_dossier(version: DocumentVersion) -> bool:
    return version.content.get("kind") == "nomination"


def document_files(
    session: Session, actor: User, document_id: int, version_number: int | None = None
) -> list[DocumentFile]:
    """A dossier version's documents in order; empty for a pledge (one DOCX)."""
    version = get_version(session, actor, document_id, version_number)
    if not _is_dossier(version):
        return []
    if version.is_frozen:
        return [
            DocumentFile(p.name, p.title, p.docx_sha256, tuple(p.signers)) for p in version.parts
        ]
    content = documents.content_from_dict(version.content)
    assert isinstance(content, documents.NominationContent)
    return [
        DocumentFile(name, title, None, signers)
        for name, title, signers in documents.dossier_outline(content)
    ]


def document_docx(
    session: Session, actor: User, document_id: int, version_number: int | None = None
) -> bytes:
    """A pledge version's DOCX: the frozen bytes once frozen, else a preview."""
    version = get_version(session, actor, document_id, version_number)
    if _is_dossier(version):
        raise NotFound(
            "Hồ sơ đề nghị khen thưởng gồm nhiều văn bản riêng: hãy tải từng văn bản.",
            code="dossier_has_parts",
        )
    if version.signed_sha256 is not None:
        return blobs.get_blob(session, version.signed_sha256)
    return documents.render(documents.content_from_dict(version.content))


def document_part(
    session: Session, actor: User, document_id: int, name: str, version_number: int | None = None
) -> bytes:
    """One document of a dossier version, by file name (``NotFound`` for any other name)."""
    version = get_version(session, actor, document_id, version_number)
    if _is_dossier(version) and version.is_frozen:
        part = next((p for p in version.parts if p.name == name), None)
        if part is not None:
            return blobs.get_blob(session, part.docx_sha256)
    elif _is_dossier(version):
        content = documents.content_from_dict(version.content)
        assert isinstance(content, documents.NominationContent)
        rendered = next((p for p in documents.render_dossier(content) if p.name == name), None)
        if rendered is not None:
            return rendered.docx
    raise NotFound("Hồ sơ không có văn bản này.", code="part_not_found")


def signed_file(
    session: Session, actor: User, document_id: int, version_number: int | None = None
) -> tuple[str, bytes]:
    """(file name, bytes) of what every member unit signs in a frozen version: a pledge's
    DOCX or a dossier's manifest. What ``openssl cms -verify -content`` takes."""
    version = get_version(session, actor, document_id, version_number)
    if version.signed_sha256 is None:
        raise NotFound("Phiên bản này chưa được chốt để ký.", code="not_frozen")
    name = DOSSIER_MANIFEST if _is_dossier(version) else SIGNED_DOCX
    return name, blobs.get_blob(session, version.signed_sha256)


def signature_der(session: Session, actor: User, signature_id: int) -> tuple[Signature, bytes]:
    """One unit's signature file (.p7s DER)."""
    actor = current_actor(session, actor)
    sig = session.get(Signature, int(signature_id))
    if sig is None:
        raise NotFound("Không tìm thấy chữ ký.")
    load_document(session, actor, sig.document_id)
    return sig, blobs.get_blob(session, sig.cms_sha256)
