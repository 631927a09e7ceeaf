"""Transitions of a document: one function per trigger, and ``fire`` to dispatch by name.

Every use case: load what the actor may see, check the optimistic-lock version, fire the
definition's machine (guards give the reason of a refusal), apply the side effects, append an
audit event, flush. Nothing here commits; the caller's transaction makes it all or nothing.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import documents
from signing.bundle import BundleInput, approval_manifest, build_bundle
from signing.cms import sign_detached
from signing.credentials import unseal_private_key
from signing.errors import SigningError, WrongPin
from signing.verify import TrustStore, verify_document, verify_signature
from workflow import blobs
from workflow.audit import append_event, document_events
from workflow.clock import aware
from workflow.config import DEFAULT_PUBLIC_URL
from workflow.definitions import STATE_LABELS, definition_for, evaluate, fire_machine
from workflow.errors import (
    ConflictError,
    CredentialLocked,
    GuardFailed,
    NotFound,
    PermissionDenied,
    ValidationError,
    WorkflowError,
    WrongPinError,
)
from workflow.models import (
    MAX_PIN_TRIES,
    Approval,
    Credential,
    Document,
    DocumentVersion,
    ReviewDecision,
    Signature,
    Unit,
    User,
)
from workflow.pki import ca_certificate, crl_der, load_ca
from workflow.services._common import (
    acting_unit,
    build_facts,
    check_expected_version,
    clean_text,
    current_actor,
    flush,
    live_signatures,
    load_document,
    lock_document,
    optional_reason,
    set_frozen_version,
)
from workflow.services.drafting import comment, new_version

MAX_UPLOAD_SIGNATURE = 256 * 1024
_SIGNER_TRIGGERS = {"concur", "request_changes", "sign", "decline"}


# --- the generic path ---------------------------------------------------------------------


def _transition(
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


def _audit(
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


def _member_unit(
    session: Session, actor: User, document: Document, unit_code: str | None
) -> int | None:
    members = {m.unit_id for m in document.term.memberships}
    return acting_unit(session, actor, members, "signer", unit_code)


def _unit_code(session: Session, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    return unit.code if unit else None


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


# --- credentials and PINs -----------------------------------------------------------------


def _check_usable(credential: Credential, now: datetime) -> None:
    if credential.status == "revoked":
        raise CredentialLocked("Chứng thư số đã bị thu hồi.", code="credential_revoked")
    if credential.status == "locked":
        raise CredentialLocked(
            f"Khóa ký đã bị khóa sau {MAX_PIN_TRIES} lần nhập sai PIN; "
            "hãy liên hệ quản trị viên để mở khóa.",
            code="credential_locked",
        )
    if aware(credential.not_after) < now:
        raise CredentialLocked("Chứng thư số đã hết hạn.", code="credential_expired")


def _server_credential(session: Session, actor: User, unit_id: int) -> Credential:
    credentials = list(
        session.scalars(
            select(Credential)
            .where(
                Credential.user_id == actor.id,
                Credential.unit_id == unit_id,
                Credential.sealed_key.is_not(None),
            )
            .order_by(Credential.id.desc())
        )
    )
    if not credentials:
        raise ValidationError(
            "Bạn chưa có khóa ký lưu trên máy chủ cho đơn vị này; hãy tải lên chữ ký số "
            "tạo bên ngoài (.p7s) hoặc liên hệ quản trị viên.",
            field="pin",
            code="no_credential",
        )
    for credential in credentials:
        if credential.status == "active":
            return credential
    return credentials[0]  # _check_usable then says why it cannot be used


def _record_wrong_pin(session: Session, credential_id: int) -> int:
    """Count a wrong PIN in its own transaction, committed at once, so the count survives the
    rollback of the failed request. Returns the new count.

    The separate transaction needs the write lock the caller may already hold: on SQLite when
    the caller wrote earlier in its transaction (web requests and CLI commands never do before
    a signature), on PostgreSQL if it had locked the credential row. Then the count is recorded
    in the caller's transaction instead, which is the best that can be done without
    committing the caller's work.
    """
    table = Credential.__table__
    stmt = (
        update(table)
        .where(table.c.id == credential_id, table.c.failed_pins < MAX_PIN_TRIES)
        .values(failed_pins=table.c.failed_pins + 1)
        .returning(table.c.failed_pins)
    )
    lock_stmt = (
        update(table)
        .where(
            table.c.id == credential_id,
            table.c.status == "active",
            table.c.failed_pins >= MAX_PIN_TRIES,
        )
        .values(status="locked")
    )
    engine = session.get_bind()
    if engine.dialect.name == "sqlite":
        in_transaction = session.connection().connection.dbapi_connection.in_transaction
    else:
        in_transaction = False
    count: int | None = None
    if not in_transaction:
        try:
            with engine.connect() as conn:
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL lock_timeout = '3s'")
                count = conn.execute(stmt).scalar_one_or_none()
                conn.execute(lock_stmt)
                conn.commit()
        except OperationalError:
            count = None
            in_transaction = True
    if in_transaction:
        count = session.execute(stmt).scalar_one_or_none()
        session.execute(lock_stmt)
    return MAX_PIN_TRIES if count is None else int(count)


def _open_key(session: Session, credential: Credential, pin: Any, now: datetime) -> Any:
    _check_usable(credential, now)
    if not isinstance(pin, str) or not pin:
        raise ValidationError("Cần nhập mã PIN.", field="pin", code="pin_required")
    try:
        key = unseal_private_key(bytes(credential.sealed_key or b""), pin)
    except WrongPin:
        count = _record_wrong_pin(session, credential.id)
        session.expire(credential, ["failed_pins", "status"])
        left = max(MAX_PIN_TRIES - count, 0)
        if left == 0:
            raise CredentialLocked(
                f"Sai mã PIN {MAX_PIN_TRIES} lần; khóa ký đã bị khóa. "
                "Hãy liên hệ quản trị viên để mở khóa.",
                code="credential_locked",
            ) from None
        raise WrongPinError(f"Mã PIN không đúng; còn {left} lần thử.", tries_left=left) from None
    except SigningError as exc:
        raise CredentialLocked(
            f"Khóa ký lưu trữ bị hỏng: {exc}", code="credential_damaged"
        ) from None
    if credential.failed_pins:
        credential.failed_pins = 0
    return key


def _certificate(credential: Credential) -> Any:
    from cryptography import x509

    return x509.load_der_x509_certificate(bytes(credential.certificate_der))


def _trust(session: Session) -> TrustStore:
    return TrustStore([ca_certificate(session)])


# --- sign ---------------------------------------------------------------------------------


def sign(
    session: Session,
    actor: User,
    document_id: int,
    *,
    pin: str | None = None,
    signature_der: bytes | None = None,
    unit_code: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Signature:
    """A member unit's signer signs the frozen version, with the server-held key and ``pin``
    or by uploading a detached CMS (``signature_der``) made elsewhere, which is verified
    against the frozen bytes and the signer's registered certificate before it is stored.

    The same unit signing again gets its existing signature back. The signature that
    completes the set moves the document to ``signed``; the join runs under a lock on the
    document row so that exactly one signer makes that move.
    """
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    unit_id = _member_unit(session, actor, document, unit_code)
    if unit_id is not None and document.frozen_version_id is not None:
        existing = _existing_signature(session, document.frozen_version_id, unit_id)
        if existing is not None and (unit_id, "signer") in {
            (r.unit_id, r.role) for r in actor.roles
        }:
            return existing
    check_expected_version(document, expected_version)
    definition = definition_for(document.kind, document.definition_version)
    facts = build_facts(session, actor, document, unit_id=unit_id, with_content=False)
    if document.state != "signing":
        fire_machine(definition, document, "sign", facts)  # raises the precise error
    refusal = evaluate(definition, "sign", facts, inputs=False)
    if refusal is not None:
        fire_machine(definition, document, "sign", facts)  # raises GuardFailed with reasons
        raise GuardFailed(refusal, trigger="sign", guard="unknown")
    assert unit_id is not None
    unit = session.get(Unit, unit_id)
    assert unit is not None
    frozen = document.frozen_version
    assert frozen is not None
    assert frozen.docx_sha256 is not None
    frozen_id = frozen.id
    docx = blobs.get_blob(session, frozen.docx_sha256)

    if signature_der is not None:
        cms, credential_id, cert_sha, method = _uploaded(
            session, actor, unit, docx, signature_der, now
        )
    elif pin is not None:
        credential = _server_credential(session, actor, unit_id)
        key = _open_key(session, credential, pin, now)
        cert = _certificate(credential)
        try:
            cms = sign_detached(docx, key, cert, signing_time=now, chain=(ca_certificate(session),))
        except SigningError as exc:
            raise CredentialLocked(
                f"Không ký được bằng khóa này: {exc}", code="credential_damaged"
            ) from None
        credential_id, cert_sha, method = credential.id, credential.fingerprint_sha256, "server_key"
    else:
        raise ValidationError(
            "Cần nhập mã PIN hoặc tải lên tệp chữ ký (.p7s).", field="pin", code="pin_required"
        )

    # The join: from here on, one signer of this document at a time.
    document = lock_document(session, document)
    if document.state != "signing" or document.frozen_version_id != frozen_id:
        raise ConflictError(
            "Văn bản vừa thay đổi trạng thái "
            f"({STATE_LABELS.get(document.state, document.state)}); chữ ký chưa được lưu.",
            code="state_changed",
        )
    existing = _existing_signature(session, frozen_id, unit_id)
    if existing is not None:
        return existing
    facts = build_facts(session, actor, document, unit_id=unit_id, with_content=False)
    source = document.state
    fire_machine(definition, document, "sign", facts)
    if document.state != source:
        document.updated_at = now
    cms_sha = blobs.put_blob(session, cms, blobs.CMS, now=now)
    signature = Signature(
        document_id=document.id,
        version_id=frozen_id,
        unit_id=unit_id,
        signer_id=actor.id,
        credential_id=credential_id,
        method=method,
        cms_sha256=cms_sha,
        certificate_sha256=cert_sha,
        signed_at=now,
    )
    session.add(signature)
    _audit(
        session,
        actor,
        document,
        "sign",
        source,
        now,
        {
            "unit": unit.code,
            "version": frozen.number,
            "method": method,
            "signature_sha256": cms_sha,
            "certificate_sha256": cert_sha,
        },
    )
    return signature


def _existing_signature(session: Session, version_id: int, unit_id: int) -> Signature | None:
    return session.scalar(
        select(Signature).where(
            Signature.version_id == version_id,
            Signature.unit_id == unit_id,
            Signature.voided_at.is_(None),
        )
    )


def _uploaded(
    session: Session, actor: User, unit: Unit, docx: bytes, signature_der: Any, now: datetime
) -> tuple[bytes, int, str, str]:
    if not isinstance(signature_der, bytes | bytearray) or not signature_der:
        raise ValidationError("Tệp chữ ký rỗng hoặc không hợp lệ.", field="signature")
    if len(signature_der) > MAX_UPLOAD_SIGNATURE:
        raise ValidationError("Tệp chữ ký quá lớn.", field="signature")
    der = bytes(signature_der)
    report = verify_signature(docx, der, _trust(session), at=now, expected_unit_code=unit.code)
    if not report.passed:
        raise ValidationError(
            f"Chữ ký tải lên không hợp lệ: {report.message} ({report.code})",
            field="signature",
            code="signature_invalid",
            indication=str(report.indication),
            sub_indication=str(report.sub_indication) if report.sub_indication else None,
        )
    fingerprint = report.signer.certificate_sha256 if report.signer else None
    credential = session.scalar(
        select(Credential).where(Credential.fingerprint_sha256 == fingerprint)
    )
    if credential is None or credential.user_id != actor.id or credential.unit_id != unit.id:
        raise PermissionDenied(
            "Chữ ký được tạo bằng chứng thư số không đăng ký cho bạn tại đơn vị này.",
            code="certificate_not_registered",
        )
    if credential.status == "revoked":
        raise CredentialLocked("Chứng thư số đã bị thu hồi.", code="credential_revoked")
    return der, credential.id, credential.fingerprint_sha256, "upload"


# --- approve ------------------------------------------------------------------------------


def approve(
    session: Session,
    actor: User,
    document_id: int,
    *,
    pin: str,
    ca_secret: bytes,
    decision_number: str | None = None,
    decision_date: date | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Document:
    """submitted → approved → archived, in one transaction (the board).

    The board member signs the approval manifest (document hash, every unit signature's hash,
    the decision) with their server-held key; the archive bundle is built, stored as a blob,
    and the document is archived. Nominations need ``decision_number`` and ``decision_date``.
    ``ca_secret`` opens the CA key to issue the CRL the bundle carries.
    """
    actor, now = current_actor(session, actor), aware(now)
    document = load_document(session, actor, document_id)
    number = clean_text(decision_number, "decision_number", max_len=64, required=False) or None
    decision_date = _as_date(decision_date)
    if (number is None) != (decision_date is None):
        raise ValidationError("Cần cả số và ngày của quyết định.", field="decision_number")
    check_expected_version(document, expected_version)
    definition = definition_for(document.kind, document.definition_version)
    facts = build_facts(
        session,
        actor,
        document,
        decision_number=number,
        decision_date=decision_date,
        with_content=False,
    )
    if evaluate(definition, "approve", facts, inputs=True) is not None or (
        document.state != "submitted"
    ):
        fire_machine(definition, document, "approve", facts)  # raises the precise error
    term = document.term
    credential = _server_credential(session, actor, term.board_unit_id)
    key = _open_key(session, credential, pin, now)
    ca = load_ca(session, ca_secret)

    document = lock_document(session, document)
    check_expected_version(document, expected_version)
    frozen = document.frozen_version
    assert frozen is not None
    assert frozen.docx_sha256 is not None
    signatures = live_signatures(session, frozen.id)
    members = term.member_units
    by_unit = {s.unit_id: s for s in signatures}
    unit_sigs = {
        u.code: blobs.get_blob(session, by_unit[u.id].cms_sha256)
        for u in members
        if u.id in by_unit
    }
    board = term.board_unit
    decision: dict[str, Any] = {"board": {"code": board.code, "name": board.name}}
    if number is not None and decision_date is not None:
        decision.update({"number": number, "date": decision_date.isoformat()})
    member_names = {u.code: u.name for u in members}
    try:
        manifest = approval_manifest(
            str(document.id),
            frozen.docx_sha256,
            unit_sigs,
            decision,
            now,
            member_units=member_names,
        )
        manifest_sig = sign_detached(
            manifest, key, _certificate(credential), signing_time=now, chain=(ca.certificate,)
        )
    except SigningError as exc:
        raise GuardFailed(
            f"Không lập được bản kê phê duyệt: {exc}", trigger="approve", guard="manifest"
        ) from None

    source = _transition(
        session,
        actor,
        document,
        "approve",
        now=now,
        expected_version=None,
        decision_number=number,
        decision_date=decision_date,
    )
    manifest_sha = blobs.put_blob(session, manifest, blobs.JSON, now=now)
    manifest_sig_sha = blobs.put_blob(session, manifest_sig, blobs.CMS, now=now)
    _audit(
        session,
        actor,
        document,
        "approve",
        source,
        now,
        {
            "manifest_sha256": manifest_sha,
            "approval_signature_sha256": manifest_sig_sha,
            **(
                {"decision_number": number, "decision_date": decision_date.isoformat()}
                if number is not None and decision_date is not None
                else {}
            ),
        },
    )

    docx = blobs.get_blob(session, frozen.docx_sha256)
    trust = TrustStore([ca.certificate])
    report = verify_document(docx, member_names, unit_sigs, trust, at=now)
    certificates: list[Any] = [ca.certificate, _certificate(credential)]
    for sig in signatures:
        cred = session.get(Credential, sig.credential_id) if sig.credential_id else None
        if cred is not None:
            certificates.append(_certificate(cred))
    try:
        bundle = build_bundle(
            BundleInput(
                document_id=str(document.id),
                document_docx=docx,
                document_json={
                    "kind": document.kind,
                    "title": document.title,
                    "year": term.year,
                    "cluster": term.cluster.name,
                    "reference_code": frozen.reference_code,
                    "version": frozen.number,
                    "content": frozen.content,
                },
                expected_units=member_names,
                unit_signatures=unit_sigs,
                approval_manifest=manifest,
                approval_signature=manifest_sig,
                certificates=certificates,
                crl=crl_der(session, ca_secret, now=now),
                audit_events=[e.to_dict() for e in document_events(session, document.id)],
                verification=report.to_dict(),
                created_at=now,
            )
        )
    except SigningError as exc:
        raise GuardFailed(
            f"Không lập được gói lưu trữ: {exc}", trigger="approve", guard="bundle"
        ) from None
    bundle_sha = blobs.put_blob(session, bundle, blobs.ZIP, now=now)
    session.add(
        Approval(
            document_id=document.id,
            version_id=frozen.id,
            approver_id=actor.id,
            credential_id=credential.id,
            decision_number=number,
            decision_date=decision_date,
            manifest_sha256=manifest_sha,
            signature_sha256=manifest_sig_sha,
            bundle_sha256=bundle_sha,
            approved_at=now,
        )
    )
    # The bundle and the archived state land in one UPDATE (the check constraint ties them).
    with session.no_autoflush:
        source = _transition(session, actor, document, "archive", now=now, expected_version=None)
        document.bundle_sha256 = bundle_sha
    _audit(session, actor, document, "archive", source, now, {"bundle_sha256": bundle_sha})
    return document


def _as_date(value: Any) -> date | None:
    """A decision date from a date, a datetime or ISO text (forms and JSON send text)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(
        "Ngày quyết định không hợp lệ (định dạng YYYY-MM-DD).", field="decision_date"
    )


