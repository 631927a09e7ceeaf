"""/verify: anyone, without logging in, checks a bundle or a DOCX with its signatures.

``/verify?ref=`` looks a reference code up for someone holding the paper. It answers with
what that paper already shows (the code, the title, the state and the SHA-256 of that
version) and nothing else: no units, signers, comments, dates or internal ids, and the
template only ever sees this record, never the document itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request

import documents
from web import db
from web.verification import VerificationInputError, parse_at, verify_uploads
from workflow import models
from workflow.definitions import normalise_reference_code
from workflow.services import queries

bp = Blueprint("verify", __name__)

# The version looked up is not (or no longer) the one the document stands on: it was
# reopened for changes, and a later version, if any, carries its own code.
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class PublicRecord:
    reference: str
    title: str
    state: str  # the document's state, or SUPERSEDED
    sha256: str


def _title(version: models.DocumentVersion) -> str:
    """The title printed on this version (a later version may have renamed the document)."""
    try:
        return documents.content_from_dict(version.content).title
    except documents.DocumentError:
        return version.document.title


def _public_record(version: models.DocumentVersion) -> PublicRecord:
    document = version.document
    current = document.frozen_version_id == version.id
    return PublicRecord(
        reference=version.reference_code or "",
        title=_title(version),
        state=document.state if current else SUPERSEDED,
        sha256=version.signed_sha256 or "",
    )


def _by_reference(code: str) -> PublicRecord | None:
    code = normalise_reference_code(code)
    if not code or len(code) > 64 or not code.isprintable():
        return None
    version = queries.document_by_reference(db.get_session(), code)
    return _public_record(version) if version is not None else None


@bp.route("/verify", methods=["GET", "POST"])
def page() -> tuple[str, int]:
    result = None
    error = None
    status = 200
    ref = request.args.get("ref", "")
    referenced = _by_reference(ref) if ref else None
    # "Kiểm tra tại thời điểm": the date the signatures are judged at (default now).
    at_text = request.form.get("at", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            result = verify_uploads(request.files, at=parse_at(at_text))
        except VerificationInputError as exc:
            error = str(exc)
            status = exc.status
    return (
        render_template(
            "verify/page.html",
            result=result,
            error=error,
            ref=ref,
            referenced=referenced,
            at_text=at_text,
        ),
        status,
    )
