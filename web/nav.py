"""The main navigation: what each role sees in the top bar."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    current: bool
    count: int = 0


def _pending_count() -> int:
    """How many documents wait for this user (the inbox's own rule), once per request."""
    if "inbox_count" not in g:
        from web import db
        from web.auth import signed_in_user
        from web.page_cache import remembered
        from workflow.services import queries

        def count() -> int:
            return len(queries.inbox(db.get_session(), signed_in_user(), recent_limit=0).items)

        try:
            g.inbox_count = remembered("inbox_count", count)
        except Exception:  # the badge must never break a page (or an error page)
            log.warning("inbox count unavailable", exc_info=True)
            g.inbox_count = 0
    return int(g.inbox_count)


def _items() -> list[NavItem]:
    path = request.path
    entries: list[tuple[str, str, str]] = []
    if current_user.is_authenticated:
        entries.append((_("Việc chờ tôi xử lý"), url_for("inbox.index"), "/"))
        entries.append((_("Tài liệu"), url_for("documents.index"), "/documents"))
        entries.append((_("Cụm thi đua"), url_for("terms.index"), "/clusters"))
        entries.append((_("Lưu trữ"), url_for("archive.index"), "/archive"))
    entries.append((_("Kiểm tra chữ ký"), url_for("verify.page"), "/verify"))
    entries.append((_("Quy trình"), url_for("diagram.page"), "/workflow"))
    if current_user.is_authenticated and current_user.is_admin:
        entries.append((_("Quản trị"), url_for("admin.index"), "/admin"))
    items = []
    for label, href, prefix in entries:
        current = path == "/" if prefix == "/" else path.startswith(prefix)
        count = _pending_count() if prefix == "/" and current_user.is_authenticated else 0
        items.append(NavItem(label, href, current, count))
    return items


def init_app(app: Flask) -> None:
    app.jinja_env.globals["main_nav"] = _items
