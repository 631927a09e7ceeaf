"""Writes a client may retry: the API's ``Idempotency-Key`` header and the one-time form id
of the document forms (``workflow.services.idempotency`` keeps the keys and answers).

A write answers from what its transaction saw before the commit, and commits last: once the
commit succeeded nothing turns the answer into an error. When the commit itself fails with
the connection (the database restarted, the backend was killed), nobody knows whether it
landed; a keyed write looks its key up on a fresh connection and answers what the database
holds, and a write without a key says that it cannot tell.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from web import db
from web.auth import actor
from web.form_ids import FORM_FIELD
from workflow.models import IdempotencyKey
from workflow.services import idempotency
from workflow.services.idempotency import Answer

API_HEADER = "Idempotency-Key"
# Form fields that are not part of what the form asks for.
_NOT_THE_REQUEST = frozenset({"csrf_token", FORM_FIELD})


class CommitUnknown(Exception):
    """The commit failed with its connection. ``code`` says what is known: ``commit_unknown``
    (the write may or may not have landed) or ``not_committed`` (its key is not stored, so
    it did not land: send it again with the same key)."""

    def __init__(self, message: str, code: str = "commit_unknown") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def api_key() -> str | None:
    raw = request.headers.get(API_HEADER)
    return None if raw is None else idempotency.check_key(raw.strip(), API_HEADER)


def form_key() -> str | None:
    raw = request.form.get(FORM_FIELD)
    return None if not raw else idempotency.check_key(raw.strip(), FORM_FIELD)


def claim(scope: str, key: str, body: Any) -> IdempotencyKey | Answer:
    """The key's earlier answer, or its claim in this request's transaction."""
    digest = idempotency.request_digest(request.method, request.path, body)
    field = API_HEADER if scope == "api" else FORM_FIELD
    user = actor()
    assert user is not None  # the views check the sign-in first
    return idempotency.claim(db.get_session(), user, scope, key, digest, field=field)


def form_body() -> dict[str, Any]:
    """What a form asks for, for its digest (the PIN is left out by the digest)."""
    return {k: request.form.getlist(k) for k in sorted(request.form) if k not in _NOT_THE_REQUEST}


def commit(claimed: IdempotencyKey | None, scope: str, status: int, body: dict[str, Any]) -> Answer:
    """Record the answer with the key (if any) and commit. Returns the answer to give: this
    one, or after a commit that failed with its connection, the stored one if it landed.
    Raises ``CommitUnknown`` when the database cannot say."""
    key = None
    if claimed is not None:
        idempotency.record(claimed, status, body)
        key = claimed.key
    user = actor()
    user_id = user.id if user is not None else None
    try:
        db.commit()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        db.rollback()
        unknown = CommitUnknown(
            _(
                "Mất kết nối cơ sở dữ liệu khi đang ghi: không biết thao tác đã được "
                "ghi nhận hay chưa. Hãy tải lại văn bản để kiểm tra trước khi làm lại."
            )
        )
        if key is None or user_id is None:
            raise unknown from exc
        try:
            stored = _stored(user_id, scope, key)
        except DBAPIError:
            raise unknown from exc
        if stored is None:
            raise CommitUnknown(
                _(
                    "Mất kết nối cơ sở dữ liệu khi đang ghi; thao tác chưa được ghi nhận. "
                    "Hãy gửi lại với cùng khóa."
                ),
                "not_committed",
            ) from exc
        return stored
    return Answer(status, body)


def _stored(user_id: int, scope: str, key: str) -> Answer | None:
    """The key's committed answer, read on a fresh connection."""
    with Session(db.engine()) as session:
        return idempotency.stored_answer(session, user_id, scope, key)
