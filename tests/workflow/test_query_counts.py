"""The read side issues a fixed number of queries whatever the history (found by
bench/web.py at national scale): the inbox does not load finished documents, member units
come with their term, archive lists carry their frozen versions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from tests.workflow.helpers import HEAD_2019, user
from workflow.clock import utcnow
from workflow.models import Document
from workflow.services import (
    admin,
    archive_years,
    get_document,
    inbox,
    visible_clusters,
    visible_documents,
)
from workflow.services._common import can_see_term


@contextmanager
def counting(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_inbox_queries_do_not_grow_with_finished_documents(demo_session, demo):
    s = demo_session
    signer = user(s, "vphu-qo-signer")
    before = inbox(s, signer)
    s.expire_all()
    with counting(s) as first:
        inbox(s, signer)
    template = s.get(Document, demo.nomination_2018)
    now = utcnow()
    s.execute(
        insert(Document),
        [
            {
                "kind": "pledge",
                "term_id": template.term_id,
                "state": "cancelled",
                "title": f"Bản nháp bị hủy {i}",
                "cancel_reason": "Thay bằng bản khác",
                "created_by_id": template.created_by_id,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(30)
        ],
    )
    s.expire_all()
    with counting(s) as second:
        after = inbox(s, signer)
    assert len(second) == len(first)
    # Finished documents are counted in SQL, never loaded.
    loaded = [o for o in s.identity_map.values() if isinstance(o, Document)]
    assert loaded
    assert all(d.state not in {"cancelled", "archived"} for d in loaded)
    assert after.counts["cancelled"] == before.counts.get("cancelled", 0) + 30
    assert [i.document.id for i in after.items] == [i.document.id for i in before.items]
    s.rollback()


def test_member_units_come_with_the_document(demo_session, demo):
    s = demo_session
    doc = get_document(s, user(s, "vphu-qo-signer"), demo.pledge_2018)
    with counting(s) as statements:
        codes = [u.code for u in doc.term.member_units]
    assert len(codes) == 8
    assert statements == []


def test_archive_list_carries_reference_codes(demo_session, demo):
    s = demo_session
    rows = visible_documents(s, user(s, "vphu-qo-signer"), state="archived")
    assert [d.id for d in rows] == [demo.pledge_2018]
    with counting(s) as statements:
        codes = [d.frozen_version.reference_code for d in rows]
    assert all(codes)
    assert statements == []
    assert s.scalar(select(Document.state).where(Document.id == demo.pledge_2018)) == "archived"


@pytest.mark.parametrize("username", ["vphu-qo-signer", "board-approver", "admin", HEAD_2019])
def test_visible_clusters_and_archive_years_match_the_full_scan(demo_session, username):
    s = demo_session
    who = user(s, username)
    expected = [c.id for c in admin.list_clusters(s) if any(can_see_term(who, t) for t in c.terms)]
    assert [c.id for c in visible_clusters(s, who)] == expected
    archived = visible_documents(s, who, state="archived")
    assert archive_years(s, who) == sorted({d.term.year for d in archived}, reverse=True)
