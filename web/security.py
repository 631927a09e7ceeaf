"""HTTP hardening: security headers on every response, and the sign-in limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response, request

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


def login_limits(app: Flask) -> dict[str, Any]:
    """The keyword arguments of ``workflow.services.login_wait`` for this app: at most
    ``LOGIN_RATE_LIMIT`` failed sign-ins per client address and per username in
    ``LOGIN_RATE_WINDOW`` seconds, counted in the database by every worker process, under
    digests keyed with the session secret."""
    secret = app.secret_key
    return {
        "secret": secret.encode() if isinstance(secret, str) else bytes(secret or b""),
        "limit": int(app.config["LOGIN_RATE_LIMIT"]),
        "window": timedelta(seconds=float(app.config["LOGIN_RATE_WINDOW"])),
    }
