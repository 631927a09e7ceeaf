"""Rendered pages kept per user and data version.

Every write of the engine appends an audit event, which moves the data version of the cluster
whose document it touched, or the structure version for anything else (units, terms, users,
roles, credentials): ``queries.ViewScope``. A user's pages show only the clusters they take
part in and that structure, so ``scope_version`` of their scope versions everything their
pages show, and a write in one cluster leaves every other cluster's pages cached. A page
rendered for one user at version V is the same bytes for that user, URL, language and way of
signing in until V moves, with one exception: the CSRF token belongs to the browser session,
so it is stored as a marker and the requesting session's own token is put back on every hit.

The version is read before the page is built: a write that lands while a page is being built
can only make the stored page newer than its key, never older. A hit costs one small
statement instead of the page's queries and template (the user's scope is kept per process
until the structure moves). The cache is per process, bounded in bytes, least recently used
first out; ``PAGE_CACHE_BYTES = 0`` turns it off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, make_response, request, session
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import Headers

from web import db
from web.form_ids import fresh_form_ids, mark_form_ids
from web.i18n import select_locale
from workflow.security import token_digest
from workflow.services import (
    active_user_id,
    active_with_scope_version,
    scope_version,
    token_user_id,
    token_with_scope_version,
    view_scope,
)

DEFAULT_BYTES = 64 * 1024 * 1024
# NUL never occurs in the HTML or JSON we render, so the marker cannot collide with content.
_CSRF_MARK = b"\x00csrf\x00"
_CACHEABLE_TYPES = frozenset({"text/html", "application/json"})
_DROPPED_HEADERS = frozenset({"set-cookie", "content-length"})
_ENTRY_OVERHEAD = 512  # key, headers and bookkeeping, roughly


@dataclass(frozen=True)
class _Page:
    status: int
    headers: Headers
    body: bytes


class PageCache:
    """A thread-safe LRU of rendered pages (and small derived values), bounded by their size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0  # pages served from the cache
        self.misses = 0  # pages built

    def get(self, key: Hashable, *, page: bool = False) -> Any:
        """The value, or None; ``page`` counts the lookup in ``hits`` / ``misses``."""
        with self._lock:
            entry = self._entries.get(key)
            if page:
                self.hits += entry is not None
                self.misses += entry is None
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        size += _ENTRY_OVERHEAD
        if size > self.max_bytes // 8:
            return  # one huge page must not empty the cache
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _key, (_value, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Flask) -> None:
    max_bytes = int(app.config.get("PAGE_CACHE_BYTES", DEFAULT_BYTES))
    app.extensions["thidua.page_cache"] = PageCache(max_bytes) if max_bytes > 0 else None


def _cache() -> PageCache | None:
    return current_app.extensions.get("thidua.page_cache")


def _flashes_pending() -> bool:
    """Flashed messages are shown once: a page that has them is neither served from nor
    stored in the cache."""
    return bool(session.get("_flashes")) or bool(getattr(request_ctx, "flashes", None))


def _version() -> Hashable | None:
    """The version of what the signed-in user sees, read once per request and before
    anything derived from the data; None when it cannot be pinned (nothing is cached then)."""
    if "data_version" not in g:
        g.data_version = _read_version(_cache())
    version: Hashable | None = g.data_version
    return version


def _scope_key(user_id: int | str) -> Hashable:
    return ("scope", str(user_id))


def _read_version(cache: PageCache | None) -> Hashable | None:
    if cache is None:
        return None
    key = _scope_key(current_user.get_id())
    scope = cache.get(key)
    if scope is not None and (version := scope_version(db.connection(), scope)) is not None:
        return version
    # First request of this user in this process, or units, terms or roles changed.
    scope = view_scope(db.get_session(), current_user.user)
    cache.put(key, scope, 8 * len(scope.cluster_ids or ()))
    return scope_version(db.connection(), scope)  # None if they changed again meanwhile


def check_user(user_id: int, generation: int) -> bool:
    """Flask-Login's check that the session's user exists, is active and has not ended the
    sessions of ``generation``. On a GET by a user whose scope this process knows, the
    version of that scope comes in the same statement (a served page then costs one
    statement)."""
    cache = _cache()
    scope = None
    if cache is not None and request.method == "GET":
        scope = cache.get(_scope_key(user_id))
    if scope is None:
        return active_user_id(db.connection(), user_id, generation) is not None
    active, version = active_with_scope_version(db.connection(), user_id, generation, scope)
    if active and version is not None:
        g.data_version = version
    return active


def check_token(token: str) -> int | None:
    """The id of the active user owning this bearer token, else None. On a GET with a token
    this process has seen, the token check and the version of its owner's scope are one
    statement (an API read served from the cache then costs one statement)."""
    cache = _cache()
    if cache is None or request.method != "GET":
        return token_user_id(db.connection(), token)
    key = ("token", token_digest(token))  # never the token itself
    owner = cache.get(key)
    scope = None if owner is None else cache.get(_scope_key(owner))
    if scope is None:
        owner = token_user_id(db.connection(), token)
        if owner is not None:
            cache.put(key, owner, 64)
        return owner
    user_id, version = token_with_scope_version(db.connection(), token, scope)
    if user_id == owner and version is not None:
        g.data_version = version
    return user_id


def remembered(name: str, compute: Callable[[], int]) -> int:
    """A number derived from the data for the signed-in user (a badge count), computed once
    per data version rather than on every page. Only GET requests share it: a request that
    writes sees its own uncommitted version, which a rollback would hand to the next writer."""
    cache = _cache()
    if cache is None or request.method != "GET" or not current_user.is_authenticated:
        return compute()
    version = _version()
    if version is None:
        return compute()
    key = ("value", name, current_user.get_id(), version)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.put(key, value, 0)
    return int(value)


def _key(version: Hashable) -> Hashable:
    return (
        request.endpoint,
        request.full_path,
        current_user.get_id(),
        bool(g.get("auth_via_token")),
        select_locale(),  # what Babel renders in, without parsing a Locale
        version,
    )


def _csrf_token() -> str | None:
    """The token this request put into its page, if it rendered a form."""
    token: str | None = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    return token


def _stored(response: Any) -> _Page | None:
    if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
        return None
    if response.mimetype not in _CACHEABLE_TYPES:
        return None
    body = response.get_data()
    token = _csrf_token()
    if token:
        body = body.replace(token.encode(), _CSRF_MARK)
    body = mark_form_ids(body)
    headers = Headers([(k, v) for k, v in response.headers if k.lower() not in _DROPPED_HEADERS])
    return _Page(response.status_code, headers, body)


def _served(page: _Page) -> Any:
    body = page.body
    if _CSRF_MARK in body:
        body = body.replace(_CSRF_MARK, generate_csrf().encode())
    body = fresh_form_ids(body)
    return current_app.response_class(body, status=page.status, headers=Headers(page.headers))


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a signed-in user's GET page from the cache while the data version stands.

    Put it under the view's login check: anonymous requests and error responses are never
    stored, so a page reaches only a user the view itself let in at that version.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache = _cache()
        if (
            cache is None
            or request.method != "GET"
            or not current_user.is_authenticated
            or _flashes_pending()
        ):
            return view(*args, **kwargs)
        version = _version()
        if version is None:
            return view(*args, **kwargs)
        key = _key(version)
        page = cache.get(key, page=True)
        if page is not None:
            return _served(page)
        response = make_response(view(*args, **kwargs))
        if not _flashes_pending() and (page := _stored(response)) is not None:
            cache.put(key, page, len(page.body))
        return response

    return wrapper
