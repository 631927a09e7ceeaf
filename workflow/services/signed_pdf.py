"""The signed PDF of each frozen document (issue 16): made at freeze, filled by each unit's
sign, closed by the board.

At freeze the DOCX becomes a PDF/A (LibreOffice), every signing unit gets a field over its
cell of the signature grid and the board one at the top right of page 1, all in the first
revision, which a one-time key certifies (DocMDP "fill forms and sign"): the project CA
issues that key's certificate for the unit code THIDUA and the key is dropped after this one
signature, so no stored key can certify another PDF. Each unit that signs with its server
key adds an incremental PAdES signature in its own field; the board's closes the document
with a FieldMDP lock over every field. All under the document's row lock.

Issue 17: with a Timestamper, each unit's and the board's signature is PAdES B-T (the TSA's
token over the signature value), and the board's closed PDF is extended to B-LTA (a DSS
with the chains and CRLs the caller gives, then a document timestamp over the whole file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from cryptography import x509
from sqlalchemy.orm import Session

import documents
from documents.pdf import docx_to_pdf, signature_cells
from signing import KeySigner, Signer, SigningError, generate_private_key
from signing.ca import CERTIFIER_UNIT, CertificateAuthority
from signing.pades import (
    BOARD_FIELD,
    FieldSpec,
    extend_to_lta,
    prepare_pdf,
    sign_field,
    sign_final,
)
from signing.tsa import Timestamper
from workflow import blobs
from workflow.errors import ConverterUnavailable, ValidationError, WorkflowError
from workflow.models import DocumentVersion, Unit, User

__all__ = ["PDF", "close_pdfs", "freeze_pdf", "pdf_name", "sign_pdfs"]

PDF = "application/pdf"
# The board signs as an agency does on a document it did not issue: top right of page 1,
# in the margin above the header (Decree 30, Appendix I, II.8b). PDF points, A4.
BOARD_BOX = (345.0, 790.0, 545.0, 835.0)


def pdf_name(docx_name: str) -> str:
    """The signed PDF's file name beside its DOCX: "01-to-trinh.docx" -> "01-to-trinh.pdf"."""
    return docx_name.removesuffix(".docx") + ".pdf"


def _certifier(ca: CertificateAuthority, now: datetime) -> Signer:
    key = generate_private_key()
    cert = ca.issue(
        key.public_key(),
        person="Hệ thống thidua",
        unit_name="Hệ thống thidua – chứng nhận văn bản đã chốt",
        unit_code=CERTIFIER_UNIT,
        user_id="0",
        now=now,
        validity_days=3660,
    )
    return KeySigner(key, cert, (ca.certificate,))


def freeze_pdf(
    docx: bytes,
    blocks: Mapping[str, tuple[str, str]],
    signers: Sequence[str],
    ca: CertificateAuthority,
    now: datetime,
    timestamper: Timestamper | None = None,
) -> bytes:
    """The certified first revision of ``docx``'s PDF with a field for each of ``signers``
    (over its block in ``blocks`` when the document prints one, else invisible) and the
    board's; with ``timestamper`` the certification is B-T too (so the archived PDF is
    B-LTA with every signature timestamped).

    Raises:
        ConverterUnavailable: LibreOffice is missing or fails (the version stays unfrozen).
        ValidationError: a signature block cannot be found in the PDF.
    """
    try:
        pdf = docx_to_pdf(docx)
        cells = signature_cells(pdf, {code: blocks[code] for code in signers if code in blocks})
    except documents.DocumentError as exc:
        if getattr(exc, "field", None) in ("pdf", "docx", "timeout"):
            raise ConverterUnavailable(f"Không tạo được bản PDF để ký: {exc.reason}") from None
        raise ValidationError(f"Không đặt được ô chữ ký trong PDF: {exc}") from None
    fields = [
        FieldSpec(code, cells[code].page, cells[code].box) if code in cells else FieldSpec(code)
        for code in signers
    ]
    fields.append(FieldSpec(BOARD_FIELD, 0, BOARD_BOX, lock_all=True))
    try:
        return prepare_pdf(
            pdf, fields, _certifier(ca, now), signing_time=now, timestamper=timestamper
        )
    except SigningError as exc:
        raise WorkflowError(f"Không chứng nhận được bản PDF: {exc}", code="pdf_failed") from None


