"""Sessions that end: what a signed-in browser's cookie carries besides the user id, and
the checks that make it stop working.

The cookie is Flask's signed cookie; it holds the user's *session generation* at sign-in,
when the session started, when it was last used and a digest of the browser (address and
user agent) that opened it. Every request checks, in the one statement that checks the user
is active, that the generation is still the user's (``workflow.services.end_sessions`` moves
it on at sign-out, password change, deactivation, role change and "sign out everywhere"), so
a saved cookie is refused by every worker process from then on. A session also ends
``PERMANENT_SESSION_LIFETIME`` after sign-in (8 h) and ``SESSION_IDLE_TIMEOUT`` (30 min)
after its last request, and a cookie presented by another browser is not signed in.
"""

from __future__ import annotations

import hashlib
import time

from flask import current_app, request, session
from flask_login import login_user

_GENERATION = "_gen"
_STARTED = "_t0"
_SEEN = "_seen"
_BROWSER = "_browser"
# The last-seen stamp moves at most once a minute: a re-signed cookie on every response
# costs a third of a page served from the cache.
SEEN_EVERY = 60


def now_seconds() -> int:
    return int(time.time())


def _browser() -> str:
    """The browser the session belongs to: its address (as ``THIDUA_BEHIND_PROXY`` lets the
    app see it, not a client's own ``X-Forwarded-For``) and its user agent."""
    seen = f"{request.remote_addr or ''}\0{request.headers.get('User-Agent', '')}"
    return hashlib.sha256(seen.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def start(principal: object, generation: int, *, started: int | None = None) -> None:
    """A brand-new session for ``principal``: whatever was in the cookie before (something an
    attacker planted, a previous user's sign-in) is gone, the language aside. ``started``
    keeps the start of a renewed session, so renewal never extends its 8 hours."""
    now = now_seconds()
    clear()
    login_user(principal)
    session[_GENERATION] = generation
    session[_STARTED] = now if started is None else started
    session[_SEEN] = now
    session[_BROWSER] = _browser()
    session.permanent = True  # the cookie itself expires with the session's 8 hours


def renew(principal: object, generation: int) -> None:
    """The same sign-in in a new session of ``generation`` (after a privilege change)."""
    start(principal, generation, started=_stamp(_STARTED))


def live_generation() -> int | None:
    """The generation of the request's session when it is live: not expired, presented by
    the browser that opened it. Otherwise None, and the sign-in is dropped from the cookie."""
    generation, started, seen = _stamp(_GENERATION), _stamp(_STARTED), _stamp(_SEEN)
    if generation is None or started is None or seen is None:
        clear()  # a session from before sessions had generations, or not ours
        return None
    now = now_seconds()
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    idle = current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
    if now - started >= lifetime or now - seen >= idle or session.get(_BROWSER) != _browser():
        clear()
        return None
    return generation


def generation() -> int | None:
    """The generation stored in the request's session (None when there is none)."""
    return _stamp(_GENERATION)


def _stamp(key: str) -> int | None:
    value = session.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def touch() -> None:
    """Note that the session was used now (at most once every ``SEEN_EVERY`` seconds)."""
    now = now_seconds()
    seen = session.get(_SEEN)
    if not isinstance(seen, int) or now - seen >= SEEN_EVERY:
        session[_SEEN] = now


def clear() -> None:
    """Empty the session but for the language chosen."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
