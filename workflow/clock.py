"""The workflow's one clock. ``documents`` and ``signing`` never read a clock: we pass ``now``."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime:
    """``moment`` (default: now) as an aware UTC datetime; naive values are taken as UTC.

    SQLite returns naive datetimes even for ``DateTime(timezone=True)`` columns, so values read
    back from the database go through here before they are compared or passed on.
    """
    if moment is None:
        return utcnow()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds: the exact text stored and hashed in audit events."""
    return aware(moment).isoformat(timespec="microseconds")
