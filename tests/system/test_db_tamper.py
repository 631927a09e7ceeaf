"""Rows edited by hand outside ``audit_events`` (issue 7, finding 2): ``thidua audit verify``
cross-checks the chain against the signatures, blobs and documents it describes, exits 1 and
names the event whose record no longer matches."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select, update

from tests.fixtures_db import DemoData
from tests.signing.bundle_fixtures import flip_byte
from tests.system.conftest import FIGURES

# cli_instance: a fixture (THIDUA_INSTANCE in a temporary folder), used by name below.
from tests.system.test_tamper import _audit_verify, _cli_on, cli_instance  # noqa: F401
from workflow.db import session_factory
from workflow.models import AuditEvent, Blob, Document, Signature, Unit


def _sign_event(engine: Engine, document_id: int, unit_id: int) -> tuple[int, str]:
    """(seq, unit code) of the unit's latest ``sign`` event on the document."""
    with session_factory(engine)() as s:
        code = s.scalar(select(Unit.code).where(Unit.id == unit_id))
        seqs = [
            e.seq
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.document_id == document_id, AuditEvent.action == "sign")
                .order_by(AuditEvent.seq)
            )
            if e.data.get("unit") == code
        ]
        assert code is not None
        assert seqs
        return seqs[-1], code


def _last_state_event(engine: Engine, document_id: int) -> AuditEvent:
    with session_factory(engine)() as s:
        event = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.document_id == document_id, AuditEvent.to_state.is_not(None))
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
        assert event is not None
        s.expunge(event)
        return event


def _assert_caught(engine: Engine, seq: int, detail: str) -> None:
    """``thidua audit verify`` exits 1 naming the event and the altered record."""
    code, output = _audit_verify(engine)
    assert code == 1, output
    assert f"seq {seq}" in output, output
    assert detail in output, output
    FIGURES["db tamper cases caught"] += 1


@pytest.mark.usefixtures("cli_instance")
def test_untouched_demo_still_verifies(demo_db: Engine) -> None:
    code, output = _audit_verify(demo_db)
    assert code == 0, output
    assert "toàn vẹn" in output


@pytest.mark.usefixtures("cli_instance")
def test_signature_row_pointing_elsewhere_is_found(demo_db: Engine, demo: DemoData) -> None:
    """A signature row swapped to another unit's CMS: the chain recorded which CMS each unit
    gave, so the audit no longer matches the signatures the document shows."""
    with session_factory(demo_db)() as s:
        sigs = list(
            s.scalars(
                select(Signature)
                .where(Signature.document_id == demo.pledge_2018)
                .order_by(Signature.id)
            )
        )
        a, b = sigs[0], sigs[1]
        a_sha, b_sha, a_unit = a.cms_sha256, b.cms_sha256, a.unit_id
        s.execute(update(Signature).where(Signature.id == a.id).values(cms_sha256=b_sha))
        s.execute(update(Signature).where(Signature.id == b.id).values(cms_sha256=a_sha))
        s.commit()
    seq, unit = _sign_event(demo_db, demo.pledge_2018, a_unit)
    _assert_caught(demo_db, seq, unit)


@pytest.mark.usefixtures("cli_instance")
def test_signature_blob_bytes_edited_by_hand_are_found(demo_db: Engine, demo: DemoData) -> None:
    with session_factory(demo_db)() as s:
        sig = s.scalar(
            select(Signature)
            .where(Signature.document_id == demo.pledge_2018)
            .order_by(Signature.id)
            .limit(1)
        )
        assert sig is not None
        blob = s.get(Blob, sig.cms_sha256)
        assert blob is not None
        key, unit_id = blob.sha256, sig.unit_id
        s.execute(update(Blob).where(Blob.sha256 == key).values(data=flip_byte(bytes(blob.data))))
        s.commit()
    seq, _ = _sign_event(demo_db, demo.pledge_2018, unit_id)
    _assert_caught(demo_db, seq, key)


@pytest.mark.usefixtures("cli_instance")
def test_document_state_edited_by_hand_is_found(demo_db: Engine, demo: DemoData) -> None:
    """The nomination is in review; someone sets it back to ``draft`` in SQL."""
    last = _last_state_event(demo_db, demo.nomination_2018)
    assert last.to_state == "in_review"
    with session_factory(demo_db)() as s:
        s.execute(update(Document).where(Document.id == demo.nomination_2018).values(state="draft"))
        s.commit()
    _assert_caught(demo_db, last.seq, "in_review")


@pytest.mark.usefixtures("cli_instance")
def test_json_output_names_the_event_and_the_scope(demo_db: Engine, demo: DemoData) -> None:
    last = _last_state_event(demo_db, demo.nomination_2018)
    with session_factory(demo_db)() as s:
        s.execute(update(Document).where(Document.id == demo.nomination_2018).values(state="draft"))
        s.commit()
    code, output = _cli_on(demo_db, "audit", "verify", "--json")
    assert code == 1, output
    report = json.loads(output)
    assert (report["ok"], report["broken_seq"], report["broken_id"]) == (False, last.seq, last.id)
    assert report["scope"] == "records"
