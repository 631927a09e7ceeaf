"""The deployment's timestamp authority: its keys and the serial of every token (issue 17)

Revision ID: 63f29af5391e
Revises: d0e31bee31ea
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "63f29af5391e"
down_revision = "d0e31bee31ea"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables only: nothing else references them, and no existing table is rebuilt.
    op.create_table(
        "timestamp_authorities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_pem", sa.LargeBinary(), nullable=False),
        sa.Column("encrypted_key", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timestamp_authorities")),
        sa.UniqueConstraint(
            "fingerprint_sha256", name=op.f("uq_timestamp_authorities_fingerprint_sha256")
        ),
    )
    op.create_index(
        "uq_timestamp_authorities_one_active",
        "timestamp_authorities",
        ["active"],
        unique=True,
        postgresql_where=sa.text("active"),
        sqlite_where=sa.text("active"),
    )
    op.create_table(
        "timestamp_tokens",
        # The token's serial number; AUTOINCREMENT on SQLite so that it never comes back.
        sa.Column(
            "serial",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("hash_algorithm", sa.String(length=16), nullable=False),
        sa.Column("imprint", sa.String(length=128), nullable=False),
        sa.Column("gen_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "hash_algorithm IN ('sha256', 'sha384', 'sha512')",
            name=op.f("ck_timestamp_tokens_hash_algorithm_known"),
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["timestamp_authorities.id"],
            name=op.f("fk_timestamp_tokens_authority_id_timestamp_authorities"),
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_timestamp_tokens")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_timestamp_tokens_authority_id", "timestamp_tokens", ["authority_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_timestamp_tokens_authority_id", table_name="timestamp_tokens")
    op.drop_table("timestamp_tokens")
    op.drop_index("uq_timestamp_authorities_one_active", table_name="timestamp_authorities")
    op.drop_table("timestamp_authorities")
