"""Transitions of a document: one function per trigger, and ``fire`` to dispatch by name.

Every use case: load what the actor may see, check the optimistic-lock version, fire the
definition's machine (guards give the reason of a refusal), apply the side effects, append an
audit event, flush. Nothing here commits; the caller's transaction makes it all or nothing.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

import documents
from workflow import blobs
from workflow.clock import aware
from workflow.config import DEFAULT_PUBLIC_URL
from workflow.errors import InvalidTransition, ValidationError, WorkflowError
from workflow.models import (
    Document,
    DocumentVersion,
    ReviewDecision,
    User,
)
from workflow.services._common import (
    current_actor,
    live_signatures,
    load_document,
    lock_document,
    optional_reason,
    set_frozen_version,
)
from workflow.services._transitions import audit as _audit
from workflow.services._transitions import member_unit as _member_unit
from workflow.services._transitions import transition as _transition
from workflow.services._transitions import unit_code as _unit_code
from workflow.services.drafting import comment, new_version
from workflow.services.signatures import approve, export_bundle, sign, sweep

__all__ = [
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


def submit_for_review(
    session: Session,
    actor: User,
    document_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """draft → in_review (head unit's drafter; content complete)."""
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    source = _transition(
        session, actor, document, "submit_for_review", now=now, expected_version=expected_version
    )
    version = document.current_version
    _audit(
        session,
        actor,
        document,
        "submit_for_review",
        source,
        now,
        {"version": version.number if version else None},
    )
    return document


def _decide(
    session: Session,
    actor: User,
    document_id: int,
    decision: str,
    *,
    reason: str | None,
    unit_code: str | None,
    expected_version: int | None,
    now: datetime | None,
) -> Document:
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    unit_id = _member_unit(session, actor, document, unit_code)
    text = optional_reason(reason)
    source = _transition(
        session,
        actor,
        document,
        decision,
        now=now,
        expected_version=expected_version,
        unit_id=unit_id,
        reason=text,
    )
    assert unit_id is not None
    assert document.current_version_id is not None
    session.add(
        ReviewDecision(
            version_id=document.current_version_id,
            unit_id=unit_id,
            user_id=actor.id,
            decision=decision,
            reason=text,
            created_at=now,
        )
    )
    version = document.current_version
    _audit(
        session,
        actor,
        document,
        decision,
        source,
        now,
        {
            "unit": _unit_code(session, unit_id),
            "version": version.number if version else None,
            **({"reason": text} if text else {}),
        },
    )
    return document


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
    return _decide(
        session,
        actor,
        document_id,
        "concur",
        reason=None,
        unit_code=unit_code,
        expected_version=expected_version,
        now=now,
    )


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
    return _decide(
        session,
        actor,
        document_id,
        "request_changes",
        reason=reason,
        unit_code=unit_code,
        expected_version=expected_version,
        now=now,
    )


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
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    text = optional_reason(reason)
    source = _transition(
        session, actor, document, "revise", now=now, expected_version=expected_version, reason=text
    )
    _audit(session, actor, document, "revise", source, now, {"reason": text} if text else {})
    return document


def reference_code(document: Document, version: DocumentVersion) -> str:
    """Printed in the footer and used by the public verification page."""
    prefix = "GU" if document.kind == "pledge" else "KT"
    return f"TD-{prefix}-{document.term.year}-{document.id:05d}-V{version.number}"


def _verify_url(public_url: str | None, ref: str) -> str:
    base = public_url or os.environ.get("THIDUA_PUBLIC_URL", "").strip() or DEFAULT_PUBLIC_URL
    return f"{base.rstrip('/')}/verify?ref={ref}"


def open_signing(
    session: Session,
    actor: User,
    document_id: int,
    *,
    override: bool = False,
    reason: str | None = None,
    expected_version: int | None = None,
    public_url: str | None = None,
    now: datetime | None = None,
) -> Document:
    """in_review → signing (head drafter): every member concurred, or ``override`` with a
    reason. Freezes the current version: renders the DOCX once, stores it as a blob and pins
    its SHA-256 and reference code; every signature covers exactly these bytes."""
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    text = optional_reason(reason)
    source = _transition(
        session,
        actor,
        document,
        "open_signing",
        now=now,
        expected_version=expected_version,
        override=override,
        reason=text,
    )
    # The state already says signing; keep the flush until the frozen version is pinned.
    with session.no_autoflush:
        version = document.current_version
        assert version is not None
        assert not version.is_frozen
        content = documents.content_from_dict(version.content)
        ref = reference_code(document, version)
        try:
            docx = documents.render(
                content, reference_code=ref, verify_url=_verify_url(public_url, ref)
            )
        except documents.DocumentError as exc:
            raise ValidationError(str(exc), field=getattr(exc, "field", None)) from None
        digest = blobs.put_blob(session, docx, blobs.DOCX, now=now)
        version.frozen_at = now
        version.docx_sha256 = digest
        version.reference_code = ref
        set_frozen_version(document, version)
    data: dict[str, Any] = {"version": version.number, "docx_sha256": digest, "reference_code": ref}
    if override:
        data["override_reason"] = text
    _audit(session, actor, document, "open_signing", source, now, data)
    return document


# --- rejections that void signatures ------------------------------------------------------


def _void_and_restart(
    session: Session, actor: User, document: Document, reason: str, now: datetime
) -> int:
    """Void the frozen version's live signatures and open a fresh working version."""
    frozen = document.frozen_version
    voided = 0
    if frozen is not None:
        for sig in live_signatures(session, frozen.id):
            sig.voided_at = now
            sig.void_reason = reason
            voided += 1
        new_version(session, document, actor, dict(frozen.content), now)
    set_frozen_version(document, None)
    return voided


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
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    document = lock_document(session, document)
    unit_id = _member_unit(session, actor, document, unit_code)
    text = optional_reason(reason)
    source = _transition(
        session,
        actor,
        document,
        "decline",
        now=now,
        expected_version=expected_version,
        unit_id=unit_id,
        reason=text,
    )
    assert text is not None
    voided = _void_and_restart(session, actor, document, text, now)
    _audit(
        session,
        actor,
        document,
        "decline",
        source,
        now,
        {"unit": _unit_code(session, unit_id), "reason": text, "voided_signatures": voided},
    )
    return document


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
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    document = lock_document(session, document)
    text = optional_reason(reason)
    source = _transition(
        session, actor, document, "return", now=now, expected_version=expected_version, reason=text
    )
    assert text is not None
    voided = _void_and_restart(session, actor, document, text, now)
    _audit(
        session,
        actor,
        document,
        "return",
        source,
        now,
        {"reason": text, "voided_signatures": voided},
    )
    return document


def submit(
    session: Session,
    actor: User,
    document_id: int,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """signed → submitted to the board (head unit's drafter or signer)."""
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    source = _transition(
        session, actor, document, "submit", now=now, expected_version=expected_version
    )
    _audit(session, actor, document, "submit", source, now)
    return document


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
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    text = optional_reason(reason)
    source = _transition(
        session, actor, document, "cancel", now=now, expected_version=expected_version, reason=text
    )
    document.cancel_reason = text
    _audit(session, actor, document, "cancel", source, now, {"reason": text})
    return document


# --- dispatch -----------------------------------------------------------------------------


def fire(
    session: Session,
    actor: User,
    document_id: int,
    trigger: str,
    *,
    expected_version: int | None = None,
    reason: str | None = None,
    pin: str | None = None,
    signature_der: bytes | None = None,
    decision_number: str | None = None,
    decision_date: date | None = None,
    unit_code: str | None = None,
    override: bool = False,
    anchor: str | None = None,
    text: str | None = None,
    ca_secret: bytes | None = None,
    public_url: str | None = None,
    now: datetime | None = None,
) -> Document:
    """Fire ``trigger`` by name (the JSON API and forms use this); returns the document.

    Inputs a trigger does not use are ignored. ``approve`` needs ``ca_secret`` (the caller's
    ``Config.ca_master_secret``); ``comment`` takes ``anchor`` and ``text``.
    """
    common: dict[str, Any] = {"expected_version": expected_version, "now": now}
    if trigger == "submit_for_review":
        return submit_for_review(session, actor, document_id, **common)
    if trigger == "concur":
        return concur(session, actor, document_id, unit_code=unit_code, **common)
    if trigger == "request_changes":
        return request_changes(
            session, actor, document_id, reason=reason or "", unit_code=unit_code, **common
        )
    if trigger == "revise":
        return revise(session, actor, document_id, reason=reason, **common)
    if trigger == "open_signing":
        return open_signing(
            session,
            actor,
            document_id,
            override=override,
            reason=reason,
            public_url=public_url,
            **common,
        )
    if trigger == "sign":
        sign(
            session,
            actor,
            document_id,
            pin=pin,
            signature_der=signature_der,
            unit_code=unit_code,
            **common,
        )
        return load_document(session, current_actor(session, actor), document_id)
    if trigger == "decline":
        return decline(
            session, actor, document_id, reason=reason or "", unit_code=unit_code, **common
        )
    if trigger == "submit":
        return submit(session, actor, document_id, **common)
    if trigger == "approve":
        if ca_secret is None:
            raise WorkflowError("Thiếu bí mật CA để phê duyệt.", code="ca_secret_required")
        return approve(
            session,
            actor,
            document_id,
            pin=pin or "",
            ca_secret=ca_secret,
            decision_number=decision_number,
            decision_date=decision_date,
            **common,
        )
    if trigger == "return":
        return return_document(session, actor, document_id, reason=reason or "", **common)
    if trigger == "cancel":
        return cancel(session, actor, document_id, reason=reason or "", **common)
    if trigger == "comment":
        comment(session, actor, document_id, anchor or "", text or "", unit_code=unit_code, now=now)
        return load_document(session, current_actor(session, actor), document_id)
    document = load_document(session, current_actor(session, actor), document_id)
    raise InvalidTransition(
        f"Thao tác '{trigger}' không tồn tại.", trigger=str(trigger), state=document.state
    )
