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
from workflow.models import (
    AuditChainHead,
    AuditEvent,
    Blob,
    Cluster,
    ClusterTerm,
    Document,
    DocumentVersion,
    Signature,
    Unit,
    User,
    table_of,
)
from workflow.values import sha256_hex

_HEAD = table_of(AuditChainHead)
# The events that record an archived document's bundle: archiving, and each renewal of its
# archive timestamp (issue 17), which replaces the bundle by one with a newer timestamp.
_BUNDLE_ACTIONS = ("archive", "archive_renew")
_CLUSTERS = table_of(Cluster)


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
    if document is None:
        # Units, terms, users, roles, credentials: may change what anyone sees.
        head = {"hash": event.hash, "structure_seq": seq}
    else:
        head = {"hash": event.hash}
        session.execute(
            update(_CLUSTERS)
            .where(
                _CLUSTERS.c.id
                == select(ClusterTerm.cluster_id)
                .where(ClusterTerm.id == document.term_id)
                .scalar_subquery()
            )
            .values(data_seq=seq)
        )
    session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(**head))
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
    # "chain": the events themselves were edited; "records": the chain is intact but a row it
    # describes (blob, signature, document) no longer matches it.
    scope: str = "chain"

    def describe(self) -> str:
        if self.ok:
            return f"Chuỗi nhật ký toàn vẹn: {self.events} sự kiện."
        if self.broken_seq is None:
            where = "dữ liệu không gắn với sự kiện nào"
        else:
            where = f"sự kiện seq {self.broken_seq}"
            if self.broken_id is not None:
                where += f" (id {self.broken_id}, {self.broken_action})"
        if self.scope == "records":
            return f"Dữ liệu không khớp nhật ký tại {where}: {self.reason}"
        return f"Chuỗi nhật ký bị phá vỡ tại {where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "broken_seq": self.broken_seq,
            "broken_id": self.broken_id,
            "broken_action": self.broken_action,
            "reason": self.reason,
            "scope": self.scope,
        }


def _broken(event: AuditEvent, count: int, reason: str) -> AuditReport:
    return AuditReport(False, count, event.seq, event.id, event.action, reason)


def verify_audit_chain(session: Session) -> AuditReport:
    """Walk the chain in order; report the first edited, deleted, inserted or reordered event.
    When the chain is intact, check the rows it describes against it (``scope="records"``)."""
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
    return _cross_check(session, events, by_document) or AuditReport(True, count)


# --- the rows the chain describes ------------------------------------------------------------
#
# An intact chain proves only that the events were not edited. The pages, the API and the
# downloads read the rows themselves (documents, signatures, blobs), so a row edited by hand
# would show a state or serve bytes the chain never recorded. Each check below compares a row
# with what the chain recorded about it and names the event it contradicts.

_BLOB_BATCH = 64  # blobs are streamed: a bundle can be megabytes, the table gigabytes


def _mismatch(event: AuditEvent | None, count: int, reason: str) -> AuditReport:
    if event is None:
        return AuditReport(False, count, None, None, None, reason, scope="records")
    return AuditReport(False, count, event.seq, event.id, event.action, reason, scope="records")


def _cross_check(
    session: Session, events: list[AuditEvent], by_document: Mapping[int, list[AuditEvent]]
) -> AuditReport | None:
    count = len(events)
    return (
        _check_documents(session, by_document, count)
        or _check_signatures(session, by_document, count)
        or _check_blobs(session, events, count)
    )


def _check_documents(
    session: Session, by_document: Mapping[int, list[AuditEvent]], count: int
) -> AuditReport | None:
    """Each document's state is the ``to_state`` of its last event that records one, and an
    archived document's bundle is the one its last ``archive`` (or ``archive_renew``) event
    recorded."""
    rows = session.execute(
        select(Document.id, Document.state, Document.bundle_sha256).order_by(Document.id)
    )
    for doc_id, state, bundle in rows:
        segment = by_document.get(doc_id, [])
        last_state = next((e for e in reversed(segment) if e.to_state is not None), None)
        if last_state is None:
            return _mismatch(
                None, count, f"văn bản {doc_id} không có sự kiện nào trong nhật ký (bị chèn tay)"
            )
        if state != last_state.to_state:
            return _mismatch(
                last_state,
                count,
                f"văn bản {doc_id} đang ở trạng thái “{state}” nhưng sự kiện seq "
                f"{last_state.seq} ghi trạng thái “{last_state.to_state}”",
            )
        archive = next((e for e in reversed(segment) if e.action in _BUNDLE_ACTIONS), None)
        recorded = archive.data.get("bundle_sha256") if archive is not None else None
        if recorded is not None and bundle != recorded:
            assert archive is not None
            return _mismatch(
                archive,
                count,
                f"gói lưu trữ của văn bản {doc_id} là {bundle} nhưng sự kiện seq "
                f"{archive.seq} ghi {recorded}",
            )
    return None


