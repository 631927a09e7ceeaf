"""The audit chain: appended in the same transaction as the change, verifiable, and any edit,
deletion or reordering is found and named."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from signing.audit import GENESIS, verify_chain
from tests.workflow.helpers import HEAD_2019, user
from workflow.audit import document_events, verify_audit_chain
from workflow.errors import GuardFailed
from workflow.models import AuditChainHead, AuditEvent
from workflow.services import lifecycle


def test_the_seeded_chain_verifies(demo_session):
    report = verify_audit_chain(demo_session)
    assert report.ok, report.describe()
    assert report.events == demo_session.scalar(select(func.count()).select_from(AuditEvent))


def test_each_document_segment_starts_at_genesis_and_links(demo_session, demo):
    events = document_events(demo_session, demo.pledge_2018)
    assert events[0].doc_prev_hash == GENESIS
    assert verify_chain([e.to_dict() for e in events], link="doc_prev_hash").ok


def test_a_refused_transition_leaves_no_event(demo_session, demo):
    s = demo_session
    before = s.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(GuardFailed):
        lifecycle.cancel(s, user(s, HEAD_2019), demo.pledge_2019, reason="")
    s.rollback()
    assert s.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_a_rolled_back_transition_takes_its_event_with_it(demo_session, demo):
    s = demo_session
    before = s.scalar(select(func.count()).select_from(AuditEvent))
    lifecycle.submit_for_review(s, user(s, HEAD_2019), demo.pledge_2019)
    assert s.scalar(select(func.count()).select_from(AuditEvent)) == before + 1
    s.rollback()
    assert s.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert verify_audit_chain(s).ok
    lifecycle.submit_for_review(s, user(s, HEAD_2019), demo.pledge_2019)
    s.commit()
    assert verify_audit_chain(s).ok


def _event(session, seq: int) -> AuditEvent:
    return session.scalar(select(AuditEvent).where(AuditEvent.seq == seq))


def test_an_edited_event_is_named(demo_session):
    s = demo_session
    target = _event(s, 20)
    s.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(actor="ke-gian-mao"))
    s.commit()
    s.expire_all()
    report = verify_audit_chain(s)
    assert not report.ok
    assert (report.broken_seq, report.broken_id) == (20, target.id)
    assert "sửa" in report.reason


def test_a_deleted_event_is_named_by_its_successor(demo_session):
    s = demo_session
    s.execute(text("DELETE FROM audit_events WHERE seq = 30"))
    s.commit()
    report = verify_audit_chain(s)
    assert not report.ok
    assert report.broken_seq == 31
    assert "31" in report.describe()


def test_a_deleted_last_event_is_found_through_the_chain_head(demo_session):
    s = demo_session
    last = s.scalar(select(func.max(AuditEvent.seq)))
    s.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": last})
    s.commit()
    report = verify_audit_chain(s)
    assert not report.ok
    assert report.broken_seq == last


def test_reordered_events_are_found(demo_session):
    s = demo_session
    a, b = _event(s, 40), _event(s, 41)
    ids = (a.id, b.id)
    s.execute(update(AuditEvent).where(AuditEvent.id == ids[0]).values(seq=-1))
    s.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(seq=40))
    s.execute(update(AuditEvent).where(AuditEvent.id == ids[0]).values(seq=41))
    s.commit()
    report = verify_audit_chain(s)
    assert not report.ok
    assert report.broken_seq == 40


def test_chain_head_tracks_the_last_event(demo_session):
    head = demo_session.get(AuditChainHead, 1)
    last = demo_session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert (head.seq, head.hash) == (last.seq, last.hash)
