"""The audit hash chain: canonical hashing and finding the first broken event."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any

import pytest

from signing import Indication, SubIndication
from signing.audit import GENESIS, canonical_json, event_hash, verify_chain
from signing.errors import FormatError


def build_chain(n: int, documents: tuple[str, ...] = ("doc-1", "doc-2")) -> list[dict[str, Any]]:
    """A global chain of n events alternating between documents, each linked both ways."""
    events: list[dict[str, Any]] = []
    prev = GENESIS
    doc_prev: dict[str, str] = {}
    for i in range(n):
        doc = documents[i % len(documents)]
        fields = {
            "id": i + 1,
            "document_id": doc,
            "action": "sign" if i % 3 else "submit_for_review",
            "actor": "vphu-md-signer",
            "unit": "Văn phòng Huyện ủy Mỹ Đức",
            "at": f"2018-03-31T02:{i:02d}:00+00:00",
            "details": {"version": 2, "reason": None, "units": ["VPHU-MD", "VPHU-UH"]},
            "prev_hash": prev,
            "doc_prev_hash": doc_prev.get(doc, GENESIS),
        }
        fields["hash"] = event_hash(fields)
        prev = doc_prev[doc] = fields["hash"]
        events.append(fields)
    return events


def test_event_hash_is_sha256_of_canonical_json() -> None:
    fields = {"b": 1, "a": "Mỹ Đức", "prev_hash": GENESIS, "doc_prev_hash": GENESIS}
    expected_text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(fields) == expected_text.encode("utf-8")
    assert event_hash(fields) == hashlib.sha256(expected_text.encode("utf-8")).hexdigest()


def test_hash_ignores_stored_hash_and_id_but_not_content() -> None:
    fields = {"action": "sign", "prev_hash": GENESIS, "doc_prev_hash": GENESIS}
    base = event_hash(fields)
    assert event_hash({**fields, "hash": "f" * 64, "id": 99}) == base
    assert event_hash({**fields, "action": "decline"}) != base


def test_nfc_and_nfd_text_hash_the_same() -> None:
    nfc = unicodedata.normalize("NFC", "Huyện ủy Ứng Hòa")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert event_hash({"unit": nfc}) == event_hash({"unit": nfd})
    assert event_hash({nfd: 1}) == event_hash({nfc: 1})


def test_non_json_values_are_refused() -> None:
    assert event_hash({"details": {"score": 9.5}}) == event_hash({"details": {"score": 9.50}})
    with pytest.raises(FormatError, match="score"):
        event_hash({"details": {"score": float("nan")}})
    with pytest.raises(FormatError):
        event_hash({"details": {"score": float("inf")}})
    with pytest.raises(FormatError):
        event_hash({"at": object()})
    with pytest.raises(FormatError):
        event_hash({"details": {1: "x"}})


def test_intact_chain_verifies_globally_and_per_document() -> None:
    events = build_chain(9)
    assert verify_chain(events).ok
    for doc in ("doc-1", "doc-2"):
        segment = [e for e in events if e["document_id"] == doc]
        report = verify_chain(segment, link="doc_prev_hash")
        assert report.ok, report
    assert verify_chain([]).ok


def test_edited_event_is_named() -> None:
    events = build_chain(6)
    events[3]["actor"] = "attacker"
    report = verify_chain(events)
    assert (report.ok, report.broken_index, report.broken_id) == (False, 3, 4)
    assert "sửa" in report.reason


def test_deleted_event_breaks_the_next_link() -> None:
    events = build_chain(6)
    del events[2]
    report = verify_chain(events)
    assert (report.ok, report.broken_index, report.broken_id) == (False, 2, 4)


def test_reordered_events_are_detected() -> None:
    events = build_chain(6)
    events[1], events[2] = events[2], events[1]
    report = verify_chain(events)
    assert not report.ok
    assert report.broken_index == 1


def test_rehashed_edit_still_breaks_the_following_link() -> None:
    """An attacker who edits an event and recomputes its hash breaks the next event's link."""
    events = build_chain(5)
    events[2]["actor"] = "attacker"
    events[2]["hash"] = event_hash(events[2])
    report = verify_chain(events)
    assert (report.broken_index, report.broken_id) == (3, 4)


def test_document_segment_detects_a_deleted_event_of_that_document() -> None:
    events = build_chain(8)
    segment = [e for e in events if e["document_id"] == "doc-1"]
    del segment[1]
    report = verify_chain(segment, link="doc_prev_hash")
    assert not report.ok
    assert report.broken_id == segment[1]["id"]
    assert "doc_prev_hash" in report.reason


def test_slice_of_the_global_chain_with_start() -> None:
    events = build_chain(6)
    assert not verify_chain(events[3:]).ok
    assert verify_chain(events[3:], start=events[2]["hash"]).ok


def test_missing_hash_and_bad_events_are_reported_not_raised() -> None:
    events = build_chain(3)
    del events[1]["hash"]
    assert verify_chain(events).broken_index == 1
    report = verify_chain([{"hash": "0" * 64, "details": {"x": float("nan")}}])
    assert not report.ok
    assert report.broken_index == 0
    assert not verify_chain(["not a mapping"]).ok  # type: ignore[list-item]


def test_unknown_link_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="link"):
        verify_chain([], link="parent")


def test_report_to_dict() -> None:
    events = build_chain(2)
    events[0]["action"] = "x"
    assert verify_chain(events).to_dict()["broken_index"] == 0


def test_a_chain_report_carries_its_indication() -> None:
    events = build_chain(3)
    intact = verify_chain(events)
    assert (intact.indication, intact.sub_indication) == (Indication.TOTAL_PASSED, None)
    events[1] = {**events[1], "action": "edited"}
    broken = verify_chain(events)
    assert (broken.indication, broken.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )
    assert broken.to_dict()["indication"] == "TOTAL_FAILED"
