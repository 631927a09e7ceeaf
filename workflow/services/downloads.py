"""The files a reader downloads: a pledge's DOCX, a dossier's documents and manifest, a
unit's signature. Frozen versions give the stored bytes (exactly what was signed); an
unfrozen one a preview rendered from its content."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

import documents
from workflow import blobs
from workflow.errors import NotFound
from workflow.models import DocumentVersion, Signature, User
from workflow.services._common import current_actor, load_document
from workflow.services.queries import get_version

__all__ = [
    "DocumentFile",
    "document_docx",
    "document_files",
    "document_part",
    "signature_der",
    "signed_file",
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
