"""The one canonical JSON: the audit chain's event hashes must never change (databases hold
chains written before signing.archive.canonical existed), and the manifest uses it too."""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signing.archive.canonical import canonical_json, pretty_json
from signing.audit import GENESIS, event_hash
from signing.errors import FormatError

# Hashes computed with signing/audit.py as it was at 594e3c1, before the split.
EVENTS = [
    (
        {
            "seq": 1,
            "at": "2026-11-24T08:00:00Z",
            "action": "create",
            "document_id": 7,
            "actor": "vphu-md-drafter",
            "from_state": None,
            "to_state": "draft",
            "data": {"title": "GIAO ƯỚC THI ĐUA NĂM 2026", "version": 1},
            "prev_hash": GENESIS,
            "doc_prev_hash": GENESIS,
            "id": 5,
            "hash": "x",
        },
        "a542898a6a3b5474b2c68e853196e3481d5864d1b28cd1b465798ebc87d9659a",
    ),
    (
        {
            "seq": 2,
            "at": "2026-11-24T08:01:00Z",
            "action": "sign",
            "document_id": 7,
            "actor": "a",
            "from_state": "signing",
            "to_state": "signing",
            "data": {
                "unit": unicodedata.normalize("NFD", "Ứng Hòa"),
                "score": 9.5,
                "list": [1, 2.25, None, True, {"k": "v"}],
                "neg": -3,
            },
            "prev_hash": "a" * 64,
            "doc_prev_hash": None,
        },
        "7d1bfa43132349c36759bb3c673ee3d4375d1b6f675521934f699e6fac008be2",
    ),
    (
        {
            "seq": 3,
            "at": "2026-11-24T08:02:00Z",
            "action": "approve",
            "document_id": None,
            "actor": None,
            "from_state": "submitted",
            "to_state": "approved",
            "data": {
                "decision": {
                    "board": {"code": "BTDKT", "name": "Ban Thi đua – Khen thưởng"},
                    "number": "15/QĐ",
                    "date": "2026-11-24",
                },
                "big": 10**20,
                "e": 1e-7,
                "esc": 'a"b\\c\n\u0001',
            },
            "prev_hash": "b" * 64,
            "doc_prev_hash": "c" * 64,
        },
        "25e2a5de9e6f5dd4aa9ea3eaa0287c1a052d1545eb1f6842d25ac773039e8ead",
    ),
]


@pytest.mark.parametrize(("fields", "expected"), EVENTS)
def test_audit_event_hashes_are_those_of_before_the_split(fields, expected) -> None:
    assert event_hash(fields) == expected


# The canonical form of signing/audit.py at 594e3c1, kept as the reference.
def _old_normalise(value: Any, path: str) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if value is None or type(value) is int or type(value) is bool:
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise FormatError("key")
            out[unicodedata.normalize("NFC", key)] = _old_normalise(item, path)
        return out
    if isinstance(value, list | tuple):
        return [_old_normalise(item, path) for item in value]
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FormatError("nan")
        return value
    raise FormatError("type")


def _old_event_hash(fields: Mapping[str, Any]) -> str:
    data = {k: v for k, v in _old_normalise(fields, "").items() if k not in ("hash", "id")}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | _TEXT
    | st.floats(allow_nan=False, allow_infinity=False)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


def _nfc_distinct_keys(value: Any) -> bool:
    """Whether no mapping has two keys equal after NFC (the old form kept the last one;
    the canonical form refuses them, and no writer ever produced such keys)."""
    if isinstance(value, dict):
        keys = [unicodedata.normalize("NFC", k) for k in value]
        return len(set(keys)) == len(keys) and all(_nfc_distinct_keys(v) for v in value.values())
    if isinstance(value, list):
        return all(_nfc_distinct_keys(v) for v in value)
    return True


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_TEXT, _VALUES, max_size=6))
def test_event_hash_equals_the_old_form_on_any_event(fields) -> None:
    if not _nfc_distinct_keys(fields):
        with pytest.raises(FormatError):
            event_hash(fields)
        return
    assert event_hash(fields) == _old_event_hash(fields)


def test_manifest_and_audit_share_the_form() -> None:
    value = {"b": [1, 2.5, None], "a": unicodedata.normalize("NFD", "Mỹ Đức")}
    assert canonical_json(value) == '{"a":"Mỹ Đức","b":[1,2.5,null]}'.encode()
    assert hashlib.sha256(canonical_json(value)).hexdigest() == event_hash(value)
    at = datetime(2018, 4, 10, 10, 0, tzinfo=UTC)
    assert canonical_json({"at": at, "d": date(2018, 4, 10)}) == (
        b'{"at":"2018-04-10T10:00:00Z","d":"2018-04-10"}'
    )
    assert pretty_json({"b": 1, "a": 2}) == b'{\n  "a": 2,\n  "b": 1\n}\n'
    with pytest.raises(FormatError):
        canonical_json({"x": float("nan")})
