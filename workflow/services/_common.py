"""Shared plumbing of the use cases: the actor, visibility, locks and guard facts."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from workflow.db import MAX_INT4
from workflow.definitions import Facts
from workflow.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from workflow.models import (
    ClusterTerm,
    Document,
    DocumentVersion,
    ReviewDecision,
    Signature,
    TermMember,
    Unit,
    User,
    table_of,
)
from workflow.services.content_rules import content_problem

MAX_REASON = 2000


def connection_of(bind: Session | Connection) -> Connection:
    """The connection of a session, or the connection itself: the light reads run on
    either (a page served from a cache has no ORM session)."""
    return bind.connection() if isinstance(bind, Session) else bind


def current_actor(session: Session, actor: User) -> User:
    """The actor as a row of this session, refusing deactivated accounts."""
    if actor is None:
        raise PermissionDenied("Cần đăng nhập.", code="login_required")
    user = actor if actor in session else session.get(User, actor.id)
    if user is None or not user.active:
        raise PermissionDenied("Tài khoản không tồn tại hoặc đã bị khóa.", code="inactive_user")
    return user


def require_admin(session: Session, actor: User) -> User:
    user = current_actor(session, actor)
    if not user.is_admin:
        raise PermissionDenied("Chỉ quản trị viên được thực hiện thao tác này.", code="admin_only")
    return user


def term_unit_ids(term: ClusterTerm) -> set[int]:
    """Every unit that takes part in a term: members, head, deputy and the board."""
    ids = {m.unit_id for m in term.memberships}
    ids.add(term.head_unit_id)
    ids.add(term.board_unit_id)
    if term.deputy_unit_id is not None:
        ids.add(term.deputy_unit_id)
    return ids


def can_see_term(actor: User, term: ClusterTerm) -> bool:
    return actor.is_admin or bool(actor.unit_ids() & term_unit_ids(term))


def visible_term_ids(session: Session, actor: User) -> set[int] | None:
    """Terms the actor may see; None means all (admin)."""
    if actor.is_admin:
        return None
    units = actor.unit_ids()
    if not units:
        return set()
    ids = set(session.scalars(select(TermMember.term_id).where(TermMember.unit_id.in_(units))))
    ids |= set(
        session.scalars(
            select(ClusterTerm.id).where(
                ClusterTerm.head_unit_id.in_(units)
                | ClusterTerm.deputy_unit_id.in_(units)
                | ClusterTerm.board_unit_id.in_(units)
            )
        )
    )
    return ids


def load_document(session: Session, actor: User, document_id: int) -> Document:
    """The document if the actor may see it; ``NotFound`` otherwise (never reveal existence)."""
    try:
        doc_id = int(document_id)
    except (TypeError, ValueError):
        raise NotFound("Không tìm thấy văn bản.") from None
    if not 0 < doc_id <= MAX_INT4:
        raise NotFound("Không tìm thấy văn bản.")
    document = session.get(
        Document,
        doc_id,
        options=[selectinload(Document.term).selectinload(ClusterTerm.memberships)],
    )
    if document is None or not can_see_term(actor, document.term):
        raise NotFound("Không tìm thấy văn bản.", document_id=doc_id)
    return document


def lock_document(session: Session, document: Document) -> Document:
    """Serialise with every other writer of this document until commit, then reload it.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the row. SQLite: a no-op UPDATE, which takes the
    database write lock (queued by busy_timeout) and starts a fresh snapshot.
    """
    if session.get_bind().dialect.name == "postgresql":
        stmt = select(Document).where(Document.id == document.id).with_for_update()
    else:
        table = table_of(Document)
        session.execute(update(table).where(table.c.id == document.id).values(id=table.c.id))
        stmt = select(Document).where(Document.id == document.id)
    locked = session.scalars(stmt.execution_options(populate_existing=True)).one()
    return locked


def set_frozen_version(document: Document, version: DocumentVersion | None) -> None:
    """Point the document at its frozen version through the column (written in the same UPDATE
    as the state), keeping the loaded relationship in step without a post-update."""
    document.frozen_version_id = version.id if version is not None else None
    set_committed_value(document, "frozen_version", version)


def check_expected_version(document: Document, expected_version: int | None) -> None:
    if expected_version is None:
        return
    try:
        expected_version = int(expected_version)
    except (TypeError, ValueError):
        raise ValidationError(
            "Phiên bản văn bản gửi kèm không hợp lệ.", field="expected_version"
        ) from None
    if expected_version != document.version:
        raise ConflictError(
            "Văn bản vừa được người khác thay đổi; hãy tải lại trang và thực hiện lại.",
            code="stale_version",
            expected_version=int(expected_version),
            current_version=document.version,
        )


def flush(session: Session) -> None:
    """Flush, turning lost races into ``ConflictError``."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(
            "Văn bản vừa được người khác thay đổi; hãy tải lại và thực hiện lại.",
            code="stale_version",
        ) from exc
    except IntegrityError as exc:
        raise ConflictError(
            "Thao tác trùng với một thao tác khác vừa được ghi nhận; hãy tải lại.",
            code="duplicate",
        ) from exc
    except OperationalError as exc:
        if "locked" in str(exc).lower():
            raise ConflictError(
                "Cơ sở dữ liệu đang bận; hãy thử lại.", code="database_busy"
            ) from exc
        raise


