"""kill -9 of the whole server (master and workers) at seeded random moments while units sign
and while the board approves (which builds the bundle and archives in the same transaction).
After a restart an auditor must find nothing half-done: no document ``signed`` without every
live signature, none ``archived`` without its bundle, no record naming a missing blob, the
audit chain intact; and the interrupted work can simply be done again."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.system.conftest import (
    FIGURES,
    PIN,
    SIGNERS,
    Response,
    Server,
    integrity_problems,
    make_tokens,
)
from web.cli import main
from workflow.db import make_engine

pytestmark = pytest.mark.slow

SEED = 20180331
TRIALS = [("sign", 0), ("approve", 0), ("sign", 1), ("approve", 1), ("sign", 2), ("approve", 2)]
# Upper bounds of the kill delay, a little beyond how long each operation takes here, so that
# some trials kill before, some during and some after the commit.
WINDOW = {"sign": 3.0, "approve": 3.0}


def fire_and_forget(
    server: Server, jobs: list[tuple[str, str, dict[str, Any]]]
) -> tuple[list[Any], list[threading.Thread]]:
    """Send the requests from threads; the caller kills the server under them."""
    results: list[Any] = [None] * len(jobs)

    def run(i: int, token: str, path: str, body: dict[str, Any]) -> None:
        try:
            results[i] = server.request("POST", path, token=token, body=body, timeout=60)
        except Exception as exc:  # the connection dies with the server: expected here
            results[i] = exc

    threads = [
        threading.Thread(target=run, args=(i, *job), daemon=True) for i, job in enumerate(jobs)
    ]
    for t in threads:
        t.start()
    return results, threads


def cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(("kind", "trial"), TRIALS, ids=[f"{k}-{t}" for k, t in TRIALS])
def test_kill_9_during_work_leaves_nothing_half_done(
    templates, server_factory, kind: str, trial: int, tmp_path: Path
) -> None:
    rng = random.Random(f"{SEED}-{kind}-{trial}")
    template = templates.signing if kind == "sign" else templates.submitted
    _, url = templates.copy(template, f"crash_{kind}_{trial}")
    doc = templates.documents["pledge-2019"]
    users = SIGNERS if kind == "sign" else ["board-approver"]
    tokens = make_tokens(url, users)
    env = templates.env(url)
    server = server_factory(env, workers=2, log="before-kill.log")
    path = f"/api/documents/{doc}/{kind}"
    jobs = [(tokens[u], path, {"pin": PIN}) for u in users]

    results, threads = fire_and_forget(server, jobs)
    time.sleep(rng.uniform(0.05, WINDOW[kind]))
    server.kill()
    for t in threads:
        t.join(timeout=60)
    FIGURES["crash trials"] += 1
    answered = [r for r in results if isinstance(r, Response)]
    FIGURES["crash requests cut by kill -9"] += len(jobs) - len(answered)
    FIGURES["crash 5xx"] += sum(1 for r in answered if r.status >= 500)
    assert all(r.status < 500 for r in answered), [(r.status, r.body[:300]) for r in answered]

    # Restart on the same database: it serves, and nothing is half-done.
    server = server_factory(env, workers=2, log="after-restart.log")
    engine = make_engine(url)
    try:
        assert integrity_problems(engine) == []
        code, output = cli(env, "audit", "verify")
        assert code == 0, output

        # The interrupted work is simply done again (what survived the kill is kept: a unit
        # that signed gets its signature back; an archive that committed stays), and completes.
        target = "signed" if kind == "sign" else "archived"
        state = server.request("GET", f"/api/documents/{doc}", token=jobs[0][0]).json()["state"]
        FIGURES[f"crash trials finding {kind} committed"] += state == target
        if kind == "sign" or state != target:
            for token, p, body in jobs:
                response = server.request("POST", p, token=token, body=body)
                assert response.status == 200, (response.status, response.body[:300])
        state = server.request("GET", f"/api/documents/{doc}", token=jobs[0][0]).json()["state"]
        assert state == target
        assert integrity_problems(engine) == []
    finally:
        engine.dispose()
    code, output = cli(env, "audit", "verify")
    assert code == 0, output
    if kind == "approve":
        # The archive verifies offline against the exported CA certificate.
        bundle, ca = tmp_path / "bundle.zip", tmp_path / "ca.pem"
        assert cli(env, "export", str(doc), "--out", str(bundle))[0] == 0
        assert cli(env, "ca", "export", "--out", str(ca))[0] == 0
        code, output = cli(env, "verify", str(bundle), "--trust", str(ca))
        assert code == 0, output
