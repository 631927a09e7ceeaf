"""Pages served from the per-user, per-data-version cache stay exact: a write anywhere shows on
the next request, each browser session gets its own CSRF token, users and languages never
share a page, and a flashed message is shown once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.web.conftest import login, signer
from tests.workflow.helpers import OTHER_DRAFTER, other_cluster_pledge
from web import db as web_db
from web.page_cache import PageCache, _Page


def doc_id(app: Flask) -> int:
    return app.config["DEMO_DOCUMENTS"]["pledge-2019"]


def cache(app: Flask) -> PageCache:
    page_cache = app.extensions["thidua.page_cache"]
    assert page_cache is not None
    return page_cache


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has a form with a CSRF token"
    return match.group(1)


def same_page(a: bytes, b: bytes) -> bool:
    """Equal but for the CSRF tokens (signed with the second they were made in)."""
    token = re.compile(rb'name="csrf_token" value="[^"]+"')
    return token.sub(b"", a) == token.sub(b"", b)


def version_of(html: str) -> str:
    match = re.search(r'name="expected_version" value="(\d+)"', html)
    assert match
    return match.group(1)


@contextmanager
def statements_run(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block (the test app's read engine is this
    engine with other options, so its statements are seen too)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = web_db.engine(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def submit_for_review(drafter: FlaskClient, document: int) -> None:
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    reply = drafter.post(
        f"/documents/{document}/action/submit_for_review",
        data={"expected_version": version_of(page)},
    )
    assert reply.status_code == 302


def test_a_repeated_page_is_a_hit_and_a_write_shows_on_the_next_request(app: Flask) -> None:
    document = doc_id(app)
    reader = login(app, signer("VPHU-MD"))
    first = reader.get(f"/documents/{document}")
    hits = cache(app).hits
    second = reader.get(f"/documents/{document}")
    assert second.status_code == 200
    assert cache(app).hits == hits + 1
    assert same_page(second.get_data(), first.get_data())
    assert "Dự thảo" in second.get_data(as_text=True)

    # Another user changes the document: the reader's next request sees it at once.
    submit_for_review(login(app, "vphu-uh-drafter"), document)
    after = reader.get(f"/documents/{document}").get_data(as_text=True)
    assert "Dự thảo" not in after.split("<main", 1)[1].split("</h1>", 1)[0]
    assert not same_page(after.encode(), first.get_data())
    # The inbox too (the reader now has a review waiting).
    assert f"/documents/{document}" in reader.get("/").get_data(as_text=True)


def test_each_session_of_one_user_gets_its_own_csrf_token(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    document = doc_id(app)

    def logged_in(username: str = signer("VPHU-MD")) -> FlaskClient:
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        reply = client.post(
            "/login",
            data={"username": username, "password": "thidua-demo", "csrf_token": token},
        )
        assert reply.status_code == 302
        return client

    # Comments need the document in review.
    drafter = logged_in("vphu-uh-drafter")
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    reply = drafter.post(
        f"/documents/{document}/action/submit_for_review",
        data={"expected_version": version_of(page), "csrf_token": csrf_of(page)},
    )
    assert reply.status_code == 302
    browser_a, browser_b = logged_in(), logged_in()
    page_a = browser_a.get(f"/documents/{document}").get_data(as_text=True)
    hits = cache(app).hits
    page_b = browser_b.get(f"/documents/{document}").get_data(as_text=True)
    assert cache(app).hits == hits + 1, "the second browser is served the cached page"
    token_a, token_b = csrf_of(page_a), csrf_of(page_b)
    assert token_a != token_b
    assert "\x00" not in page_b
    # B's token is B's: it is refused in A's session and accepted in B's.
    form = {"anchor": "contents[0]", "text": "Góp ý từ trình duyệt B"}
    crossed = browser_a.post(
        f"/documents/{document}/action/comment",
        data={**form, "expected_version": version_of(page_b), "csrf_token": token_b},
    )
    assert crossed.status_code == 400
    reply = browser_b.post(
        f"/documents/{document}/action/comment",
        data={**form, "expected_version": version_of(page_b), "csrf_token": token_b},
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)[:300]
    assert "Góp ý từ trình duyệt B" in browser_a.get(f"/documents/{document}").get_data(
        as_text=True
    )


def test_users_and_languages_never_share_a_page(app: Flask) -> None:
    signer_md = login(app, signer("VPHU-MD"))
    drafter = login(app, "vphu-uh-drafter")
    mine = signer_md.get("/").get_data(as_text=True)
    theirs = drafter.get("/").get_data(as_text=True)
    assert "Mỹ Đức" in mine
    assert "Mỹ Đức" not in theirs.split("</nav>", 1)[0]
    assert mine != theirs
    signer_md.post("/language", data={"lang": "en", "next": "/"})
    english = signer_md.get("/").get_data(as_text=True)
    assert 'lang="en"' in english
    signer_md.post("/language", data={"lang": "vi", "next": "/"})
    assert 'lang="vi"' in signer_md.get("/").get_data(as_text=True)


def test_a_flashed_message_is_shown_once(app: Flask) -> None:
    document = doc_id(app)
    drafter = login(app, "vphu-uh-drafter")
    page = drafter.get(f"/documents/{document}").get_data(as_text=True)
    drafter.get(f"/documents/{document}")  # now cached without a message
    reply = drafter.post(
        f"/documents/{document}/action/submit_for_review",
        data={"expected_version": version_of(page)},
        follow_redirects=True,
    )
    assert 'class="flash' in reply.get_data(as_text=True)
    again = drafter.get(f"/documents/{document}").get_data(as_text=True)
    assert 'class="flash' not in again


def test_the_api_is_cached_per_way_of_signing_in(app: Flask) -> None:
    document = doc_id(app)
    browser = login(app, signer("VPHU-MD"))
    first = browser.get(f"/api/documents/{document}")
    assert first.status_code == 200
    assert first.mimetype == "application/json"
    hits = cache(app).hits
    second = browser.get(f"/api/documents/{document}")
    assert cache(app).hits == hits + 1
    assert second.get_json() == first.get_json()
    assert second.mimetype == "application/json"
    assert app.test_client().get(f"/api/documents/{document}").status_code == 401


def test_the_cache_can_be_turned_off(app: Flask) -> None:
    from web import create_app

    off = create_app({**app.config, "PAGE_CACHE_BYTES": 0})
    assert off.extensions["thidua.page_cache"] is None
    off.config["DEMO_DOCUMENTS"] = app.config["DEMO_DOCUMENTS"]
    reader = login(off, signer("VPHU-MD"))
    assert reader.get(f"/documents/{doc_id(off)}").status_code == 200


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    pages = PageCache(max_bytes=8 * 2048)
    from werkzeug.datastructures import Headers

    def page(n: int) -> _Page:
        return _Page(200, Headers(), bytes([n % 256]) * 1000)

    for n in range(20):
        pages.put(n, page(n), 1000)
        pages.get(0)  # keep the first one in use
    assert len(pages) < 20
    assert pages.get(0) is not None
    assert pages.get(1) is None
    assert pages.get(19) is not None
    pages.put("huge", _Page(200, Headers(), b"x" * 100_000), 100_000)
    assert pages.get("huge") is None, "a page above an eighth of the budget is not kept"


def _second_cluster_with_a_draft(app: Flask) -> int:
    session = app.extensions["thidua.sessionmaker"]()
    try:
        doc = other_cluster_pledge(session)
        session.commit()
        return doc
    finally:
        session.close()


def test_a_write_in_another_cluster_keeps_the_pages_of_this_one(app: Flask) -> None:
    other = _second_cluster_with_a_draft(app)
    document = doc_id(app)
    reader = login(app, signer("VPHU-MD"))
    before = reader.get(f"/documents/{document}").get_data()
    inbox = reader.get("/").get_data()

    # A write on the other cluster's document: this reader's pages stay cached.
    submit_for_review(login(app, *OTHER_DRAFTER), other)
    hits = cache(app).hits
    assert same_page(reader.get(f"/documents/{document}").get_data(), before)
    assert same_page(reader.get("/").get_data(), inbox)
    assert cache(app).hits == hits + 2

    # A write in the reader's own cluster: rebuilt.
    submit_for_review(login(app, "vphu-uh-drafter"), document)
    misses = cache(app).misses
    assert not same_page(reader.get(f"/documents/{document}").get_data(), before)
    assert cache(app).misses == misses + 1

    # A change of structure (a new unit anywhere) may change anyone's pages: rebuilt.
    from workflow.services import admin

    session = app.extensions["thidua.sessionmaker"]()
    admin.add_unit(session, None, "VPHU-XC", "Văn phòng Huyện ủy Xc")
    session.commit()
    session.close()
    misses = cache(app).misses
    reader.get(f"/documents/{document}")
    assert cache(app).misses == misses + 1


def test_a_served_page_costs_one_statement_and_a_deactivated_user_gets_none(app: Flask) -> None:
    from workflow.services import admin

    document = doc_id(app)
    reader = login(app, signer("VPHU-MD"))
    reader.get(f"/documents/{document}")
    with statements_run(app) as statements:
        hits = cache(app).hits
        assert reader.get(f"/documents/{document}").status_code == 200
        assert cache(app).hits == hits + 1
        assert len(statements) == 1, statements

    session = app.extensions["thidua.sessionmaker"]()
    admin.set_active(session, None, signer("VPHU-MD"), False)
    session.commit()
    session.close()
    reply = reader.get(f"/documents/{document}")
    assert reply.status_code == 302
    assert "/login" in reply.headers["Location"]


def test_a_bearer_read_served_from_the_cache_is_one_statement_and_a_revoked_token_none(
    app: Flask,
) -> None:
    from workflow.services import create_token, revoke_tokens

    document = doc_id(app)
    session = app.extensions["thidua.sessionmaker"]()
    token = create_token(session, None, signer("VPHU-MD"))
    other = create_token(session, None, signer("VPHU-UH"))
    session.commit()
    api = app.test_client()
    mine = {"Authorization": f"Bearer {token}"}
    first = api.get(f"/api/documents/{document}", headers=mine)
    assert first.status_code == 200
    with statements_run(app) as statements:
        hits = cache(app).hits
        second = api.get(f"/api/documents/{document}", headers=mine)
        assert second.status_code == 200
        assert cache(app).hits == hits + 1
        assert second.get_json() == first.get_json()
        assert len(statements) == 1, statements

    # Another member's token never gets this member's page.
    theirs = api.get(f"/api/documents/{document}", headers={"Authorization": f"Bearer {other}"})
    assert theirs.status_code == 200
    assert cache(app).hits == hits + 1

    assert revoke_tokens(session, None, signer("VPHU-MD")) >= 1
    session.commit()
    session.close()
    assert api.get(f"/api/documents/{document}", headers=mine).status_code == 401
    assert api.get(f"/api/documents/{document}", headers=mine).status_code == 401
