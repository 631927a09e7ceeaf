"""A retried write returns its first answer instead of writing twice: the API's
``Idempotency-Key`` header and the one-time form id of the document forms (both backends).
And a refused trigger says since when the document is in the state that refuses it."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select, update

from tests.web.conftest import login
from web import db
from workflow.models import Comment, IdempotencyKey, ReviewDecision, User
from workflow.services.auth import create_token


def token_for(app: Flask, username: str) -> dict[str, str]:
    with app.app_context():
        session = db.get_session()
        token = create_token(session, None, username)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def comments(app: Flask, document: int) -> int:
    with app.app_context():
        count = db.get_session().scalar(
            select(func.count()).select_from(Comment).where(Comment.document_id == document)
        )
    return int(count or 0)


def in_review(app: Flask) -> int:
    return int(app.config["DEMO_DOCUMENTS"]["nomination-2018"])


COMMENT = {"anchor": "nominees[0]", "text": "Đề nghị bổ sung minh chứng."}


def test_a_retried_api_comment_with_the_same_key_is_stored_once(app: Flask) -> None:
    doc = in_review(app)
    client = app.test_client()
    headers = {**token_for(app, "vphu-cm-drafter"), "Idempotency-Key": "c0ffee-1"}
    before = comments(app, doc)
    first = client.post(f"/api/documents/{doc}/comment", headers=headers, json=COMMENT)
    again = client.post(f"/api/documents/{doc}/comment", headers=headers, json=COMMENT)
    assert first.status_code == again.status_code == 200, again.get_data(as_text=True)
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert comments(app, doc) == before + 1
    # A new key is a new comment.
    headers["Idempotency-Key"] = "c0ffee-2"
    assert (
        client.post(f"/api/documents/{doc}/comment", headers=headers, json=COMMENT).status_code
        == 200
    )
    assert comments(app, doc) == before + 2


def test_the_same_key_for_another_request_is_refused_and_writes_nothing(app: Flask) -> None:
    doc = in_review(app)
    client = app.test_client()
    headers = {**token_for(app, "vphu-cm-drafter"), "Idempotency-Key": "k-1"}
    assert (
        client.post(f"/api/documents/{doc}/comment", headers=headers, json=COMMENT).status_code
        == 200
    )
    before = comments(app, doc)
    other = {**COMMENT, "text": "Một góp ý khác."}
    response = client.post(f"/api/documents/{doc}/comment", headers=headers, json=other)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["field"] == "Idempotency-Key"
    assert "khóa mới" in error["message"]
    response = client.post(f"/api/documents/{doc}/concur", headers=headers, json=COMMENT)
    assert response.status_code == 422
    assert comments(app, doc) == before


def test_keys_are_per_user(app: Flask) -> None:
    doc = in_review(app)
    client = app.test_client()
    for user in ("vphu-cm-drafter", "vphu-uh-drafter"):
        headers = {**token_for(app, user), "Idempotency-Key": "shared-key"}
        response = client.post(f"/api/documents/{doc}/comment", headers=headers, json=COMMENT)
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response.headers
    with app.app_context():
        authors = db.get_session().scalars(
            select(Comment.author_id).where(
                Comment.document_id == doc, Comment.body == COMMENT["text"]
            )
        )
        assert len(set(authors)) == 2


def test_a_key_expires_after_24_hours_and_is_purged(app: Flask) -> None:
    doc = in_review(app)
    client = app.test_client()
    headers = {**token_for(app, "vphu-cm-drafter"), "Idempotency-Key": "old-key"}
    assert (
        client.post(f"/api/documents/{doc}/comment", headers=headers, json=COMMENT).status_code
        == 200
    )
    with app.app_context():
        session = db.get_session()
        session.execute(
            update(IdempotencyKey).values(
                created_at=IdempotencyKey.created_at - timedelta(hours=25)
            )
        )
        session.commit()
    before = comments(app, doc)
    headers["Idempotency-Key"] = "new-key"  # any keyed write purges expired keys
    assert (
        client.post(f"/api/documents/{doc}/comment", headers=headers, json=COMMENT).status_code
        == 200
    )
    with app.app_context():
        keys = list(db.get_session().scalars(select(IdempotencyKey.key)))
    assert keys == ["new-key"]
    headers["Idempotency-Key"] = "old-key"  # expired: a new write
    response = client.post(f"/api/documents/{doc}/comment", headers=headers, json=COMMENT)
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers
    assert comments(app, doc) == before + 2


def test_a_malformed_key_is_a_422_naming_the_header(app: Flask) -> None:
    doc = in_review(app)
    client = app.test_client()
    before = comments(app, doc)
    for key in ("x" * 256, "khóa", " "):
        headers = {**token_for(app, "vphu-cm-drafter"), "Idempotency-Key": key}
        response = client.post(f"/api/documents/{doc}/comment", headers=headers, json=COMMENT)
        assert response.status_code == 422, key
        assert response.get_json()["error"]["field"] == "Idempotency-Key"
    assert comments(app, doc) == before


def _form_id(page: str, action: str) -> str:
    form = re.search(r'<form[^>]*action="[^"]*/action/' + action + r'".*?</form>', page, re.S)
    assert form, f"no {action} form"
    found = re.search(r'name="form_id" value="([0-9a-f]{32})"', form.group(0))
    assert found, "the form carries no one-time id"
    return found.group(1)


def test_a_resubmitted_comment_form_stores_one_comment(app: Flask) -> None:
    doc = in_review(app)
    browser = login(app, "vphu-cm-drafter")
    form_id = _form_id(browser.get(f"/documents/{doc}").get_data(as_text=True), "comment")
    before = comments(app, doc)
    data = {**COMMENT, "form_id": form_id}
    first = browser.post(f"/documents/{doc}/action/comment", data=data)
    again = browser.post(f"/documents/{doc}/action/comment", data=data)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert comments(app, doc) == before + 1
    page = browser.get(again.headers["Location"]).get_data(as_text=True)
    assert "Biểu mẫu này đã được gửi trước đó" in page
    # The page after the write carries a new id, which makes a new comment.
    fresh = _form_id(page, "comment")
    assert fresh != form_id
    assert (
        browser.post(
            f"/documents/{doc}/action/comment", data={**COMMENT, "form_id": fresh}
        ).status_code
        == 302
    )
    assert comments(app, doc) == before + 2


def test_two_tabs_of_one_cached_page_are_two_forms(app: Flask) -> None:
    """The document page is cached per user and version: the second tab's page comes from the
    cache, and used to carry the first tab's form id, so its different comment was refused
    as a resubmission (422). Each hit now gets fresh ids, as it gets its CSRF token."""
    doc = in_review(app)
    browser = login(app, "vphu-cm-drafter")
    first_tab = browser.get(f"/documents/{doc}").get_data(as_text=True)
    second_tab = browser.get(f"/documents/{doc}").get_data(as_text=True)
    first_id, second_id = _form_id(first_tab, "comment"), _form_id(second_tab, "comment")
    assert first_id != second_id
    before = comments(app, doc)
    for form_id, text in ((first_id, "Góp ý từ thẻ thứ nhất."), (second_id, "Góp ý thẻ thứ hai.")):
        data = {"anchor": "nominees[0]", "text": text, "form_id": form_id}
        answer = browser.post(f"/documents/{doc}/action/comment", data=data)
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    assert comments(app, doc) == before + 2


def px_decisions(app: Flask) -> int:
    with app.app_context():
        session = db.get_session()
        px = session.scalar(select(User.id).where(User.username == "vphu-px-signer"))
        count = session.scalar(
            select(func.count()).select_from(ReviewDecision).where(ReviewDecision.user_id == px)
        )
    return int(count or 0)


def test_a_resubmitted_concur_form_answers_like_the_first_time(app: Flask) -> None:
    doc = in_review(app)
    browser = login(app, "vphu-px-signer")
    form_id = _form_id(browser.get(f"/documents/{doc}").get_data(as_text=True), "concur")
    before = px_decisions(app)
    data = {"form_id": form_id}
    first = browser.post(f"/documents/{doc}/action/concur", data=data)
    # Without the id the second concur is refused (409: this unit already decided).
    again = browser.post(f"/documents/{doc}/action/concur", data=data)
    assert first.status_code == again.status_code == 302, again.get_data(as_text=True)[:300]
    page = browser.get(again.headers["Location"]).get_data(as_text=True)
    assert "Đơn vị đã nhất trí với dự thảo." in page
    assert px_decisions(app) == before + 1


def test_a_refusal_says_since_when_the_document_is_in_its_state(app: Flask) -> None:
    archived = int(app.config["DEMO_DOCUMENTS"]["pledge-2018"])
    client = app.test_client()
    headers = token_for(app, "board-approver")
    response = client.post(
        f"/api/documents/{archived}/return", headers=headers, json={"reason": "Trả lại"}
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["state"] == "archived"
    assert error["action"] == "archive"
    assert error["changed_at"]
    assert "«Đã lưu trữ» từ" in error["message"], error["message"]
    browser = login(app, "board-approver")
    browser.post("/language", data={"lang": "en", "next": "/"})
    response = browser.post(f"/api/documents/{archived}/return", json={"reason": "Return"})
    assert response.status_code == 409
    message = response.get_json()["error"]["message"]
    assert "since" in message, message
    assert "«Archived»" in message, message


def test_the_openapi_document_describes_the_header(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/documents/{document_id}/{trigger}"]["post"]
    assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
    header = spec["components"]["parameters"]["IdempotencyKey"]
    assert header["name"] == "Idempotency-Key"
    assert header["in"] == "header"
    assert "Idempotent-Replayed" in operation["responses"]["200"]["headers"]
