"""The audit step of bundle verification: data/audit.jsonl is this document's unbroken hash
chain, ending with the approval event whose hash the board signed (``audit_head``)."""

from __future__ import annotations

from typing import Any

# The module, not its names: signing.audit imports signing.archive.canonical, so this
# package may be mid-import when signing.audit is.
from signing import audit as audit_chain
from signing.archive.canonical import strict_json_text
from signing.archive.manifest import APPROVAL_ACTION
from signing.archive.report import AuditResult
from signing.archive.run import Run
from signing.errors import BundleError, SigningError
from signing.validation.status import SubIndication

__all__ = ["check_audit"]

AUDIT_PATH = "data/audit.jsonl"
_MAX_AUDIT_EVENTS = 100_000


def _action(event: Any) -> Any:
    return event.get("action") if isinstance(event, dict) else None


def _json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | bool)


def audit_tail_problem(events: list[Any], doc_id: str | None, head: str | None) -> str | None:
    """Why the (unbroken) segment is not this document's history up to its approval, or
    None. A prefix of a hash chain is itself a valid chain, so the end is checked apart:
    the event the board signed as ``audit_head`` must be the segment's last, and be this
    document's approval. The ``archive`` event the workflow writes afterwards records the
    bundle's own hash, so it cannot be inside the bundle: nothing may follow the head."""
    if head is None:
        return "bản kê phê duyệt không ghi sự kiện cuối (audit_head) mà Ban đã ký"
    index = next(
        (
            i
            for i in range(len(events) - 1, -1, -1)
            if isinstance(events[i], dict) and events[i].get("hash") == head
        ),
        None,
    )
    if index is None:
        return f"thiếu sự kiện phê duyệt mà Ban đã ký trong bản kê (audit_head {head[:16]}…)"
    tail = events[index + 1 :]
    if tail:
        shown = ", ".join(str(_action(event)) for event in tail)
        return f"sau sự kiện phê duyệt mà Ban đã ký (audit_head) còn sự kiện: {shown}"
    last = events[index]
    if _action(last) != APPROVAL_ACTION:
        return f"sự kiện Ban đã ký (audit_head) là {_action(last)!r}, không phải phê duyệt"
    if "document_id" in last and str(last["document_id"]) != doc_id:
        return f"sự kiện phê duyệt thuộc tài liệu khác ({last['document_id']!r})"
    return None


def _read_events(run: Run, raw: bytes) -> list[Any] | AuditResult:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return AuditResult(False, 0, reason="audit.jsonl không phải UTF-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > _MAX_AUDIT_EVENTS:
        return AuditResult(False, len(lines), reason="audit.jsonl có quá nhiều dòng")
    events: list[Any] = []
    for index, line in enumerate(lines):
        try:
            # No depth limit here: verify_chain's recursion errors are caught below and
            # only scalars of an event reach the report.
            where = f"audit.jsonl dòng {index + 1}"
            events.append(strict_json_text(line, where, check_depth=False))
        except BundleError as exc:
            return AuditResult(
                False,
                len(lines),
                broken_index=index,
                reason=f"nhật ký kiểm toán hỏng ở dòng {index + 1}: {exc}",
            )
    if not events:
        return AuditResult(False, 0, reason="nhật ký kiểm toán (audit.jsonl) rỗng")
    return events


def check_audit(run: Run, doc_id: str | None, head: str | None) -> AuditResult:
    """The audit segment's result; a failure is also a problem naming data/audit.jsonl."""
    raw = run.files.get(AUDIT_PATH)
    if raw is None:
        return AuditResult(False, 0, reason="thiếu data/audit.jsonl")
    events = _read_events(run, raw)
    if isinstance(events, AuditResult):
        run.fail("audit", events.reason or "", path=AUDIT_PATH)
        return events
    try:
        chain = audit_chain.verify_chain(events, link="doc_prev_hash")
    except (SigningError, ValueError, TypeError, RecursionError) as exc:
        result = AuditResult(False, len(events), reason=f"không kiểm tra được chuỗi: {exc}")
    else:
        if chain.ok:
            reason = audit_tail_problem(events, doc_id, head)
            if reason is None:
                return AuditResult(True, len(events))
            message = f"nhật ký kiểm toán không đầy đủ: {reason}"
            run.fail("audit", message, SubIndication.HASH_FAILURE, path=AUDIT_PATH)
            return AuditResult(False, len(events), reason=reason)
        broken_id = chain.broken_id if _json_scalar(chain.broken_id) else str(chain.broken_id)
        result = AuditResult(False, len(events), chain.broken_index, broken_id, chain.reason)
    where = "" if result.broken_index is None else f" tại sự kiện thứ {result.broken_index + 1}"
    run.fail(
        "audit",
        f"chuỗi nhật ký kiểm toán bị phá vỡ{where}: {result.reason}",
        SubIndication.HASH_FAILURE,
        path=AUDIT_PATH,
    )
    return result