def export_bundle(session: Session, actor: User, document_id: int) -> bytes:
    """The archive bundle (zip) of an archived document the actor may see."""
    actor = current_actor(session, actor)
    document = load_document(session, actor, document_id)
    if document.bundle_sha256 is None:
        raise NotFound(
            "Văn bản chưa được lưu trữ nên chưa có gói lưu trữ.",
            code="no_bundle",
            state=document.state,
        )
    return blobs.get_blob(session, document.bundle_sha256)


def sweep(session: Session, *, now: datetime | None = None) -> list[int]:
    """Move to ``signed`` every document still in ``signing`` whose frozen version already has
    a live signature from every member unit; returns their ids. Idempotent.

    The signing join does this under a row lock, so normally there is nothing to do; the
    sweeper is the safety net a cron job or ``thidua sweep`` runs (workflow.md, 4.2).
    """
    now = aware(now)
    moved = []
    ids = list(session.scalars(select(Document.id).where(Document.state == "signing")))
    for doc_id in ids:
        document = session.get(Document, doc_id)
        assert document is not None
        document = lock_document(session, document)
        if document.state != "signing":
            continue
        definition = definition_for(document.kind, document.definition_version)
        facts = build_facts(session, None, document, with_content=False)
        if evaluate(definition, "complete_signing", facts, inputs=True) is not None:
            continue
        fire_machine(definition, document, "complete_signing", facts)
        document.updated_at = now
        flush(session)
        append_event(
            session,
            action="complete_signing",
            actor="system",
            now=now,
            document=document,
            from_state="signing",
            to_state="signed",
            data={"version": document.frozen_version.number if document.frozen_version else None},
        )
        moved.append(document.id)
    return moved


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
    from workflow.errors import InvalidTransition

    raise InvalidTransition(
        f"Thao tác '{trigger}' không tồn tại.", trigger=str(trigger), state=document.state
    )
