"""Read-side use cases: what an actor may see and do. Visibility is enforced here: a user who
is not part of a cluster term sees nothing of it (``NotFound``, never ``PermissionDenied``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from workflow.audit import document_events
from workflow.clock import aware
from workflow.db import MAX_INT4
from workflow.definitions import (
    FINAL_STATES,
    FROZEN_STATES,
    Definition,
    content_complete,
    definition_for,
    evaluate,
    is_head_drafter,
)
from workflow.errors import NotFound
from workflow.models import (
    AuditChainHead,
    AuditEvent,
    Cluster,
    ClusterTerm,
    Comment,
    Document,
    DocumentVersion,
    ReviewDecision,
    Signature,
    Unit,
    User,
)
from workflow.services._common import (
    build_facts,
    connection_of,
    current_actor,
    load_document,
    visible_term_ids,
)
from workflow.services.auth import session_user, token_owner, token_params

# Any SELECT, whatever its columns: visible() narrows one and keeps its row type.
_Stmt = TypeVar("_Stmt", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class ViewScope:
    """The part of the data an actor's pages depend on: the clusters of the terms they take
    part in (``None``: every cluster, for admins), as of the structure version
    ``structure_seq``. Every engine write appends an audit event; an event on a document
    moves its cluster's ``data_seq``, any other event moves ``structure_seq`` (see
    ``workflow.audit.append_event``). PIN-failure counts aside (only the credential
    administration shows them), nothing else changes what a page shows."""

    structure_seq: int
    cluster_ids: tuple[int, ...] | None


def view_scope(session: Session, actor: User) -> ViewScope:
    """The actor's scope now. Reads the structure version first, so that a change landing
    while the clusters are listed shows as a newer version in ``scope_version``."""
    structure = session.connection().scalar(select(_STRUCTURE))
    terms = visible_term_ids(session, current_actor(session, actor))
    if terms is None:
        return ViewScope(int(structure or 0), None)
    clusters: Iterable[int] = (
        session.scalars(select(ClusterTerm.cluster_id).where(ClusterTerm.id.in_(terms)).distinct())
        if terms
        else []
    )
    return ViewScope(int(structure or 0), tuple(sorted(clusters)))


# Built once: one of them runs on every signed-in page.
_STRUCTURE = select(AuditChainHead.structure_seq).where(AuditChainHead.id == 1).scalar_subquery()
_EVERYTHING = select(AuditChainHead.seq).where(AuditChainHead.id == 1).scalar_subquery()
_CLUSTERS = (
    select(func.coalesce(func.max(Cluster.data_seq), 0))
    .where(Cluster.id.in_(bindparam("ids", expanding=True)))
    .scalar_subquery()
)
_VERSION_OF_ALL = select(_STRUCTURE, _EVERYTHING)
_VERSION_OF_CLUSTERS = select(_STRUCTURE, _CLUSTERS)
_USER = session_user()  # the user, of the session's generation
_ACTIVE_AND_VERSION_OF_ALL = select(User.active, _STRUCTURE, _EVERYTHING).where(_USER)
_ACTIVE_AND_VERSION_OF_CLUSTERS = select(User.active, _STRUCTURE, _CLUSTERS).where(_USER)
_TOKEN_AND_VERSION_OF_ALL = token_owner(_STRUCTURE, _EVERYTHING)
_TOKEN_AND_VERSION_OF_CLUSTERS = token_owner(_STRUCTURE, _CLUSTERS)


def _checked(scope: ViewScope, structure: int, seq: int) -> tuple[int, int] | None:
    if structure != scope.structure_seq:
        return None
    return int(structure), int(seq)


def _versioned(
    bind: Session | Connection,
    scope: ViewScope,
    of_all: Select[Any],
    of_clusters: Select[Any],
    params: dict[str, Any],
) -> Any:
    """The first row of ``of_all`` (an admin's scope) or ``of_clusters`` (the scope's own
    clusters), whose last two columns are the structure seq and the data seq."""
    if scope.cluster_ids is None:
        return connection_of(bind).execute(of_all, params).first()
    return connection_of(bind).execute(of_clusters, {**params, "ids": scope.cluster_ids}).first()


def scope_version(bind: Session | Connection, scope: ViewScope) -> tuple[int, int] | None:
    """``(structure_seq, data_seq)`` of the scope now, in one statement: a key for anything
    derived from what the scope's actor sees. None when the structure has moved since the
    scope was taken (take a new scope)."""
    row = _versioned(bind, scope, _VERSION_OF_ALL, _VERSION_OF_CLUSTERS, {})
    return _checked(scope, *row)


def active_with_scope_version(
    bind: Session | Connection, user_id: int, generation: int, scope: ViewScope
) -> tuple[bool, tuple[int, int] | None]:
    """Whether the user exists, is active and still has sessions of ``generation``
    (``active_user_id``), and ``scope_version`` of their scope, in one statement: the two
    reads of a signed-in page served from a cache."""
    row = _versioned(
        bind,
        scope,
        _ACTIVE_AND_VERSION_OF_ALL,
        _ACTIVE_AND_VERSION_OF_CLUSTERS,
        {"user_id": user_id, "generation": generation},
    )
    if row is None or not row[0]:
        return False, None
    return True, _checked(scope, row[1], row[2])


def token_with_scope_version(
    bind: Session | Connection, token: str, scope: ViewScope
) -> tuple[int | None, tuple[int, int] | None]:
    """The id of the active user owning this bearer token (``token_user_id``), and
    ``scope_version`` of ``scope``, in one statement: the reads of an API call served from a
    cache. ``scope`` is the one taken for that user; a caller that finds another owner must
    not use the version."""
    params = token_params(token)
    if params is None:
        return None, None
    row = _versioned(bind, scope, _TOKEN_AND_VERSION_OF_ALL, _TOKEN_AND_VERSION_OF_CLUSTERS, params)
    if row is None:
        return None, None
    return int(row[0]), _checked(scope, row[1], row[2])


def visible_documents(
    session: Session,
    actor: User,
    *,
    kind: str | None = None,
    year: int | None = None,
    state: str | None = None,
    cluster_id: int | None = None,
) -> list[Document]:
    """Documents of the terms the actor takes part in (all for admins), newest year first."""
    actor = current_actor(session, actor)
    stmt = (
        select(Document)
        .join(Document.term)
        .options(selectinload(Document.term).selectinload(ClusterTerm.cluster))
        .order_by(ClusterTerm.year.desc(), Document.kind, Document.id)
    )
    terms = visible_term_ids(session, actor)
    if terms is not None:
        if not terms:
            return []
        stmt = stmt.where(Document.term_id.in_(terms))
    if kind:
        stmt = stmt.where(Document.kind == kind)
    if year:
        if not 0 < int(year) <= MAX_INT4:
            return []  # no term has such a year, and PostgreSQL would refuse the parameter
        stmt = stmt.where(ClusterTerm.year == int(year))
    if state:
        stmt = stmt.where(Document.state == state)
        if state in FROZEN_STATES:
            # Lists of signed or archived documents show each frozen version's reference
            # code: load those versions in one query, without their content.
            stmt = stmt.options(
                selectinload(Document.frozen_version).load_only(
                    DocumentVersion.id,
                    DocumentVersion.document_id,
                    DocumentVersion.number,
                    DocumentVersion.frozen_at,
                    DocumentVersion.signed_sha256,
                    DocumentVersion.reference_code,
                )
            )
    if cluster_id:
        stmt = stmt.where(ClusterTerm.cluster_id == int(cluster_id))
    return list(session.scalars(stmt))


def visible_clusters(session: Session, actor: User) -> list[Cluster]:
    """Clusters with at least one term the actor takes part in (all for admins), by code.

    The same set as filtering ``admin.list_clusters`` with ``can_see_term``, without loading
    every cluster, term and membership of the country.
    """
    actor = current_actor(session, actor)
    stmt = select(Cluster).order_by(Cluster.code)
    terms = visible_term_ids(session, actor)
    if terms is not None:
        if not terms:
            return []
        stmt = stmt.where(
            Cluster.id.in_(select(ClusterTerm.cluster_id).where(ClusterTerm.id.in_(terms)))
        )
    return list(session.scalars(stmt))


def archive_years(session: Session, actor: User) -> list[int]:
    """Years that have an archived document the actor may see, newest first."""
    actor = current_actor(session, actor)
    stmt = (
        select(ClusterTerm.year)
        .join(Document, Document.term_id == ClusterTerm.id)
        .where(Document.state == "archived")
        .distinct()
        .order_by(ClusterTerm.year.desc())
    )
    terms = visible_term_ids(session, actor)
    if terms is not None:
        if not terms:
            return []
        stmt = stmt.where(ClusterTerm.id.in_(terms))
    return list(session.scalars(stmt))


def get_document(session: Session, actor: User, document_id: int) -> Document:
    """The document, or ``NotFound`` if it does not exist or the actor may not see it."""
    return load_document(session, current_actor(session, actor), document_id)


def allowed_triggers(
    session: Session,
    actor: User,
    document: Document,
    *,
    decisions: list[ReviewDecision] | None = None,
    signatures: list[Signature] | None = None,
) -> list[str]:
    """The triggers this actor may fire on this document now, in definition order.

    Guards that only check what the request must carry (a reason, a decision number, the
    override of missing concurrences) are not evaluated: the UI asks for those inputs. A page
    that has already read the current version's ``decisions`` and the document's
    ``signatures`` passes them, so they are not read again.
    """
    signed = None if signatures is None else frozenset(frozen_signatures(document, signatures))
    return _allowed_triggers(
        session,
        current_actor(session, actor),
        document,
        decisions=decisions,
        signed_unit_ids=signed,
    )


def _needs_content(definition: Definition, document: Document, actor: User) -> bool:
    """Whether ``content_complete`` can be reached for this actor in this state.

    Checking the content parses the whole document (the costliest fact). Guards run in
    order and stop at the first refusal, so when ``is_head_drafter`` comes before
    ``content_complete`` (it does in every definition) and the actor is not the head unit's
    drafter, the content is never looked at.
    """
    head_drafter = (document.term.head_unit_id, "drafter") in {
        (r.unit_id, r.role) for r in actor.roles
    }
    for t in definition.transitions:
        if document.state not in t.source or content_complete not in t.guards:
            continue
        before = t.guards[: t.guards.index(content_complete)]
        if head_drafter or is_head_drafter not in before:
            return True
    return False


def _allowed_triggers(
    session: Session,
    actor: User,
    document: Document,
    *,
    decisions: list[ReviewDecision] | None = None,
    signed_unit_ids: frozenset[int] | None = None,
) -> list[str]:
    definition = definition_for(document.kind, document.definition_version)
    if document.state not in {s for t in definition.transitions for s in t.source}:
        return []
    members = {m.unit_id for m in document.term.memberships}
    signer_units: list[int | None] = [*sorted(actor.unit_ids("signer") & members)] or [None]
    comment_units: list[int | None] = [
        *sorted(actor.unit_ids() & (members | {document.term.head_unit_id}))
    ] or [None]
    base = build_facts(
        session,
        actor,
        document,
        with_content=_needs_content(definition, document, actor),
        decisions=decisions,
        signed_unit_ids=signed_unit_ids,
    )
    allowed = []
    for trigger in definition.user_triggers:
        units: list[int | None] = [None]
        if trigger in {"concur", "request_changes", "sign", "decline"}:
            units = list(signer_units)
        elif trigger == "comment":
            units = list(comment_units)
        for unit_id in units:
            base.unit_id = unit_id
            if evaluate(definition, trigger, base, inputs=False) is None:
                allowed.append(trigger)
                break
    return allowed


@dataclass
class InboxItem:
    document: Document
    triggers: list[str]


@dataclass
class Inbox:
    """Documents awaiting this user's action, counts per state, and recent activity."""

    items: list[InboxItem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    recent: list[AuditEvent] = field(default_factory=list)


# Triggers that are "work waiting for me"; comment alone is an option, not a task.
_TASKS = {
    "submit_for_review",
    "concur",
    "request_changes",
    "open_signing",
    "sign",
    "submit",
    "approve",
}


def inbox(session: Session, actor: User, *, recent_limit: int = 20) -> Inbox:
    """What waits for the actor. A fixed number of queries whatever the history: documents
    in a final state (archived, cancelled) are only counted, in SQL; the open ones are
    loaded with their terms, and their review decisions and live signatures are fetched
    for all of them at once."""
    actor = current_actor(session, actor)
    terms = visible_term_ids(session, actor)
    if terms is not None and not terms:
        return Inbox()

    def visible(stmt: _Stmt) -> _Stmt:
        return stmt if terms is None else stmt.where(Document.term_id.in_(terms))

    result = Inbox(
        counts={
            state: n
            for state, n in session.execute(
                visible(select(Document.state, func.count()).group_by(Document.state))
            )
        }
    )
    open_docs = list(
        session.scalars(
            visible(
                select(Document)
                .join(Document.term)
                .where(Document.state.not_in(FINAL_STATES))
                .options(
                    selectinload(Document.term).selectinload(ClusterTerm.cluster),
                    selectinload(Document.term).selectinload(ClusterTerm.memberships),
                )
                .order_by(ClusterTerm.year.desc(), Document.kind, Document.id)
            )
        )
    )
    decisions: dict[int, list[ReviewDecision]] = {}
    current_ids = {d.current_version_id for d in open_docs} - {None}
    if current_ids:
        for decision in session.scalars(
            select(ReviewDecision).where(ReviewDecision.version_id.in_(current_ids))
        ):
            decisions.setdefault(decision.version_id, []).append(decision)
    signed: dict[int, set[int]] = {}
    frozen_ids = {d.frozen_version_id for d in open_docs} - {None}
    if frozen_ids:
        for version_id, unit_id in session.execute(
            select(Signature.version_id, Signature.unit_id).where(
                Signature.version_id.in_(frozen_ids), Signature.voided_at.is_(None)
            )
        ):
            signed.setdefault(version_id, set()).add(unit_id)
    for doc in open_docs:
        triggers = _allowed_triggers(
            session,
            actor,
            doc,
            decisions=decisions.get(doc.current_version_id, [])
            if doc.current_version_id is not None
            else [],
            signed_unit_ids=frozenset(signed.get(doc.frozen_version_id, ()))
            if doc.frozen_version_id is not None
            else frozenset(),
        )
        if _TASKS & set(triggers):
            result.items.append(InboxItem(doc, triggers))
    if recent_limit > 0:
        ids = list(session.scalars(visible(select(Document.id))))
        if ids:
            result.recent = list(
                session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.document_id.in_(ids))
                    # "+ 0" keeps PostgreSQL from walking the whole chain backwards on the
                    # seq index hoping to meet these documents soon: for a unit whose last
                    # events are old that took 440 ms at 400,000 events; this reads only
                    # the user's events (by document_id) and sorts them (2 ms).
                    .order_by((AuditEvent.seq + 0).desc())
                    .limit(recent_limit)
                )
            )
    return result


