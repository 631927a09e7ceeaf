"""Failed sign-ins, counted per account and per client address, so that guessing is slow
without locking everyone out.

- **Per account** (the username typed, whether or not it exists): after ``account_limit``
  failures each further attempt waits, ``backoff`` after the last failure, doubling with each
  failure beyond the limit up to ``backoff_max``. A successful sign-in forgets them; so does
  ``memory`` without a failure.
- **Per address**: at most ``address_limit`` failures in ``address_window``, a limit that
  only holds back accounts that already have failures. Made-up names from one address (a
  proxy that many people share) can never lock out someone who typed nothing wrong.

An attempt is counted as a failure *before* its password is checked, under a row lock, and
committed at once (``begin_login``); a successful sign-in then takes it back
(``login_succeeded``). So concurrent guesses cannot pass the limit: the 6th of 40 parallel
wrong passwords already sees five failures. Keys are stored as keyed digests (HMAC-SHA-256
under the caller's secret), never the address or the text typed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflow.clock import aware
from workflow.models import LoginFailure
from workflow.services.auth import normal_username


@dataclass(frozen=True)
class LoginPolicy:
    secret: bytes
    account_limit: int = 5
    backoff: timedelta = timedelta(minutes=1)
    backoff_max: timedelta = timedelta(hours=1)
    memory: timedelta = timedelta(days=1)
    address_limit: int = 50
    address_window: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class LoginKeys:
    """The digests an attempt is counted under."""

    account: str
    address: str


def login_keys(policy: LoginPolicy, username: str, address: str) -> LoginKeys:
    return LoginKeys(
        account=_digest(policy.secret, f"user:{normal_username(username)}"),
        address=_digest(policy.secret, f"ip:{address}"),
    )


def _digest(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def begin_login(
    session: Session, policy: LoginPolicy, keys: LoginKeys, *, now: datetime | None = None
) -> float:
    """Seconds to wait before this attempt may be tried, or 0: then the attempt has been
    counted as a failure of both keys (commit it before checking the password) until
    ``login_succeeded`` takes it back."""
    now = aware(now)
    _forget_old(session, policy, now)
    # Always the account first, then the address: one order of row locks, no deadlock.
    account = _locked(session, keys.account, now)
    address = _locked(session, keys.address, now)
    if now - aware(account.last_at) > policy.memory:
        account.failures, account.first_at = 0, now
    if now - aware(address.first_at) > policy.address_window:
        address.failures, address.first_at = 0, now
    wait = max(_account_wait(policy, account, now), _address_wait(policy, address, account, now))
    if wait <= 0:
        for row in (account, address):
            row.failures += 1
            row.last_at = now
    session.flush()
    return max(wait, 0.0)


def login_succeeded(session: Session, keys: LoginKeys) -> None:
    """The password was right: the account starts afresh, and the address no longer counts
    this attempt (people signing in behind one proxy do not add up to its limit)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key_digest == keys.account))
    session.execute(
        update(LoginFailure)
        .where(LoginFailure.key_digest == keys.address, LoginFailure.failures > 0)
        .values(failures=LoginFailure.failures - 1)
    )
    session.flush()


def _account_wait(policy: LoginPolicy, row: LoginFailure, now: datetime) -> float:
    beyond = row.failures - policy.account_limit
    if beyond < 0:
        return 0.0
    delay = min(policy.backoff * (1 << min(beyond, 20)), policy.backoff_max)
    return (aware(row.last_at) + delay - now).total_seconds()


def _address_wait(
    policy: LoginPolicy, address: LoginFailure, account: LoginFailure, now: datetime
) -> float:
    if address.failures < policy.address_limit or account.failures == 0:
        return 0.0
    return (aware(address.first_at) + policy.address_window - now).total_seconds()


def _locked(session: Session, digest: str, now: datetime) -> LoginFailure:
    """The counter row of ``digest``, created if missing, locked until the transaction ends
    (``FOR UPDATE`` on PostgreSQL; SQLite has taken the database's write lock with the
    INSERT)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginFailure)
        .values(key_digest=digest, failures=0, first_at=now, last_at=now)
        .on_conflict_do_nothing(index_elements=["key_digest"])
    )
    return session.scalars(
        select(LoginFailure)
        .where(LoginFailure.key_digest == digest)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _forget_old(session: Session, policy: LoginPolicy, now: datetime) -> None:
    """Drop counters nobody has moved for longer than either memory, whatever their key
    (random usernames must not grow the table without end). Rows another attempt holds are
    skipped, so this never waits for one."""
    oldest = now - max(policy.memory, policy.address_window)
    stale = (
        select(LoginFailure.key_digest)
        .where(LoginFailure.last_at < oldest)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(LoginFailure)
        .where(LoginFailure.key_digest.in_(stale))
        .execution_options(synchronize_session=False)
    )
