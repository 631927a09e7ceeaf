"""Shared steps of every transition use case: fire the machine, audit, resolve units."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.audit import append_event
from workflow.definitions import definition_for, fire_machine
from workflow.models import (
    Document,
    Unit,
    User,
)
from workflow.services._common import (
    acting_unit,
    build_facts,
    check_expected_version,
    flush,
)


def transition(
    session: Session,
    actor: User,
    document: Document,
    trigger: str,
    *,
    now: datetime,
    expected_version: int | None,
    unit_id: int | None = None,
    reason: str | None = None,
    override: bool = False,
    decision_number: str | None = None,
    decision_date: date | None = None,
    data: dict[str, Any] | None = None,
) -> str:
    """Fire ``trigger`` on ``document``; returns the state it left. No side effects here."""
    check_expected_version(document, expected_version)
    definition = definition_for(document.kind, document.definition_version)
    facts = build_facts(
        session,
        actor,
        document,
        unit_id=unit_id,
        reason=reason,
        override=override,
        decision_number=decision_number,
        decision_date=decision_date,
    )
    source = document.state
    fire_machine(definition, document, trigger, facts)
    if document.state != source:
        document.updated_at = now
    return source


def audit(
    session: Session,
    actor: User,
    document: Document,
    trigger: str,
    source: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    flush(session)
    append_event(
        session,
        action=trigger,
        actor=actor,
        now=now,
        document=document,
        from_state=source,
        to_state=document.state,
        data=data or {},
    )


def member_unit(
    session: Session, actor: User, document: Document, unit_code: str | None
) -> int | None:
    members = {m.unit_id for m in document.term.memberships}
    return acting_unit(session, actor, members, "signer", unit_code)


def unit_code(session: Session, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    return unit.code if unit else None
