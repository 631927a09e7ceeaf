"""Integers from URLs and query strings that reach the database.

Ids and years are stored in 32-bit integer columns; PostgreSQL refuses a larger value with an
error (a 500), SQLite silently accepts it. Out-of-range numbers are treated as what they are:
no such row.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from workflow.db import MAX_INT4 as MAX_DB_INT


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that matches only values a 32-bit column can hold (else the route 404s)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(url_map, *args, **kwargs)


def db_int(value: str) -> int:
    """``type=`` for ``request.args.get``: a value a 32-bit column can hold, else ValueError
    (which Flask turns into the default, as for any non-number)."""
    number = int(value)
    if not -MAX_DB_INT - 1 <= number <= MAX_DB_INT:
        raise ValueError(f"{value!r} is out of range")
    return number
