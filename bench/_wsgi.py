"""The WSGI entry point of ``bench/web.py``: the real app, plus a bare Flask page.

``/__bare`` goes to a one-route Flask app served by the same gunicorn workers, so its p95 is
the in-run floor (HTTP, gunicorn, Flask dispatch) that the real pages are compared with.
Everything else goes to ``web.create_app()`` exactly as deployed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from web import create_app

bare = Flask("bare")


@bare.get("/__bare")
def bare_page() -> str:
    return "<!doctype html><title>bare</title><p>ok</p>"


app = create_app()


def application(environ: dict[str, Any], start_response: Any) -> Any:
    if environ.get("PATH_INFO") == "/__bare":
        return bare(environ, start_response)
    return app(environ, start_response)
