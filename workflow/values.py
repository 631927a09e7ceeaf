"""Value helpers shared by the engine and the web layer: the one SHA-256 hex digest and the
one reader of calendar dates sent by forms and JSON. A leaf: it imports only the errors."""

from __future__ import annotations

import re
from datetime import date, datetime

from signing import sha256_hex
from workflow.errors import ValidationError

__all__ = ["parse_date", "sha256_hex"]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: object, *, field: str = "decision_date") -> date | None:
    """A calendar date from a date, a datetime or ISO text (YYYY-MM-DD); None when empty.

    Anything else is a ``ValidationError`` naming ``field``: forms send text, and a
    date such as 28/12/2018 must be refused rather than guessed.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:  # 2018-02-30
            pass
    raise ValidationError("Ngày phải có dạng YYYY-MM-DD (ví dụ 2018-12-28).", field=field)
