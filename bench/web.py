"""Page benchmark on PostgreSQL at national scale. Prints exactly one JSON object on stdout:

    {"inbox_p95_ms", "document_p95_ms", "archive_p95_ms", "api_p95_ms", "bare_p95_ms",
     "inbox_p95_ms_small", "queries_per_page": {page: n}, "requests_per_s", ...}

For each scale (full: 125 clusters = 1,000 member units over 10 years, ~25,000 documents and
~1,000,000 signatures; small: 1 cluster, the same shape at about 1/100) it creates a fresh
database on the server of ``THIDUA_BENCH_PG_ADMIN_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), migrates it with the project's
Alembic migrations, seeds it with COPY (bench/_seed.py), counts the SQL statements of one
request per page in process, then starts gunicorn on a free loopback port serving
``bench._wsgi:application`` (the real app plus a bare Flask page, ``/__bare``, as the in-run
baseline) as the README's production command runs it (4 sync workers). With both scales
served side by side, it drives each page with 20 concurrent clients (HTTP/1.1 clients that
reconnect when a sync worker closes the connection, and send back the session cookie the
server sets, as a browser does), in interleaved rounds: every page of both scales, the bare
page included, gets a share of the requests in each round, so the ratios the targets compare
are measured over the same minutes of this shared machine.

Pages, all as the signer of cluster 1 (a member unit with work waiting): ``/`` (inbox),
``/documents/<id>`` (the pledge being signed), ``/archive``, ``/api/documents/<id>``
(Bearer token). The app runs as deployed, with its page cache (web/page_cache.py): after the
first request of each worker a page is a hit until the next audited write.
``queries_per_page_uncached`` counts the statements of the same pages built from the database
(the cache off), so an N+1 still shows. Extra keys: ``small`` (every p95 at the small scale),
``page_cache``, ``seed_s``,
``load_average`` (this machine is shared), ``gunicorn``.

Targets (issue 6): inbox and document p95 <= 50 ms and <= 3x bare; full-scale p95 <= 1.5x
small-scale; queries per page equal at both scales. Not part of the test suite.
Options: ``--requests N`` per client per page (default 100: 2,000 samples per p95, a few
seconds per page, so one hiccup of a shared machine does not make the tail), ``--rounds``
(5: the requests of each page are spread over that many rounds), ``--clients``
(20), ``--workers``/``--threads`` of gunicorn (4/1: sync workers; ``--threads`` above 1 runs
gthread workers with keep-alive), ``--keep`` (keep the databases),
``--no-page-cache`` (every request builds its page from the database), ``--writes-per-s R``
(R audited writes a second in clusters 2..125 of the full scale while the pages of both
scales are driven: comments on their nominations, through the workflow services, from a
separate process).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._seed import Actors, log, make_material, seed
from workflow.db import make_engine, upgrade

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "THIDUA_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CA_SECRET = b"thidua-bench-ca-master-secret-0123456789"
SECRET_KEY = "thidua-bench-session-secret-0123456789abcdef"
FULL_CLUSTERS = 125
SMALL_CLUSTERS = 1


def create_database(name: str) -> str:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def app_env(url: str, page_cache: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        THIDUA_PAGE_CACHE_MB="64" if page_cache else "0",
        DATABASE_URL=url,
        THIDUA_SECRET_KEY=SECRET_KEY,
        THIDUA_CA_SECRET=CA_SECRET.decode(),
        THIDUA_INSECURE_COOKIES="1",
        THIDUA_INSTANCE=str(Path(tempfile.gettempdir()) / f"thidua-bench-{os.getpid()}"),
        PYTHONPATH=str(ROOT),
    )
    return env


def pages(actors: Actors) -> dict[str, str]:
    return {
        "inbox": "/",
        "document": f"/documents/{actors.signing_doc_id}",
        "archive": "/archive",
        "api": f"/api/documents/{actors.signing_doc_id}",
    }


# --- SQL statements per page, in process --------------------------------------------------


def count_queries(url: str, actors: Actors, page_cache: bool) -> dict[str, int]:
    """Statements of one request per page (after one warm-up request), as the signer. With
    the page cache that request is a hit; without it, the page is built from the database."""
    env = app_env(url, page_cache)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from web import create_app
        from web import db as web_db

        app = create_app(
            {
                "DATABASE_URL": url,
                "WTF_CSRF_ENABLED": False,
                "PAGE_CACHE_BYTES": 64 * 1024 * 1024 if page_cache else 0,
            }
        )
        engines = (web_db.engine(app), web_db.read_engine(app))  # writes, reads (GET)
        counter = {"n": 0}

        def on_execute(*_args: Any) -> None:
            counter["n"] += 1

        for engine in engines:
            event.listen(engine, "before_cursor_execute", on_execute)
        client = app.test_client()
        reply = client.post("/login", data={"username": actors.signer, "password": actors.password})
        if reply.status_code != 302:
            raise RuntimeError(f"in-process login failed: {reply.status_code}")
        result = {}
        auth = {"Authorization": f"Bearer {actors.tokens['signer']}"}
        bearer_client = app.test_client()  # the API as an integration calls it: no cookie
        for page, path in pages(actors).items():
            who, headers = (bearer_client, auth) if page == "api" else (client, {})
            who.get(path, headers=headers)
            counter["n"] = 0
            reply = who.get(path, headers=headers)
            if reply.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {reply.status_code}")
            result[page] = counter["n"]
        for engine in engines:
            engine.dispose()
        return result
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# --- writes elsewhere in the country, while the pages are driven ----------------------------


def write_elsewhere(url: str, per_s: float, stop: Any, done: Any) -> None:
    """Review comments on the nominations of clusters 2..n, through the workflow services,
    ``per_s`` a second (a separate process: the clients' timing is not disturbed). Each one is
    a real audited write; the bench's signer (cluster 1) does not see those clusters."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from workflow.models import ClusterTerm, Document, TermMember, Unit, User
    from workflow.services import comment

    engine = make_engine(url)
    with Session(engine) as session:
        targets = session.execute(
            select(Document.id, User.id)
            .join(ClusterTerm, ClusterTerm.id == Document.term_id)
            .join(TermMember, TermMember.term_id == ClusterTerm.id)
            .join(Unit, Unit.id == TermMember.unit_id)
            .join(User, User.username == func.lower(Unit.code))
            .where(
                Document.state == "in_review",
                ClusterTerm.cluster_id != 1,
                TermMember.position == 3,
            )
            .order_by(ClusterTerm.cluster_id)
        ).all()
    n = 0
    began = time.monotonic()
    while targets and not stop.is_set():
        doc_id, user_id = targets[n % len(targets)]
        with Session(engine) as session:
            comment(session, session.get(User, user_id), doc_id, "nominees[0]", f"Ý kiến {n}")
            session.commit()
        n += 1
        pause = began + n / per_s - time.monotonic()
        if pause > 0:
            stop.wait(pause)
    engine.dispose()
    done.value = n


def start_writes(url: str, per_s: float) -> tuple[Any, Any, Any] | None:
    """Start write_elsewhere in its own process if ``per_s`` > 0: (process, stop, done)."""
    if per_s <= 0:
        return None
    stop, done = multiprocessing.Event(), multiprocessing.Value("i", 0)
    writer = multiprocessing.Process(
        target=write_elsewhere, args=(url, per_s, stop, done), daemon=True
    )
    writer.start()
    return writer, stop, done


def stop_writes(started: tuple[Any, Any, Any]) -> int:
    """Stop the writer; the number of writes it made."""
    writer, stop, done = started
    stop.set()
    writer.join(30)
    return int(done.value)


# --- gunicorn and the HTTP clients ----------------------------------------------------------


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    url: str, workers: int, threads: int, page_cache: bool
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    # The README's production command: sync workers (one request at a time each, behind a
    # buffering proxy); --threads N > 1 runs gthread workers with keep-alive instead.
    workers_kind = ["--worker-class", "sync"]
    if threads > 1:
        workers_kind = [
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
        ]
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *workers_kind,
            "--log-level",
            "warning",
            "bench._wsgi:application",
        ],
        cwd=ROOT,
        env=app_env(url, page_cache),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/__bare")
            if conn.getresponse().status == 200:
                conn.close()
                return proc, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def stop_gunicorn(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def login_cookie(port: int, username: str, password: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    reply = conn.getresponse()
    body = reply.read().decode()
    cookie = reply.getheader("Set-Cookie", "").split(";")[0]
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
    if match is None:
        raise RuntimeError("no CSRF token on /login")
    from urllib.parse import urlencode

    form = urlencode({"csrf_token": match.group(1), "username": username, "password": password})
    conn.request(
        "POST",
        "/login",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    reply = conn.getresponse()
    reply.read()
    if reply.status != 302:
        raise RuntimeError(f"login failed: HTTP {reply.status}")
    conn.close()
    return reply.getheader("Set-Cookie", "").split(";")[0]


def drive(port: int, path: str, headers: dict[str, str], clients: int, n: int) -> list[float]:
    """``clients`` threads, each on its own HTTP/1.1 connection (reopened when the server
    closes it), ``n`` requests each."""
    samples: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        sent = dict(headers)
        start.wait()
        for _ in range(n):
            began = time.perf_counter()
            conn.request("GET", path, headers=sent)
            reply = conn.getresponse()
            reply.read()
            mine.append((time.perf_counter() - began) * 1000)
            if reply.status != 200:
                errors.append(f"{path}: HTTP {reply.status}")
            # Like a browser, send back the session cookie the server last set (the first
            # page after sign-in adds the CSRF token to the session).
            if (cookie := reply.getheader("Set-Cookie")) and "Cookie" in sent:
                sent["Cookie"] = cookie.split(";")[0]
        conn.close()
        with lock:
            samples.extend(mine)

    # Daemon threads: an interrupted run goes straight to its cleanup.
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return samples


def p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[18], 1)


@dataclass
class Served:
    """One scale's database, seeded and served by its own gunicorn, ready to be driven."""

    label: str
    url: str
    port: int
    targets: dict[str, tuple[str, dict[str, str]]]  # page: (path, headers)
    result: dict[str, Any]


def serve_scale(
    label: str, n_clusters: int, args: argparse.Namespace, stack: ExitStack, material: Any
) -> Served:
    name = f"thidua_bench_{label}_{uuid.uuid4().hex[:8]}"
    log(f"[{label}] database {name}")
    url = create_database(name)
    if not args.keep:
        stack.callback(drop_database, name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    began = time.monotonic()
    actors = seed(libpq(url), n_clusters, CA_SECRET, material)
    seed_s = round(time.monotonic() - began, 1)
    cached = not args.no_page_cache
    queries = count_queries(url, actors, cached)
    uncached = count_queries(url, actors, False)
    log(f"[{label}] queries per page: {queries} (built from the database: {uncached})")
    proc, port = start_gunicorn(url, args.workers, args.threads, cached)
    stack.callback(stop_gunicorn, proc)
    cookie = {"Cookie": login_cookie(port, actors.signer, actors.password)}
    bearer = {"Authorization": f"Bearer {actors.tokens['signer']}"}
    targets = {
        page: (path, bearer if page == "api" else cookie)
        for page, path in {**pages(actors), "bare": "/__bare"}.items()
    }
    for path, headers in targets.values():
        drive(port, path, headers, args.clients, 2)  # warm every worker and thread
    result: dict[str, Any] = {"seed_s": seed_s, "queries": queries, "uncached": uncached}
    return Served(label, url, port, targets, result)


def measure(scales: list[Served], args: argparse.Namespace) -> None:
    """Drive every page of every scale in ``args.rounds`` interleaved rounds, so that a spell
    in which the shared machine runs slower falls on the pages, the bare baseline and both
    scales alike instead of on whichever was being driven then; p95 over all rounds."""
    samples: dict[tuple[str, str], list[float]] = {}
    elapsed = dict.fromkeys((scale.label for scale in scales), 0.0)
    for round_ in range(args.rounds):
        n = args.requests // args.rounds + (round_ < args.requests % args.rounds)
        for scale in scales:
            for page, (path, headers) in scale.targets.items():
                began = time.perf_counter()
                got = drive(scale.port, path, headers, args.clients, n)
                elapsed[scale.label] += time.perf_counter() - began
                samples.setdefault((scale.label, page), []).extend(got)
    for scale in scales:
        total = 0
        for page in scale.targets:
            mine = samples[(scale.label, page)]
            total += len(mine)
            scale.result[f"{page}_p95_ms"] = p95(mine)
            log(f"[{scale.label}] {page:<9} p95 {p95(mine):7.1f} ms  ({len(mine)} requests)")
        scale.result["requests_per_s"] = round(total / elapsed[scale.label], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--full-clusters", type=int, default=FULL_CLUSTERS)
    parser.add_argument(
        "--writes-per-s",
        type=float,
        default=0.0,
        help="audited writes a second in other clusters while the pages are driven (full scale)",
    )
    parser.add_argument(
        "--no-page-cache",
        action="store_true",
        help="serve every page from the database (THIDUA_PAGE_CACHE_MB=0), for comparison",
    )
    args = parser.parse_args()
    if not 1 <= args.rounds <= args.requests:
        parser.error("--rounds must be between 1 and --requests")
    # SIGTERM unwinds like Ctrl-C, so the ExitStack still stops gunicorn and drops the databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    loads = [os.getloadavg()[0]]
    with ExitStack() as stack:
        log("making real signatures, a DOCX and the password hash")
        material = make_material(CA_SECRET)
        scales = [
            serve_scale("small", SMALL_CLUSTERS, args, stack, material),
            serve_scale("full", args.full_clusters, args, stack, material),
        ]
        loads.append(os.getloadavg()[0])
        writer = start_writes(scales[1].url, args.writes_per_s)
        measure(scales, args)
        if writer is not None:
            scales[1].result["writes_elsewhere"] = stop_writes(writer)
        loads.append(os.getloadavg()[0])
        small, full = (scale.result for scale in scales)
    out = {
        "inbox_p95_ms": full["inbox_p95_ms"],
        "document_p95_ms": full["document_p95_ms"],
        "archive_p95_ms": full["archive_p95_ms"],
        "api_p95_ms": full["api_p95_ms"],
        "bare_p95_ms": full["bare_p95_ms"],
        "inbox_p95_ms_small": small["inbox_p95_ms"],
        "queries_per_page": full["queries"],
        "queries_per_page_uncached": full["uncached"],
        "requests_per_s": full["requests_per_s"],
        "small": {k: v for k, v in small.items() if k != "seed_s"},
        "page_cache": not args.no_page_cache,
        "writes_elsewhere": full.get("writes_elsewhere", 0),
        "seed_s": {"full": full["seed_s"], "small": small["seed_s"]},
        "load_average": [round(x, 2) for x in loads],
        "gunicorn": {
            "workers": args.workers,
            "threads": args.threads,
            "class": "gthread" if args.threads > 1 else "sync",
        },
        "clients": args.clients,
        "requests_per_client": args.requests,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
