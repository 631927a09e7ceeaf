from __future__ import annotations

from sqlalchemy import func, select

from workflow.models import Document, User


def test_demo_fixture_restores_seeded_state(demo_session, demo):
    states = dict(demo_session.execute(select(Document.id, Document.state)).all())
    assert states[demo.pledge_2018] == "archived"
    assert states[demo.nomination_2018] == "in_review"
    assert states[demo.pledge_2019] == "draft"


def test_db_fixture_is_empty(db_session):
    assert db_session.scalar(select(func.count()).select_from(User)) == 0