def _check_signatures(
    session: Session, by_document: Mapping[int, list[AuditEvent]], count: int
) -> AuditReport | None:
    """Live signatures are exactly the ``sign`` events not voided since (a rejection voids the
    version's signatures and records ``voided_signatures``), with the same CMS and
    certificate."""
    rows = session.execute(
        select(
            Signature.id,
            Signature.document_id,
            Unit.code,
            DocumentVersion.number,
            Signature.cms_sha256,
            Signature.certificate_sha256,
        )
        .join(Unit, Unit.id == Signature.unit_id)
        .join(DocumentVersion, DocumentVersion.id == Signature.version_id)
        .where(Signature.voided_at.is_(None))
        .order_by(Signature.document_id, Signature.id)
    )
    live: dict[int, dict[tuple[str, int], tuple[int, str, str]]] = defaultdict(dict)
    for sig_id, doc_id, code, number, cms, cert in rows:
        live[doc_id][(code, number)] = (sig_id, cms, cert)
    for doc_id in sorted(set(by_document) | set(live)):
        segment = by_document.get(doc_id, [])
        # The sign events still standing, by (unit, version); the latest one wins.
        standing: dict[tuple[str, Any], AuditEvent] = {}
        any_sign: dict[str, AuditEvent] = {}
        for event in segment:
            if event.action == "sign":
                key = (str(event.data.get("unit")), event.data.get("version"))
                standing[key] = event
                any_sign[key[0]] = event
            elif "voided_signatures" in event.data:
                standing.clear()
        rows_of_doc = live.get(doc_id, {})
        for key, (sig_id, cms, cert) in rows_of_doc.items():
            code, number = key
            sign_event = standing.get(key)
            if sign_event is None:
                return _mismatch(
                    any_sign.get(code),
                    count,
                    f"chữ ký id {sig_id} của {code} (văn bản {doc_id}, phiên bản {number}) "
                    "không ứng với sự kiện ký còn hiệu lực nào trong nhật ký",
                )
            if sign_event.data.get("signature_sha256") != cms:
                return _mismatch(
                    sign_event,
                    count,
                    f"chữ ký của {code} (văn bản {doc_id}) trỏ tới CMS {cms} nhưng sự kiện "
                    f"seq {sign_event.seq} ghi {sign_event.data.get('signature_sha256')}",
                )
            if sign_event.data.get("certificate_sha256") != cert:
                return _mismatch(
                    sign_event,
                    count,
                    f"chứng thư trên chữ ký của {code} (văn bản {doc_id}) là {cert} nhưng sự "
                    f"kiện seq {sign_event.seq} ghi {sign_event.data.get('certificate_sha256')}",
                )
        for key, event in standing.items():
            if key not in rows_of_doc:
                return _mismatch(
                    event,
                    count,
                    f"chữ ký của {key[0]} (văn bản {doc_id}) ghi ở sự kiện seq {event.seq} "
                    "không còn hiệu lực trong dữ liệu (bị xóa hoặc hủy ngoài quy trình)",
                )
    return None


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64


def _check_blobs(session: Session, events: list[AuditEvent], count: int) -> AuditReport | None:
    """Every blob's bytes hash to its key (content addressing is the blobs' only integrity)."""
    first_reference: dict[str, AuditEvent] = {}
    for event in events:
        for value in event.data.values():
            if _is_digest(value):
                first_reference.setdefault(value, event)
    rows = session.execute(
        select(Blob.sha256, Blob.size, Blob.data)
        .order_by(Blob.sha256)
        .execution_options(yield_per=_BLOB_BATCH)
    )
    for key, size, data in rows:
        data = bytes(data)
        actual = sha256_hex(data)
        if actual == key and len(data) == size:
            continue
        referenced = first_reference.get(key)
        what = f"dữ liệu {key}"
        if referenced is not None:
            what += f" (ghi ở sự kiện seq {referenced.seq})"
        return _mismatch(
            referenced,
            count,
            f"{what} đã bị sửa: SHA-256 hiện là {actual}"
            + (f", {len(data)} byte thay vì {size} byte" if len(data) != size else ""),
        )
    return None
