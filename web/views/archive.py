"""The archive: approved documents with their bundles, filtered by year, cluster and kind."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from web import db
from web.auth import login_required, signed_in_user
from web.ids import db_int
from web.page_cache import cached_page
from workflow import blobs, models
from workflow.services import current_actor, queries

bp = Blueprint("archive", __name__, url_prefix="/archive")


@bp.get("")
@login_required
@cached_page
def index() -> str:
    session = db.get_session()
    who = current_actor(session, signed_in_user())
    kind = request.args.get("kind") or None
    year = request.args.get("year", type=db_int)
    cluster_id = request.args.get("cluster", type=db_int)
    rows = queries.visible_documents(
        session, who, kind=kind, year=year, state="archived", cluster_id=cluster_id
    )
    clusters = queries.visible_clusters(session, who)
    approvals = {
        a.document_id: a
        for a in session.scalars(
            select(models.Approval).where(models.Approval.document_id.in_([d.id for d in rows]))
        )
    }
    return render_template(
        "archive/index.html",
        rows=rows,
        kind=kind,
        year=year,
        cluster_id=cluster_id,
        clusters=clusters,
        years=queries.archive_years(session, who),
        approvals=approvals,
    )


@bp.get("/<int:document_id>/<filename>")
@login_required
def bundle(document_id: int, filename: str) -> Response:
    session = db.get_session()
    doc = queries.get_document(session, signed_in_user(), document_id)
    if doc.bundle_sha256 is None or filename != f"thidua-{doc.id}.zip":
        abort(404)
    return Response(
        blobs.get_blob(session, doc.bundle_sha256),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="thidua-{doc.id}.zip"'},
    )
