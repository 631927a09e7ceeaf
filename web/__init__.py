"""The Flask application, its CLI and its JSON API.

Production: ``gunicorn "web:create_app()"``. Configuration comes from ``workflow.config``
(instance folder, ``DATABASE_URL``, ``THIDUA_SECRET_KEY``) and can be overridden by the
mapping passed to :func:`create_app` (tests do that).
"""

from __future__ import annotations

from web.app import create_app

__all__ = ["create_app"]
