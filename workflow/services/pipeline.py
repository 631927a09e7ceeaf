"""The one path every trigger takes, in named steps:

    load → read inputs → replay? → check version → guards → [prepare] → [lock → re-check]
         → effect → transition → audit → [the system trigger that follows]

A trigger supplies its ``Steps``: how it reads its inputs and the unit it acts for, the
costly work it does before taking the lock (unsealing a key, signing), whether it locks the
document row, what it records (its effect, which returns the audit data), and the system
trigger that follows in the same transaction (approve → archive). The checks, the firing of
the definition's machine and the audit event are the same for all.

Checking comes before any work: a refused request costs no key unsealing and no rendering.
When a trigger locks the document (joins, voids), the version and the guards are checked
again under the lock, on the reloaded row: the lock serialises writers, the re-check enforces
the edge (workflow.md, 4.5). The machine fires last, with the facts the guards passed, so a
trigger that gets this far moves; effects run before it, in the state the guards saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.audit import append_event
from workflow.clock import aware
from workflow.definitions import (
    Definition,
    Facts,
    check_trigger,
    content_complete,
    definition_for,
    evaluate,
    fire_machine,
)
from workflow.errors import ConflictError, InvalidTransition, WorkflowError
from workflow.inputs import TriggerInputs
from workflow.models import Document, Unit, User
from workflow.services import races
from workflow.services._common import (
    acting_unit,
    build_facts,
    check_expected_version,
    current_actor,
    flush,
    load_document,
    lock_document,
    optional_reason,
)


@dataclass(frozen=True)
class Settings:
    """What the deployment, not the request, gives a trigger."""

    ca_secret: bytes | None = None  # opens the CA key (approve issues the bundle's CRL)
    public_url: str | None = None  # printed in the frozen DOCX's verification link
    # Freezing also makes each document's certified PDF (LibreOffice; needs ca_secret).
    signed_pdf: bool = False


@dataclass
class Attempt:
    """One request to fire a trigger, as it goes down the pipeline."""

    session: Session
    actor: User | None  # None: the engine itself (the sweeper)
    document: Document
    definition: Definition
    trigger: str
    inputs: TriggerInputs
    settings: Settings
    now: datetime
    unit_id: int | None = None  # the unit the actor acts for (signers, reviewers)
    reason: str | None = None  # the cleaned reason, when the trigger takes one
    facts: Facts | None = None
    source: str = ""  # the state the transition left
    work: dict[str, Any] = field(default_factory=dict)  # what prepare made, for the effect
    result: Any = None  # what the trigger made (a signature, a comment), else the document
    replayed: bool = False  # an identical earlier request's result was returned

    @property
    def user(self) -> User:
        """The person firing the trigger (every trigger but the engine's own has one)."""
        assert self.actor is not None, self.trigger
        return self.actor


Step = Callable[[Attempt], None]


def _nothing(attempt: Attempt) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Steps:
    """What one trigger adds to the pipeline."""

    read: Step | None = None  # clean the inputs it uses, resolve the acting unit
    replay: Callable[[Attempt], Any] | None = None  # an earlier identical request's result
    prepare: Step | None = None  # costly work before the lock; writes nothing
    locks: bool = False  # serialise with every other writer of the document
    effect: Callable[[Attempt], dict[str, Any]] = _nothing  # records; returns audit data
    then: tuple[str, Steps] | None = None  # a system trigger fired next, same transaction


def run(
    session: Session,
    actor: User,
    document_id: int,
    trigger: str,
    steps: Steps,
    inputs: TriggerInputs | None = None,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Attempt:
    """Fire ``trigger`` through every step; returns the finished attempt (``.document``,
    ``.result``). Raises the ``WorkflowError`` of the first step that refuses."""
    attempt = load(session, actor, document_id, trigger, inputs, settings, now)
    seen, doc_id = attempt.document.state, attempt.document.id
    try:
        _run_steps(attempt, steps)
    except (ConflictError, InvalidTransition) as exc:
        # Refused because another request moved the document since we loaded it: say what
        # happened and when, rather than "not in this state" or "changed by someone".
        told = races.lost_race(session, doc_id, trigger, seen, exc)
        if told is None or told is exc:
            raise
        raise told from exc
    return attempt


def _run_steps(attempt: Attempt, steps: Steps) -> None:
    if steps.read is not None:
        steps.read(attempt)
    if steps.prepare is not None:
        if check(attempt, steps):  # fail fast: a refused request costs no unsealing
            return
        steps.prepare(attempt)
    if steps.locks:
        attempt.document = lock_document(attempt.session, attempt.document)
    if check(attempt, steps):  # under the lock, on the reloaded row, when there is one
        return
    finish(attempt, steps)


def load(
    session: Session,
    actor: User,
    document_id: int,
    trigger: str,
    inputs: TriggerInputs | None,
    settings: Settings | None,
    now: datetime | None,
) -> Attempt:
    """The actor as an active row of this session and the document if they may see it."""
    user = current_actor(session, actor)
    document = load_document(session, user, document_id)
    return Attempt(
        session=session,
        actor=user,
        document=document,
        definition=definition_for(document.kind, document.definition_version),
        trigger=trigger,
        inputs=inputs if inputs is not None else TriggerInputs(),
        settings=settings or Settings(),
        now=aware(now),
    )


def check(attempt: Attempt, steps: Steps) -> bool:
    """Replay, expected version, guards. True when an earlier identical request already did
    the work (its result is then the attempt's); raises the precise refusal otherwise."""
    if _replayed(attempt, steps):
        return True
    try:
        check_expected_version(attempt.document, attempt.inputs.expected_version)
        attempt.facts = facts_for(attempt)
        check_trigger(attempt.definition, attempt.trigger, attempt.facts)
    except WorkflowError:
        # A twin request may have finished between the replay check and the guards (which
        # then see its work): that is this request's result too.
        if _replayed(attempt, steps):
            return True
        raise
    return False


def _replayed(attempt: Attempt, steps: Steps) -> bool:
    if steps.replay is None:
        return False
    earlier = steps.replay(attempt)
    if earlier is None:
        return False
    attempt.result, attempt.replayed = earlier, True
    return True


def facts_for(attempt: Attempt) -> Facts:
    """The guard facts of the attempt; the content is checked only for triggers that
    guard on it (parsing the content is the costly part)."""
    inputs = attempt.inputs
    needs_content = any(
        content_complete in spec.guards for spec in attempt.definition.specs(attempt.trigger)
    )
    return build_facts(
        attempt.session,
        attempt.actor,
        attempt.document,
        unit_id=attempt.unit_id,
        reason=attempt.reason,
        override=inputs.override,
        decision_number=inputs.decision_number,
        decision_date=inputs.decision_date,
        with_content=needs_content,
    )


def finish(attempt: Attempt, steps: Steps) -> None:
    """Effect, transition, audit; then the system trigger that follows, if any."""
    # The effect's rows and the new state reach the database in the same flush (check
    # constraints tie some of them: an archived document has its bundle).
    with attempt.session.no_autoflush:
        data = steps.effect(attempt)
        transition(attempt)
    audit(attempt, data)
    if steps.then is not None:
        trigger, follow = steps.then
        attempt.trigger = trigger
        attempt.facts = facts_for(attempt)
        check_trigger(attempt.definition, trigger, attempt.facts)
        finish(attempt, follow)


def transition(attempt: Attempt) -> None:
    """Fire the machine with the facts the guards passed; the state moves in memory and is
    written by the next flush, with the effect's rows."""
    document = attempt.document
    assert attempt.facts is not None
    attempt.source = document.state
    fire_machine(attempt.definition, document, attempt.trigger, attempt.facts)
    if document.state != attempt.source:
        document.updated_at = attempt.now
    if attempt.result is None:
        attempt.result = document


def run_system(
    session: Session, document: Document, trigger: str, steps: Steps, *, now: datetime
) -> Attempt | None:
    """A trigger the engine fires itself, with no actor and no inputs, on a document the
    caller has locked (the sweeper). None when its guards refuse: nothing to do."""
    attempt = Attempt(
        session=session,
        actor=None,
        document=document,
        definition=definition_for(document.kind, document.definition_version),
        trigger=trigger,
        inputs=TriggerInputs(),
        settings=Settings(),
        now=now,
    )
    attempt.facts = facts_for(attempt)
    if evaluate(attempt.definition, trigger, attempt.facts, inputs=True) is not None:
        return None
    finish(attempt, steps)
    return attempt


def audit(attempt: Attempt, data: dict[str, Any]) -> None:
    flush(attempt.session)
    append_event(
        attempt.session,
        action=attempt.trigger,
        actor=attempt.actor if attempt.actor is not None else "system",
        now=attempt.now,
        document=attempt.document,
        from_state=attempt.source,
        to_state=attempt.document.state,
        data=data,
    )


# --- reading steps shared by several triggers ------------------------------------------------


def read_reason(attempt: Attempt) -> None:
    attempt.reason = optional_reason(attempt.inputs.reason)


def read_member_unit(attempt: Attempt) -> None:
    """The member unit a signer acts for (named, or their only one in the term)."""
    members = {m.unit_id for m in attempt.document.term.memberships}
    attempt.unit_id = acting_unit(
        attempt.session, attempt.user, members, "signer", attempt.inputs.unit_code
    )


def read_member_unit_and_reason(attempt: Attempt) -> None:
    read_member_unit(attempt)
    read_reason(attempt)


def unit_code(session: Session, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    return unit.code if unit else None


def version_number(document: Document) -> int | None:
    version = document.current_version
    return version.number if version else None
