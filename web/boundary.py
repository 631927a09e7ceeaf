"""The one input boundary: what a request may carry before any view, query or header sees it.

A ``before_request`` hook checks the URL path, every header, every query-string and form field
and every string of a JSON body. PostgreSQL refuses NUL in text, a lone surrogate cannot be
encoded, CR/LF in a value would end up in a header, and bidi overrides or zero-width
characters make a name read differently from what is stored: such input is refused here with
a 422 naming the field (400 for a malformed request, 413 for an oversized JSON body), never
turned into a 500 further in.

Rules (a character is refused when it is in the field's class):

- every field: C0 controls except TAB/LF/CR, DEL, C1 controls, lone surrogates,
  non-characters (U+FDD0–U+FDEF, U+xFFFE/U+xFFFF);
- single-line fields (query strings, names, titles, codes): also TAB/LF/CR, bidi controls
  (U+200E/U+200F, U+061C, U+202A–U+202E, U+2066–U+2069), zero-width characters and the
  soft hyphen (documents.text.INVISIBLE).

Multi-line text (comments, reasons, document content) keeps TAB/LF/CR; the workflow and the
documents package clean it further.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from documents.text import INVISIBLE

JSON_MAX_BYTES = 512 * 1024  # a base64 CMS signature (256 KB) and its fields fit
JSON_MAX_DEPTH = 32  # the API's bodies are flat objects; documents nest a few levels

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_UNICODE = "\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
_LINE = "\t\n\r"
_MULTI_LINE_BAD = re.compile(f"[{_CONTROL}{_UNICODE}]")
# The invisible characters are the documents package's: what a document refuses in a name,
# the boundary refuses in a name too.
_SINGLE_LINE_BAD = re.compile(f"[{_CONTROL}{_UNICODE}{_LINE}{INVISIBLE}]")
# Header values may hold TAB (RFC 9110 field-value); no other control.
_HEADER_BAD = re.compile("[\x00-\x08\x0a-\x1f\x7f]")

# Fields that name or identify something: one line, nothing invisible.
NAME_FIELDS = frozenset(
    {
        "username",
        "full_name",
        "name",
        "title",
        "code",
        "cluster_code",
        "unit_code",
        "decision_number",
        "role",
        "kind",
        "state",
        "lang",
        "head",
        "deputy",
        "board",
        "trigger",
        "anchor",
    }
)


class BadInput(HTTPException):
    """A refused request: status, an error code for the API envelope, a message and the
    field it is about (``None`` when the request as a whole is malformed)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(description=message)
        self.code = status
        self.error_code = code
        self.message = message
        self.field = field


def printable_field(name: str) -> str:
    """A field name as it can be shown in a message: bad characters as '?', at most 60."""
    shown = _SINGLE_LINE_BAD.sub("?", name)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _leaf(path: str) -> str:
    """The last segment of a field path: ``criteria.items[0].title`` -> ``title``."""
    return re.sub(r"\[[^\]]*\]$", "", path).rsplit(".", 1)[-1].rsplit("[", 1)[0]


def _refuse_char(field: str, char: str) -> BadInput:
    shown, point = printable_field(field), f"{ord(char):04X}"
    if "\ud800" <= char <= "\udfff" or char in "\ufffe\uffff" or "\ufdd0" <= char <= "\ufdef":
        message = _(
            "Trường “%(field)s” chứa ký tự Unicode không hợp lệ (U+%(code)s).",
            field=shown,
            code=point,
        )
    elif _MULTI_LINE_BAD.match(char) or char in _LINE:
        message = _(
            "Trường “%(field)s” chứa ký tự điều khiển (U+%(code)s).", field=shown, code=point
        )
    else:
        message = _(
            "Trường “%(field)s” chứa ký tự ẩn hoặc ký tự đổi chiều văn bản (U+%(code)s).",
            field=shown,
            code=point,
        )
    return BadInput(422, "invalid_characters", message, field=shown)


def check_text(field: str, value: str, *, single_line: bool | None = None) -> None:
    """Raise ``BadInput`` (422) if ``value`` holds a character the field may not carry.
    ``single_line`` defaults to whether the field is a name (``NAME_FIELDS``)."""
    if single_line is None:
        single_line = _leaf(field) in NAME_FIELDS
    bad = (_SINGLE_LINE_BAD if single_line else _MULTI_LINE_BAD).search(value)
    if bad:
        raise _refuse_char(field, bad.group())


def _check_key(key: str | None) -> None:
    if not isinstance(key, str):
        # A multipart part whose Content-Disposition could not be read has no name.
        raise BadInput(400, "bad_form", _("Yêu cầu không hợp lệ."))
    bad = _SINGLE_LINE_BAD.search(key)
    if bad:
        raise _refuse_char(key, bad.group())


