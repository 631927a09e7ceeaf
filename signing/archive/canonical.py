"""The one canonical JSON of thidua: what the audit chain hashes and what the board signs.

Writing: sorted keys, no insignificant spaces, non-ASCII kept as UTF-8, every string (keys
too) in NFC, no NaN or infinities; datetimes as ISO 8601 UTC (``...Z``), dates as ISO dates.
The audit chain's event hashes are SHA-256 over this text, so its bytes must never change:
databases hold chains written years ago (tests/signing/test_canonical.py pins them).

Reading: ``strict_json`` accepts JSON as RFC 8259 means it (UTF-8, no duplicate keys, no
NaN/Infinity) with bounded nesting; bundles come from anyone.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from math import isfinite
from typing import Any

from signing.errors import BundleError, FormatError

__all__ = [
    "MAX_JSON_DEPTH",
    "canonical_json",
    "iso_utc",
    "normalise",
    "pretty_json",
    "strict_json",
    "strict_json_text",
]

MAX_JSON_DEPTH = 64


def _is_mapping(value: Any) -> bool:
    # A plain dict (what JSON gives) first: the abstract-class check costs several times more.
    return type(value) is dict or isinstance(value, Mapping)


def normalise(value: Any, path: str = "") -> Any:
    """A plain JSON value equal in meaning to ``value``, strings NFC. Raises FormatError
    (naming the field's path) for what JSON cannot carry."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    # Exact built-in scalars first: they are most values, and the Mapping check below is an
    # abstract-class check, slow next to these (none of them can be a Mapping).
    if value is None or type(value) is int or type(value) is bool:
        return value
    if _is_mapping(value):
        return _normalise_mapping(value, path)
    if isinstance(value, list | tuple):
        return [normalise(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        # Python prints finite floats as the shortest repr that round-trips, so the text is
        # stable; NaN and infinities are not JSON at all.
        if not isfinite(value):
            raise FormatError(f"field {path or '<root>'}: {value!r} is not a JSON number")
        return value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    raise FormatError(f"field {path or '<root>'}: unsupported type {type(value).__name__}")


def _normalise_mapping(value: Mapping[Any, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise FormatError(f"field {path or '<root>'}: key {key!r} is not text")
        norm_key = unicodedata.normalize("NFC", key)
        if norm_key in out:
            # Two spellings of one key: which value a reader keeps would be anyone's guess.
            raise FormatError(f"field {path or '<root>'}: key {norm_key!r} twice after NFC")
        # Scalar values (most of an event) inline: a call and a path string each is most of
        # the cost of hashing an event.
        if type(item) is str:
            out[norm_key] = unicodedata.normalize("NFC", item)
        elif item is None or type(item) is int or type(item) is bool:
            out[norm_key] = item
        else:
            out[norm_key] = normalise(item, f"{path}.{norm_key}" if path else norm_key)
    return out


# One encoder for every call: json.dumps builds a new one per call with these options.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    """Canonical UTF-8 JSON of ``value`` (see the module text). Raises FormatError."""
    return _ENCODER.encode(normalise(value)).encode("utf-8")


def pretty_json(value: Any) -> bytes:
    """Readable JSON for files people open in an archive (still deterministic)."""
    text = json.dumps(
        normalise(value), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode("utf-8")


def iso_utc(moment: datetime) -> str:
    """``moment`` as ISO 8601 in UTC with a ``Z``; a naive datetime is taken as UTC."""
    if not isinstance(moment, datetime):
        raise FormatError(f"cần một datetime, không phải {type(moment).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    except OverflowError:
        raise FormatError(f"thời điểm {moment!r} nằm ngoài phạm vi biểu diễn được") from None


# -- reading -----------------------------------------------------------------------------


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # dict() in C, then a length comparison: the Python loop runs only to name a duplicate.
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise BundleError(f"khóa JSON bị lặp: {key!r}")
            seen.add(key)
    return out


def _reject_constant(name: str) -> Any:
    raise BundleError(f"JSON chứa hằng số không chuẩn {name}")


# One decoder for every bundle: building a JSONDecoder per document shows up in bulk runs.
_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)


def strict_json(raw: bytes, what: str) -> Any:
    """JSON as RFC 8259 means it: UTF-8, no duplicate keys (two readers could pick different
    values), no NaN/Infinity, bounded nesting. Raises BundleError naming ``what``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{what} không phải UTF-8: {exc}") from None
    # Nesting deeper than the limit needs more opening brackets than the limit; a text with
    # fewer (counted in C, strings included) cannot be too deep, so the walk is skipped.
    deep = raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH
    return strict_json_text(text, what, check_depth=deep)


def strict_json_text(text: str, what: str, *, check_depth: bool = True) -> Any:
    try:
        value = _DECODER.decode(text)
    except BundleError as exc:
        raise BundleError(f"{what}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise BundleError(f"{what} không phải JSON hợp lệ: {exc}") from None
    if check_depth:
        _check_depth(value, what)
    return value


def _check_depth(value: Any, what: str) -> None:
    """Refuse deeply nested JSON: later recursive code (comparisons, re-encoding for the
    report) would otherwise hit Python's recursion limit."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BundleError(f"{what}: JSON lồng quá sâu")
        if isinstance(item, dict | list):
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