def timeline(session: Session, actor: User, document_id: int) -> list[AuditEvent]:
    """The document's audit events, oldest first."""
    document = get_document(session, actor, document_id)
    return document_events(session, document.id)


@dataclass(frozen=True)
class UnitSignature:
    unit_code: str
    unit_name: str
    signed: bool
    signer: str | None = None
    signer_username: str | None = None
    signed_at: datetime | None = None
    method: str | None = None
    signature_id: int | None = None


@dataclass(frozen=True)
class SignatureProgress:
    """Who signed the frozen version, and every voided signature in history."""

    total: int
    signed: int
    units: list[UnitSignature]
    voided: list[dict[str, Any]]

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.signed == self.total

    def signatures(self) -> list[dict[str, Any]]:
        """All signatures, live and voided: ``unit``, ``signer``, ``signed_at``, ``voided``
        (the shape of the JSON API)."""
        live = [
            {
                "unit": u.unit_code,
                "signer": u.signer_username,
                "signed_at": aware(u.signed_at).isoformat() if u.signed_at else None,
                "voided": False,
            }
            for u in self.units
            if u.signed
        ]
        return live + self.voided


def document_signatures(session: Session, document: Document) -> list[Signature]:
    """Every signature of the document, live and voided, oldest first, with signer and unit."""
    return list(
        session.scalars(
            select(Signature)
            .where(Signature.document_id == document.id)
            .options(selectinload(Signature.signer), selectinload(Signature.unit))
            .order_by(Signature.signed_at, Signature.id)
        )
    )


