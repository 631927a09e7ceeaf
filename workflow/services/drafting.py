"""Drafting and review use cases: create a document, edit a draft, comment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import documents
from workflow.audit import append_event
from workflow.clock import aware
from workflow.definitions import CURRENT_VERSION
from workflow.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from workflow.inputs import TriggerInputs
from workflow.models import (
    DOCUMENT_KINDS,
    ClusterTerm,
    Comment,
    Document,
    DocumentVersion,
    ReviewDecision,
    User,
)
from workflow.services._common import (
    can_see_term,
    check_expected_version,
    clean_text,
    current_actor,
    flush,
    load_document,
    unit_by_code,
)
from workflow.services.content_rules import check_content, content_dict
from workflow.services.pipeline import Attempt, Steps, run

MAX_COMMENT = 4000
_ANCHOR = re.compile(r"^[a-z_]+(\[\d{1,4}\])?(\.[a-z_]+(\[\d{1,4}\])?){0,4}$")
_STEP = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def _stored(parsed: Any) -> dict[str, Any]:
    return documents.content_to_dict(parsed)


def _find_term(
    session: Session, actor: User, year: int, term_id: int | None, cluster_id: int | None
) -> ClusterTerm:
    if term_id is not None:
        term = session.get(ClusterTerm, term_id)
        if term is None:
            raise NotFound("Không tìm thấy nhiệm kỳ cụm.", code="term_not_found")
        return term
    stmt = select(ClusterTerm).where(ClusterTerm.year == year)
    if cluster_id is not None:
        stmt = stmt.where(ClusterTerm.cluster_id == cluster_id)
    else:
        stmt = stmt.where(ClusterTerm.head_unit_id.in_(actor.unit_ids("drafter") or {-1}))
    terms = list(session.scalars(stmt))
    if len(terms) != 1:
        raise ValidationError(
            f"Không xác định được cụm thi đua năm {year} của bạn; hãy chọn cụm.",
            field="cluster_id",
        )
    return terms[0]


def create_document(
    session: Session,
    actor: User,
    content: Any,
    *,
    term_id: int | None = None,
    cluster_id: int | None = None,
    now: datetime | None = None,
) -> Document:
    """Create a pledge or nomination in ``draft`` from ``content`` (dict or content object).

    Only a drafter of the term's head unit may. The term is ``term_id``, else the cluster's
    term of the content's year, else the one term that year the actor's unit heads.
    """
    actor = current_actor(session, actor)
    now = aware(now)
    data = content_dict(content)
    kind = data.get("kind")
    if kind not in DOCUMENT_KINDS:
        raise ValidationError("Loại văn bản phải là 'pledge' hoặc 'nomination'.", field="kind")
    year = data.get("year")
    if not isinstance(year, int):
        raise ValidationError("Thiếu năm của văn bản.", field="year")
    term = _find_term(session, actor, year, term_id, cluster_id)
    if not can_see_term(actor, term):
        raise NotFound("Không tìm thấy nhiệm kỳ cụm.", code="term_not_found")
    if (term.head_unit_id, "drafter") not in {(r.unit_id, r.role) for r in actor.roles}:
        raise PermissionDenied(
            "Chỉ chuyên viên soạn thảo của đơn vị cụm trưởng được tạo văn bản.",
            code="not_head_drafter",
        )
    parsed = check_content(term, kind, data)
    existing = session.scalar(
        select(Document.id).where(
            Document.term_id == term.id, Document.kind == kind, Document.state != "cancelled"
        )
    )
    if existing is not None:
        raise ConflictError(
            f"Cụm đã có {'giao ước' if kind == 'pledge' else 'hồ sơ khen thưởng'} năm "
            f"{term.year} (văn bản số {existing}).",
            code="document_exists",
            document_id=existing,
        )
    document = Document(
        kind=kind,
        term=term,
        state="draft",
        definition_version=CURRENT_VERSION[kind],
        title=parsed.title,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(document)
    flush(session)
    version = DocumentVersion(
        number=1,
        content=_stored(parsed),
        created_by_id=actor.id,
        created_at=now,
    )
    document.versions.append(version)
    flush(session)
    document.current_version = version
    flush(session)
    append_event(
        session,
        action="create",
        actor=actor,
        now=now,
        document=document,
        to_state="draft",
        data={"kind": kind, "year": term.year, "version": 1, "title": parsed.title},
    )
    return document


def _review_started(session: Session, version: DocumentVersion) -> bool:
    if version.is_frozen:
        return True
    comments = session.scalar(
        select(func.count()).select_from(Comment).where(Comment.version_id == version.id)
    )
    decisions = session.scalar(
        select(func.count())
        .select_from(ReviewDecision)
        .where(ReviewDecision.version_id == version.id)
    )
    return bool(comments or decisions)


def new_version(
    session: Session, document: Document, actor: User, content: dict[str, Any], now: datetime
) -> DocumentVersion:
    number = (
        session.scalar(
            select(func.max(DocumentVersion.number)).where(
                DocumentVersion.document_id == document.id
            )
        )
        or 0
    ) + 1
    version = DocumentVersion(
        number=number,
        content=content,
        created_by_id=actor.id,
        created_at=now,
    )
    # Through the relationships, so the loaded document sees its new version at once.
    document.versions.append(version)
    session.flush()
    document.current_version = version
    return version


def edit_draft(
    session: Session,
    actor: User,
    document_id: int,
    content: Any,
    expected_version: int | None,
    *,
    now: datetime | None = None,
) -> Document:
    """Replace the draft's content. The first edit after review (comments, decisions or a
    frozen version) starts a new version; later edits update that version in place.

    Raises ``ConflictError`` when ``expected_version`` is stale or another edit won the race.
    """
    actor = current_actor(session, actor)
    now = aware(now)
    document = load_document(session, actor, document_id)
    if document.state != "draft":
        raise ConflictError(
            "Chỉ sửa được văn bản ở trạng thái dự thảo.", code="not_draft", state=document.state
        )
    if not any(
        r.unit_id == document.term.head_unit_id and r.role == "drafter" for r in actor.roles
    ):
        raise PermissionDenied(
            "Chỉ chuyên viên soạn thảo của đơn vị cụm trưởng được sửa dự thảo.",
            code="not_head_drafter",
        )
    check_expected_version(document, expected_version)
    parsed = check_content(document.term, document.kind, content)
    stored = _stored(parsed)
    version = document.current_version
    assert version is not None
    if version.content == stored:
        return document
    if _review_started(session, version):
        version = new_version(session, document, actor, stored, now)
    else:
        version.content = stored
    document.title = parsed.title
    document.updated_at = now  # bumps the optimistic-lock version: a racing edit fails
    flush(session)
    append_event(
        session,
        action="edit",
        actor=actor,
        now=now,
        document=document,
        from_state="draft",
        to_state="draft",
        data={"version": version.number},
    )
    return document


def _check_anchor(anchor: Any, content: dict[str, Any]) -> str:
    text = clean_text(anchor, "anchor", max_len=120)
    if not _ANCHOR.match(text):
        raise ValidationError(
            "Vị trí góp ý phải là một mục của văn bản, ví dụ 'criteria[2]'.", field="anchor"
        )
    node: Any = content
    for name, index in _STEP.findall(text):
        if not isinstance(node, Mapping) or name not in node:
            raise ValidationError(f"Văn bản không có mục '{text}'.", field="anchor")
        node = node[name]
        if index:
            if not isinstance(node, list) or int(index) >= len(node):
                raise ValidationError(f"Văn bản không có mục '{text}'.", field="anchor")
            node = node[int(index)]
    return text


def _read_comment(attempt: Attempt) -> None:
    """The comment's text, and the unit it speaks for: the one named (which must be the
    actor's and take part in the review), else the actor's first such unit."""
    term = attempt.document.term
    attempt.work["body"] = clean_text(attempt.inputs.text, "text", max_len=MAX_COMMENT)
    candidates = {m.unit_id for m in term.memberships} | {term.head_unit_id}
    code = attempt.inputs.unit_code
    if code:
        unit_id = unit_by_code(attempt.session, code).id
        if unit_id not in attempt.user.unit_ids() or unit_id not in candidates:
            raise PermissionDenied(
                "Bạn chỉ góp ý nhân danh đơn vị thành viên của mình.", code="not_in_unit"
            )
        attempt.unit_id = unit_id
    else:
        mine = sorted(attempt.user.unit_ids() & candidates)
        attempt.unit_id = mine[0] if mine else None


def _record_comment(attempt: Attempt) -> dict[str, Any]:
    version = attempt.document.current_version
    assert version is not None
    assert attempt.unit_id is not None  # is_cluster_member passed
    anchor_text = _check_anchor(attempt.inputs.anchor, version.content)
    row = Comment(
        document_id=attempt.document.id,
        version_id=version.id,
        author_id=attempt.user.id,
        unit_id=attempt.unit_id,
        anchor=anchor_text,
        body=attempt.work["body"],
        created_at=attempt.now,
    )
    attempt.session.add(row)
    flush(attempt.session)
    attempt.result = row
    return {"comment_id": row.id, "anchor": anchor_text, "version": version.number}


COMMENT = Steps(read=_read_comment, effect=_record_comment)


def comment(
    session: Session,
    actor: User,
    document_id: int,
    anchor: str,
    text: str,
    *,
    unit_code: str | None = None,
    now: datetime | None = None,
) -> Comment:
    """A review comment anchored to a section or item (``legal_bases``, ``criteria[2]``...).

    Any staff member of a member unit (or the head unit) may comment while in review.
    """
    inputs = TriggerInputs(anchor=anchor, text=text, unit_code=unit_code)
    attempt = run(session, actor, document_id, "comment", COMMENT, inputs, now=now)
    row: Comment = attempt.result
    return row
