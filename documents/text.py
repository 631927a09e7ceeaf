"""Cleaning of user-typed values: NFC, no control characters, sane lengths.

Every string that reaches a document passes through :func:`clean_text`, so the renderer can
trust that text is NFC, single-line and short enough to lay out.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from documents.errors import DocumentError

SHORT = 200  # names, titles, places
LONG = 2000  # one paragraph of body text
MAX_ITEMS = 60  # paragraphs / list entries in one field

# C0/C1 controls, line/paragraph separators, surrogates and non-characters.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
# Characters that print as nothing or reorder what is around them: zero-width spaces and
# joiners, the soft hyphen, word joiners, BOM, bidi marks, embeddings, overrides and isolates.
# A name that holds one reads differently from the stored text ("Mỹ\u200bĐức" prints as
# "MỹĐức", and an override can make a unit's name read backwards), so no field may hold one.
INVISIBLE = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_BAD_CATEGORIES = frozenset({"Cn", "Co", "Cs"})


def clean_text(value: Any, field: str, *, required: bool = True, max_len: int = SHORT) -> str:
    """Return ``value`` NFC-normalised with whitespace collapsed; raise DocumentError if unfit."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DocumentError(field, "phải là chuỗi ký tự")
    if len(value) > 4 * max_len + 64:  # refuse megabytes before normalising them
        raise DocumentError(field, f"quá dài ({len(value)} ký tự, tối đa {max_len})")
    text = unicodedata.normalize("NFC", value)
    bad = _FORBIDDEN.search(text)
    if bad:
        raise DocumentError(field, f"chứa ký tự điều khiển không hợp lệ (U+{ord(bad.group()):04X})")
    hidden = _INVISIBLE.search(text)
    if hidden:
        raise DocumentError(
            field,
            f"chứa ký tự vô hình hoặc ký tự đổi chiều chữ (U+{ord(hidden.group()):04X}) "
            f"ở vị trí {hidden.start() + 1}: hãy xóa ký tự này",
        )
    if not text.isascii():
        for ch in text:
            if ord(ch) > 0x7F and unicodedata.category(ch) in _BAD_CATEGORIES:
                raise DocumentError(field, f"chứa ký tự không hợp lệ (U+{ord(ch):04X})")
    text = " ".join(text.split())
    if required and not text:
        raise DocumentError(field, "không được để trống")
    if len(text) > max_len:
        raise DocumentError(field, f"quá dài ({len(text)} ký tự, tối đa {max_len})")
    return text


def clean_lines(
    value: Any,
    field: str,
    *,
    required: bool = True,
    max_len: int = LONG,
    max_items: int = MAX_ITEMS,
    strip_end: str = "",
) -> tuple[str, ...]:
    """A list of paragraphs or list entries; each one cleaned, empty entries rejected."""
    if value is None:
        value = ()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise DocumentError(field, "phải là danh sách")
    items = list(value)
    if required and not items:
        raise DocumentError(field, "cần ít nhất một mục")
    if len(items) > max_items:
        raise DocumentError(field, f"quá nhiều mục ({len(items)}, tối đa {max_items})")
    out = []
    for i, item in enumerate(items):
        text = clean_text(item, f"{field}[{i}]", max_len=max_len)
        if strip_end:
            text = text.rstrip(strip_end + " ")
            if not text:
                raise DocumentError(f"{field}[{i}]", "không được để trống")
        out.append(text)
    return tuple(out)


def clean_int(value: Any, field: str, *, lo: int, hi: int) -> int:
    """An integer in [lo, hi]; decimal strings from form fields are accepted."""
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,9}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DocumentError(field, "phải là số nguyên")
    if not lo <= value <= hi:
        raise DocumentError(field, f"phải nằm trong khoảng {lo}–{hi}")
    return value


def clean_optional_int(value: Any, field: str, *, lo: int, hi: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return clean_int(value, field, lo=lo, hi=hi)


def clean_score(value: Any, field: str, *, hi: float = 1000.0) -> float:
    """A score with at most two decimals; "108,5" (Vietnamese decimal comma) is accepted."""
    if isinstance(value, str):
        raw = value.strip().replace(",", ".")
        if not re.fullmatch(r"\d{1,4}(\.\d{1,2})?", raw):
            raise DocumentError(field, "phải là số điểm, tối đa hai chữ số thập phân")
        value = float(raw)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DocumentError(field, "phải là số")
    score = float(value)
    if score != score or not 0 <= score <= hi:
        raise DocumentError(field, f"phải nằm trong khoảng 0–{hi:g}")
    if round(score, 2) != score:
        raise DocumentError(field, "tối đa hai chữ số thập phân")
    return score


def clean_date(value: Any, field: str) -> dt.date:
    """A calendar date; ISO strings ("2018-03-31") from JSON and forms are accepted."""
    if isinstance(value, dt.datetime):
        raise DocumentError(field, "phải là ngày (không kèm giờ)")
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise DocumentError(field, "ngày không hợp lệ (định dạng YYYY-MM-DD)") from None
    if not isinstance(value, dt.date):
        raise DocumentError(field, "phải là ngày")
    return value


def clean_choice(value: Any, field: str, choices: Iterable[str]) -> str:
    allowed = tuple(choices)
    if not isinstance(value, str) or value not in allowed:
        raise DocumentError(field, "phải là một trong: " + ", ".join(repr(c) for c in allowed))
    return value


def clean_time(value: Any, field: str, *, required: bool = True) -> str | None:
    """A clock time "HH:MM" (24 h)."""
    if value is None or value == "":
        if required:
            raise DocumentError(field, "không được để trống")
        return None
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
        raise DocumentError(field, "giờ không hợp lệ (định dạng HH:MM)")
    return value.strip()
