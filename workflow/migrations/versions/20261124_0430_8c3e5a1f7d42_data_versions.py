"""Data versions for the page cache: the seq of the last event on each cluster's documents,
and of the last event about anything else (units, terms, users, roles, credentials).

A signed-in page depends only on the clusters its user takes part in and on that structure,
so keying cached pages on these two numbers keeps a write in one cluster from invalidating
the pages of the 124 others (bench/web.py, web/page_cache.py).

Revision ID: 8c3e5a1f7d42
Revises: 5d1f0c7a9b21
Create Date: 2026-11-24 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8c3e5a1f7d42"
down_revision = "5d1f0c7a9b21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("data_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("structure_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
    # Existing data: every cluster and the structure are as new as the chain's head.
    op.execute("UPDATE clusters SET data_seq = (SELECT seq FROM audit_chain_head WHERE id = 1)")
    op.execute("UPDATE audit_chain_head SET structure_seq = seq")


def downgrade() -> None:
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.drop_column("structure_seq")
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.drop_column("data_seq")
