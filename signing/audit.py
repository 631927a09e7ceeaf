"""Hash chain of audit events: one canonical form shared by the writer (workflow) and the
offline checker (bundle verifier), so a chain written today verifies years later.

Each event's hash is SHA-256 over the canonical JSON of its fields. The fields include
``prev_hash`` (the previous event of the global chain) and ``doc_prev_hash`` (the previous
event of the same document), never ``hash`` itself. ``id`` is not covered either: it is
a storage key (often assigned by the database after the hash is computed), and the order of
events is already pinned by the links, so leaving it out lets writer and checker agree
whether or not they pass it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from signing._util import sha256_hex
from signing.archive.canonical import canonical_json as _canonical
from signing.errors import FormatError
from signing.validation.status import IntactCheck

GENESIS = "0" * 64
LINKS = ("prev_hash", "doc_prev_hash")
# Keys that are stored next to an event but are not part of what its hash covers.
_EXCLUDED = frozenset({"hash", "id"})


def _is_mapping(value: Any) -> bool:
    # A plain dict (what JSON gives) first: the abstract-class check costs several times more.
    return type(value) is dict or isinstance(value, Mapping)


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    """The archive's one canonical JSON (signing.archive.canonical) of an event's hashed
    fields: every key but ``hash`` and ``id``."""
    if not _is_mapping(fields):
        raise FormatError("audit event must be a mapping")
    return _canonical({k: v for k, v in fields.items() if k not in _EXCLUDED})


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``fields`` (``hash`` and ``id`` keys are ignored)."""
    return sha256_hex(canonical_json(fields))


@dataclass(frozen=True)
class ChainReport(IntactCheck):
    """Whether a sequence of events is an unbroken hash chain; where it breaks, and why."""

    ok: bool
    broken_index: int | None = None
    broken_id: Any = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "indication": str(self.indication),
            "broken_index": self.broken_index,
            "broken_id": self.broken_id,
            "reason": self.reason,
        }


def verify_chain(
    events: Sequence[Mapping[str, Any]], *, link: str = "prev_hash", start: str = GENESIS
) -> ChainReport:
    """Check that every event's hash matches its fields and that ``link`` points at the event
    before it (GENESIS for the first). Returns the first broken event: an edited event fails
    its own hash, a deleted or reordered one breaks the link of the event after the gap.

    For ``link="doc_prev_hash"`` pass one document's events in order; the segment must start
    at GENESIS (the document's first event). ``start`` lets a caller check a later slice of
    the global chain by giving the hash of the event just before it.
    """
    if link not in LINKS:
        raise ValueError(f"link must be one of {LINKS}, not {link!r}")
    previous = start
    for index, event in enumerate(events):
        if not _is_mapping(event):
            return ChainReport(False, index, None, "sự kiện không phải là một đối tượng")
        event_id = event.get("id")
        stored = event.get("hash")
        if not isinstance(stored, str):
            return ChainReport(False, index, event_id, "sự kiện thiếu mã băm (hash)")
        try:
            computed = event_hash(event)
        except FormatError as exc:
            return ChainReport(False, index, event_id, f"sự kiện không hợp lệ: {exc}")
        if computed != stored:
            return ChainReport(
                False, index, event_id, "mã băm không khớp nội dung: sự kiện đã bị sửa"
            )
        if event.get(link) != previous:
            return ChainReport(
                False,
                index,
                event_id,
                f"liên kết {link} không trỏ tới sự kiện liền trước: "
                "chuỗi bị xóa, chèn hoặc đảo thứ tự",
            )
        previous = stored
    return ChainReport(True)
