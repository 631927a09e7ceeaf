"""What freezing a version stores: the rendered documents and the bytes the units sign.

A pledge is one DOCX, signed as it is. A nomination dossier is several documents (the
submission, the minutes, the list, each achievement report): each is stored as a part of
the version, and the units sign the dossier manifest that pins every part's SHA-256.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

import documents
from workflow import blobs
from workflow.models import DocumentVersion, VersionPart

__all__ = ["store_rendering"]


def store_rendering(
    session: Session,
    version: DocumentVersion,
    content: documents.PledgeContent | documents.NominationContent,
    reference_code: str,
    verify_url: str | None,
    now: datetime,
) -> str:
    """Render ``content`` as frozen ``version`` prints it, store the blobs (and a dossier's
    parts) and return the SHA-256 of the bytes every member unit signs.

    Raises:
        documents.DocumentError: the content cannot be rendered.
    """
    if not isinstance(content, documents.NominationContent):
        docx = documents.render(content, reference_code=reference_code, verify_url=verify_url)
        return blobs.put_blob(session, docx, blobs.DOCX, now=now)
    parts = documents.render_dossier(content, reference_code=reference_code, verify_url=verify_url)
    for position, part in enumerate(parts, start=1):
        version.parts.append(
            VersionPart(
                position=position,
                name=part.name,
                title=part.title,
                docx_sha256=blobs.put_blob(session, part.docx, blobs.DOCX, now=now),
                signers=list(part.signers),
            )
        )
    manifest = documents.dossier_manifest(parts, reference_code=reference_code, title=content.title)
    return blobs.put_blob(session, manifest, blobs.JSON, now=now)