def _targets(version: DocumentVersion, unit_code: str | None) -> list[tuple[object, str]]:
    """(row holding ``pdf_sha256``, its current hash) of each PDF of the version, only those
    ``unit_code`` signs when given (a dossier part lists its signers)."""
    if version.parts:
        return [
            (part, part.pdf_sha256)
            for part in version.parts
            if part.pdf_sha256 and (unit_code is None or unit_code in part.signers)
        ]
    return [(version, version.pdf_sha256)] if version.pdf_sha256 else []


def _image(session: Session, sha: str | None) -> bytes | None:
    """A stamp image the admin uploaded (checked then: PNG with transparency), or None."""
    return None if sha is None else blobs.get_blob(session, sha)


def sign_pdfs(
    session: Session,
    version: DocumentVersion,
    unit: Unit,
    signer: Signer,
    actor: User,
    now: datetime,
    timestamper: Timestamper | None = None,
) -> int:
    """Add ``unit``'s PAdES signature, made by ``signer``, to each of the version's PDFs it
    signs; returns how many. With ``timestamper`` each signature is B-T (one token per
    PDF). The caller holds the document's row lock."""
    targets = _targets(version, unit.code)
    if not targets:
        return 0
    signature_image = _image(session, actor.signature_sha256)
    seal_image = _image(session, unit.seal_sha256)
    for row, sha in targets:
        pdf = blobs.get_blob(session, sha)
        try:
            signed = sign_field(
                pdf,
                unit.code,
                signer,
                signing_time=now,
                name=actor.full_name,
                unit=unit.name,
                signature_image=signature_image,
                seal_image=seal_image,
                timestamper=timestamper,
            )
        except SigningError as exc:
            raise WorkflowError(f"Không ký được bản PDF: {exc}", code="pdf_sign_failed") from None
        row.pdf_sha256 = blobs.put_blob(session, signed, PDF, now=now)  # type: ignore[attr-defined]
    return len(targets)


def close_pdfs(
    session: Session,
    version: DocumentVersion,
    board: Unit,
    signer: Signer,
    actor: User,
    now: datetime,
    *,
    timestamper: Timestamper | None = None,
    certificates: Sequence[x509.Certificate] = (),
    crls: Sequence[bytes] = (),
) -> dict[str, bytes]:
    """The board's closing signature in each PDF of the version; returns the closed PDFs
    by file name ("document.pdf", or each part's "NN-….pdf").

    With ``timestamper`` the board's signature is B-T and each closed PDF is then extended
    to B-LTA: a DSS with ``certificates`` (every chain's, the TSA's; those the signatures
    carry are added anyway) and ``crls`` (DER), and a document timestamp. The PDF stored
    and returned is the B-LTA one. ``certificates`` and ``crls`` without a timestamper
    are a ValidationError (they would be dropped)."""
    if timestamper is None and (certificates or crls):
        raise ValidationError(
            "Cần dịch vụ cấp dấu thời gian để đưa chứng thư số và CRL vào bản PDF lưu trữ"
        )
    out: dict[str, bytes] = {}
    seal_image = _image(session, board.seal_sha256)
    for row, sha in _targets(version, None):
        pdf = blobs.get_blob(session, sha)
        try:
            closed = sign_final(
                pdf,
                BOARD_FIELD,
                signer,
                signing_time=now,
                name=actor.full_name,
                unit=board.name,
                seal_image=seal_image,
                timestamper=timestamper,
            )
            if timestamper is not None:
                closed = extend_to_lta(
                    closed, timestamper=timestamper, certificates=certificates, crls=crls
                )
        except SigningError as exc:
            raise WorkflowError(f"Không ký được bản PDF: {exc}", code="pdf_sign_failed") from None
        row.pdf_sha256 = blobs.put_blob(session, closed, PDF, now=now)  # type: ignore[attr-defined]
        name = getattr(row, "name", documents.PLEDGE_DOCUMENT)
        out[pdf_name(name)] = closed
    return out