def check_query() -> None:
    """Query strings carry ids, filters and local paths: all single-line."""
    for key, value in request.args.items(multi=True):
        _check_key(key)
        check_text(key, value, single_line=True)


def check_form() -> None:
    """Form fields, with a browser's CRLF line ends (what a textarea sends) made LF: the
    workflow keeps text with LF only."""
    items = []
    for key, value in request.form.items(multi=True):
        _check_key(key)
        check_text(key, value)
        items.append((key, value.replace("\r\n", "\n").replace("\r", "\n")))
    # ``request.form`` is computed once per request; this is the value every view reads.
    request.__dict__["form"] = ImmutableMultiDict(items)
    request.__dict__.pop("values", None)
    for key, upload in request.files.items(multi=True):
        _check_key(key)
        check_text(key, upload.filename or "", single_line=True)


def check_headers() -> None:
    for name, value in request.headers.items():
        if _HEADER_BAD.search(name) or _HEADER_BAD.search(value):
            raise BadInput(
                400,
                "bad_header",
                _(
                    "Tiêu đề HTTP “%(name)s” chứa ký tự không hợp lệ.",
                    name=printable_field(name),
                ),
            )


def check_path() -> None:
    if _SINGLE_LINE_BAD.search(request.path):
        raise BadInput(400, "bad_path", _("Địa chỉ yêu cầu chứa ký tự không hợp lệ."))


# --- JSON bodies ---------------------------------------------------------------------------

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether the nesting of arrays and objects in ``text`` goes deeper than ``limit``,
    found without parsing (a 100,000-deep body would exhaust the parser's recursion)."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > limit:
                return True
        elif mark in "]}":
            depth -= 1
    return False


def _read_json_bytes() -> bytes:
    limit = int(current_app.config.get("JSON_MAX_BYTES", JSON_MAX_BYTES))
    too_large = BadInput(
        413,
        "too_large",
        _("Thân yêu cầu JSON quá lớn (tối đa %(kb)d KB).", kb=limit // 1024),
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    request.max_content_length = limit
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large from None


def _malformed_json() -> BadInput:
    return BadInput(400, "bad_json", _("Thân yêu cầu không phải JSON hợp lệ."))


def parse_json_body() -> Any:
    """The request's JSON body, parsed within the size and depth limits and with every
    string checked; ``None`` for an empty body."""
    raw = _read_json_bytes()
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed_json() from None
    depth = int(current_app.config.get("JSON_MAX_DEPTH", JSON_MAX_DEPTH))
    if json_depth_exceeds(text, depth):
        raise BadInput(
            400,
            "json_too_deep",
            _("Thân yêu cầu JSON lồng nhau quá sâu (tối đa %(n)d cấp).", n=depth),
        )
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise _malformed_json() from None
    check_json_value(value)
    return value


def check_json_value(value: Any, path: str = "") -> None:
    """Every key and string of a parsed JSON value, named by its path (``items[2].title``)."""
    if isinstance(value, str):
        check_text(path or "body", value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_key(key)
            check_json_value(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json_value(item, f"{path}[{index}]")


def json_body() -> Any:
    """The checked JSON body of this request (``None`` if it had none or was not JSON)."""
    if "boundary_json" not in g:
        g.boundary_json = parse_json_body() if request.is_json else None
    return g.boundary_json


# --- redirect targets ----------------------------------------------------------------------


def safe_redirect_target(target: object, default: str) -> str:
    """``target`` if it is a local path on this site, else ``default``.

    Local means: a string starting with a single '/', no scheme, no host, no backslash
    (browsers read '/\\\\evil' as '//evil'), no control or invisible character (CR/LF would
    split the Location header)."""
    if not isinstance(target, str) or not target.startswith("/"):
        return default
    if target.startswith("//") or "\\" in target or _SINGLE_LINE_BAD.search(target):
        return default
    if not target.isprintable():
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return default
    return target


# --- the hook ------------------------------------------------------------------------------

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def check_request() -> None:
    """The ``before_request`` hook: refuse what no view should see."""
    check_path()
    check_headers()
    check_query()
    if request.method in _BODY_METHODS:
        if request.is_json:
            json_body()
        else:
            check_form()


def init_app(app: Flask) -> None:
    app.config.setdefault("JSON_MAX_BYTES", JSON_MAX_BYTES)
    app.config.setdefault("JSON_MAX_DEPTH", JSON_MAX_DEPTH)
    # First of the hooks, so that no other one reads an unchecked value.
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
