"""The audit chain: appended in the same transaction as the change, verifiable, and any edit,
deletion or reordering is found and named."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from signing.audit import GENESIS, verify_chain
from tests.signing.bundle_fixtures import flip_byte
from tests.workflow.helpers import (
    HEAD_2019,
    SIGNERS,
    drive_to_signing,
    sign_all_uploaded,
    user,
)
from workflow.audit import document_events, verify_audit_chain
from workflow.errors import GuardFailed
from workflow.models import AuditChainHead, AuditEvent, Blob, Document, Signature
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


# --- rows edited by hand outside audit_events (issue 7, finding 2) ---------------------------


def _sign_event(session, document_id: int, unit: str) -> AuditEvent:
    return session.scalar(
        select(AuditEvent)
        .where(AuditEvent.document_id == document_id, AuditEvent.action == "sign")
        .where(AuditEvent.data["unit"].as_string() == unit)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )


def _live_signatures(session, document_id: int) -> list[Signature]:
    return list(
        session.scalars(
            select(Signature)
            .where(Signature.document_id == document_id, Signature.voided_at.is_(None))
            .order_by(Signature.id)
        )
    )


def _assert_names(session, event: AuditEvent, *words: str) -> None:
    session.expire_all()
    report = verify_audit_chain(session)
    assert not report.ok
    assert report.scope == "records"
    assert (report.broken_seq, report.broken_id, report.broken_action) == (
        event.seq,
        event.id,
        event.action,
    ), report.describe()
    text_ = report.describe()
    assert f"seq {event.seq}" in text_
    assert text_.startswith("Dữ liệu không khớp nhật ký")
    for word in words:
        assert word in text_, text_


def test_signatures_swapped_by_hand_name_the_sign_event(demo_session, demo):
    s = demo_session
    a, b = _live_signatures(s, demo.pledge_2018)[:2]
    a_sha, b_sha, a_code = a.cms_sha256, b.cms_sha256, a.unit.code
    s.execute(update(Signature).where(Signature.id == a.id).values(cms_sha256=b_sha))
    s.execute(update(Signature).where(Signature.id == b.id).values(cms_sha256=a_sha))
    s.commit()
    _assert_names(s, _sign_event(s, demo.pledge_2018, a_code), a_code, b_sha)


def test_a_signature_certificate_edited_by_hand_is_named(demo_session, demo):
    s = demo_session
    sig = _live_signatures(s, demo.pledge_2018)[-1]
    code = sig.unit.code
    s.execute(update(Signature).where(Signature.id == sig.id).values(certificate_sha256="f" * 64))
    s.commit()
    _assert_names(s, _sign_event(s, demo.pledge_2018, code), code, "chứng thư")


def test_a_signature_voided_or_deleted_by_hand_is_named(demo_session, demo):
    s = demo_session
    first, second = _live_signatures(s, demo.pledge_2018)[:2]
    codes = (first.unit.code, second.unit.code)
    s.execute(
        update(Signature)
        .where(Signature.id == first.id)
        .values(voided_at=first.signed_at, void_reason="sửa tay")
    )
    s.commit()
    _assert_names(s, _sign_event(s, demo.pledge_2018, codes[0]), codes[0])
    s.execute(text("UPDATE signatures SET voided_at = NULL, void_reason = NULL"))
    s.execute(text("DELETE FROM signatures WHERE id = :id"), {"id": second.id})
    s.commit()
    _assert_names(s, _sign_event(s, demo.pledge_2018, codes[1]), codes[1], "không còn")


def test_a_signature_blob_edited_by_hand_names_the_event_that_recorded_it(demo_session, demo):
    s = demo_session
    sig = _live_signatures(s, demo.pledge_2018)[0]
    key, code = sig.cms_sha256, sig.unit.code
    data = bytes(s.get(Blob, key).data)
    s.execute(update(Blob).where(Blob.sha256 == key).values(data=flip_byte(data)))
    s.commit()
    _assert_names(s, _sign_event(s, demo.pledge_2018, code), key, "đã bị sửa")


def test_a_bundle_blob_edited_by_hand_names_the_archive_event(demo_session, demo):
    s = demo_session
    key = s.get(Document, demo.pledge_2018).bundle_sha256
    data = bytes(s.get(Blob, key).data)
    s.execute(update(Blob).where(Blob.sha256 == key).values(data=data + b"\0"))
    s.commit()
    archive = document_events(s, demo.pledge_2018)[-1]
    assert archive.action == "archive"
    _assert_names(s, archive, key)


def test_a_document_state_edited_by_hand_names_its_last_transition(demo_session, demo):
    s = demo_session
    doc_id = demo.nomination_2018
    last = [e for e in document_events(s, doc_id) if e.to_state is not None][-1]
    assert last.to_state != "draft"
    s.execute(update(Document).where(Document.id == doc_id).values(state="draft"))
    s.commit()
    _assert_names(s, last, "draft", last.to_state)


def test_an_archived_bundle_pointer_edited_by_hand_names_the_archive_event(demo_session, demo):
    s = demo_session
    doc = s.get(Document, demo.pledge_2018)
    other = doc.frozen_version.signed_sha256
    s.execute(update(Document).where(Document.id == doc.id).values(bundle_sha256=other))
    s.commit()
    archive = document_events(s, demo.pledge_2018)[-1]
    _assert_names(s, archive, other)


def test_rows_verify_after_signatures_are_voided_and_signed_again(demo_session, demo):
    """A decline voids signatures and records it: the cross-check follows, no false alarm;
    and a voided signature made live again by hand is named."""
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    sign_all_uploaded(s, demo, demo.pledge_2019, SIGNERS[:3])
    lifecycle.decline(s, user(s, "vphu-qo-signer"), demo.pledge_2019, reason="Sai tên đơn vị")
    drive_to_signing(s, demo.pledge_2019)
    sign_all_uploaded(s, demo, demo.pledge_2019, SIGNERS[:1])
    s.commit()
    report = verify_audit_chain(s)
    assert report.ok, report.describe()
    assert report.describe().startswith("Chuỗi nhật ký toàn vẹn")
    voided = s.scalar(
        select(Signature)
        .where(Signature.document_id == demo.pledge_2019, Signature.voided_at.is_not(None))
        .order_by(Signature.id.desc())
        .limit(1)
    )
    code = voided.unit.code
    s.execute(
        update(Signature).where(Signature.id == voided.id).values(voided_at=None, void_reason=None)
    )
    s.commit()
    report = verify_audit_chain(s)
    assert not report.ok
    assert code in report.describe()
    assert "không ứng với sự kiện ký" in report.describe()
