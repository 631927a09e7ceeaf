"""HTTP hardening: security headers on every response and a small in-process login limiter."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

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
    if response.mimetype == "text/html":
        # Pages show who may act on what: never let a shared cache keep them.
        wanted.append(_NO_STORE)
    present = {name.lower() for name, _value in response.headers}
    response.headers.extend([(k, v) for k, v in wanted if k.lower() not in present])
    return response


class LoginLimiter:
    """Sliding-window counter of failed logins per key (client address and username).

    In-process on purpose: no external store to run. Behind several gunicorn workers each
    worker counts on its own, which still caps guessing at workers x limit per window.
    """

    def __init__(
        self,
        limit: int = 5,
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        entries = self._failures.setdefault(key, deque())
        while entries and now - entries[0] > self.window:
            entries.popleft()
        return entries

    def blocked_for(self, *keys: str) -> float:
        """Seconds until another attempt is allowed for any of ``keys`` (0 when allowed)."""
        with self._lock:
            wait = 0.0
            for key in keys:
                entries = self._recent(key)
                if len(entries) >= self.limit:
                    wait = max(wait, self.window - (self._clock() - entries[0]))
            return wait

    def fail(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._recent(key).append(self._clock())

    def reset(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.extensions["thidua.login_limiter"] = LoginLimiter(
        limit=app.config["LOGIN_RATE_LIMIT"], window_seconds=app.config["LOGIN_RATE_WINDOW"]
    )


def login_limiter(app: Flask) -> LoginLimiter:
    return app.extensions["thidua.login_limiter"]
