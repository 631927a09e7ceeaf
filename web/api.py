"""The JSON API for e-office integration and scripts.

Authentication: ``Authorization: Bearer <token>`` or the browser session. Errors are one
envelope ``{"error": {"code", "message"}}`` with a 4xx status (see web.errors).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web import conflicts, db, idempotent, openapi
from web.actions import USER_TRIGGERS, fire, inputs_from
from web.auth import signed_in_user
from web.boundary import json_body
from web.errors import error_response
from web.ids import db_int
from web.page_cache import cached_page
from web.verification import ValidationTimeError, VerificationInputError, parse_at, verify_uploads
from workflow import models
from workflow.errors import NotFound
from workflow.services import downloads, queries
from workflow.services.idempotency import Answer

bp = Blueprint("api", __name__, url_prefix="/api")
# Set on an answer given again for a repeated Idempotency-Key (the write was not redone).
REPLAYED_HEADER = "Idempotent-Replayed"
# A lost race (409 state_changed) says, in the reader's language, what happened and when.
conflicts.register(bp)


def _need_login() -> Response | None:
    if not current_user.is_authenticated:
        return error_response(
            401, "unauthorized", _("Cần đăng nhập hoặc mã truy cập (Bearer token).")
        )
    return None


def _document_id(raw: str) -> int:
    """The id of an API path, written as ``summary`` writes it ("12"). Other spellings that
    ``int()`` accepts ("+12", "012", "12 ", "١٢") name no document: one document, one URL
    (and one entry in the page cache)."""
    if not (raw.isascii() and raw.isdigit() and raw == str(int(raw))):
        raise NotFound("Không tìm thấy văn bản.")
    return int(raw)


def summary(doc: models.Document) -> dict[str, Any]:
    return {
        "id": str(doc.id),
        "kind": doc.kind,
        "year": doc.term.year,
        "state": doc.state,
        "cluster": doc.term.cluster.code,
        "cluster_name": doc.term.cluster.name,
        "title": doc.title,
        "url": url_for("documents.show", document_id=doc.id, _external=False),
    }


def detail(doc: models.Document) -> dict[str, Any]:
    session = db.get_session()
    data = summary(doc)
    frozen = doc.frozen_version
    signatures = queries.document_signatures(session, doc)
    progress = queries.signature_progress(session, doc, signatures)
    triggers = queries.allowed_triggers(session, signed_in_user(), doc, signatures=signatures)
    number = frozen.number if frozen else None
    parts = downloads.document_files(session, signed_in_user(), doc.id, number)
    data.update(
        {
            "version": doc.version,
            "current_version": doc.current_version.number if doc.current_version else None,
            "allowed_triggers": [t for t in triggers if t in USER_TRIGGERS],
            "member_units": [{"code": u.code, "name": u.name} for u in doc.term.member_units],
            "signatures": progress.signatures(),
            "signed": progress.signed,
            "total": progress.total,
            "frozen": {
                "sha256": frozen.signed_sha256,
                "reference_code": frozen.reference_code,
                "version": frozen.number,
            }
            if frozen
            else None,
            # A pledge is one DOCX; a dossier is its parts, and its units sign the manifest.
            "docx_url": None if parts else url_for("files.docx", document_id=doc.id),
            "signed_url": url_for("files.signed", document_id=doc.id) if frozen else None,
            "parts": [
                {
                    "name": p.name,
                    "title": p.title,
                    "sha256": p.sha256,
                    "signers": list(p.signers),
                    "url": url_for("files.part", document_id=doc.id, name=p.name),
                }
                for p in parts
            ],
            "bundle_url": url_for(
                "archive.bundle", document_id=doc.id, filename=f"thidua-{doc.id}.zip"
            )
            if doc.bundle_sha256
            else None,
        }
    )
    return data


@bp.get("/documents")
@cached_page
def list_documents() -> Response:
    if (resp := _need_login()) is not None:
        return resp
    rows = queries.visible_documents(
        db.get_session(),
        signed_in_user(),
        kind=request.args.get("kind") or None,
        year=request.args.get("year", type=db_int),
        state=request.args.get("state") or None,
    )
    return jsonify([summary(d) for d in rows])


@bp.get("/documents/<document_id>")
@cached_page
def get_document(document_id: str) -> Response:
    if (resp := _need_login()) is not None:
        return resp
    doc = queries.get_document(db.get_session(), signed_in_user(), _document_id(document_id))
    return jsonify(detail(doc))


@bp.post("/documents/<document_id>/<trigger>")
def fire_trigger(document_id: str, trigger: str) -> Response:
    if (resp := _need_login()) is not None:
        return resp
    if not current_user.via_token and not request.is_json:
        # A session-authenticated write must be a JSON request: a cross-site form cannot
        # send one, which is what protects this CSRF-exempt endpoint.
        return error_response(
            415, "json_required", _("Gửi thân yêu cầu dạng JSON (Content-Type: application/json).")
        )
    body = json_body() if request.data else {}
    if body is None or not isinstance(body, dict):
        return error_response(400, "bad_json", _("Thân yêu cầu phải là một đối tượng JSON."))
    doc_id = _document_id(document_id)
    key = idempotent.api_key()
    claimed = idempotent.claim("api", key, body) if key is not None else None
    if isinstance(claimed, Answer):
        return _answer(claimed, replayed=True)
    session = db.get_session()
    doc = queries.get_document(session, signed_in_user(), doc_id)
    fire(doc.id, trigger, inputs_from(body))
    # The answer is what this transaction wrote, read before the commit: once the commit
    # succeeded, nothing can turn it into an error.
    data = detail(queries.get_document(session, signed_in_user(), doc.id))
    try:
        answer = idempotent.commit(claimed, "api", 200, data)
    except idempotent.CommitUnknown as exc:
        return error_response(503, exc.code, exc.message)
    return _answer(answer, replayed=answer.body is not data)


def _answer(answer: Answer, *, replayed: bool) -> Response:
    response = jsonify(answer.body)
    response.status_code = answer.status
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


@bp.post("/verify")
def verify() -> Response:
    # ``at`` (form field, else query parameter): validate as of that date or time.
    at_text = request.form.get("at") or request.args.get("at")
    try:
        result = verify_uploads(request.files, at=parse_at(at_text))
    except ValidationTimeError as exc:
        return error_response(exc.status, "invalid_at", str(exc), field="at")
    except VerificationInputError as exc:
        return error_response(exc.status, "unverifiable_input", str(exc))
    return jsonify(result.to_dict())


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document() -> Response:
    return jsonify(openapi.spec(current_app.config.get("PUBLIC_BASE_URL") or "/"))
