"""Initial schema: units, clusters and terms, users and roles, credentials, documents and
their versions, review, signatures, approvals, blobs, API tokens and the audit chain.

Revision ID: e43b4518398c
Revises: (none)
Create Date: 2026-11-24 00:53:18.924834
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signing.audit import GENESIS

revision = "e43b4518398c"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    # The single chain-head row every append locks; the chain starts at GENESIS.
    op.execute(
        sa.text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, :genesis)").bindparams(
            genesis=GENESIS
        )
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_blobs_sha256_hex")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
    )
    op.create_table(
        "certificate_authorities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_pem", sa.LargeBinary(), nullable=False),
        sa.Column("encrypted_key", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_authorities")),
        sa.UniqueConstraint(
            "fingerprint_sha256", name=op.f("uq_certificate_authorities_fingerprint_sha256")
        ),
    )
    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
        sa.UniqueConstraint("code", name=op.f("uq_clusters_code")),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('member', 'board')", name=op.f("ck_units_kind_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("code", name=op.f("uq_units_code")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    op.create_table(
        "cluster_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("head_unit_id", sa.Integer(), nullable=False),
        sa.Column("deputy_unit_id", sa.Integer(), nullable=True),
        sa.Column("board_unit_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "head_unit_id <> deputy_unit_id", name=op.f("ck_cluster_terms_head_is_not_deputy")
        ),
        sa.CheckConstraint(
            "year BETWEEN 1990 AND 2200", name=op.f("ck_cluster_terms_year_plausible")
        ),
        sa.ForeignKeyConstraint(
            ["board_unit_id"], ["units.id"], name=op.f("fk_cluster_terms_board_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_cluster_terms_cluster_id_clusters")
        ),
        sa.ForeignKeyConstraint(
            ["deputy_unit_id"], ["units.id"], name=op.f("fk_cluster_terms_deputy_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["head_unit_id"], ["units.id"], name=op.f("fk_cluster_terms_head_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_terms")),
        sa.UniqueConstraint("cluster_id", "year", name=op.f("uq_cluster_terms_cluster_id_year")),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failed_pins", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "(status = 'revoked') = (revoked_at IS NOT NULL)",
            name=op.f("ck_credentials_revoked_iff_revoked_at"),
        ),
        sa.CheckConstraint(
            "status <> 'locked' OR failed_pins >= 5", name=op.f("ck_credentials_locked_after_tries")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'locked', 'revoked')", name=op.f("ck_credentials_status_known")
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revocation_reason IS NULL)",
            name=op.f("ck_credentials_revocation_has_reason"),
        ),
        sa.CheckConstraint(
            "failed_pins BETWEEN 0 AND 5", name=op.f("ck_credentials_failed_pins_range")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_credentials_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_credentials_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("fingerprint_sha256", name=op.f("uq_credentials_fingerprint_sha256")),
    )
    op.create_table(
        "role_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "(role = 'admin') = (unit_id IS NULL)",
            name=op.f("ck_role_memberships_unit_iff_not_admin"),
        ),
        sa.CheckConstraint(
            "role IN ('drafter', 'reviewer', 'signer', 'board', 'admin')",
            name=op.f("ck_role_memberships_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_role_memberships_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_role_memberships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_memberships")),
        sa.UniqueConstraint(
            "user_id", "unit_id", "role", name=op.f("uq_role_memberships_user_id_unit_id_role")
        ),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("frozen_version_id", sa.Integer(), nullable=True),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(state = 'archived') = (bundle_sha256 IS NOT NULL)",
            name=op.f("ck_documents_bundle_iff_archived"),
        ),
        sa.CheckConstraint(
            "(state = 'cancelled') = (cancel_reason IS NOT NULL)",
            name=op.f("ck_documents_reason_iff_cancelled"),
        ),
        sa.CheckConstraint(
            "kind IN ('pledge', 'nomination')", name=op.f("ck_documents_kind_known")
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'in_review', 'signing', 'signed', 'submitted', 'approved', "
            "'archived', 'cancelled')",
            name=op.f("ck_documents_state_known"),
        ),
        sa.CheckConstraint(
            "state NOT IN ('signing', 'signed', 'submitted', 'approved', 'archived') "
            "OR frozen_version_id IS NOT NULL",
            name=op.f("ck_documents_frozen_from_signing_on"),
        ),
        sa.ForeignKeyConstraint(
            ["bundle_sha256"], ["blobs.sha256"], name=op.f("fk_documents_bundle_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_documents_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["cluster_terms.id"], name=op.f("fk_documents_term_id_cluster_terms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            "uq_documents_live_kind_per_term",
            ["term_id", "kind"],
            unique=True,
            postgresql_where=sa.text("state <> 'cancelled'"),
            sqlite_where=sa.text("state <> 'cancelled'"),
        )

    op.create_table(
        "term_members",
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["cluster_terms.id"],
            name=op.f("fk_term_members_term_id_cluster_terms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_term_members_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("term_id", "unit_id", name=op.f("pk_term_members")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("doc_prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_audit_events_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_events_seq")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_events_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("docx_sha256", sa.String(length=64), nullable=True),
        sa.Column("reference_code", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "(frozen_at IS NULL) = (docx_sha256 IS NULL)",
            name=op.f("ck_document_versions_frozen_has_docx"),
        ),
        sa.CheckConstraint(
            "(frozen_at IS NULL) = (reference_code IS NULL)",
            name=op.f("ck_document_versions_frozen_has_reference"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_document_versions_number_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_document_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["docx_sha256"], ["blobs.sha256"], name=op.f("fk_document_versions_docx_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint(
            "document_id", "number", name=op.f("uq_document_versions_document_id_number")
        ),
        sa.UniqueConstraint("reference_code", name=op.f("uq_document_versions_reference_code")),
    )
    # documents <-> document_versions reference each other: add these links once both exist.
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_documents_current_version_id_document_versions"),
            "document_versions",
            ["current_version_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_documents_frozen_version_id_document_versions"),
            "document_versions",
            ["frozen_version_id"],
            ["id"],
        )
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("decision_number", sa.String(length=64), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature_sha256", sa.String(length=64), nullable=False),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(decision_number IS NULL) = (decision_date IS NULL)",
            name=op.f("ck_approvals_decision_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["users.id"], name=op.f("fk_approvals_approver_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["bundle_sha256"], ["blobs.sha256"], name=op.f("fk_approvals_bundle_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_approvals_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_approvals_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manifest_sha256"], ["blobs.sha256"], name=op.f("fk_approvals_manifest_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["signature_sha256"], ["blobs.sha256"], name=op.f("fk_approvals_signature_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_approvals_version_id_document_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint("document_id", name=op.f("uq_approvals_document_id")),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("anchor", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(body) > 0", name=op.f("ck_comments_body_not_empty")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_comments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_comments_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_comments_unit_id_units")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_comments_version_id_document_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision = 'concur' OR reason IS NOT NULL",
            name=op.f("ck_review_decisions_changes_have_reason"),
        ),
        sa.CheckConstraint(
            "decision IN ('concur', 'request_changes')",
            name=op.f("ck_review_decisions_decision_known"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_review_decisions_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_review_decisions_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_review_decisions_version_id_document_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
        sa.UniqueConstraint(
            "version_id", "unit_id", name=op.f("uq_review_decisions_version_id_unit_id")
        ),
    )
    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("cms_sha256", sa.String(length=64), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "method IN ('server_key', 'upload')", name=op.f("ck_signatures_method_known")
        ),
        sa.CheckConstraint(
            "(voided_at IS NULL) = (void_reason IS NULL)",
            name=op.f("ck_signatures_void_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["cms_sha256"], ["blobs.sha256"], name=op.f("fk_signatures_cms_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_signatures_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_signatures_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signer_id"], ["users.id"], name=op.f("fk_signatures_signer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_signatures_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_signatures_version_id_document_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
        sa.UniqueConstraint("version_id", "unit_id", name=op.f("uq_signatures_version_id_unit_id")),
    )


def downgrade() -> None:
    op.drop_table("signatures")
    op.drop_table("review_decisions")
    op.drop_table("comments")
    op.drop_table("approvals")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_documents_current_version_id_document_versions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_documents_frozen_version_id_document_versions"), type_="foreignkey"
        )
    op.drop_table("document_versions")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_document_id"))

    op.drop_table("audit_events")
    op.drop_table("term_members")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_documents_live_kind_per_term",
            postgresql_where=sa.text("state <> 'cancelled'"),
            sqlite_where=sa.text("state <> 'cancelled'"),
        )

    op.drop_table("documents")
    op.drop_table("role_memberships")
    op.drop_table("credentials")
    op.drop_table("cluster_terms")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("units")
    op.drop_table("clusters")
    op.drop_table("certificate_authorities")
    op.drop_table("blobs")
    op.drop_table("audit_chain_head")
