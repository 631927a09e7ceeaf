"""A dossier's separate documents (version_parts); document_versions.docx_sha256 becomes
signed_sha256, the bytes the units sign: a pledge's DOCX or a dossier's manifest (issue 15)

Revision ID: c15a7e2d9f01
Revises: b14f6d1e3c42
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c15a7e2d9f01"
down_revision = "b14f6d1e3c42"
branch_labels = None
depends_on = None

_OLD_FK = "fk_document_versions_docx_sha256_blobs"
_NEW_FK = "fk_document_versions_signed_sha256_blobs"


def _rename(old: str, new: str, old_fk: str, new_fk: str) -> None:
    # In place on both databases (SQLite >= 3.25 rewrites the CHECK and FOREIGN KEY clauses
    # that name the column): a batch rebuild would drop a table other tables reference.
    op.execute(f"ALTER TABLE document_versions RENAME COLUMN {old} TO {new}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE document_versions RENAME CONSTRAINT {old_fk} TO {new_fk}")


def upgrade() -> None:
    _rename("docx_sha256", "signed_sha256", _OLD_FK, _NEW_FK)
    op.create_table(
        "version_parts",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("docx_sha256", sa.String(length=64), nullable=False),
        sa.Column("signers", sa.JSON(), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_version_parts_position_positive")),
        sa.ForeignKeyConstraint(
            ["docx_sha256"], ["blobs.sha256"], name=op.f("fk_version_parts_docx_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_version_parts_version_id_document_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "position", name=op.f("pk_version_parts")),
        sa.UniqueConstraint("version_id", "name", name=op.f("uq_version_parts_version_id_name")),
    )


def downgrade() -> None:
    op.drop_table("version_parts")
    _rename("signed_sha256", "docx_sha256", _NEW_FK, _OLD_FK)
