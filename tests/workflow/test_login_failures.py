"""Failed sign-ins counted in the database (shared by every worker process): the limit, the
window, how long a blocked client waits, and what is kept of the keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.models import LoginFailure
from workflow.services import clear_login_failures, login_wait, record_login_failure

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SECRET = b"test-secret"
WINDOW = timedelta(seconds=300)


def fail(session: Session, keys: list[str], at: datetime) -> None:
    record_login_failure(session, keys, secret=SECRET, window=WINDOW, now=at)


def wait(session: Session, keys: list[str], at: datetime, limit: int = 3) -> float:
    return login_wait(session, keys, secret=SECRET, limit=limit, window=WINDOW, now=at)


def test_blocked_at_the_limit_until_the_oldest_counted_failure_ages_out(
    db_session: Session,
) -> None:
    keys = ["ip:10.0.0.1", "user:vphu-md-signer"]
    for minute in (0, 1, 2):
        assert wait(db_session, keys, T0 + timedelta(minutes=minute)) == 0
        fail(db_session, keys, T0 + timedelta(minutes=minute))
    # Three failures in five minutes: blocked until the first leaves the window (08:05).
    assert wait(db_session, keys, T0 + timedelta(minutes=3)) == 120
    assert wait(db_session, keys, T0 + timedelta(minutes=5, seconds=1)) == 0
    # At 08:06 the failures of 08:00 and 08:01 are out of the window; one more makes two.
    fail(db_session, keys, T0 + timedelta(minutes=6))
    assert wait(db_session, keys, T0 + timedelta(minutes=6)) == 0
    # A third one at 08:06:30 blocks again, until 08:02's failure leaves (08:07).
    fail(db_session, keys, T0 + timedelta(minutes=6, seconds=30))
    assert wait(db_session, keys, T0 + timedelta(minutes=6, seconds=30)) == 30
    # Another key shares nothing with these.
    assert wait(db_session, ["ip:10.0.0.2"], T0 + timedelta(minutes=6, seconds=30)) == 0


def test_clearing_one_key_keeps_the_others(db_session: Session) -> None:
    keys = ["ip:10.0.0.1", "user:vphu-md-signer"]
    for second in range(3):
        fail(db_session, keys, T0 + timedelta(seconds=second))
    clear_login_failures(db_session, ["user:vphu-md-signer"], secret=SECRET)
    assert wait(db_session, ["user:vphu-md-signer"], T0 + timedelta(seconds=5)) == 0
    assert wait(db_session, ["ip:10.0.0.1"], T0 + timedelta(seconds=5)) > 0


def test_old_failures_are_dropped_whatever_their_key(db_session: Session) -> None:
    for n in range(20):  # someone trying random usernames
        fail(db_session, [f"user:guess-{n}"], T0)
    fail(db_session, ["user:late"], T0 + WINDOW + timedelta(seconds=1))
    count = db_session.scalar(select(func.count()).select_from(LoginFailure))
    assert count == 1


def test_the_keys_are_stored_as_keyed_digests(db_session: Session) -> None:
    fail(db_session, ["user:mat-khau-123"], T0)
    stored = db_session.scalars(select(LoginFailure.key_digest)).all()
    assert len(stored) == 1
    assert len(stored[0]) == 64
    assert "mat-khau" not in stored[0]
    # Another secret gives another digest: nothing to look up without the instance's key.
    record_login_failure(db_session, ["user:mat-khau-123"], secret=b"other", window=WINDOW, now=T0)
    assert len(set(db_session.scalars(select(LoginFailure.key_digest)).all())) == 2
