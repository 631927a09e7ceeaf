"""/verify: anyone, without logging in, checks a bundle or a DOCX with its signatures."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from web import db
from web.verification import VerificationInputError, verify_uploads
from workflow import models
from workflow.services import queries

bp = Blueprint("verify", __name__)


def _by_reference(code: str) -> models.DocumentVersion | None:
    code = code.strip()
    if not code or len(code) > 64:
        return None
    return queries.document_by_reference(db.get_session(), code)


@bp.route("/verify", methods=["GET", "POST"])
def page() -> tuple[str, int]:
    result = None
    error = None
    status = 200
    ref = request.args.get("ref", "")
    referenced = _by_reference(ref) if ref else None
    if request.method == "POST":
        try:
            result = verify_uploads(request.files)
        except VerificationInputError as exc:
            error = str(exc)
            status = 422
    return (
        render_template(
            "verify/page.html", result=result, error=error, ref=ref, referenced=referenced
        ),
        status,
    )
