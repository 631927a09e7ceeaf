"""Transitions of a document: the steps of each review trigger, one function per trigger,
and ``fire``, which dispatches by name through one table of handlers.

Every trigger goes down the pipeline of ``workflow.services.pipeline`` (load, read inputs,
check the version and the guards, lock when it joins or voids, effect, transition, audit).
Nothing here commits; the caller's transaction makes it all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import documents
from workflow.config import printed_verify_url, public_url
from workflow.definitions import reference_code as _reference_code
from workflow.definitions import reference_random_part
from workflow.errors import InvalidTransition, ValidationError, WorkflowError
from workflow.inputs import TriggerInputs
from workflow.models import Document, DocumentVersion, ReviewDecision, User
from workflow.pki import load_ca
from workflow.services._common import (
    current_actor,
    live_signatures,
    load_document,
    set_frozen_version,
)
from workflow.services.approval import APPROVE, approve, export_bundle
from workflow.services.drafting import COMMENT, new_version
from workflow.services.freezing import store_rendering
from workflow.services.pipeline import (
    Attempt,
    Settings,
    Steps,
    read_member_unit,
    read_member_unit_and_reason,
    read_reason,
    run,
    unit_code,
    version_number,
)
from workflow.services.signatures import SIGN, sign, sweep
from workflow.tsa import timestamper

__all__ = [
    "HANDLERS",
    "Handler",
    "Settings",
    "TriggerInputs",
    "approve",
    "cancel",
    "concur",
    "decline",
    "export_bundle",
    "fire",
    "open_signing",
    "reference_code",
    "request_changes",
    "return_document",
    "revise",
    "sign",
    "submit",
    "submit_for_review",
    "sweep",
]


# --- review -------------------------------------------------------------------------------


def _submitted_version(attempt: Attempt) -> dict[str, Any]:
    return {"version": version_number(attempt.document)}


def _record_decision(attempt: Attempt) -> dict[str, Any]:
    document, unit_id = attempt.document, attempt.unit_id
    assert unit_id is not None  # is_member_signer passed
    assert document.current_version_id is not None
    attempt.session.add(
        ReviewDecision(
            version_id=document.current_version_id,
            unit_id=unit_id,
            user_id=attempt.user.id,
            decision=attempt.trigger,
            reason=attempt.reason,
            created_at=attempt.now,
        )
    )
    return {
        "unit": unit_code(attempt.session, unit_id),
        "version": version_number(document),
        **({"reason": attempt.reason} if attempt.reason else {}),
    }


def _reason_if_any(attempt: Attempt) -> dict[str, Any]:
    return {"reason": attempt.reason} if attempt.reason else {}


def reference_code(document: Document, version: DocumentVersion) -> str:
    """Printed in the footer and used by the public verification page; a fresh random part
    each time, so no code can be derived from another."""
    return _reference_code(
        document.kind, document.term.year, document.id, version.number, reference_random_part()
    )


def _freeze(attempt: Attempt) -> dict[str, Any]:
    """Render the current version once, store it and pin its signed bytes and reference
    code: every signature covers exactly these bytes (a pledge's DOCX, or the manifest of a
    dossier whose documents become the version's parts)."""
    session, document, now = attempt.session, attempt.document, attempt.now
    version = document.current_version
    assert version is not None
    assert not version.is_frozen
    content = documents.content_from_dict(version.content)
    ref = reference_code(document, version)
    link = printed_verify_url(public_url(attempt.settings.public_url), ref)
    ca = stamps = None
    if attempt.settings.signed_pdf:
        if attempt.settings.ca_secret is None:
            raise WorkflowError("Thiếu bí mật CA để chứng nhận bản PDF.", code="ca_secret_required")
        ca = load_ca(session, attempt.settings.ca_secret)
        stamps = timestamper(session, attempt.settings.ca_secret, now=now)
    try:
        digest = store_rendering(session, version, content, ref, link, now, ca, stamps)
    except documents.DocumentError as exc:
        raise ValidationError(str(exc), field=getattr(exc, "field", None)) from None
    version.frozen_at = now
    version.signed_sha256 = digest
    version.reference_code = ref
    set_frozen_version(document, version)
    data: dict[str, Any] = {
        "version": version.number,
        "signed_sha256": digest,
        "reference_code": ref,
    }
    if version.parts:
        data["parts"] = {part.name: part.docx_sha256 for part in version.parts}
    if attempt.inputs.override:
        data["override_reason"] = attempt.reason
    return data


def _void_and_restart(attempt: Attempt) -> int:
    """Void the frozen version's live signatures and open a fresh working version."""
    session, document, now = attempt.session, attempt.document, attempt.now
    frozen = document.frozen_version
    voided = 0
    if frozen is not None:
        for sig in live_signatures(session, frozen.id):
            sig.voided_at = now
            sig.void_reason = attempt.reason
            voided += 1
        new_version(session, document, attempt.user, dict(frozen.content), now)
    set_frozen_version(document, None)
    return voided


def _decline(attempt: Attempt) -> dict[str, Any]:
    voided = _void_and_restart(attempt)
    return {
        "unit": unit_code(attempt.session, attempt.unit_id),
        "reason": attempt.reason,
        "voided_signatures": voided,
    }


def _return(attempt: Attempt) -> dict[str, Any]:
    voided = _void_and_restart(attempt)
    return {"reason": attempt.reason, "voided_signatures": voided}


def _cancel(attempt: Attempt) -> dict[str, Any]:
    attempt.document.cancel_reason = attempt.reason
    return {"reason": attempt.reason}


SUBMIT_FOR_REVIEW = Steps(effect=_submitted_version)
DECIDE = Steps(read=read_member_unit_and_reason, effect=_record_decision)
CONCUR = Steps(read=read_member_unit, effect=_record_decision)
REVISE = Steps(read=read_reason, effect=_reason_if_any)
OPEN_SIGNING = Steps(read=read_reason, effect=_freeze)
# Voiding signatures must not race a signer completing the set: both lock the document.
DECLINE = Steps(read=read_member_unit_and_reason, locks=True, effect=_decline)
RETURN = Steps(read=read_reason, locks=True, effect=_return)
SUBMIT = Steps()
CANCEL = Steps(read=read_reason, effect=_cancel)


def submit_for_review(
    session: Session,
    actor: User,
    document_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """draft → in_review (head unit's drafter; content complete)."""
    inputs = TriggerInputs(expected_version=expected_version)
    return _fire(session, actor, document_id, "submit_for_review", inputs, now=now)


def concur(
    session: Session,
    actor: User,
    document_id: int,
    *,
    unit_code: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """A member unit's signer agrees with the version under review (once per version)."""
    inputs = TriggerInputs(unit_code=unit_code, expected_version=expected_version)
    return _fire(session, actor, document_id, "concur", inputs, now=now)


def request_changes(
    session: Session,
    actor: User,
    document_id: int,
    *,
    reason: str,
    unit_code: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """A member unit's signer asks for changes, with a reason (once per version)."""
    inputs = TriggerInputs(reason=reason, unit_code=unit_code, expected_version=expected_version)
    return _fire(session, actor, document_id, "request_changes", inputs, now=now)


def revise(
    session: Session,
    actor: User,
    document_id: int,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """in_review → draft (head drafter); the next edit starts a new version."""
    inputs = TriggerInputs(reason=reason, expected_version=expected_version)
    return _fire(session, actor, document_id, "revise", inputs, now=now)


def open_signing(
    session: Session,
    actor: User,
    document_id: int,
    *,
    override: bool = False,
    reason: str | None = None,
    expected_version: int | None = None,
    public_url: str | None = None,
    ca_secret: bytes | None = None,
    signed_pdf: bool = False,
    now: datetime | None = None,
) -> Document:
    """in_review → signing (head drafter): every member concurred, or ``override`` with a
    reason. Freezes the current version (see ``_freeze``); with ``signed_pdf`` also its
    certified PDF, which needs ``ca_secret``."""
    inputs = TriggerInputs(override=override, reason=reason, expected_version=expected_version)
    settings = Settings(public_url=public_url, ca_secret=ca_secret, signed_pdf=signed_pdf)
    return _fire(session, actor, document_id, "open_signing", inputs, settings, now=now)


def decline(
    session: Session,
    actor: User,
    document_id: int,
    *,
    reason: str,
    unit_code: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """signing → draft (a member unit's signer, with a reason); voids the version's signatures."""
    inputs = TriggerInputs(reason=reason, unit_code=unit_code, expected_version=expected_version)
    return _fire(session, actor, document_id, "decline", inputs, now=now)


def return_document(
    session: Session,
    actor: User,
    document_id: int,
    *,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """submitted → draft (the board, with a reason); voids the signatures."""
    inputs = TriggerInputs(reason=reason, expected_version=expected_version)
    return _fire(session, actor, document_id, "return", inputs, now=now)


def submit(
    session: Session,
    actor: User,
    document_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """signed → submitted to the board (head unit's drafter or signer)."""
    inputs = TriggerInputs(expected_version=expected_version)
    return _fire(session, actor, document_id, "submit", inputs, now=now)


def cancel(
    session: Session,
    actor: User,
    document_id: int,
    *,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """draft or in_review → cancelled (head drafter, with a reason). Final."""
    inputs = TriggerInputs(reason=reason, expected_version=expected_version)
    return _fire(session, actor, document_id, "cancel", inputs, now=now)


# --- dispatch -----------------------------------------------------------------------------

Handler = Callable[[Session, User, int, TriggerInputs, Settings, datetime | None], Document]


def _through(trigger: str, steps: Steps) -> Handler:
    def handle(
        session: Session,
        actor: User,
        document_id: int,
        inputs: TriggerInputs,
        settings: Settings,
        now: datetime | None,
    ) -> Document:
        attempt = run(
            session, actor, document_id, trigger, steps, inputs, settings=settings, now=now
        )
        return attempt.document

    handle.__name__ = f"fire_{trigger}"
    return handle


def _system(trigger: str) -> Handler:
    def refuse(
        session: Session,
        actor: User,
        document_id: int,
        inputs: TriggerInputs,
        settings: Settings,
        now: datetime | None,
    ) -> Document:
        document = load_document(session, current_actor(session, actor), document_id)
        raise InvalidTransition(
            f"Thao tác '{trigger}' do hệ thống thực hiện, không ai gọi trực tiếp được.",
            trigger=trigger,
            state=document.state,
            code="system_trigger",
        )

    return refuse


# trigger -> handler. Every trigger of every definition has one (tests/workflow checks);
# the system's own triggers are fired inside other use cases and refused here.
HANDLERS: Mapping[str, Handler] = {
    "submit_for_review": _through("submit_for_review", SUBMIT_FOR_REVIEW),
    "comment": _through("comment", COMMENT),
    "concur": _through("concur", CONCUR),
    "request_changes": _through("request_changes", DECIDE),
    "revise": _through("revise", REVISE),
    "open_signing": _through("open_signing", OPEN_SIGNING),
    "sign": _through("sign", SIGN),
    "decline": _through("decline", DECLINE),
    "submit": _through("submit", SUBMIT),
    "approve": _through("approve", APPROVE),
    "return": _through("return", RETURN),
    "cancel": _through("cancel", CANCEL),
    "archive": _system("archive"),
    "complete_signing": _system("complete_signing"),
}


def _fire(
    session: Session,
    actor: User,
    document_id: int,
    trigger: str,
    inputs: TriggerInputs,
    settings: Settings | None = None,
    *,
    now: datetime | None,
) -> Document:
    return HANDLERS[trigger](session, actor, document_id, inputs, settings or Settings(), now)


def fire(
    session: Session,
    actor: User,
    document_id: int,
    trigger: str,
    inputs: TriggerInputs | None = None,
    *,
    ca_secret: bytes | None = None,
    public_url: str | None = None,
    signed_pdf: bool = False,
    now: datetime | None = None,
) -> Document:
    """Fire ``trigger`` by name (the JSON API and forms use this); returns the document.

    ``approve`` needs ``ca_secret`` (the caller's ``Config.ca_master_secret``), and so does
    ``open_signing`` with ``signed_pdf`` (``Config.signed_pdf``).
    """
    handler = HANDLERS.get(trigger) if isinstance(trigger, str) else None
    if handler is None:
        document = load_document(session, current_actor(session, actor), document_id)
        raise InvalidTransition(
            f"Thao tác '{trigger}' không tồn tại.", trigger=str(trigger), state=document.state
        )
    settings = Settings(ca_secret=ca_secret, public_url=public_url, signed_pdf=signed_pdf)
    return handler(session, actor, document_id, inputs or TriggerInputs(), settings, now)
