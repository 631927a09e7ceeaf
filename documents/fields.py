"""What every content class is built from: the REQUIRED marker and the field checks shared
by the pledge, the nomination and the parties that sign them. Each check takes the field's
path, so that a refusal names the input that caused it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from documents.errors import DocumentError
from documents.profiles import PROFILES
from documents.text import SHORT, clean_choice, clean_int, clean_lines, clean_text

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# Authority prefixes in their Party spelling; the State profile prints "TM.", "KT.", ...
AUTHORITIES = ("T/M", "K/T", "T/L", "T/U", "Q.", "")
MAX_UNITS = 40
MAX_NOMINEES = 100
MAX_POINTS = 1000
_CODE = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{0,30}[A-Z0-9])?")
# Symbols such as "GU/CTĐ4", "TTr/CTĐ4", "TTr-BTĐKT": letters, digits, "/", "-", "." only.
_SYMBOL = re.compile(r"[^\W_](?:[\w./-]{0,38}[^\W_])?")


MISSING_FIELD = "thiếu trường bắt buộc"


class _Required:
    """The default of every field a caller must give. A dataclass with only defaults lets
    ``PledgeContent()`` reach ``__post_init__``, which reports the first missing field as
    ``DocumentError(field, MISSING_FIELD)``, the error ``content_from_dict`` raises for a
    missing key, instead of Python's TypeError that names no field a form can show."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


def require_fields(obj: DataclassInstance) -> None:
    """Raise DocumentError for the first field of ``obj`` left at REQUIRED."""
    for f in dataclasses.fields(obj):
        if getattr(obj, f.name) is REQUIRED:
            raise DocumentError(f.name, MISSING_FIELD)


def set_field(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def clean_recipients(value: Any) -> tuple[str, ...]:
    """The "Nơi nhận" list, the same rules for every document kind."""
    return clean_lines(
        value, "recipients", required=False, max_len=SHORT, max_items=20, strip_end=";.,"
    )


def nested(value: Any, cls: type, field: str) -> Any:
    """A nested field must already be an instance (dicts go through ``content_from_dict``)."""
    if isinstance(value, cls):
        return value
    raise DocumentError(field, f"phải là {cls.__name__}")


def nested_tuple(value: Any, cls: type, field: str, *, max_items: int) -> tuple[Any, ...]:
    if value is None or isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        raise DocumentError(field, "phải là danh sách")
    items = list(value)
    if len(items) > max_items:
        raise DocumentError(field, f"quá nhiều mục ({len(items)}, tối đa {max_items})")
    return tuple(nested(item, cls, f"{field}[{i}]") for i, item in enumerate(items))


def clean_code(value: Any, field: str) -> str:
    text = clean_text(value, field, max_len=32)
    if not _CODE.fullmatch(text):
        raise DocumentError(field, "mã đơn vị chỉ gồm chữ in hoa A–Z, chữ số và dấu '-'")
    return text


def clean_symbol(value: Any, field: str) -> str:
    text = clean_text(value, field, max_len=40)
    if not _SYMBOL.fullmatch(text):
        raise DocumentError(field, "ký hiệu chỉ gồm chữ, số, '/', '-' và '.', không có dấu cách")
    return text


def check_deputy(authority: str, signer_title: str, field: str) -> None:
    # "K/T" means a deputy signs for the head ("K/T CHÁNH VĂN PHÒNG / PHÓ CHÁNH VĂN PHÒNG").
    if authority == "K/T" and not signer_title.casefold().startswith("phó "):
        raise DocumentError(
            field, "K/T (ký thay) chỉ dùng khi cấp phó ký: chức danh phải bắt đầu bằng 'Phó'"
        )


def clean_signer(obj: Any, authority_field: str = "signer_authority") -> None:
    """The signer of ``obj``: ``signer_title``, ``signer_name`` and the authority under which
    they sign ("" for a head, "K/T" for a deputy, "T/M" for a collective body)."""
    set_field(obj, "signer_title", clean_text(obj.signer_title, "signer_title", max_len=80))
    set_field(obj, "signer_name", clean_text(obj.signer_name, "signer_name", max_len=80))
    raw = clean_text(getattr(obj, authority_field), authority_field, required=False, max_len=8)
    set_field(obj, authority_field, clean_choice(raw, authority_field, AUTHORITIES))
    check_deputy(getattr(obj, authority_field), obj.signer_title, authority_field)


def clean_year(value: Any, field: str = "year") -> int:
    return clean_int(value, field, lo=1990, hi=2100)


def check_profile(value: Any) -> str:
    return clean_choice(value, "profile", sorted(PROFILES))
