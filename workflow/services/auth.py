"""Authentication: passwords (Argon2id) and API tokens (hashed at rest)."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, select, update
from sqlalchemy.orm import Session

from workflow.audit import append_event
from workflow.clock import aware
from workflow.errors import NotFound, PermissionDenied, ValidationError
from workflow.models import ApiToken, User
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
DEFAULT_TOKEN_DAYS = 90  # a token made without ``days`` works for this long
MAX_TOKEN_DAYS = 3650


def normal_username(value: str) -> str:
    """The username as stored: NFC, trimmed, lower case."""
    return unicodedata.normalize("NFC", str(value or "")).strip().lower()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (same cost either way)."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return None
    user = session.scalar(select(User).where(User.username == normal_username(username)))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def session_user() -> ColumnElement[bool]:
    """The user bound as ``user_id`` whose sessions are still of the generation bound as
    ``generation``: a session opened before a sign-out, a password change, a role change or
    "sign out everywhere" matches no row."""
    return (User.id == bindparam("user_id")) & (User.session_generation == bindparam("generation"))


def active_user_id(bind: Session | Connection, user_id: int, generation: int) -> int | None:
    """``user_id`` back when that user exists, is active and has not ended the sessions of
    ``generation``, else None.

    Runs on every signed-in request, so it reads one column on the connection, without
    building an ORM object that a cached page would never use."""
    params = {"user_id": user_id, "generation": generation}
    active = connection_of(bind).scalar(_ACTIVE, params)
    return user_id if active else None


# Built once: this runs on every signed-in request.
_ACTIVE = select(User.active).where(session_user())


def end_sessions(session: Session, user: User) -> int:
    """End every session of ``user`` at once (in every worker process: each request checks
    the generation in the database); returns the new generation. No audit event: signing out
    is not a change of the data."""
    user.session_generation = User.session_generation + 1  # atomic in SQL
    session.flush()
    return user.session_generation


def session_generation(session: Session, user_id: int) -> int | None:
    """The user's session generation as stored now (None: no such user)."""
    return session.scalar(select(User.session_generation).where(User.id == user_id))


def sign_out_everywhere(
    session: Session, actor: User | None, username: str, *, now: datetime | None = None
) -> int:
    """An admin's (or the user's own) "sign out everywhere": every session of ``username``
    ends; returns the new generation. ``None`` is the operator at the console."""
    now = aware(now)
    user = _user_for(session, actor, username, "Chỉ quản trị viên đăng xuất được người khác.")
    generation = end_sessions(session, user)
    who = actor.username if actor is not None else "console"
    append_event(session, action="sessions_end", actor=who, now=now, data={"user": user.username})
    return generation


def _user_for(session: Session, actor: User | None, username: str, refusal: str) -> User:
    """The user named ``username``, when ``actor`` (None: the console) may manage them."""
    user = session.scalar(select(User).where(User.username == normal_username(username)))
    if actor is not None:
        actor = current_actor(session, actor)
        if not actor.is_admin and (user is None or actor.id != user.id):
            raise PermissionDenied(refusal)
    if user is None:
        raise NotFound(f"Không có người dùng '{username}'.", code="user_not_found")
    return user


def token_owner(*columns: Any) -> Select[Any]:
    """``ApiToken.user_id`` and ``columns`` of the live token whose digest is bound as
    ``digest`` (see ``token_params``), owned by an active user: no row otherwise."""
    return (
        select(ApiToken.user_id, *columns)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_sha256 == bindparam("digest"),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > bindparam("now"),
            User.active.is_(True),
        )
    )


def token_params(token: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The parameters of ``token_owner`` for a presented token at ``now``; None for anything
    that cannot be one of ours (no lookup then)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return {"digest": token_digest(token), "now": aware(now)}


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
    session: Session,
    actor: User | None,
    username: str,
    *,
    days: int = DEFAULT_TOKEN_DAYS,
    now: datetime | None = None,
) -> str:
    """A new API token for ``username``, valid for ``days``; returned once, only its SHA-256
    is stored.

    ``actor`` must be that user or an admin; ``None`` means the operator at the console
    (the ``thidua token create`` command).
    """
    now = aware(now)
    refusal = "Chỉ quản trị viên tạo được mã truy cập cho người khác."
    user = _user_for(session, actor, username, refusal)
    lifetime = _token_days(days)
    token = new_token()
    session.add(
        ApiToken(
            user_id=user.id,
            token_sha256=token_digest(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    append_event(
        session,
        action="token_create",
        actor=actor.username if actor is not None else "console",
        now=now,
        data={"user": user.username, "days": lifetime.days},
    )
    return token


def _token_days(days: Any) -> timedelta:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError(
            f"Thời hạn của mã truy cập phải từ 1 đến {MAX_TOKEN_DAYS} ngày.", field="days"
        )
    return timedelta(days=days)


def revoke_tokens(
    session: Session, actor: User | None, username: str, *, now: datetime | None = None
) -> int:
    """Revoke every live token of ``username``; returns how many."""
    now = aware(now)
    refusal = "Chỉ quản trị viên thu hồi được mã truy cập của người khác."
    user = _user_for(session, actor, username, refusal)
    count = revoke_user_tokens(session, user, now=now)
    append_event(
        session,
        action="token_revoke",
        actor=actor.username if actor is not None else "console",
        now=now,
        data={"user": user.username, "count": count},
    )
    return count


def revoke_user_tokens(session: Session, user: User, *, now: datetime | None = None) -> int:
    """Revoke every token of ``user`` not yet revoked (deactivation calls this: reactivating
    the user later revives none of them); returns how many."""
    revoked = session.scalars(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=aware(now))
        .returning(ApiToken.id)
    )
    return len(revoked.all())
