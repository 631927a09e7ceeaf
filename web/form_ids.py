"""One-time form ids: a hidden field in each document form, so that a resubmitted form gets
its first answer back instead of writing twice (see web/idempotent.py). A page served from
the cache gets fresh ids on every hit, as it gets its CSRF token: two tabs of one cached page
are two forms, each with its own id."""

from __future__ import annotations

import re
import uuid

FORM_FIELD = "form_id"
_IN_PAGE = re.compile(rb'name="form_id" value="[0-9a-f]{32}"')
_MARK = b'name="form_id" value="\x00form-id\x00"'


def new_form_id() -> str:
    """A fresh one-time id for a form."""
    return uuid.uuid4().hex


def mark_form_ids(body: bytes) -> bytes:
    """The page with its form ids replaced by a marker, for the cache."""
    return _IN_PAGE.sub(_MARK, body)


def fresh_form_ids(body: bytes) -> bytes:
    """A cached page with a new id in each form it marks."""
    if _MARK not in body:
        return body
    parts = body.split(_MARK)
    out = [parts[0]]
    for part in parts[1:]:
        out.append(b'name="form_id" value="' + new_form_id().encode() + b'"')
        out.append(part)
    return b"".join(out)
