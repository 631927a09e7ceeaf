"""HTTP hardening: security headers on every response, and the sign-in limits."""

from __future__ import annotations

import os
from datetime import timedelta

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from workflow.errors import ConfigError
from workflow.services import LoginPolicy

# No 'unsafe-inline' anywhere: every script is a static file and templates carry no style
# attributes, so the browser can refuse any injected markup that slips through escaping.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


_HSTS = ("Strict-Transport-Security", "max-age=31536000")
_NO_STORE = ("Cache-Control", "no-store")


def add_security_headers(response: Response) -> Response:
    """Each header unless the view set its own (one pass over the response's headers: this
    runs on every response, pages served from the cache included)."""
    wanted = list(SECURITY_HEADERS.items())
    if request.is_secure:
        # Only over HTTPS: a plain-HTTP demo on 127.0.0.1 must not pin the browser to HTTPS.
        wanted.append(_HSTS)
    if request.endpoint != "static":
        # Pages, signed files, bundles and API answers show who may act on what and carry
        # what only signed-in users may read: no cache (shared or the browser's) keeps them.
        # Static assets keep Flask's own revalidation (ETag, no-cache).
        wanted.append(_NO_STORE)
    present = {name.lower() for name, _value in response.headers}
    response.headers.extend([(k, v) for k, v in wanted if k.lower() not in present])
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def login_policy(app: Flask) -> LoginPolicy:
    """The sign-in limits of this app (``workflow.services.login_limits``): after
    ``LOGIN_RATE_LIMIT`` failures an account waits ``LOGIN_BACKOFF`` seconds, doubling with
    each further failure; an address may fail ``LOGIN_ADDRESS_LIMIT`` times in
    ``LOGIN_RATE_WINDOW`` seconds before it is held back, and then only for accounts that
    already have failures. Counted in the database by every worker process, under digests
    keyed with the session secret."""
    secret = app.secret_key
    return LoginPolicy(
        secret=secret.encode() if isinstance(secret, str) else bytes(secret or b""),
        account_limit=int(app.config["LOGIN_RATE_LIMIT"]),
        backoff=timedelta(seconds=float(app.config["LOGIN_BACKOFF"])),
        address_limit=int(app.config["LOGIN_ADDRESS_LIMIT"]),
        address_window=timedelta(seconds=float(app.config["LOGIN_RATE_WINDOW"])),
    )


def session_idle_timeout() -> timedelta:
    """``THIDUA_SESSION_IDLE_MINUTES`` (default 30): a session unused this long has ended."""
    raw = os.environ.get("THIDUA_SESSION_IDLE_MINUTES", "").strip() or "30"
    if not raw.isdigit() or not 1 <= int(raw) <= 24 * 60:
        raise ConfigError(
            f"THIDUA_SESSION_IDLE_MINUTES must be a whole number of minutes (1-1440), not {raw!r}."
        )
    return timedelta(minutes=int(raw))


def trusted_proxies() -> int:
    """``THIDUA_BEHIND_PROXY``: how many reverse proxies stand in front of the app (0: none).
    Their ``X-Forwarded-*`` headers are trusted, and only the entries those proxies added:
    a client's own ``X-Forwarded-For`` is never taken for its address."""
    raw = os.environ.get("THIDUA_BEHIND_PROXY", "").strip() or "0"
    if not raw.isdigit() or int(raw) > 10:
        raise ConfigError(f"THIDUA_BEHIND_PROXY must be the number of proxies (0-10), not {raw!r}.")
    return int(raw)


def trust_proxies(app: Flask, proxies: int) -> None:
    """Behind ``proxies`` reverse proxies (an HTTPS terminator): the login limits see the
    client's address and redirects keep the https scheme."""
    if proxies > 0:
        fixed = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
        app.wsgi_app = fixed  # type: ignore[method-assign]
