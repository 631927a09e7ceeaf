"""Races against the real server: gunicorn with 4 workers on PostgreSQL, real HTTP, Bearer
tokens. What an auditor checks afterwards: one signature per unit, one move to ``signed``,
no 5xx, the loser of a race told why (409 and the error envelope), the chain intact."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from sqlalchemy import func, select

from signing import TrustStore
from signing.pades import BOARD_FIELD, CERTIFICATION_FIELD, verify_pdf
from tests.system.conftest import (
    FIGURES,
    PIN,
    SIGNERS,
    UNITS,
    Response,
    Server,
    integrity_problems,
    make_tokens,
    thidua,
)
from workflow.db import make_engine, session_factory
from workflow.models import AuditEvent, Blob, Document, Signature
from workflow.pki import active_ca_record

pytestmark = pytest.mark.slow


def race(jobs: list[Callable[[], Response]]) -> list[Response]:
    """Release every job at the same moment from its own thread; returns the responses."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Response]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # asserted on below: a dropped connection is a failure
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a request hung"
    errors = [r for r in results if not isinstance(r, Response)]
    assert errors == [], errors
    FIGURES["race requests"] += len(results)
    FIGURES["race 5xx"] += sum(1 for r in results if r.status >= 500)
    return results


def call(server: Server, token: str, doc: int, trigger: str, **body: Any) -> Callable[[], Response]:
    return lambda: server.request("POST", f"/api/documents/{doc}/{trigger}", token=token, body=body)


def ok(response: Response) -> Any:
    assert response.status == 200, (response.status, response.body[:500])
    return response.json()


def assert_refused_with_envelope(response: Response, status: int = 409) -> None:
    assert response.status == status, (response.status, response.body[:500])
    error = response.json()["error"]
    assert error["code"]
    assert error["message"].strip()
    assert "Traceback" not in response.body


def assert_no_5xx(results: list[Response]) -> None:
    bad = [(r.status, r.body[:300]) for r in results if r.status >= 500]
    assert bad == []


def chain_verifies(env: dict[str, str]) -> None:
    done = thidua(env, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr


def test_forty_sign_requests_for_eight_units_at_once(templates, server_factory) -> None:
    _, url = templates.copy(templates.seeded, "sign_race")
    doc = templates.documents["pledge-2019"]
    drafter = "vphu-uh-drafter"
    tokens = make_tokens(url, [drafter, *SIGNERS])
    env = templates.env(url)
    server = server_factory(env)

    # The whole way to signing through the API, as an e-office integration would.
    ok(server.request("POST", f"/api/documents/{doc}/submit_for_review", token=tokens[drafter]))
    assert_no_5xx(race([call(server, tokens[s], doc, "concur") for s in SIGNERS]))
    detail = ok(server.request("POST", f"/api/documents/{doc}/open_signing", token=tokens[drafter]))
    assert detail["state"] == "signing"

    jobs = [call(server, tokens[s], doc, "sign", pin=PIN) for s in SIGNERS for _ in range(5)]
    results = race(jobs)
    assert_no_5xx(results)
    # A duplicate gets its unit's signature back: every request answers 200.
    assert [r.status for r in results] == [200] * 40, [
        (r.status, r.body[:400]) for r in results if r.status != 200
    ]

    final = ok(server.request("GET", f"/api/documents/{doc}", token=tokens[drafter]))
    assert final["state"] == "signed"
    assert sorted(s["unit"] for s in final["signatures"] if not s["voided"]) == sorted(UNITS)

    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            live = s.scalar(
                select(func.count())
                .select_from(Signature)
                .where(Signature.document_id == doc, Signature.voided_at.is_(None))
            )
            assert live == 8
            moves = s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.document_id == doc, AuditEvent.to_state == "signed")
            )
            assert moves == 1
            sign_events = s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.document_id == doc, AuditEvent.action == "sign")
            )
            assert sign_events == 8
            # The signed PDF (issue 16): exactly one signature per unit, each in its own
            # revision on top of the one before, every one verifying.
            version = s.get(Document, doc).frozen_version
            pdf = s.get(Blob, version.pdf_sha256).data
            trust = TrustStore(
                [x509.load_pem_x509_certificate(active_ca_record(s).certificate_pem)]
            )
        expected = {**{u: u for u in UNITS}, BOARD_FIELD: None, CERTIFICATION_FIELD: "THIDUA"}
        report = verify_pdf(bytes(pdf), trust, at=datetime.now(UTC), expected_fields=expected)
        units = [r for r in report.signatures if r.field in UNITS]
        assert sorted(r.field for r in units) == sorted(UNITS)
        assert all(r.report.passed for r in report.signatures), report.to_dict()
        revisions = [r.revision for r in sorted(report.signatures, key=lambda r: r.revision)]
        assert revisions == list(range(revisions[0], revisions[0] + 9))  # certification + 8
        assert report.unsigned_fields == (BOARD_FIELD,)
        assert integrity_problems(engine) == []
    finally:
        engine.dispose()
    chain_verifies(env)
    assert "Traceback" not in server.log.read_text()


