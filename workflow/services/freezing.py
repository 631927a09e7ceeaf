"""What freezing a version stores: the rendered documents and the bytes the units sign.

A pledge is one DOCX, signed as it is. A nomination dossier is several documents (the
submission, the minutes, the list, each achievement report): each is stored as a part of
the version, and the units sign the dossier manifest that pins every part's SHA-256. With
the deployment's CA, each document also gets its certified PDF (signed_pdf).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

import documents
from signing.ca import CertificateAuthority
from signing.tsa import Timestamper
from workflow import blobs
from workflow.models import DocumentVersion, VersionPart
from workflow.services.signed_pdf import PDF, freeze_pdf

__all__ = ["store_rendering"]


def store_rendering(
    session: Session,
    version: DocumentVersion,
    content: documents.PledgeContent | documents.NominationContent,
    reference_code: str,
    verify_url: str | None,
    now: datetime,
    ca: CertificateAuthority | None = None,
    timestamper: Timestamper | None = None,
) -> str:
    """Render ``content`` as frozen ``version`` prints it, store the blobs (and a dossier's
    parts) and return the SHA-256 of the bytes every member unit signs. With ``ca``, each
    document also gets its certified PDF with every signature field, B-T with
    ``timestamper``.

    Raises:
        documents.DocumentError: the content cannot be rendered.
        ConverterUnavailable, ValidationError: the PDF cannot be made (see signed_pdf.freeze_pdf).
    """
    blocks = documents.signature_blocks(content) if ca is not None else {}
    if not isinstance(content, documents.NominationContent):
        docx = documents.render(content, reference_code=reference_code, verify_url=verify_url)
        if ca is not None:
            signers = [u.code for u in content.signing_order]
            pdf = freeze_pdf(docx, blocks[documents.PLEDGE_DOCUMENT], signers, ca, now, timestamper)
            version.pdf_sha256 = blobs.put_blob(session, pdf, PDF, now=now)
        return blobs.put_blob(session, docx, blobs.DOCX, now=now)
    parts = documents.render_dossier(content, reference_code=reference_code, verify_url=verify_url)
    for position, part in enumerate(parts, start=1):
        pdf_sha = None
        if ca is not None:
            pdf = freeze_pdf(part.docx, blocks[part.name], part.signers, ca, now, timestamper)
            pdf_sha = blobs.put_blob(session, pdf, PDF, now=now)
        version.parts.append(
            VersionPart(
                position=position,
                name=part.name,
                title=part.title,
                docx_sha256=blobs.put_blob(session, part.docx, blobs.DOCX, now=now),
                signers=list(part.signers),
                pdf_sha256=pdf_sha,
            )
        )
    manifest = documents.dossier_manifest(parts, reference_code=reference_code, title=content.title)
    return blobs.put_blob(session, manifest, blobs.JSON, now=now)
