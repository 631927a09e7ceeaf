"""Database models (SQLAlchemy 2.0, typed, plain ``DeclarativeBase``).

State that implies data is enforced by the database too (``CheckConstraint``), so that a bug
in a service cannot store, say, an archived document without its bundle. Files (DOCX,
signatures, manifests, bundles) are rows of ``blobs`` keyed by SHA-256, so a state change and
its files commit or roll back together.

The schema is created only by the Alembic migrations in ``workflow/migrations``; nothing
calls ``create_all``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from workflow.definitions import FROZEN_STATES
from workflow.definitions import STATES as DOCUMENT_STATES  # the definitions own the list

# Stable constraint names on every backend, so migrations can address them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DOCUMENT_KINDS = ("pledge", "nomination")
UNIT_KINDS = ("member", "board")
ROLES = ("drafter", "reviewer", "signer", "board", "admin")
CREDENTIAL_STATUSES = ("active", "locked", "revoked")
DECISIONS = ("concur", "request_changes")
SIGNATURE_METHODS = ("server_key", "upload")
MAX_PIN_TRIES = 5


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


def table_of(model: type[Base]) -> Table:
    """The Core table of a model (``__table__`` is typed as any FROM clause), for the few
    statements that must bypass the ORM, such as the version counter."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Unit(Base):
    """An office: a member unit of clusters, or an emulation board (``kind='board'``)."""

    __tablename__ = "units"
    __table_args__ = (CheckConstraint(_in("kind", UNIT_KINDS), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime]
    # The unit's seal image (PNG with transparency), shown over the left third of the
    # signer's signature image in its visible PDF signature (Decree 30); None: no seal.
    seal_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))


class Cluster(Base):
    """A cụm thi đua. Its composition changes every year: see ``ClusterTerm``."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    # The audit seq of the last event on one of its documents: the version of what its
    # members see (see workflow.audit.append_event and queries.scope_version).
    data_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    terms: Mapped[list[ClusterTerm]] = relationship(
        back_populates="cluster", order_by="ClusterTerm.year"
    )


class TermMember(Base):
    __tablename__ = "term_members"

    term_id: Mapped[int] = mapped_column(
        ForeignKey("cluster_terms.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed: "which terms is my unit in" is the first query of every page.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    # Loaded with the memberships (one query for all of them): every page that shows a term
    # lists its member units, which otherwise cost one query per unit.
    unit: Mapped[Unit] = relationship(lazy="selectin")


class ClusterTerm(Base):
    """One year of a cluster: head (cụm trưởng), deputy, members and the supervising board."""

    __tablename__ = "cluster_terms"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year"),
        CheckConstraint("head_unit_id <> deputy_unit_id", name="head_is_not_deputy"),
        CheckConstraint("year BETWEEN 1990 AND 2200", name="year_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id"))
    year: Mapped[int]
    # Indexed for visibility ("terms my unit heads, deputises or supervises").
    head_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    deputy_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    board_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime]

    cluster: Mapped[Cluster] = relationship(back_populates="terms")
    head_unit: Mapped[Unit] = relationship(foreign_keys=[head_unit_id])
    deputy_unit: Mapped[Unit | None] = relationship(foreign_keys=[deputy_unit_id])
    board_unit: Mapped[Unit] = relationship(foreign_keys=[board_unit_id])
    memberships: Mapped[list[TermMember]] = relationship(
        order_by="TermMember.position", cascade="all, delete-orphan"
    )

    @property
    def member_units(self) -> list[Unit]:
        return [m.unit for m in self.memberships]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # The user's handwritten signature image (PNG with transparency), shown in the visible
    # PDF signatures they make (Decree 30); None: the text alone.
    signature_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    # Every session carries the generation it was opened under; moving it on (sign-out,
    # password change, deactivation, a role change, "sign out everywhere") ends them all,
    # in every worker process, since every request checks it against this row.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    roles: Mapped[list[RoleMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_admin(self) -> bool:
        return any(r.role == "admin" for r in self.roles)

    def unit_ids(self, role: str | None = None) -> set[int]:
        """Units where the user holds ``role`` (any role when None)."""
        return {
            r.unit_id
            for r in self.roles
            if r.unit_id is not None and (role is None or r.role == role)
        }


class RoleMembership(Base):
    """A role held in a unit. ``admin`` is the one role not tied to a unit."""

    __tablename__ = "role_memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "unit_id", "role"),
        CheckConstraint(_in("role", ROLES), name="role_known"),
        CheckConstraint("(role = 'admin') = (unit_id IS NULL)", name="unit_iff_not_admin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="roles")
    unit: Mapped[Unit | None] = relationship()


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored (the token itself has 256 bits of entropy)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    # A token works until it expires or is revoked (deactivating its user revokes it).
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """Failed sign-ins counted under one key: an account (the username typed) or a client
    address. One row per key, changed under a row lock, so that concurrent guesses cannot
    pass the limit; in the database so that every worker process counts the same failures.
    Only a keyed digest of the key is stored: a username field sometimes receives a password.
    """

    __tablename__ = "login_failures"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_not_negative"),)

    key_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # When the count started (an address counts per window) and when it last moved.
    first_at: Mapped[datetime]
    last_at: Mapped[datetime] = mapped_column(index=True)


class CertificateAuthorityRecord(Base):
    """The deployment CA. Its key is encrypted under the instance's CA master secret."""

    __tablename__ = "certificate_authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_pem: Mapped[bytes] = mapped_column(LargeBinary)
    encrypted_key: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


