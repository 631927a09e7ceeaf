"""Random triggers by random actors (hypothesis stateful testing) on the demo cluster, with the
engine's invariants checked after every step:

- live signatures exist only for the frozen version;
- ``signed`` and later iff every member unit has a live signature;
- final states stay final, and a refused action changes nothing;
- the audit chain always verifies.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

import documents
from documents import samples
from tests.fixtures_db import restore
from tests.workflow.helpers import SIGNERS, cms_for, frozen_docx, user
from workflow.audit import verify_audit_chain
from workflow.db import session_factory
from workflow.definitions import FINAL_STATES
from workflow.errors import WorkflowError
from workflow.inputs import TriggerInputs
from workflow.models import Document, Signature
from workflow.seed import DEMO_PIN
from workflow.services import comment, edit_draft, lifecycle

ACTORS = [
    *SIGNERS,
    "vphu-uh-drafter",
    "vphu-md-drafter",
    "vphu-px-drafter",
    "board-approver",
    "admin",
]
TRIGGERS = [
    "submit_for_review",
    "concur",
    "request_changes",
    "revise",
    "open_signing",
    "sign",
    "decline",
    "submit",
    "approve",
    "return",
    "cancel",
]
AFTER_SIGNING = {"signed", "submitted", "approved", "archived"}


def test_random_triggers_keep_the_invariants(demo_db, demo):
    factory = session_factory(demo_db)
    snapshot = demo.snapshot
    doc_ids = [demo.pledge_2019, demo.nomination_2018]
    HEADS = {demo.pledge_2019: "vphu-uh-drafter", demo.nomination_2018: "vphu-md-drafter"}

    class Workflow(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            restore(demo_db, snapshot)
            self.finals: dict[int, str] = {}

        def _state(self, doc_id: int) -> str:
            with factory() as s:
                return s.get(Document, doc_id).state

        def _attempt(self, doc_id: int, action: Any) -> None:
            before = self._state(doc_id)
            with factory() as s:
                try:
                    action(s)
                    s.commit()
                except WorkflowError:
                    s.rollback()
                    assert self._state(doc_id) == before, "a refusal must change nothing"
            after = self._state(doc_id)
            if before in FINAL_STATES:
                assert after == before
            if after in FINAL_STATES:
                self.finals[doc_id] = after

        @rule(
            doc=st.sampled_from(doc_ids),
            trigger=st.sampled_from(TRIGGERS),
            actor=st.sampled_from(ACTORS),
            reason=st.sampled_from([None, "", "Lý do rõ ràng"]),
            override=st.booleans(),
            upload=st.booleans(),
        )
        def fire(
            self,
            doc: int,
            trigger: str,
            actor: str,
            reason: str | None,
            override: bool,
            upload: bool,
        ) -> None:
            def action(s: Any) -> None:
                kwargs: dict[str, Any] = {"reason": reason, "override": override}
                if trigger == "sign" and upload and actor in demo.keys:
                    document = s.get(Document, doc)
                    if document.frozen_version is not None:
                        data = frozen_docx(s, doc)
                        kwargs["signature_der"] = cms_for(s, demo, actor, data)
                if trigger in {"sign", "approve"} and "signature_der" not in kwargs:
                    kwargs["pin"] = DEMO_PIN
                secret = None
                if trigger == "approve":
                    secret = demo.ca_secret
                    kwargs.update(
                        decision_number="15/QĐ-HĐTĐKT",
                        decision_date=__import__("datetime").date(2018, 12, 28),
                    )
                inputs = TriggerInputs(**kwargs)
                lifecycle.fire(s, user(s, actor), doc, trigger, inputs, ca_secret=secret)

            self._attempt(doc, action)

        @rule(
            doc=st.sampled_from(doc_ids),
            trigger=st.sampled_from(["submit_for_review", "open_signing", "submit", "revise"]),
        )
        def head_drafter_moves(self, doc: int, trigger: str) -> None:
            head = HEADS[doc]
            self._attempt(doc, lambda s: lifecycle.fire(s, user(s, head), doc, trigger))

        @rule(doc=st.sampled_from(doc_ids), approve=st.booleans())
        def board_decides(self, doc: int, approve: bool) -> None:
            def action(s: Any) -> None:
                board = user(s, "board-approver")
                if approve:
                    lifecycle.approve(
                        s,
                        board,
                        doc,
                        pin=DEMO_PIN,
                        ca_secret=demo.ca_secret,
                        decision_number="15/QĐ-HĐTĐKT",
                        decision_date=date(2018, 12, 28),
                    )
                else:
                    lifecycle.return_document(s, board, doc, reason="Cần bổ sung")

            self._attempt(doc, action)

        @rule(doc=st.sampled_from(doc_ids))
        def advance(self, doc: int) -> None:
            """The next step a real cluster would take, so runs reach the later states."""
            state = self._state(doc)
            if state == "draft":
                self.head_drafter_moves(doc, "submit_for_review")
            elif state == "in_review":
                self.everyone_concurs(doc)
                self.head_drafter_moves(doc, "open_signing")
            elif state == "signing":
                self.signers_upload(doc, 8)
            elif state == "signed":
                self.head_drafter_moves(doc, "submit")
            elif state == "submitted":
                self.board_decides(doc, True)

        @rule(doc=st.sampled_from(doc_ids))
        def everyone_concurs(self, doc: int) -> None:
            for name in SIGNERS:
                self._attempt(doc, lambda s, n=name: lifecycle.concur(s, user(s, n), doc))

        @rule(doc=st.sampled_from(doc_ids), count=st.sampled_from([8, 8, 5, 1]))
        def signers_upload(self, doc: int, count: int) -> None:
            for name in SIGNERS[:count]:

                def action(s: Any, n: str = name) -> None:
                    document = s.get(Document, doc)
                    if document.frozen_version is None:
                        raise WorkflowError("chưa đóng băng")
                    lifecycle.sign(
                        s, user(s, n), doc, signature_der=cms_for(s, demo, n, frozen_docx(s, doc))
                    )

                self._attempt(doc, action)

        @rule(
            actor=st.sampled_from(["vphu-uh-drafter", "vphu-md-drafter", "vphu-qo-signer"]),
            number=st.integers(min_value=1, max_value=99),
        )
        def edit(self, actor: str, number: int) -> None:
            data = {**documents.content_to_dict(samples.pledge_2019()), "number": number}
            self._attempt(
                demo.pledge_2019,
                lambda s: edit_draft(s, user(s, actor), demo.pledge_2019, data, None),
            )

        @rule(doc=st.sampled_from(doc_ids), actor=st.sampled_from(ACTORS))
        def remark(self, doc: int, actor: str) -> None:
            self._attempt(
                doc,
                lambda s: comment(s, user(s, actor), doc, "member_units[0]", "Góp ý ngẫu nhiên"),
            )

        @invariant()
        def signatures_match_the_state(self) -> None:
            with factory() as s:
                for doc_id in doc_ids:
                    doc = s.get(Document, doc_id)
                    live = s.scalars(
                        select(Signature).where(
                            Signature.document_id == doc_id, Signature.voided_at.is_(None)
                        )
                    ).all()
                    assert all(sig.version_id == doc.frozen_version_id for sig in live)
                    members = {m.unit_id for m in doc.term.memberships}
                    complete = {sig.unit_id for sig in live} == members
                    assert (doc.state in AFTER_SIGNING) == complete, (doc.state, len(live))
                    if doc.state not in AFTER_SIGNING | {"signing"}:
                        assert live == []
                    if doc_id in self.finals:
                        assert doc.state == self.finals[doc_id]

        @invariant()
        def audit_chain_verifies(self) -> None:
            with factory() as s:
                report = verify_audit_chain(s)
                assert report.ok, report.describe()

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=15,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            derandomize=True,
        ),
    )
