"""The unit's seal image and the user's signature image for visible PDF signatures (issue 16)

Revision ID: d0e31bee31ea
Revises: d16b8f3e0a12
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d0e31bee31ea"
down_revision = "d16b8f3e0a12"
branch_labels = None
depends_on = None

_COLUMNS = (("units", "seal_sha256"), ("users", "signature_sha256"))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in _COLUMNS:
        name = op.f(f"fk_{table}_{column}_blobs")
        if sqlite:
            # In place: a batch rebuild would drop a table other tables reference (with
            # foreign keys on, SQLite's DROP TABLE deletes the rows first).
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(64) "
                f"CONSTRAINT {name} REFERENCES blobs (sha256)"
            )
        else:
            op.add_column(table, sa.Column(column, sa.String(length=64), nullable=True))
            op.create_foreign_key(name, table, "blobs", [column], ["sha256"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in reversed(_COLUMNS):
        if sqlite:
            # SQLite cannot drop a column that has a constraint: the batch rebuild drops
            # the table, which with foreign keys on refuses (IntegrityError, nothing lost)
            # while other tables reference its rows; a populated SQLite database stays up.
            with op.batch_alter_table(table) as batch:
                batch.drop_column(column)
        else:
            op.drop_constraint(op.f(f"fk_{table}_{column}_blobs"), table, type_="foreignkey")
            op.drop_column(table, column)