TSA_HASH_ALGORITHMS = ("sha256", "sha384", "sha512")


class TimestampAuthorityRecord(Base):
    """A key of the deployment's timestamp authority (issue 17) and its certificate from the
    CA. The key is sealed under the CA master secret, like the CA's; one is active, used for
    a year (``signing.ca.TSA_KEY_USE_DAYS``), then kept inactive for the record."""

    __tablename__ = "timestamp_authorities"
    __table_args__ = (
        # At most one active key: two processes rotating at once cannot both win.
        Index(
            "uq_timestamp_authorities_one_active",
            "active",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_pem: Mapped[bytes] = mapped_column(LargeBinary)
    encrypted_key: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class TimestampToken(Base):
    """One token the deployment's TSA issued. The primary key is the token's serial number:
    the database hands it out, so serials never repeat, across keys and processes (on SQLite
    AUTOINCREMENT keeps a deleted last row's serial from coming back)."""

    __tablename__ = "timestamp_tokens"
    __table_args__ = (
        CheckConstraint(_in("hash_algorithm", TSA_HASH_ALGORITHMS), name="hash_algorithm_known"),
        {"sqlite_autoincrement": True},
    )

    # BIGINT on PostgreSQL; SQLite hands out rowids only to a column typed INTEGER.
    serial: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    authority_id: Mapped[int] = mapped_column(ForeignKey("timestamp_authorities.id"), index=True)
    hash_algorithm: Mapped[str] = mapped_column(String(16))
    imprint: Mapped[str] = mapped_column(String(128))  # hex of the message imprint
    gen_time: Mapped[datetime]
    created_at: Mapped[datetime]

    authority: Mapped[TimestampAuthorityRecord] = relationship()


class Credential(Base):
    """A signer's certificate and, for server-held keys, the key sealed under the PIN."""

    __tablename__ = "credentials"
    __table_args__ = (
        CheckConstraint(_in("status", CREDENTIAL_STATUSES), name="status_known"),
        CheckConstraint(f"failed_pins BETWEEN 0 AND {MAX_PIN_TRIES}", name="failed_pins_range"),
        CheckConstraint(
            f"status <> 'locked' OR failed_pins >= {MAX_PIN_TRIES}", name="locked_after_tries"
        ),
        CheckConstraint(
            "(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_iff_revoked_at"
        ),
        CheckConstraint(
            "(revoked_at IS NULL) = (revocation_reason IS NULL)", name="revocation_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    serial_number: Mapped[str] = mapped_column(String(64))  # decimal; serials exceed 64 bits
    not_after: Mapped[datetime]
    sealed_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="active")
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()
    unit: Mapped[Unit] = relationship()


class Blob(Base):
    """Content-addressed bytes: the key is the SHA-256 of the data, so a blob never changes."""

    __tablename__ = "blobs"
    __table_args__ = (CheckConstraint("length(sha256) = 64", name="sha256_hex"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class Document(Base):
    """A pledge or nomination of one cluster term, moving through its workflow definition."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(_in("kind", DOCUMENT_KINDS), name="kind_known"),
        CheckConstraint(_in("state", DOCUMENT_STATES), name="state_known"),
        CheckConstraint(
            "(state = 'archived') = (bundle_sha256 IS NOT NULL)", name="bundle_iff_archived"
        ),
        CheckConstraint(
            "(state = 'cancelled') = (cancel_reason IS NOT NULL)", name="reason_iff_cancelled"
        ),
        CheckConstraint(
            f"state NOT IN ({', '.join(repr(s) for s in FROZEN_STATES)}) "
            "OR frozen_version_id IS NOT NULL",
            name="frozen_from_signing_on",
        ),
        # One live document of each kind per cluster term; a cancelled one can be replaced.
        Index(
            "uq_documents_live_kind_per_term",
            "term_id",
            "kind",
            unique=True,
            postgresql_where=text("state <> 'cancelled'"),
            sqlite_where=text("state <> 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Indexed: the partial unique index skips cancelled documents, so it cannot serve
    # "every document of these terms".
    term_id: Mapped[int] = mapped_column(ForeignKey("cluster_terms.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    definition_version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(300))
    # Optimistic lock: every UPDATE of this row checks and bumps it (SQLAlchemy version_id_col).
    version: Mapped[int] = mapped_column(Integer, default=1)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_versions.id", use_alter=True)
    )
    frozen_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_versions.id", use_alter=True)
    )
    bundle_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    term: Mapped[ClusterTerm] = relationship()
    created_by: Mapped[User] = relationship()
    current_version: Mapped[DocumentVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    # Read-mostly: services set ``frozen_version_id`` itself (see workflow.services), so that
    # the frozen version and the state requiring it (check frozen_from_signing_on) land in
    # the same UPDATE rather than in a later post-update.
    frozen_version: Mapped[DocumentVersion | None] = relationship(
        foreign_keys=[frozen_version_id], post_update=True
    )
    versions: Mapped[list[DocumentVersion]] = relationship(
        foreign_keys="DocumentVersion.document_id",
        back_populates="document",
        order_by="DocumentVersion.number",
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read once by the mapper)

    @property
    def year(self) -> int:
        return self.term.year


class DocumentVersion(Base):
    """One version of the content. Freezing renders it once and pins ``signed_sha256``, the
    bytes every member unit signs: a pledge's DOCX, or a dossier's manifest (its documents
    are the version's ``parts``)."""

    __tablename__ = "document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "number"),
        CheckConstraint(
            # Named when the signed bytes were always a DOCX; a rename would rebuild the table.
            "(frozen_at IS NULL) = (signed_sha256 IS NULL)",
            name="frozen_has_docx",
        ),
        CheckConstraint(
            "(frozen_at IS NULL) = (reference_code IS NULL)", name="frozen_has_reference"
        ),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    number: Mapped[int]
    content: Mapped[dict[str, Any]]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    frozen_at: Mapped[datetime | None]
    signed_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    reference_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A pledge's signed PDF, newest revision: certified at freeze, one incremental
    # signature per unit signing with its server key, the board's last (None: no PDF made).
    pdf_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))

    document: Mapped[Document] = relationship(foreign_keys=[document_id], back_populates="versions")
    created_by: Mapped[User] = relationship()
    parts: Mapped[list[VersionPart]] = relationship(
        order_by="VersionPart.position", cascade="all, delete-orphan"
    )

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class VersionPart(Base):
    """One document of a frozen dossier: its file name, title, DOCX and the units whose
    signature block it carries, in the order of the dossier manifest that pins them."""

    __tablename__ = "version_parts"
    __table_args__ = (
        UniqueConstraint("version_id", "name"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_versions.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    docx_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    signers: Mapped[list[str]] = mapped_column(JSON)
    # This document's signed PDF, newest revision, signed by ``signers`` and the board.
    pdf_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))


class Comment(Base):
    """A review comment, anchored to a section or item of the content (e.g. ``criteria[2]``)."""

    __tablename__ = "comments"
    __table_args__ = (CheckConstraint("length(body) > 0", name="body_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    anchor: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    author: Mapped[User] = relationship()
    unit: Mapped[Unit] = relationship()
    version: Mapped[DocumentVersion] = relationship()


class ReviewDecision(Base):
    """A member unit's concur / request_changes on one version: one per unit and version."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        UniqueConstraint("version_id", "unit_id"),
        CheckConstraint(_in("decision", DECISIONS), name="decision_known"),
        CheckConstraint("decision = 'concur' OR reason IS NOT NULL", name="changes_have_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    unit: Mapped[Unit] = relationship()
    user: Mapped[User] = relationship()


class Signature(Base):
    """A member unit's CMS signature over a frozen version. Voided ones stay as history."""

    __tablename__ = "signatures"
    __table_args__ = (
        UniqueConstraint("version_id", "unit_id"),
        CheckConstraint(_in("method", SIGNATURE_METHODS), name="method_known"),
        CheckConstraint("(voided_at IS NULL) = (void_reason IS NULL)", name="void_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed: a document's signatures are read on every document page (a million rows).
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"))
    method: Mapped[str] = mapped_column(String(16))
    cms_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    signer: Mapped[User] = relationship()
    version: Mapped[DocumentVersion] = relationship()

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


class Approval(Base):
    """The board's approval: its CMS signature over the approval manifest, and the bundle."""

    __tablename__ = "approvals"
    __table_args__ = (
        CheckConstraint(
            "(decision_number IS NULL) = (decision_date IS NULL)", name="decision_complete"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), unique=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"))
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id"))
    decision_number: Mapped[str | None] = mapped_column(String(64))
    decision_date: Mapped[date | None] = mapped_column(Date)
    manifest_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    signature_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    bundle_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    approved_at: Mapped[datetime]

    approver: Mapped[User] = relationship()


class AuditChainHead(Base):
    """One row: the last event's sequence number and hash. Appending locks it, so the global
    chain stays linear under concurrent writers. ``structure_seq`` is the seq of the last
    event that is not about a document (units, clusters, terms, users, roles, credentials):
    those can change what anyone sees."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    structure_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class AuditEvent(Base):
    """An append-only event; ``hash`` covers every field below except ``id`` and ``hash``."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, exactly as hashed
    action: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    actor: Mapped[str | None] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    doc_prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def fields(self) -> dict[str, Any]:
        """The hashed fields, as ``signing.audit.event_hash`` expects them."""
        return {
            "seq": self.seq,
            "at": self.at,
            "action": self.action,
            "document_id": self.document_id,
            "actor": self.actor,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "data": self.data,
            "prev_hash": self.prev_hash,
            "doc_prev_hash": self.doc_prev_hash,
        }

    def to_dict(self) -> dict[str, Any]:
        """Fields plus ``hash`` and ``id``: one line of a bundle's ``audit.jsonl``."""
        return {**self.fields(), "hash": self.hash, "id": self.id}


class IdempotencyKey(Base):
    """A write's key (an ``Idempotency-Key`` header, or a form's one-time id) and the answer
    it got, so that a retried request or a resubmitted form gets that answer back instead of
    writing twice. Written in the write's own transaction: it exists iff the write committed.

    ``scope`` is ``api`` or ``form``; keys are per user; ``request_sha256`` is the digest of
    the method, the route and the body, so one key cannot stand for two different writes.
    Rows older than 24 h are purged."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(255))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
