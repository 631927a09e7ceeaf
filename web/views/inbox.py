"""/ — "Việc chờ tôi xử lý": what waits for this user, counts per state, recent activity."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from sqlalchemy import select

from web import db
from web.auth import login_required, signed_in_user
from web.page_cache import cached_page
from workflow import models
from workflow.definitions import STATES
from workflow.services import queries

bp = Blueprint("inbox", __name__)


@bp.get("/")
@login_required
@cached_page
def index() -> str:
    box = queries.inbox(db.get_session(), signed_in_user(), recent_limit=12)
    g.inbox_count = len(box.items)
    titles = {item.document.id: item.document.title for item in box.items}
    # Recent events are of visible documents (the inbox's own filter): fetch only their titles.
    missing = {e.document_id for e in box.recent if e.document_id is not None} - set(titles)
    if missing:
        titles.update(
            db.get_session()
            .execute(
                select(models.Document.id, models.Document.title).where(
                    models.Document.id.in_(missing)
                )
            )
            .all()
        )
    names = dict(
        db.get_session()
        .execute(
            select(models.User.username, models.User.full_name).where(
                models.User.username.in_({e.actor for e in box.recent if e.actor})
            )
        )
        .all()
    )
    return render_template("inbox.html", box=box, states=list(STATES), titles=titles, people=names)
