"""Clusters and their yearly terms: members, head and deputy, the board, documents by year."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from web import db
from web.auth import login_required, signed_in_user
from web.page_cache import cached_page
from workflow import models
from workflow.services import admin as admin_service
from workflow.services import can_see_term, current_actor, queries

bp = Blueprint("terms", __name__, url_prefix="/clusters")


@bp.get("")
@login_required
@cached_page
def index() -> str:
    session = db.get_session()
    who = current_actor(session, signed_in_user())
    clusters = []
    for cluster in admin_service.list_clusters(session):
        terms = [t for t in cluster.terms if can_see_term(who, t)]
        if terms:
            clusters.append((cluster, sorted(terms, key=lambda t: t.year, reverse=True)))
    return render_template("terms/index.html", clusters=clusters)


@bp.get("/terms/<int:term_id>")
@login_required
@cached_page
def show(term_id: int) -> str:
    session = db.get_session()
    who = current_actor(session, signed_in_user())
    term = session.get(models.ClusterTerm, term_id)
    if term is None or not can_see_term(who, term):
        abort(404)
    docs = queries.visible_documents(session, who, cluster_id=term.cluster_id)
    by_year: dict[int, list[models.Document]] = {}
    for d in docs:
        by_year.setdefault(d.term.year, []).append(d)
    other_terms = sorted(
        (t for t in term.cluster.terms if can_see_term(who, t)), key=lambda t: t.year, reverse=True
    )
    return render_template("terms/show.html", term=term, by_year=by_year, other_terms=other_terms)
