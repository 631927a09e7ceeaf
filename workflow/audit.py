"""The audit chain: every transition, signature, comment and decision appends one event in the
transaction that makes the change.

Each event links to the previous event of the global chain (``prev_hash``) and to the previous
event of its document (``doc_prev_hash``, GENESIS for the first), and its hash covers every
field including its sequence number (``signing.audit.event_hash``). Appending first bumps the
single ``audit_chain_head`` row with an UPDATE, which takes that row's lock on PostgreSQL and
the write lock on SQLite: concurrent writers append one after another, never on the same
predecessor. The lock is held until commit, so the chain is as linear as the commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signing.audit import GENESIS, event_hash, verify_chain
from workflow.clock import iso
from workflow.models import AuditChainHead, AuditEvent, Document, User

_HEAD = AuditChainHead.__table__


def append_event(
    session: Session,
    *,
    action: str,
    actor: User | str | None,
    now: datetime,
    document: Document | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event and return it (flushed)."""
    # Flush pending changes first: the document row gets its id, and its UPDATE (and row lock)
    # comes before the chain-head lock, the same order in every use case.
    session.flush()
    seq, prev_hash = session.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(seq=_HEAD.c.seq + 1)
        .returning(_HEAD.c.seq, _HEAD.c.hash)
    ).one()
    doc_prev: str | None = None
    if document is not None:
        doc_prev = (
            session.scalar(
                select(AuditEvent.hash)
                .where(AuditEvent.document_id == document.id)
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            )
            or GENESIS
        )
    username = actor.username if isinstance(actor, User) else actor
    event = AuditEvent(
        seq=seq,
        at=iso(now),
        action=action,
        document_id=document.id if document is not None else None,
        actor=username,
        from_state=from_state,
        to_state=to_state,
        data=dict(data or {}),
        prev_hash=prev_hash,
        doc_prev_hash=doc_prev,
    )
    event.hash = event_hash(event.fields())
    session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(hash=event.hash))
    session.add(event)
    session.flush()
    return event


def document_events(session: Session, document_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.document_id == document_id).order_by(AuditEvent.seq)
        )
    )


@dataclass(frozen=True)
class AuditReport:
    """Result of walking the whole chain. ``broken_*`` name the first event found broken."""

    ok: bool
    events: int
    broken_seq: int | None = None
    broken_id: int | None = None
    broken_action: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"Chuỗi nhật ký toàn vẹn: {self.events} sự kiện."
        where = f"sự kiện seq {self.broken_seq}"
        if self.broken_id is not None:
            where += f" (id {self.broken_id}, {self.broken_action})"
        return f"Chuỗi nhật ký bị phá vỡ tại {where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "broken_seq": self.broken_seq,
            "broken_id": self.broken_id,
            "broken_action": self.broken_action,
            "reason": self.reason,
        }


def _broken(event: AuditEvent, count: int, reason: str) -> AuditReport:
    return AuditReport(False, count, event.seq, event.id, event.action, reason)


def verify_audit_chain(session: Session) -> AuditReport:
    """Walk the chain in order; report the first edited, deleted, inserted or reordered event."""
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq, AuditEvent.id)))
    count = len(events)
    # Sequence numbers are hashed, so a gap is a deleted event and a repeat an inserted one.
    for expected, event in enumerate(events, start=1):
        if event.seq != expected:
            if event.seq > expected:
                reason = f"thiếu sự kiện seq {expected} ngay trước sự kiện này (đã bị xóa)"
            else:
                reason = "số thứ tự lặp lại hoặc đảo ngược (sự kiện bị chèn hoặc đảo thứ tự)"
            # A hash check still runs below for a more precise reason when it also fails.
            report = verify_chain([e.to_dict() for e in events[:expected]])
            if not report.ok and report.broken_index is not None:
                return _broken(events[report.broken_index], count, report.reason or "")
            return _broken(event, count, reason)
    report = verify_chain([e.to_dict() for e in events])
    if not report.ok:
        assert report.broken_index is not None
        return _broken(events[report.broken_index], count, report.reason or "")
    head = session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).one_or_none()
    last_seq, last_hash = (events[-1].seq, events[-1].hash) if events else (0, GENESIS)
    if head is None:
        return AuditReport(False, count, None, None, None, "mất dòng đầu chuỗi (audit_chain_head)")
    if (head.seq, head.hash) != (last_seq, last_hash):
        return AuditReport(
            False,
            count,
            head.seq,
            None,
            None,
            f"đầu chuỗi trỏ tới sự kiện seq {head.seq} nhưng sự kiện cuối còn lại là seq "
            f"{last_seq}: các sự kiện cuối đã bị xóa hoặc sửa",
        )
    # Each document's own segment, as an archive bundle carries it.
    by_document: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in events:
        if event.document_id is not None:
            by_document[event.document_id].append(event)
    for segment in by_document.values():
        seg_report = verify_chain([e.to_dict() for e in segment], link="doc_prev_hash")
        if not seg_report.ok:
            assert seg_report.broken_index is not None
            return _broken(segment[seg_report.broken_index], count, seg_report.reason or "")
    return AuditReport(True, count)