def frozen_signatures(document: Document, signatures: list[Signature]) -> dict[int, Signature]:
    """The live signatures of the document's frozen version among ``signatures`` (from
    ``document_signatures``), by member unit id."""
    return {
        s.unit_id: s
        for s in signatures
        if s.voided_at is None and s.version_id == document.frozen_version_id
    }


def signature_progress(
    session: Session, document: Document, signatures: list[Signature] | None = None
) -> SignatureProgress:
    """Who signed the frozen version; ``signatures`` from ``document_signatures`` if the
    caller has them already."""
    members = document.term.member_units
    all_sigs = signatures if signatures is not None else document_signatures(session, document)
    live = frozen_signatures(document, all_sigs)
    units = []
    for unit in members:
        sig = live.get(unit.id)
        units.append(
            UnitSignature(
                unit_code=unit.code,
                unit_name=unit.name,
                signed=sig is not None,
                signer=sig.signer.full_name if sig else None,
                signer_username=sig.signer.username if sig else None,
                signed_at=aware(sig.signed_at) if sig else None,
                method=sig.method if sig else None,
                signature_id=sig.id if sig else None,
            )
        )
    voided = [
        {
            "unit": s.unit.code,
            "signer": s.signer.username,
            "signed_at": aware(s.signed_at).isoformat(),
            "voided": True,
            "voided_at": aware(s.voided_at).isoformat() if s.voided_at else None,
            "void_reason": s.void_reason,
        }
        for s in all_sigs
        if s.voided_at is not None
    ]
    return SignatureProgress(len(members), len(live), units, voided)


