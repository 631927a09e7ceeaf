"""The loser of a race on a document: what it is told.

Two triggers that race on one document (approve and return, sign and decline, two
approves...) are serialised by the document's row: the lock of the triggers that lock it, or
the optimistic version check of the UPDATE for the others. The loser then finds the document
in a state its trigger does not leave from, or a version it did not read. Either way it gets
a ``ConflictError`` (409) that says what the document's state is now, which action moved it
and when, so that nobody has to guess why the button they pressed did nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from workflow.definitions import STATE_LABELS
from workflow.errors import ConflictError, InvalidTransition, WorkflowError
from workflow.models import AuditEvent, Document

CODE = "state_changed"


def lost_race(
    session: Session, document_id: int, trigger: str, seen: str, refusal: WorkflowError
) -> WorkflowError | None:
    """What to raise instead of ``refusal`` for a request that loaded the document in state
    ``seen``: a ``state_changed`` conflict when another request moved it meanwhile; the
    refusal itself, told when and by what the document reached its state, when the trigger
    does not leave from it; None when there is nothing to add."""
    try:
        found = _latest(session, document_id)
    except InvalidRequestError:
        # The lost race failed a flush (the optimistic version check): this transaction is
        # over, and a new one sees the winner's commit.
        session.rollback()
        found = _latest(session, document_id)
    if found is None:
        return None
    state, event = found
    if event is None:  # never moved since it was created: nothing to tell
        return None
    label = STATE_LABELS.get(state, state)
    moved = {"changed_at": event.at, "changed_by": event.actor, "action": event.action}
    how = f"lúc {event.at} (thao tác «{event.action}» của {event.actor or 'hệ thống'})"
    if state != seen:
        return ConflictError(
            f"Văn bản đã chuyển sang trạng thái «{label}» {how}; "
            f"không thể thực hiện «{trigger}» nữa. Hãy tải lại văn bản.",
            code=CODE,
            trigger=trigger,
            state=state,
            **moved,
        )
    if isinstance(refusal, InvalidTransition):
        # Not a race (the request came after the move), but the same question: since when?
        refusal.details.update(moved)
        refusal.message = f"{refusal.message} Văn bản ở trạng thái «{label}» từ {how}."
        return refusal
    return None


def _latest(session: Session, document_id: int) -> tuple[str, AuditEvent | None] | None:
    """The document's committed state and the last event that moved it."""
    state = session.scalar(
        select(Document.state)
        .where(Document.id == document_id)
        .execution_options(populate_existing=True)
    )
    if state is None:
        return None
    event = session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.document_id == document_id,
            AuditEvent.from_state != AuditEvent.to_state,
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    return state, event
