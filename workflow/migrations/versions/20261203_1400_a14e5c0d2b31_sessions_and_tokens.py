"""Server-side session ends, per-account login back-off and token expiry (issue 14)

Revision ID: a14e5c0d2b31
Revises: 3b7d2e9c4a18
Create Date: 2026-12-03
"""

from __future__ import annotations

revision = "a14e5c0d2b31"
down_revision = "3b7d2e9c4a18"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