def test_two_drafters_racing_one_wins_the_other_gets_409(templates, server_factory) -> None:
    _, url = templates.copy(templates.seeded, "drafter_race")
    doc = templates.documents["pledge-2019"]
    # A second drafter of the head unit (Ứng Hòa heads 2019), added the way an operator would.
    env = templates.env(url)
    done = thidua(
        env,
        "users",
        "add",
        "vphu-uh-drafter2",
        "--password",
        "thidua-demo-2",
        "--name",
        "Chuyên viên thứ hai",
        "--role",
        "VPHU-UH:drafter",
    )
    if done.returncode != 0:
        pytest.fail(f"thidua users add failed: {done.stderr}")
    tokens = make_tokens(url, ["vphu-uh-drafter", "vphu-uh-drafter2"])
    server = server_factory(env)
    version = ok(server.request("GET", f"/api/documents/{doc}", token=tokens["vphu-uh-drafter"]))[
        "version"
    ]
    for trial in range(3):
        results = race(
            [
                call(
                    server,
                    tokens["vphu-uh-drafter"],
                    doc,
                    "submit_for_review",
                    expected_version=version,
                ),
                call(
                    server,
                    tokens["vphu-uh-drafter2"],
                    doc,
                    "cancel",
                    expected_version=version,
                    reason=f"Trùng lặp, lần {trial}",
                ),
            ]
        )
        assert_no_5xx(results)
        statuses = sorted(r.status for r in results)
        assert statuses == [200, 409], [(r.status, r.body[:300]) for r in results]
        assert_refused_with_envelope(next(r for r in results if r.status == 409))
        winner = next(r for r in results if r.status == 200).json()
        if winner["state"] == "cancelled":
            break  # final: nothing more to race on
        # in_review: back to draft for another round (the winner's version moved on).
        version = ok(
            server.request(
                "POST",
                f"/api/documents/{doc}/revise",
                token=tokens["vphu-uh-drafter"],
                body={"reason": "Làm lại"},
            )
        )["version"]
    engine = make_engine(url)
    try:
        assert integrity_problems(engine) == []
    finally:
        engine.dispose()
    chain_verifies(env)


def test_approve_racing_return(templates, server_factory) -> None:
    _, url = templates.copy(templates.submitted, "approve_race")
    doc = templates.documents["pledge-2019"]
    tokens = make_tokens(url, ["board-approver"])
    env = templates.env(url)
    server = server_factory(env)
    board = tokens["board-approver"]
    version = ok(server.request("GET", f"/api/documents/{doc}", token=board))["version"]
    results = race(
        [
            call(server, board, doc, "approve", pin=PIN, expected_version=version),
            call(
                server,
                board,
                doc,
                "return",
                reason="Thiếu chữ ký phụ lục",
                expected_version=version,
            ),
        ]
    )
    assert_no_5xx(results)
    assert sorted(r.status for r in results) == [200, 409], [
        (r.status, r.body[:300]) for r in results
    ]
    assert_refused_with_envelope(next(r for r in results if r.status == 409))
    state = ok(server.request("GET", f"/api/documents/{doc}", token=board))["state"]
    assert state in {"archived", "draft"}
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            document = s.get(Document, doc)
            assert document is not None
            assert document.state == state
        assert integrity_problems(engine) == []
    finally:
        engine.dispose()
    chain_verifies(env)
    if state == "archived":
        bundle = server.request("GET", f"/api/documents/{doc}", token=board).json()["bundle_url"]
        assert bundle


# --- every pair of triggers that can race on one document: the loser is told what happened --

