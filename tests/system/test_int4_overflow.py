"""Integers beyond a 32-bit column in ids and filters: no such row (404) or an ignored filter,
never the 500 PostgreSQL's "integer out of range" used to give."""

from __future__ import annotations

import pytest

from tests.fixtures_db import user
from tests.system.test_fuzz import world  # noqa: F401 - module-scoped app over the demo data
from workflow.errors import NotFound
from workflow.services import queries

PATHS = [
    ("GET", "/api/documents?year=2147483648"),
    ("GET", "/api/documents/99999999999"),
    ("POST", "/api/documents/99999999999/cancel"),
    ("GET", "/documents/99999999999"),
    ("GET", "/documents?year=99999999999"),
    ("GET", "/documents/99999999999/sign"),
    ("GET", "/documents/3/signatures/99999999999.p7s"),
    ("GET", "/documents/3/versions/99999999999/document.docx"),
]


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_huge_integers_are_404_or_422_not_500(world, method, path) -> None:  # noqa: F811
    headers = {"Authorization": f"Bearer {world['tokens']['admin']}"}
    client = world["app"].test_client()
    response = client.open(
        path, method=method, headers=headers, json={} if method == "POST" else None
    )
    # A filter that matches nothing may answer an empty list; an id that cannot exist is 404.
    allowed = {200, 400, 422} if "year=" in path else {400, 404, 422}
    assert response.status_code in allowed, (path, response.status_code)


@pytest.mark.parametrize("document_id", [99999999999, -1, 0, "2147483648"])
def test_services_say_not_found_for_ids_no_row_can_have(demo_session, document_id) -> None:
    with pytest.raises(NotFound):
        queries.get_document(demo_session, user(demo_session, "admin"), document_id)


def test_a_year_no_term_can_have_lists_nothing(demo_session) -> None:
    admin = user(demo_session, "admin")
    assert queries.visible_documents(demo_session, admin, year=2018)
    assert queries.visible_documents(demo_session, admin, year=2**40) == []
