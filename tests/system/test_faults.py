"""A failing database under the real server: the app's own PostgreSQL backends are killed
(``pg_terminate_backend``, on the test database only) again and again while 100 comments
are written through the API, each with its own ``Idempotency-Key``.

What a client must be able to rely on: an answer 200 means the comment is stored, once; any
other answer means it is not (or says that it cannot tell); sending the same request again
with the same key stores nothing new and answers like the first success; and the app
answers normally right after the kills, with no dead pooled connection failing a request.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.system.conftest import (
    FIGURES,
    Response,
    Server,
    integrity_problems,
    make_tokens,
    pg_admin_url,
)
from workflow.db import make_engine, session_factory
from workflow.models import Comment

pytestmark = pytest.mark.slow

WRITES = 100
# Often enough that many writes lose their connection, rarely enough that many get through.
KILL_EVERY = 7
CLIENTS = 4
USER = "vphu-cm-drafter"


def keyed_post(server: Server, token: str, path: str, key: str, body: dict[str, Any]) -> Response:
    """``Server.request`` with an ``Idempotency-Key`` header."""
    req = urllib.request.Request(  # noqa: S310 - 127.0.0.1
        server.base + path, data=json.dumps(body).encode(), method="POST"
    )
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
            return Response(resp.status, resp.read().decode(), dict(resp.headers))
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read().decode(), dict(exc.headers))


class Killer:
    """Terminates every backend of one database. ``tick`` is called after every answer and
    kills every ``every``-th time: the other clients' requests are then in flight, at
    whatever step they are (a statement, the commit, between the two), however fast the
    machine is."""

    def __init__(self, database: str, every: int = KILL_EVERY) -> None:
        admin = pg_admin_url()
        assert admin is not None
        self.engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        self.database = database
        self.every = every
        self.killed = 0
        self.rounds = 0
        self._answers = 0
        self._lock = threading.Lock()

    def kill_once(self) -> int:
        with self.engine.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                    "FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": self.database},
            ).scalar_one()
        self.killed += int(killed)
        self.rounds += 1
        return int(killed)

    def tick(self) -> None:
        with self._lock:
            self._answers += 1
            if self._answers % self.every == 0:
                self.kill_once()

    def close(self) -> None:
        self.engine.dispose()


def stored(url: str, texts: list[str]) -> dict[str, int]:
    """How many comments carry each text."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            rows = s.execute(
                select(Comment.body, func.count())
                .where(Comment.body.in_(texts))
                .group_by(Comment.body)
            ).all()
    finally:
        engine.dispose()
    found = {t: 0 for t in texts}
    found.update({body: int(n) for body, n in rows})
    return found


def test_killed_backends_during_a_burst_of_keyed_writes(templates, server_factory) -> None:
    name, url = templates.copy(templates.seeded, "faults")
    doc = templates.documents["nomination-2018"]  # in review: anyone of the cluster comments
    token = make_tokens(url, [USER])[USER]
    server = server_factory(templates.env(url), workers=4)
    path = f"/api/documents/{doc}/comment"
    jobs = [
        (f"fault-key-{i}", {"anchor": "nominees[0]", "text": f"Góp ý thử lỗi số {i}"})
        for i in range(WRITES)
    ]
    texts = [body["text"] for _, body in jobs]

    def write(job: tuple[str, dict[str, Any]]) -> Response:
        return keyed_post(server, token, path, *job)

    killer = Killer(name)

    def write_under_fire(job: tuple[str, dict[str, Any]]) -> Response:
        answer = write(job)
        killer.tick()
        return answer

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = list(pool.map(write_under_fire, jobs))
    rounds = killer.rounds
    assert rounds == WRITES // KILL_EVERY
    FIGURES["fault writes"] += len(answers)
    FIGURES["fault kill rounds"] += rounds
    FIGURES["fault backends killed"] += killer.killed
    for a in answers:
        code = a.json()["error"]["code"] if a.status != 200 else ""
        FIGURES[f"fault answer {a.status} {code}".rstrip()] += 1

    # Right after the kills the app answers normally: no dead pooled connection is reused.
    # Reads first fill the workers' pools; then their backends die while idle in the pool.
    reads = [f"/api/documents/{doc}", "/api/documents"] * 6
    for read in reads:
        server.request("GET", read, token=token)
    assert killer.kill_once() > 0
    killer.close()
    after = [server.request("GET", read, token=token) for read in reads]
    assert [r.status for r in after] == [200] * len(reads), [r.body[:200] for r in after]

    counts = stored(url, texts)
    for (key, body), answer in zip(jobs, answers, strict=True):
        n = counts[body["text"]]
        if answer.status == 200:
            assert n == 1, (key, n, answer.body[:200])
            assert answer.json()["id"] == str(doc)
        elif answer.status == 503 and answer.json()["error"]["code"] == "commit_unknown":
            # The commit and the look-up after it both lost their connection: it says that
            # it cannot tell, and it may have landed.
            assert n in (0, 1), (key, n)
        else:
            assert answer.status >= 400, (key, answer.status)
            assert n == 0, (key, answer.status, n, answer.body[:200])
        assert "Traceback" not in answer.body

    # The same requests again, same keys: each answers 200; the ones that had succeeded
    # get their first answer back and store nothing new.
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        retries = list(pool.map(write, jobs))
    for answer, retry in zip(answers, retries, strict=True):
        assert retry.status == 200, retry.body[:300]
        if answer.status == 200:
            assert retry.headers.get("Idempotent-Replayed") == "true"
            assert retry.json() == answer.json()
    assert set(stored(url, texts).values()) == {1}
    engine = make_engine(url)
    try:
        assert integrity_problems(engine) == []
    finally:
        engine.dispose()
