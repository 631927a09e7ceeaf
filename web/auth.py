"""Who is asking: Flask-Login sessions for people, bearer tokens for scripts.

Passwords and tokens are checked by ``workflow`` (hashes at rest); here we only carry the
result. Login is rate limited per client address and per username, and every login starts a
fresh session (no session fixation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar, cast

import flask_login
from flask import (
    Blueprint,
    Flask,
    Request,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, logout_user
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import Unauthorized
from werkzeug.wrappers import Response as BaseResponse

from web import db, page_cache, sessions
from web.boundary import safe_redirect_target
from web.i18n import LANGUAGES
from web.ids import db_int
from web.labels import ROLE_LABELS
from web.security import login_policy
from workflow import models
from workflow.services import auth as auth_service
from workflow.services import login_limits

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

_View = TypeVar("_View", bound=Callable[..., Any])


def login_required(view: _View) -> _View:
    """Flask-Login's ``login_required``, with the view's own signature kept for the type
    checker (Flask-Login ships no type hints)."""
    return cast(_View, flask_login.login_required(view))


class Principal:
    """The logged-in user as Flask-Login sees it. The ORM ``User`` of this request is loaded on
    first use: a page served from the cache needs only the id (checked active at load)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True  # only active users become a Principal

    def __init__(self, user: models.User | int, *, via_token: bool = False) -> None:
        if isinstance(user, models.User):
            self.__dict__["user"] = user
            self.id = user.id
        else:
            self.id = user
        self.via_token = via_token

    @cached_property
    def user(self) -> models.User:
        user = db.get_session().get(models.User, self.id)
        if user is None:  # users are never deleted; a vanished row is a broken database
            raise LookupError(f"user {self.id} disappeared during the request")
        return user

    def get_id(self) -> str:
        return str(self.id)

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def display_name(self) -> str:
        return self.user.full_name or self.user.username

    def has_role(self, role: str) -> bool:
        return any(r.role == role for r in self.user.roles)

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin

    @cached_property
    def role_summary(self) -> str:
        """'Văn phòng Huyện ủy Ứng Hòa: Chuyên viên soạn thảo, Góp ý' (roles grouped by unit)."""
        by_unit: dict[str, list[str]] = {}
        for membership in self.user.roles:
            unit = membership.unit.name if membership.unit is not None else ""
            label = str(ROLE_LABELS.get(membership.role, membership.role))
            by_unit.setdefault(unit, [])
            if label not in by_unit[unit]:
                by_unit[unit].append(label)
        parts = [
            f"{unit}: {', '.join(labels)}" if unit else ", ".join(labels)
            for unit, labels in by_unit.items()
        ]
        return "; ".join(parts)


class Anonymous:
    """Whoever is not signed in (what Flask-Login's ``AnonymousUserMixin`` holds, and what
    the templates read of a user)."""

    is_authenticated = False
    is_active = False
    is_anonymous = True
    display_name = ""
    role_summary = ""
    is_admin = False
    via_token = False

    def has_role(self, role: str) -> bool:
        return False

    def get_id(self) -> None:
        return None


def actor() -> models.User | None:
    """The ORM user for workflow services (None when anonymous)."""
    if current_user.is_authenticated:
        user: models.User = current_user.user
        return user
    return None


def signed_in_user() -> models.User:
    """The ORM user of a view behind ``login_required``; a 401 if there is none (a view
    that forgot the decorator refuses rather than acting for nobody)."""
    user = actor()
    if user is None:
        raise Unauthorized()
    return user


def _load_user(user_id: str) -> Principal | None:
    if not user_id.isdigit() or len(user_id) > 10:
        return None
    try:
        number = db_int(user_id)
    except ValueError:
        return None
    generation = sessions.live_generation()
    if generation is None or not page_cache.check_user(number, generation):
        sessions.clear()  # ended, expired or another browser's: this cookie is signed out
        return None
    sessions.touch()
    return Principal(number)


def _load_from_request(req: Request) -> Principal | None:
    header = req.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user_id = page_cache.check_token(token.strip())
    if user_id is None:
        return None
    g.auth_via_token = True
    return Principal(user_id, via_token=True)


def _safe_next(target: str | None) -> str:
    """Only same-site local paths (see ``web.boundary``); anything else goes to the inbox."""
    return safe_redirect_target(target, url_for("inbox.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("inbox.index"))
    username = ""
    error = None
    status = 200
    headers: dict[str, str] = {}
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        session_db = db.get_session()
        policy = login_policy(current_app)
        keys = login_limits.login_keys(policy, username, request.remote_addr or "")
        wait = login_limits.begin_login(session_db, policy, keys)
        # Counted as a failure in every worker process before the password is looked at,
        # so concurrent guesses cannot pass the limit (login_succeeded takes it back).
        db.commit()
        if wait > 0:
            error = _(
                "Quá nhiều lần đăng nhập sai. Vui lòng thử lại sau %(m)d phút.",
                m=max(1, int(wait // 60) + 1),
            )
            status = 429
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        else:
            user = auth_service.authenticate(session_db, username, password)
            if user is None:
                error = _("Tên đăng nhập hoặc mật khẩu không đúng.")
                status = 401
            else:
                login_limits.login_succeeded(session_db, keys)
                sessions.start(Principal(user), user.session_generation)
                return redirect(_safe_next(request.args.get("next") or request.form.get("next")))
    return (
        render_template(
            "auth/login.html", username=username, error=error, next=request.args.get("next", "")
        ),
        status,
        headers,
    )


@bp.post("/logout")
def logout() -> BaseResponse:
    if current_user.is_authenticated and not current_user.via_token:
        # Every session of this user ends, a cookie saved elsewhere included.
        auth_service.end_sessions(db.get_session(), current_user.user)
    logout_user()
    sessions.clear()
    flash(_("Đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


def renew_session() -> None:
    """After a privilege change: when it moved the signed-in user's own session generation
    (their roles, their password), this browser goes on in a new session of the new
    generation, and every other session of theirs has ended."""
    if not current_user.is_authenticated or current_user.via_token:
        return
    now = auth_service.session_generation(db.get_session(), current_user.id)
    if now is not None and now != sessions.generation():
        sessions.renew(Principal(current_user.user), now)


@bp.post("/language")
def set_language() -> BaseResponse:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per set of
    keys: Flask builds a new one on every request (and test-serialises a value to check
    it), which is a tenth of the cost of a page served from the cache."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys not in self._serializers:
            self._serializers = {keys: super().get_signing_serializer(app)}  # the last only
        return self._serializers[keys]


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_from_request)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
    login_manager.login_message_category = "info"
    # web/sessions.py binds a session to its browser (Flask-Login's "strong" mode is only
    # "basic" for permanent sessions, and trusts a client's own X-Forwarded-For).
    login_manager.session_protection = None
    login_manager.unauthorized_handler(_unauthorized)
    app.register_blueprint(bp)


def _unauthorized() -> BaseResponse:
    if request.path.startswith("/api/"):
        from web.errors import error_response

        return error_response(
            401, "unauthorized", _("Cần đăng nhập hoặc mã truy cập (Bearer token).")
        )
    flash(_("Vui lòng đăng nhập để tiếp tục."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