STATE_WORDS = {"draft": "Dự thảo", "in_review": "Đang góp ý", "archived": "Đã lưu trữ"}
STATE_WORDS |= {"signing": "Đang ký", "submitted": "Đã trình", "cancelled": "Đã hủy"}


def local_time(iso: str) -> str:
    """'HH:MM' of an audit time in Vietnam, as the messages print it."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(
        ZoneInfo("Asia/Ho_Chi_Minh")
    )
    return f"{moment:%H:%M}"


@dataclass(frozen=True)
class Pair:
    """Two requests released together on one document, and the states each win leads to."""

    template: str  # the Templates attribute the database is copied from
    document: str
    first: tuple[str, str, dict[str, Any]]  # user, trigger, body
    second: tuple[str, str, dict[str, Any]]
    # Both may succeed when the second is still possible after the first (sign, then decline).
    both_may_win: bool = False


PAIRS = {
    "approve-return": Pair(
        "submitted",
        "pledge-2019",
        ("board-approver", "approve", {"pin": PIN}),
        ("board-approver", "return", {"reason": "Thiếu chữ ký phụ lục"}),
    ),
    "approve-approve": Pair(
        "submitted",
        "pledge-2019",
        ("board-approver", "approve", {"pin": PIN}),
        ("board-approver", "approve", {"pin": PIN}),
    ),
    "sign-decline": Pair(
        "signing",
        "pledge-2019",
        ("vphu-md-signer", "sign", {"pin": PIN}),
        ("vphu-uh-signer", "decline", {"reason": "Sai số liệu chỉ tiêu"}),
        both_may_win=True,
    ),
    "open_signing-revise": Pair(
        "seeded",
        "nomination-2018",
        ("vphu-md-drafter", "open_signing", {"override": True, "reason": "Hết hạn góp ý"}),
        ("vphu-md-drafter", "revise", {"reason": "Sửa số phiếu"}),
    ),
    # A draft in review may still be cancelled: when submit is served first, cancel then wins
    # too (both 200, the document cancelled); when cancel is first, submit finds it cancelled.
    "submit_for_review-cancel": Pair(
        "seeded",
        "pledge-2019",
        ("vphu-uh-drafter", "submit_for_review", {}),
        ("vphu-uh-drafter", "cancel", {"reason": "Trùng lặp"}),
        both_may_win=True,
    ),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_racing_triggers_the_loser_gets_409_saying_what_happened(
    templates, server_factory, name: str
) -> None:
    pair = PAIRS[name]
    _, url = templates.copy(getattr(templates, pair.template), f"pair_{name.replace('-', '_')}")
    doc = templates.documents[pair.document]
    users = sorted({pair.first[0], pair.second[0]})
    tokens = make_tokens(url, users)
    server = server_factory(templates.env(url), workers=2)
    results = race(
        [call(server, tokens[u], doc, t, **body) for u, t, body in (pair.first, pair.second)]
    )
    assert [r.status for r in results if r.status >= 500] == [], server.log.read_text()[-4000:]
    statuses = [r.status for r in results]
    final = ok(server.request("GET", f"/api/documents/{doc}", token=tokens[users[0]]))
    if statuses == [200, 200]:
        assert pair.both_may_win, [r.body[:300] for r in results]
        # Served one after the other: the document is where the later of the two left it.
        assert final["state"] in {r.json()["state"] for r in results}, final["state"]
    else:
        assert sorted(statuses) == [200, 409], [(r.status, r.body[:300]) for r in results]
        winner = next(r for r in results if r.status == 200).json()
        loser = next(r for r in results if r.status == 409)
        assert_refused_with_envelope(loser)
        error = loser.json()["error"]
        # What happened and when: the state it is in now, the action that moved it and the
        # (local) time it moved. A loser that arrived after the move is told the same.
        assert error["code"] in {"state_changed", "invalid_transition", "final_state"}, error
        assert error["state"] == final["state"] == winner["state"]
        assert f"«{STATE_WORDS[final['state']]}»" in error["message"], error["message"]
        assert local_time(error["changed_at"]) in error["message"], error
        assert error["action"], error
        assert error["changed_by"], error
    engine = make_engine(url)
    try:
        assert integrity_problems(engine) == []
    finally:
        engine.dispose()
    assert "Traceback" not in server.log.read_text()
