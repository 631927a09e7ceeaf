"""The signed PDF of each frozen document, newest revision (issue 16)

Revision ID: d16b8f3e0a12
Revises: c15a7e2d9f01
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d16b8f3e0a12"
down_revision = "c15a7e2d9f01"
branch_labels = None
depends_on = None

_TABLES = ("document_versions", "version_parts")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in _TABLES:
        name = op.f(f"fk_{table}_pdf_sha256_blobs")
        if sqlite:
            # In place: a batch rebuild would drop a table other tables reference (with
            # foreign keys on, SQLite's DROP TABLE deletes the rows first).
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN pdf_sha256 VARCHAR(64) "
                f"CONSTRAINT {name} REFERENCES blobs (sha256)"
            )
        else:
            op.add_column(table, sa.Column("pdf_sha256", sa.String(length=64), nullable=True))
            op.create_foreign_key(name, table, "blobs", ["pdf_sha256"], ["sha256"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in reversed(_TABLES):
        if sqlite:
            # SQLite cannot drop a column that has a constraint: the batch rebuild drops
            # the table, which with foreign keys on refuses (IntegrityError, nothing lost)
            # while other tables reference its rows; a populated SQLite database stays up.
            with op.batch_alter_table(table) as batch:
                batch.drop_column("pdf_sha256")
        else:
            op.drop_constraint(op.f(f"fk_{table}_pdf_sha256_blobs"), table, type_="foreignkey")
            op.drop_column(table, "pdf_sha256")