def clean_text(value: Any, field: str, *, max_len: int = MAX_REASON, required: bool = True) -> str:
    """NFC text without control characters (newlines and tabs allowed)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"Trường {field} phải là văn bản.", field=field)
    text = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise ValidationError(f"Trường {field} chứa ký tự điều khiển.", field=field)
    if required and not text:
        raise ValidationError(f"Trường {field} không được để trống.", field=field)
    if len(text) > max_len:
        raise ValidationError(f"Trường {field} dài quá {max_len} ký tự.", field=field)
    return text


def optional_reason(reason: Any) -> str | None:
    text = clean_text(reason, "reason", required=False)
    return text or None


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == str(code).strip().upper()))
    if unit is None:
        raise NotFound(f"Không có đơn vị mã {code}.", code="unit_not_found", field="unit")
    return unit


def acting_unit(
    session: Session,
    actor: User,
    candidates: Iterable[int],
    role: str,
    unit_code: str | None,
) -> int | None:
    """The unit the actor acts for: the one named, else their only ``role`` unit among
    ``candidates``. None when they hold the role in none (the guards then say why)."""
    allowed = set(candidates)
    if unit_code:
        unit = unit_by_code(session, unit_code)
        return unit.id
    mine = sorted(actor.unit_ids(role) & allowed)
    if len(mine) > 1:
        raise ValidationError(
            "Bạn thuộc nhiều đơn vị; hãy chọn đơn vị thực hiện.", field="unit_code"
        )
    return mine[0] if mine else None


def live_signatures(session: Session, version_id: int | None) -> list[Signature]:
    if version_id is None:
        return []
    return list(
        session.scalars(
            select(Signature)
            .where(Signature.version_id == version_id, Signature.voided_at.is_(None))
            .order_by(Signature.signed_at, Signature.id)
        )
    )


def build_facts(
    session: Session,
    actor: User | None,
    document: Document,
    *,
    unit_id: int | None = None,
    reason: str | None = None,
    override: bool = False,
    decision_number: str | None = None,
    decision_date: Any = None,
    with_content: bool = True,
    decisions: list[ReviewDecision] | None = None,
    signed_unit_ids: frozenset[int] | None = None,
) -> Facts:
    """The facts the guards read. ``decisions`` (of the current version) and
    ``signed_unit_ids`` (live signatures of the frozen version) may be passed by a caller
    that loaded them for many documents at once (the inbox); otherwise they are queried."""
    term = document.term
    members = frozenset(m.unit_id for m in term.memberships)
    if decisions is None:
        decisions = []
        if document.current_version_id is not None:
            decisions = list(
                session.scalars(
                    select(ReviewDecision).where(
                        ReviewDecision.version_id == document.current_version_id
                    )
                )
            )
    signed = signed_unit_ids
    if signed is None:
        signed = frozenset(s.unit_id for s in live_signatures(session, document.frozen_version_id))
    roles = frozenset(
        (r.unit_id, r.role) for r in (actor.roles if actor else []) if r.unit_id is not None
    )
    return Facts(
        kind=document.kind,
        state=document.state,
        actor_roles=roles,
        head_unit_id=term.head_unit_id,
        board_unit_id=term.board_unit_id,
        member_unit_ids=members,
        content_problem=(
            content_problem(document, document.current_version) if with_content else None
        ),
        concurred_unit_ids=frozenset(d.unit_id for d in decisions if d.decision == "concur"),
        decided_unit_ids=frozenset(d.unit_id for d in decisions),
        signed_unit_ids=signed,
        unit_id=unit_id,
        reason=reason,
        override=override,
        decision_number=decision_number,
        decision_date=decision_date,
    )


def operator_name(session: Session, actor: User | None) -> str:
    """Who an operator's action is recorded as: an admin's username, or "console" for the
    command line (``actor`` None, whoever holds the instance's files)."""
    if actor is None:
        return "console"
    return require_admin(session, actor).username
