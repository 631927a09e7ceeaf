"""Idempotent writes: a key the client sends with a write (the API's ``Idempotency-Key``
header, a form's one-time id) and the answer the write got.

The key is claimed at the start of the write's transaction and the answer recorded before
its commit, so the row exists exactly when the write committed. A twin request with the same
key that arrives meanwhile waits on the row's unique index (PostgreSQL) or the database lock
(SQLite) and then finds the answer: each key writes once, and every retry gets the first
answer back. The same key sent with another request (another route or body) is refused.
Keys are per user and kept 24 hours; expired rows are purged by the writes that claim keys.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.clock import aware
from workflow.errors import ValidationError
from workflow.models import IdempotencyKey, User

TTL = timedelta(hours=24)
MAX_KEY = 255
PURGE_BATCH = 200
SCOPES = ("api", "form")
# Never in a digest: a 6-digit PIN under SHA-256 is one table lookup away.
SECRET_FIELDS = frozenset({"pin"})


@dataclass(frozen=True)
class Answer:
    """The first answer of a key: what a retry gets back."""

    status: int
    body: dict[str, Any]


def request_digest(method: str, route: str, body: Any) -> str:
    """The digest that ties a key to one request: the method, the route and the body (as
    canonical JSON, so a retry that spells the same body differently is the same request)."""
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in SECRET_FIELDS}
    canonical = json.dumps(
        [method.upper(), route, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def check_key(key: str, field: str) -> str:
    """A key is 1-255 visible ASCII characters (a UUID is the usual choice)."""
    if not (0 < len(key) <= MAX_KEY and key.isascii() and key.isprintable() and key.strip()):
        raise ValidationError(
            f"{field} phải gồm 1–{MAX_KEY} ký tự ASCII in được (ví dụ một UUID).",
            field=field,
            code="bad_idempotency_key",
        )
    return key


def claim(
    session: Session,
    actor: User,
    scope: str,
    key: str,
    digest: str,
    *,
    field: str,
    now: datetime | None = None,
) -> IdempotencyKey | Answer:
    """The earlier answer of ``key``, or the key's new row in this transaction (the caller
    records the answer with ``record`` before committing). Must come before the write's
    other work: a lost claim rolls the session back."""
    assert scope in SCOPES, scope
    now = aware(now)
    earlier = _answer(session, actor.id, scope, key, digest, now, field)
    if earlier is not None:
        return earlier
    _purge(session, actor.id, scope, key, now)
    row = IdempotencyKey(
        user_id=actor.id,
        scope=scope,
        key=key,
        request_sha256=digest,
        status=0,
        response={},
        created_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # A twin request claimed the key and committed while we waited on it.
        session.rollback()
        earlier = _answer(session, actor.id, scope, key, digest, now, field)
        if earlier is None:  # it was purged between the two statements: claim again
            return claim(session, actor, scope, key, digest, field=field, now=now)
        return earlier
    return row


def record(row: IdempotencyKey, status: int, body: dict[str, Any]) -> None:
    """The answer of the claimed key, written by the transaction's commit."""
    row.status = status
    row.response = body


def stored_answer(
    session: Session, user_id: int, scope: str, key: str, *, now: datetime | None = None
) -> Answer | None:
    """The committed answer of a key, whatever request it was for (after a failed commit:
    did the write land?)."""
    row = _live_row(session, user_id, scope, key, aware(now))
    return Answer(row.status, row.response) if row is not None and row.status else None


def _live_row(
    session: Session, user_id: int, scope: str, key: str, now: datetime
) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at > now - TTL,
        )
    )


def _answer(
    session: Session,
    user_id: int,
    scope: str,
    key: str,
    digest: str,
    now: datetime,
    field: str,
) -> Answer | None:
    row = _live_row(session, user_id, scope, key, now)
    if row is None:
        return None
    if row.request_sha256 != digest:
        raise ValidationError(
            f"{field} này đã được dùng cho một yêu cầu khác (địa chỉ hoặc nội dung khác); "
            "hãy dùng một khóa mới cho yêu cầu mới.",
            field=field,
            code="idempotency_key_reused",
        )
    return Answer(row.status, row.response)


def _purge(session: Session, user_id: int, scope: str, key: str, now: datetime) -> None:
    """Drop expired keys: this one (so it can be claimed again) and a batch of others.
    Rows another transaction is deleting are skipped, not waited for (PostgreSQL)."""
    cutoff = now - TTL
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.created_at <= cutoff)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(IdempotencyKey)
        .where(
            (IdempotencyKey.id.in_(expired))
            | (
                (IdempotencyKey.user_id == user_id)
                & (IdempotencyKey.scope == scope)
                & (IdempotencyKey.key == key)
                & (IdempotencyKey.created_at <= cutoff)
            )
        )
        .execution_options(synchronize_session=False)
    )
