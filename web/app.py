"""The application factory: configuration, extensions, blueprints, error handlers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Response, jsonify
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

from web import auth, boundary, db, errors, i18n, labels, nav, page_cache, security
from web.ids import BoundedIntConverter
from workflow.config import load_config
from workflow.errors import ConfigError

csrf = CSRFProtect()

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ThiduaFlask(Flask):
    """Flask whose view dispatch ends with the unit of work's commit.

    Committing here (not in teardown) keeps the commit inside Flask's exception handling: a
    commit that fails becomes a mapped error page rather than a 500 after the response.
    """

    def dispatch_request(self) -> ResponseReturnValue:
        try:
            rv = super().dispatch_request()
            db.commit()
            return rv
        except BaseException:
            db.rollback()
            raise


def _page_cache_bytes() -> int:
    raw = os.environ.get("THIDUA_PAGE_CACHE_MB", "").strip() or "64"
    if not raw.isdigit():
        raise ConfigError(f"THIDUA_PAGE_CACHE_MB must be a whole number of MiB, not {raw!r}.")
    return int(raw) * 1024 * 1024


def _base_config(overrides: Mapping[str, Any]) -> dict[str, Any]:
    settings = overrides.get("THIDUA_CONFIG") or load_config(overrides.get("INSTANCE_PATH"))
    return {
        "SECRET_KEY": settings.secret_key,
        "DATABASE_URL": settings.database_url,
        "INSTANCE_PATH": str(settings.instance_dir),
        "THIDUA_CONFIG": settings,
        "PUBLIC_BASE_URL": settings.public_url,
    }


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the thidua web application.

    ``config`` overrides the values read by ``workflow.config.load_config`` (e.g.
    ``INSTANCE_PATH`` and ``DATABASE_URL`` in tests, or ``ENGINE`` to share an engine).
    Raises ``workflow.errors.ConfigError`` when the instance is not initialised.
    """
    overrides = dict(config or {})
    app = ThiduaFlask("web", instance_relative_config=False)
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("THIDUA_INSECURE_COOKIES", "") != "1",
        SESSION_COOKIE_NAME="thidua_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=True,
        # A session ends 8 hours after sign-in whatever happens (web/auth.py), and after
        # SESSION_IDLE_TIMEOUT without a request; and no re-signed cookie on every response
        # (a third of a cached page's cost): the last-seen stamp moves once a minute.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        SESSION_IDLE_TIMEOUT=security.session_idle_timeout(),
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        LOGIN_RATE_LIMIT=5,  # failures of one account before it backs off
        LOGIN_BACKOFF=60.0,  # the first wait then, doubling with every further failure
        LOGIN_ADDRESS_LIMIT=50,  # failures of one address in LOGIN_RATE_WINDOW
        LOGIN_RATE_WINDOW=300.0,
        BEHIND_PROXY=security.trusted_proxies(),
        JSON_SORT_KEYS=False,
        PUBLIC_BASE_URL=os.environ.get("THIDUA_PUBLIC_URL", ""),
        PAGE_CACHE_BYTES=_page_cache_bytes(),
    )
    app.config.update(_base_config(overrides))
    app.config.update(overrides)

    db.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    boundary.init_app(app)
    nav.init_app(app)
    page_cache.init_app(app)
    labels.init_app(app)
    _register_blueprints(app)
    security.trust_proxies(app, int(app.config["BEHIND_PROXY"]))

    @app.get("/healthz")
    def healthz() -> Response | tuple[Response, int]:
        if db.ping():
            return jsonify(status="ok")
        return jsonify(status="database unavailable"), 503

    return app


def _register_blueprints(app: Flask) -> None:
    from web import api
    from web.views import admin, archive, ca, diagram, documents, files, inbox, terms, tsa, verify

    for module in (inbox, documents, files, terms, archive, admin, diagram, verify, ca, tsa):
        app.register_blueprint(module.bp)
    app.register_blueprint(api.bp)
    # The API authenticates with bearer tokens or the session and takes JSON, not forms;
    # a cross-site form cannot send a JSON body or an Authorization header, so CSRF tokens
    # are not needed there. Session-authenticated JSON posts still require the header below.
    csrf.exempt(api.bp)
    # RFC 3161 over HTTP: a DER body of its own content type, sent by programs, not forms.
    csrf.exempt(tsa.bp)
