"""Rendered pages kept per user and data version.

Every write of the engine appends an audit event, so the sequence number of the audit
chain's head (``queries.data_version``) versions everything a page shows. A page rendered for
one user at version V is the same bytes for that user, URL, language and way of signing in
until V moves, with one exception: the CSRF token belongs to the browser session, so it is
stored as a marker and the requesting session's own token is put back on every hit.

The version is read before the page is built: a write that lands while a page is being built
can only make the stored page newer than its key, never older. A hit costs one primary-key
read instead of the page's queries and template. The cache is per process, bounded in bytes,
least recently used first out; ``PAGE_CACHE_BYTES = 0`` turns it off.
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
from web.i18n import select_locale
from workflow.services import data_version

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
    """A thread-safe LRU of rendered pages, bounded by the total size of their bodies."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, _Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> _Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: Hashable, page: _Page) -> None:
        size = len(page.body) + _ENTRY_OVERHEAD
        if size > self.max_bytes // 8:
            return  # one huge page must not empty the cache
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body) + _ENTRY_OVERHEAD
            self._pages[key] = page
            self._bytes += size
            while self._bytes > self.max_bytes:
                _key, evicted = self._pages.popitem(last=False)
                self._bytes -= len(evicted.body) + _ENTRY_OVERHEAD

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)


def init_app(app: Flask) -> None:
    max_bytes = int(app.config.get("PAGE_CACHE_BYTES", DEFAULT_BYTES))
    app.extensions["thidua.page_cache"] = PageCache(max_bytes) if max_bytes > 0 else None


def _cache() -> PageCache | None:
    return current_app.extensions.get("thidua.page_cache")


def _flashes_pending() -> bool:
    """Flashed messages are shown once: a page that has them is neither served from nor
    stored in the cache."""
    return bool(session.get("_flashes")) or bool(getattr(request_ctx, "flashes", None))


def _key(version: int) -> Hashable:
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
    return g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))


def _stored(response: Any) -> _Page | None:
    if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
        return None
    if response.mimetype not in _CACHEABLE_TYPES:
        return None
    body = response.get_data()
    token = _csrf_token()
    if token:
        body = body.replace(token.encode(), _CSRF_MARK)
    headers = Headers([(k, v) for k, v in response.headers if k.lower() not in _DROPPED_HEADERS])
    return _Page(response.status_code, headers, body)


def _served(page: _Page) -> Any:
    body = page.body
    if _CSRF_MARK in body:
        body = body.replace(_CSRF_MARK, generate_csrf().encode())
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
        key = _key(data_version(db.get_session()))
        page = cache.get(key)
        if page is not None:
            return _served(page)
        response = make_response(view(*args, **kwargs))
        if not _flashes_pending() and (page := _stored(response)) is not None:
            cache.put(key, page)
        return response

    return wrapper
