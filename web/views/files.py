"""Downloads of a document: a pledge's DOCX, a dossier's documents and its manifest, each
unit's signature. Frozen versions give exactly the bytes that were signed."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from sqlalchemy.orm import Session

from web import db
from web.auth import login_required, signed_in_user
from workflow.services import downloads, queries

bp = Blueprint("files", __name__, url_prefix="/documents")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_MEDIA = {
    ".docx": DOCX,
    ".json": "application/json",
    ".p7s": "application/pkcs7-signature",
    ".pdf": "application/pdf",
}


def _session() -> Session:
    return db.get_session()


def _attachment(data: bytes, filename: str) -> Response:
    """``filename`` comes from stored, pattern-checked names (reference codes, part names,
    unit codes), never from the request."""
    media = _MEDIA[filename[filename.rindex(".") :]]
    return Response(
        data, mimetype=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _shown_version(document_id: int) -> tuple[int | None, str]:
    """The version a document's page shows (the frozen one once frozen, else the current
    one) and the file-name stem its downloads carry."""
    doc = queries.get_document(_session(), signed_in_user(), document_id)
    frozen = doc.frozen_version
    if frozen is not None:
        return frozen.number, str(frozen.reference_code)
    return None, f"thidua-{doc.id}-du-thao"


@bp.get("/<int:document_id>/document.docx")
@login_required
def docx(document_id: int) -> Response:
    number, stem = _shown_version(document_id)
    data = downloads.document_docx(_session(), signed_in_user(), document_id, number)
    return _attachment(data, f"{stem}.docx")


@bp.get("/<int:document_id>/versions/<int:number>.docx")
@login_required
def version_docx(document_id: int, number: int) -> Response:
    data = downloads.document_docx(_session(), signed_in_user(), document_id, number)
    return _attachment(data, f"thidua-{document_id}-v{number}.docx")


@bp.get("/<int:document_id>/parts/<name>")
@login_required
def part(document_id: int, name: str) -> Response:
    number, stem = _shown_version(document_id)
    data = downloads.document_part(_session(), signed_in_user(), document_id, name, number)
    return _attachment(data, f"{stem}-{name}")


@bp.get("/<int:document_id>/versions/<int:number>/parts/<name>")
@login_required
def version_part(document_id: int, number: int, name: str) -> Response:
    data = downloads.document_part(_session(), signed_in_user(), document_id, name, number)
    return _attachment(data, f"thidua-{document_id}-v{number}-{name}")


@bp.get("/<int:document_id>/signed")
@login_required
def signed(document_id: int) -> Response:
    """What the units sign: the frozen DOCX, or the dossier manifest (dossier.json)."""
    number, _stem = _shown_version(document_id)
    if number is None:
        abort(404)
    name, data = downloads.signed_file(_session(), signed_in_user(), document_id, number)
    return _attachment(data, name)


@bp.get("/<int:document_id>/pdf/<name>")
@login_required
def pdf(document_id: int, name: str) -> Response:
    """A frozen document's signed PDF (newest revision), as recipients' readers check it."""
    _number, stem = _shown_version(document_id)
    data = downloads.document_pdf(_session(), signed_in_user(), document_id, name)
    return _attachment(data, f"{stem}-{name}")


@bp.get("/<int:document_id>/signatures/<int:signature_id>.p7s")
@login_required
def signature_file(document_id: int, signature_id: int) -> Response:
    sig, der = downloads.signature_der(_session(), signed_in_user(), signature_id)
    if sig.document_id != document_id:
        abort(404)
    return _attachment(der, f"{sig.unit.code}.p7s")
