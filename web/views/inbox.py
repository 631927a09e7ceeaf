"""/ — "Việc chờ tôi xử lý": what waits for this user, counts per state, recent activity."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_login import login_required
from sqlalchemy import select

from web import db
from web.auth import actor
from web.page_cache import cached_page
from workflow import models
from workflow.definitions import STATES
from workflow.services import queries

bp = Blueprint("inbox", __name__)


@bp.get("/")
@login_required
@cached_page
def index():  # type: ignore[no-untyped-def]
    box = queries.inbox(db.get_session(), actor(), recent_limit=12)
    g.inbox_count = len(box.items)
    titles = {item.document.id: item.document for item in box.items}
    for doc in queries.visible_documents(db.get_session(), actor()):
        titles.setdefault(doc.id, doc)
    names = dict(
        db.get_session()
        .execute(
            select(models.User.username, models.User.full_name).where(
                models.User.username.in_({e.actor for e in box.recent if e.actor})
            )
        )
        .all()
    )
    return render_template(
        "inbox.html", box=box, states=list(STATES), documents_by_id=titles, people=names
    )
