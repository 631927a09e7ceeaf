"""Authentication: passwords (Argon2id) and API tokens (hashed at rest)."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, select, update
from sqlalchemy.orm import Session

from workflow.audit import append_event
from workflow.clock import aware
from workflow.errors import NotFound, PermissionDenied
from workflow.models import ApiToken, LoginFailure, User
from workflow.security import (
    TOKEN_PREFIX,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from workflow.services._common import connection_of, current_actor

MAX_PASSWORD = 1024


def _username(value: str) -> str:
    return unicodedata.normalize("NFC", str(value or "")).strip().lower()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (same cost either way)."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return None
    user = session.scalar(select(User).where(User.username == _username(username)))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def active_user_id(bind: Session | Connection, user_id: int) -> int | None:
    """``user_id`` back when that user exists and is active, else None.

    Runs on every signed-in request, so it reads one column on the connection, without
    building an ORM object that a cached page would never use."""
    active = connection_of(bind).scalar(_ACTIVE, {"user_id": user_id})
    return user_id if active else None


# Built once: this runs on every signed-in request.
_ACTIVE = select(User.active).where(User.id == bindparam("user_id"))


def token_owner(*columns: Any) -> Select[Any]:
    """``ApiToken.user_id`` and ``columns`` of the live token whose digest is bound as
    ``digest`` (see ``token_params``), owned by an active user: no row otherwise."""
    return (
        select(ApiToken.user_id, *columns)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_sha256 == bindparam("digest"),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )


def token_params(token: str) -> dict[str, str] | None:
    """The parameters of ``token_owner`` for a presented token; None for anything that
    cannot be one of ours (no lookup then)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return {"digest": token_digest(token)}


_TOKEN_OWNER = token_owner()


def token_user_id(bind: Session | Connection, token: str) -> int | None:
    """The id of the active user owning this bearer token, else None. Read-only."""
    params = token_params(token)
    return None if params is None else connection_of(bind).scalar(_TOKEN_OWNER, params)


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning this bearer token, else None. Read-only (no write per call)."""
    user_id = token_user_id(session, token)
    return None if user_id is None else session.get(User, user_id)


def create_token(
    session: Session, actor: User | None, username: str, *, now: datetime | None = None
) -> str:
    """A new API token for ``username``; returned once, only its SHA-256 is stored.

    ``actor`` must be that user or an admin; ``None`` means the operator at the console
    (the ``thidua token create`` command).
    """
    now = aware(now)
    user = session.scalar(select(User).where(User.username == _username(username)))
    if actor is not None:
        actor = current_actor(session, actor)
        if not actor.is_admin and (user is None or actor.id != user.id):
            raise PermissionDenied("Chỉ quản trị viên tạo được mã truy cập cho người khác.")
    if user is None:
        raise NotFound(f"Không có người dùng '{username}'.", code="user_not_found")
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_sha256=token_digest(token), created_at=now))
    session.flush()
    append_event(
        session,
        action="token_create",
        actor=actor.username if actor is not None else "console",
        now=now,
        data={"user": user.username},
    )
    return token


def revoke_tokens(
    session: Session, actor: User | None, username: str, *, now: datetime | None = None
) -> int:
    """Revoke every live token of ``username``; returns how many."""
    now = aware(now)
    user = session.scalar(select(User).where(User.username == _username(username)))
    if actor is not None:
        actor = current_actor(session, actor)
        if not actor.is_admin and (user is None or actor.id != user.id):
            raise PermissionDenied("Chỉ quản trị viên thu hồi được mã truy cập của người khác.")
    if user is None:
        raise NotFound(f"Không có người dùng '{username}'.", code="user_not_found")
    revoked = session.scalars(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiToken.id)
    )
    return len(revoked.all())


# --- sign-in attempts ---------------------------------------------------------------------
# Counted in the database, so every worker process sees the same failures; stored as a keyed
# digest (HMAC-SHA-256 under the caller's secret), never the address or the text typed.


def _login_digests(keys: Sequence[str], secret: bytes) -> list[str]:
    return [hmac.new(secret, key.encode("utf-8"), hashlib.sha256).hexdigest() for key in keys]


def login_wait(
    session: Session,
    keys: Sequence[str],
    *,
    secret: bytes,
    limit: int,
    window: timedelta,
    now: datetime | None = None,
) -> float:
    """Seconds until another sign-in may be tried: 0 while every key has had fewer than
    ``limit`` failures in the last ``window``, else until enough of them have aged out."""
    now = aware(now)
    wait = 0.0
    for digest in _login_digests(keys, secret):
        recent = session.scalars(
            select(LoginFailure.failed_at)
            .where(LoginFailure.key_digest == digest, LoginFailure.failed_at > now - window)
            .order_by(LoginFailure.failed_at.desc())
            .limit(limit)
        ).all()
        if limit <= 0 or len(recent) >= limit:
            # Allowed again when the oldest of the last ``limit`` failures leaves the window.
            freed = aware(recent[-1]) + window if recent else now
            wait = max(wait, (freed - now).total_seconds())
    return wait


def record_login_failure(
    session: Session,
    keys: Sequence[str],
    *,
    secret: bytes,
    window: timedelta,
    now: datetime | None = None,
) -> None:
    """Count one failed sign-in under each key; failures older than ``window`` are dropped
    (whatever their key: random usernames must not grow the table without end)."""
    now = aware(now)
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - window))
    session.add_all(
        LoginFailure(key_digest=digest, failed_at=now) for digest in _login_digests(keys, secret)
    )
    session.flush()


def clear_login_failures(session: Session, keys: Sequence[str], *, secret: bytes) -> None:
    """Forget the failures counted under ``keys`` (a successful sign-in clears its username)."""
    digests = _login_digests(keys, secret)
    session.execute(delete(LoginFailure).where(LoginFailure.key_digest.in_(digests)))
