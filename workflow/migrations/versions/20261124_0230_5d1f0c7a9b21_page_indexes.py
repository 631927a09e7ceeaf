"""Indexes for the pages at national scale: a document's signatures and comments, the
documents of a term, and the terms of a unit (member, head, deputy or board).

Measured by bench/web.py (125 clusters, 25,000 documents, 1,000,000 signatures): without
``ix_signatures_document_id`` every document page scanned the whole signatures table.

Revision ID: 5d1f0c7a9b21
Revises: e43b4518398c
Create Date: 2026-11-24 02:30:00
"""

from __future__ import annotations

from alembic import op

revision = "5d1f0c7a9b21"
down_revision = "e43b4518398c"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_signatures_document_id", "signatures", "document_id"),
    ("ix_comments_document_id", "comments", "document_id"),
    ("ix_documents_term_id", "documents", "term_id"),
    ("ix_term_members_unit_id", "term_members", "unit_id"),
    ("ix_cluster_terms_head_unit_id", "cluster_terms", "head_unit_id"),
    ("ix_cluster_terms_deputy_unit_id", "cluster_terms", "deputy_unit_id"),
    ("ix_cluster_terms_board_unit_id", "cluster_terms", "board_unit_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False)


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
