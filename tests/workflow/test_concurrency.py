"""Races with real threads and one session each (as concurrent web requests): eight units
signing at the same moment, the same unit three times at once, two drafters editing the same
draft, two transitions on one stale document.

On PostgreSQL the document row is locked with SELECT ... FOR UPDATE; on SQLite writers queue on
the database write lock (busy timeout). The same outcomes are required of both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.workflow.helpers import HEAD_2019, SIGNERS, cms_for, drive_to_signing, frozen_docx, user
from workflow.audit import verify_audit_chain
from workflow.db import session_factory
from workflow.errors import ConflictError, WorkflowError
from workflow.inputs import TriggerInputs
from workflow.models import AuditEvent, Document, Signature
from workflow.seed import DEMO_PIN
from workflow.services import admin, edit_draft, get_document, lifecycle


@pytest.fixture
def racing_db(demo_db):
    """The demo database, PostgreSQL in CI's second run (the race tests' main target)."""
    return demo_db


def race(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs in threads released together; returns each result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


def test_eight_units_signing_at_once(racing_db, demo):
    factory = session_factory(racing_db)
    with factory() as s:
        drive_to_signing(s, demo.pledge_2019)
        s.commit()
        data = frozen_docx(s, demo.pledge_2019)
        uploads = {name: cms_for(s, demo, name, data) for name in SIGNERS[::2]}

    def signer_job(name: str) -> Callable[[], int]:
        def job() -> int:
            with factory() as s:
                kwargs: dict[str, Any] = (
                    {"signature_der": uploads[name]} if name in uploads else {"pin": DEMO_PIN}
                )
                sig = lifecycle.sign(s, user(s, name), demo.pledge_2019, **kwargs)
                s.commit()
                return sig.id

        return job

    results = race([signer_job(name) for name in SIGNERS])
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    with factory() as s:
        doc = s.get(Document, demo.pledge_2019)
        assert doc.state == "signed"
        live = s.scalar(
            select(func.count())
            .select_from(Signature)
            .where(Signature.document_id == doc.id, Signature.voided_at.is_(None))
        )
        assert live == 8
        moves = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.document_id == doc.id,
                AuditEvent.to_state == "signed",
                AuditEvent.from_state == "signing",
            )
        )
        assert moves == 1
        assert verify_audit_chain(s).ok


def test_the_same_unit_signing_twice_at_once_gets_one_signature(racing_db, demo):
    factory = session_factory(racing_db)
    with factory() as s:
        drive_to_signing(s, demo.pledge_2019)
        s.commit()
        upload = cms_for(s, demo, "vphu-to-signer", frozen_docx(s, demo.pledge_2019))

    def job() -> int:
        with factory() as s:
            sig = lifecycle.sign(
                s, user(s, "vphu-to-signer"), demo.pledge_2019, signature_der=upload
            )
            s.commit()
            return sig.id

    results = race([job, job, job])
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1


def test_two_drafters_racing_on_the_same_draft(racing_db, demo):
    factory = session_factory(racing_db)
    with factory() as s:
        admin.add_user(
            s,
            None,
            "vphu-uh-drafter2",
            "Phạm Thị D",
            "mat-khau-dai",
            roles=[("VPHU-UH", "drafter")],
        )
        s.commit()
        version = get_document(s, user(s, HEAD_2019), demo.pledge_2019).version
        content = dict(
            get_document(s, user(s, HEAD_2019), demo.pledge_2019).current_version.content
        )

    def edit(name: str, number: int) -> Callable[[], int]:
        def job() -> int:
            with factory() as s:
                doc = edit_draft(
                    s, user(s, name), demo.pledge_2019, {**content, "number": number}, version
                )
                s.commit()
                return doc.version

        return job

    results = race([edit(HEAD_2019, 11), edit("vphu-uh-drafter2", 12)])
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    wins = [r for r in results if isinstance(r, int)]
    assert (len(conflicts), len(wins)) == (1, 1), results
    with factory() as s:
        assert s.get(Document, demo.pledge_2019).current_version.content["number"] in (11, 12)
        assert verify_audit_chain(s).ok


def test_two_transitions_on_a_stale_document_one_wins(racing_db, demo):
    factory = session_factory(racing_db)
    with factory() as s:
        version = get_document(s, user(s, HEAD_2019), demo.pledge_2019).version

    def fire(trigger: str, **kwargs: Any) -> Callable[[], str]:
        def job() -> str:
            with factory() as s:
                doc = lifecycle.fire(
                    s,
                    user(s, HEAD_2019),
                    demo.pledge_2019,
                    trigger,
                    TriggerInputs(expected_version=version, **kwargs),
                )
                s.commit()
                return doc.state

        return job

    results = race([fire("submit_for_review"), fire("cancel", reason="Hủy để soạn lại")])
    wins = [r for r in results if isinstance(r, str)]
    losses = [r for r in results if isinstance(r, WorkflowError)]
    assert len(wins) == 1, results
    assert len(losses) == 1
    assert isinstance(losses[0], ConflictError)
