"""Failed sign-ins in the database, so that the login limit holds across worker processes
(each gunicorn worker used to count on its own: four workers allowed four times the limit).

Revision ID: 3b7d2e9c4a18
Revises: 8c3e5a1f7d42
Create Date: 2026-11-24 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3b7d2e9c4a18"
down_revision = "8c3e5a1f7d42"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_key_digest", ["key_digest"], unique=False)
        batch_op.create_index("ix_login_failures_failed_at", ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_failed_at")
        batch_op.drop_index("ix_login_failures_key_digest")
    op.drop_table("login_failures")
