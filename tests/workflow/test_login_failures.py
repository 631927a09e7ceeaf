"""Failed sign-ins counted in the database (shared by every worker process), per account
and per address: the back-off, the address limit, what a success takes back, what is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.models import LoginFailure
from workflow.services import LoginPolicy, begin_login, login_keys, login_succeeded

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
POLICY = LoginPolicy(secret=b"test-secret", address_limit=8)


def attempt(session: Session, username: str, at: datetime, address: str = "10.0.0.1") -> float:
    """Try a sign-in at ``at``; the seconds to wait, or 0 (then it counts as a failure)."""
    return begin_login(session, POLICY, login_keys(POLICY, username, address), now=at)


def test_an_account_backs_off_exponentially_after_five_failures(db_session: Session) -> None:
    for second in range(5):
        assert attempt(db_session, "vphu-md-signer", T0 + timedelta(seconds=second)) == 0
    last = T0 + timedelta(seconds=4)
    # The sixth waits a minute after the fifth failure, the seventh two, the eighth four.
    assert attempt(db_session, "vphu-md-signer", last + timedelta(seconds=30)) == 30
    for minutes in (1, 2, 4):
        assert attempt(db_session, "vphu-md-signer", last + timedelta(minutes=minutes)) == 0
        last += timedelta(minutes=minutes)
    assert attempt(db_session, "vphu-md-signer", last) == 8 * 60
    # Another name from the same address has its own count.
    assert attempt(db_session, "vphu-uh-signer", last) == 0


def test_the_back_off_is_capped_and_forgotten_after_a_day(db_session: Session) -> None:
    at, waits = T0, []
    for _ in range(30):
        wait = attempt(db_session, "x", at)
        if wait:  # wait as told, then the attempt is taken (and counted)
            waits.append(wait)
            at += timedelta(seconds=wait)
            assert attempt(db_session, "x", at) == 0
    assert waits[:3] == [60, 120, 240]
    assert max(waits) == 3600  # an hour at most
    assert attempt(db_session, "x", at + timedelta(days=1, seconds=1)) == 0


def test_a_success_clears_the_account_and_takes_its_attempt_off_the_address(
    db_session: Session,
) -> None:
    keys = login_keys(POLICY, "vphu-md-signer", "10.0.0.1")
    for second in range(4):
        assert attempt(db_session, "vphu-md-signer", T0 + timedelta(seconds=second)) == 0
    login_succeeded(db_session, keys)
    counts = dict(db_session.execute(select(LoginFailure.key_digest, LoginFailure.failures)).all())
    assert keys.account not in counts
    assert counts[keys.address] == 3


def test_a_full_address_holds_back_only_accounts_with_failures(db_session: Session) -> None:
    for n in range(8):  # the address limit of this policy
        assert attempt(db_session, f"guess-{n}", T0) == 0
    assert attempt(db_session, "guess-0", T0) == 300  # until the 5-minute window ends
    assert attempt(db_session, "nobody-typed-wrong", T0) == 0  # evaluated: no failures yet
    assert attempt(db_session, "guess-0", T0, address="10.0.0.2") == 0  # another address
    assert attempt(db_session, "guess-0", T0 + timedelta(minutes=5, seconds=1)) == 0


def test_old_counters_are_dropped_whatever_their_key(db_session: Session) -> None:
    for n in range(20):  # someone trying random usernames
        attempt(db_session, f"guess-{n}", T0, address=f"10.1.0.{n}")
    attempt(db_session, "late", T0 + timedelta(days=1, seconds=1), address="10.2.0.1")
    assert db_session.scalar(select(func.count()).select_from(LoginFailure)) == 2


def test_the_keys_are_stored_as_keyed_digests(db_session: Session) -> None:
    attempt(db_session, "mat-khau-123", T0)
    stored = db_session.scalars(select(LoginFailure.key_digest)).all()
    assert len(stored) == 2  # the account and the address
    assert all(len(d) == 64 and "mat-khau" not in d for d in stored)
    # Another secret gives another digest: nothing to look up without the instance's key.
    other = LoginPolicy(secret=b"other")
    assert login_keys(other, "mat-khau-123", "10.0.0.1").account not in stored