def versions(session: Session, actor: User, document_id: int) -> list[DocumentVersion]:
    document = get_document(session, actor, document_id)
    return list(document.versions)


def get_version(
    session: Session, actor: User, document_id: int, number: int | None = None
) -> DocumentVersion:
    """A version by number (the current one when None)."""
    document = get_document(session, actor, document_id)
    if number is None:
        version = document.current_version
    else:
        version = next((v for v in document.versions if v.number == int(number)), None)
    if version is None:
        raise NotFound("Không có phiên bản này.", code="version_not_found")
    return version


def comments(session: Session, actor: User, document_id: int) -> list[Comment]:
    document = get_document(session, actor, document_id)
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.document_id == document.id)
            .options(selectinload(Comment.author), selectinload(Comment.unit))
            .order_by(Comment.created_at, Comment.id)
        )
    )


def review_decisions(
    session: Session, actor: User, document_id: int, version_number: int | None = None
) -> list[ReviewDecision]:
    version = get_version(session, actor, document_id, version_number)
    return list(
        session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.version_id == version.id)
            .options(selectinload(ReviewDecision.unit), selectinload(ReviewDecision.user))
            .order_by(ReviewDecision.created_at)
        )
    )


def document_by_reference(session: Session, reference_code: str) -> DocumentVersion | None:
    """Public lookup for the verification page: the frozen version with this reference code
    (its hash, title and units only; no content is disclosed by callers)."""
    return session.scalar(
        select(DocumentVersion).where(DocumentVersion.reference_code == reference_code.strip())
    )


def units_of(session: Session, document: Document) -> list[Unit]:
    return document.term.member_units
