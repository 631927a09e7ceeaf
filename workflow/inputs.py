"""What a request carries for a trigger, as one typed value the web layer fills from a form
or a JSON body and every trigger reads. A trigger ignores the fields it does not use.

Each field is checked when it is set (also by assignment after construction), so a service
never sees, say, a number where text belongs; an unknown field is refused outright
(``TypeError`` from the constructor, ``AttributeError`` on assignment), never ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow.errors import ValidationError
from workflow.values import parse_date


def _text(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValidationError(f"Trường {field} phải là văn bản.", field=field)


def _version(value: Any, field: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValidationError("Phiên bản văn bản gửi kèm không hợp lệ.", field=field)


def _flag(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(f"Trường {field} phải là đúng/sai.", field=field)


def _der(value: Any, field: str) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise ValidationError("Tệp chữ ký rỗng hoặc không hợp lệ.", field="signature")


def _date(value: Any, field: str) -> date | None:
    return parse_date(value, field=field)


@dataclass(slots=True, kw_only=True)
class TriggerInputs:
    """The inputs of one trigger request; every field is optional."""

    expected_version: int | None = None  # optimistic lock: the version the page showed
    reason: str | None = None  # request_changes, revise, open_signing override, decline...
    unit_code: str | None = None  # the unit the actor acts for, when they hold several
    override: bool = False  # open_signing without every unit's concurrence
    pin: str | None = None  # sign / approve with the server-held key
    signature_der: bytes | None = None  # sign with an uploaded detached CMS
    decision_number: str | None = None  # approve (nominations)
    decision_date: date | None = None
    anchor: str | None = None  # comment
    text: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        check = _CHECKS.get(name)
        object.__setattr__(self, name, check(value, name) if check else value)


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "expected_version": _version,
    "override": _flag,
    "signature_der": _der,
    "decision_date": _date,
    **{name: _text for name in ("reason", "unit_code", "pin", "decision_number", "anchor", "text")},
}
