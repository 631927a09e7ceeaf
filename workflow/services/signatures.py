"""Signing use cases: a member unit signs (server-held key and PIN, or an uploaded CMS), the
board approves and the document is archived with its bundle; plus the wrong-PIN counter, the
archive export and the sweeper.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from signing.archive import ArchiveEvidence, approval_manifest, build_bundle
from signing.cms import sign_detached
from signing.credentials import unseal_private_key
from signing.errors import SigningError, WrongPin
from signing.verify import TrustStore, verify_document, verify_signature
from workflow import blobs
from workflow.audit import document_events
from workflow.clock import aware
from workflow.definitions import STATE_LABELS
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
from workflow.inputs import TriggerInputs
from workflow.models import (
    MAX_PIN_TRIES,
    Approval,
    Credential,
    Document,
    Signature,
    Unit,
    User,
    table_of,
)
from workflow.pki import ca_certificate, crl_der, load_ca
from workflow.services._common import (
    clean_text,
    current_actor,
    live_signatures,
    load_document,
    lock_document,
)
from workflow.services.pipeline import (
    Attempt,
    Settings,
    Steps,
    read_member_unit,
    run,
    run_system,
)
from workflow.values import parse_date

MAX_UPLOAD_SIGNATURE = 256 * 1024


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
    table = table_of(Credential)
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
    engine = session.get_bind().engine
    if engine.dialect.name == "sqlite":
        dbapi = session.connection().connection.dbapi_connection
        in_transaction = bool(getattr(dbapi, "in_transaction", False))
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


def _replay_signature(attempt: Attempt) -> Signature | None:
    """This unit's live signature of the frozen version, if the actor signs for it: signing
    again (a double click, a retried request) gets it back instead of an error."""
    return _own_existing_signature(
        attempt.session, attempt.user, attempt.document.frozen_version_id, attempt.unit_id
    )


def _make_signature(attempt: Attempt) -> None:
    """The CMS over the frozen DOCX: verified from an upload, or made with the server-held
    key (unsealing it is the slow part, done before the document is locked)."""
    session, actor, now = attempt.session, attempt.user, attempt.now
    assert attempt.unit_id is not None  # is_member_signer passed
    unit = session.get(Unit, attempt.unit_id)
    assert unit is not None
    frozen = attempt.document.frozen_version
    assert frozen is not None
    assert frozen.docx_sha256 is not None
    docx = blobs.get_blob(session, frozen.docx_sha256)
    signature_der, pin = attempt.inputs.signature_der, attempt.inputs.pin
    if signature_der is not None:
        cms, credential_id, cert_sha, method = _uploaded(
            session, actor, unit, docx, signature_der, now
        )
    elif pin is not None:
        credential = _server_credential(session, actor, unit.id)
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
    attempt.work.update(
        unit=unit,
        frozen_id=frozen.id,
        frozen_number=frozen.number,
        cms=cms,
        credential_id=credential_id,
        certificate_sha256=cert_sha,
        method=method,
    )


def _store_signature(attempt: Attempt) -> dict[str, Any]:
    """Store the signature made before the lock, if it still signs the frozen version."""
    work, document = attempt.work, attempt.document
    if document.frozen_version_id != work["frozen_id"]:
        raise ConflictError(
            "Văn bản vừa thay đổi trạng thái "
            f"({STATE_LABELS.get(document.state, document.state)}); chữ ký chưa được lưu.",
            code="state_changed",
        )
    cms_sha = blobs.put_blob(attempt.session, work["cms"], blobs.CMS, now=attempt.now)
    signature = Signature(
        document_id=document.id,
        version_id=work["frozen_id"],
        unit_id=work["unit"].id,
        signer_id=attempt.user.id,
        credential_id=work["credential_id"],
        method=work["method"],
        cms_sha256=cms_sha,
        certificate_sha256=work["certificate_sha256"],
        signed_at=attempt.now,
    )
    attempt.session.add(signature)
    attempt.result = signature
    return {
        "unit": work["unit"].code,
        "version": work["frozen_number"],
        "method": work["method"],
        "signature_sha256": cms_sha,
        "certificate_sha256": work["certificate_sha256"],
    }


# The signature that completes the set moves the document to ``signed``: the join runs under
# the document's lock, so exactly one signer makes that move (workflow.md, 4.2).
SIGN = Steps(
    read=read_member_unit,
    replay=_replay_signature,
    prepare=_make_signature,
    locks=True,
    effect=_store_signature,
)


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

    The same unit signing again gets its existing signature back.
    """
    inputs = TriggerInputs(
        pin=pin, signature_der=signature_der, unit_code=unit_code, expected_version=expected_version
    )
    attempt = run(session, actor, document_id, "sign", SIGN, inputs, now=now)
    result: Signature = attempt.result
    return result


def _own_existing_signature(
    session: Session, actor: User, version_id: int | None, unit_id: int | None
) -> Signature | None:
    """The live signature of ``unit_id`` on the frozen version, if ``actor`` signs for it."""
    if unit_id is None or version_id is None:
        return None
    if (unit_id, "signer") not in {(r.unit_id, r.role) for r in actor.roles}:
        return None
    return _existing_signature(session, version_id, unit_id)


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


def _read_decision(attempt: Attempt) -> None:
    """The board's decision number and date: both or neither (nominations need both, which
    the ``decision_given`` guard says)."""
    inputs = attempt.inputs
    number = clean_text(inputs.decision_number, "decision_number", max_len=64, required=False)
    inputs.decision_number = number or None
    if (inputs.decision_number is None) != (inputs.decision_date is None):
        raise ValidationError("Cần cả số và ngày của quyết định.", field="decision_number")


def _open_board_key(attempt: Attempt) -> None:
    """Before the lock: the board member's key (PIN) and the CA, which issues the CRL."""
    session, now = attempt.session, attempt.now
    ca_secret = attempt.settings.ca_secret
    if ca_secret is None:
        raise WorkflowError("Thiếu bí mật CA để phê duyệt.", code="ca_secret_required")
    credential = _server_credential(session, attempt.user, attempt.document.term.board_unit_id)
    key = _open_key(session, credential, attempt.inputs.pin, now)
    attempt.work.update(credential=credential, key=key, ca=load_ca(session, ca_secret))


def _check_signatures_for_approval(attempt: Attempt) -> dict[str, Any]:
    """The approve effect: the decision, and every unit's signature verified now (the CRL
    included), before the approve event is appended. Returns that event's data."""
    session, document, now = attempt.session, attempt.document, attempt.now
    work = attempt.work
    assert attempt.settings.ca_secret is not None  # _open_board_key checked
    work["decision"] = _decision(document, attempt.inputs)
    work["crl"] = crl_der(session, attempt.settings.ca_secret, now=now)
    work["unit_sigs"], work["report"] = _verified_signatures(
        session, document, work["ca"], work["crl"], now
    )
    history = document_events(session, document.id)
    work["head_before_approval"] = history[-1].hash if history else None
    return {"decision": work["decision"]}


def _archive(attempt: Attempt) -> dict[str, Any]:
    """The archive effect, once the approve event is in the chain: collect the evidence,
    sign the manifest, build the archive. Returns the archive event's data."""
    work = attempt.work
    evidence = _collect_evidence(attempt)
    signed = _sign_manifest(
        evidence, work["decision"], work["key"], work["credential"], work["ca"], attempt.now
    )
    return _build_archive(attempt, evidence, signed)


# submitted → approved → archived in one transaction: archive is the system trigger that
# follows approve, through the same steps.
ARCHIVE = Steps(effect=_archive)
APPROVE = Steps(
    read=_read_decision,
    prepare=_open_board_key,
    locks=True,
    effect=_check_signatures_for_approval,
    then=("archive", ARCHIVE),
)


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

    In named steps: verify every unit's signature now and append the ``approve`` event;
    then collect the evidence (the frozen DOCX, the signatures, the CRL, the certificates,
    the audit segment ending with the ``approve`` event), sign the approval manifest with
    the board member's server-held key, build and store the archive. Nominations need
    ``decision_number`` and ``decision_date``. ``ca_secret`` opens the CA key to issue the
    CRL the bundle carries.
    """
    inputs = TriggerInputs(
        pin=pin,
        decision_number=decision_number,
        decision_date=decision_date,
        expected_version=expected_version,
    )
    settings = Settings(ca_secret=ca_secret)
    attempt = run(
        session, actor, document_id, "approve", APPROVE, inputs, settings=settings, now=now
    )
    return attempt.document


def _decision(document: Document, inputs: TriggerInputs) -> dict[str, Any]:
    """What the board decides, as the manifest and the approve event record it."""
    board = document.term.board_unit
    decision: dict[str, Any] = {"board": {"code": board.code, "name": board.name}}
    if inputs.decision_number is not None and inputs.decision_date is not None:
        decision.update(
            {"number": inputs.decision_number, "date": inputs.decision_date.isoformat()}
        )
    return decision


def _verified_signatures(
    session: Session, document: Document, ca: Any, crl: bytes, now: datetime
) -> tuple[dict[str, bytes], Any]:
    """(unit code → CMS, report) of the frozen version's live signatures, refused unless
    every member's verifies now, revocations included: the bundle must prove itself."""
    frozen = document.frozen_version
    assert frozen is not None
    assert frozen.docx_sha256 is not None
    by_unit = {s.unit_id: s for s in live_signatures(session, frozen.id)}
    members = document.term.member_units
    unit_sigs = {
        u.code: blobs.get_blob(session, by_unit[u.id].cms_sha256)
        for u in members
        if u.id in by_unit
    }
    docx = blobs.get_blob(session, frozen.docx_sha256)
    trust = TrustStore([ca.certificate], crls=[crl])
    report = verify_document(docx, {u.code: u.name for u in members}, unit_sigs, trust, at=now)
    if report.status != "complete":
        failing = [
            f"{u.code} ({u.report.code if u.report else 'chưa ký'})"
            for u in report.units
            if u.report is None or not u.report.passed
        ]
        raise GuardFailed(
            "Không thể phê duyệt: chữ ký chưa hợp lệ hoặc còn thiếu ("
            + ", ".join(failing)
            + "); hãy trả lại văn bản.",
            trigger="approve",
            guard="signatures_verify",
        )
    return unit_sigs, report


def _segment_ending_with_approval(attempt: Attempt) -> list[Any]:
    """The document's events, which must now end with the approve event right after the
    head read before it. The approval comes before the manifest, so the segment the board
    signs runs up to and including it (the manifest's ``audit_head`` is its hash)."""
    events = document_events(attempt.session, attempt.document.id)
    head = attempt.work["head_before_approval"]
    if head is not None and (len(events) < 2 or events[-2].hash != head):
        # Another event of the document slipped in (the document is locked, so this is a
        # defect, not a race): the bundle would not verify, so roll back rather than archive.
        raise ConflictError(
            "Văn bản vừa có thay đổi khác trong lúc phê duyệt; hãy thử lại.",
            code="audit_changed",
        )
    return events


def _collect_evidence(attempt: Attempt) -> ArchiveEvidence:
    """Step 1: everything the archive holds but the approval, the approve event included."""
    session, document, work = attempt.session, attempt.document, attempt.work
    frozen = document.frozen_version
    assert frozen is not None
    assert frozen.docx_sha256 is not None
    events = _segment_ending_with_approval(attempt)
    certificates: list[Any] = [work["ca"].certificate]
    for sig in live_signatures(session, frozen.id):
        cred = session.get(Credential, sig.credential_id) if sig.credential_id else None
        if cred is not None:
            certificates.append(_certificate(cred))
    term = document.term
    return ArchiveEvidence(
        document_id=str(document.id),
        document_docx=blobs.get_blob(session, frozen.docx_sha256),
        document_json={
            "kind": document.kind,
            "title": document.title,
            "year": term.year,
            "cluster": term.cluster.name,
            "reference_code": frozen.reference_code,
            "version": frozen.number,
            "content": frozen.content,
        },
        expected_units={u.code: u.name for u in term.member_units},
        unit_signatures=work["unit_sigs"],
        certificates=certificates,
        crl=work["crl"],
        audit_events=[e.to_dict() for e in events],
        verification=work["report"].to_dict(),
        created_at=attempt.now,
    )


def _sign_manifest(
    evidence: ArchiveEvidence,
    decision: dict[str, Any],
    key: Any,
    credential: Credential,
    ca: Any,
    now: datetime,
) -> tuple[bytes, bytes]:
    """Step 2: the approval manifest (pinning every file of the evidence) and the board
    member's CMS over it."""
    try:
        manifest = approval_manifest(evidence, decision=decision, approved_at=now)
        signature = sign_detached(
            manifest, key, _certificate(credential), signing_time=now, chain=(ca.certificate,)
        )
    except SigningError as exc:
        raise GuardFailed(
            f"Không lập được bản kê phê duyệt: {exc}", trigger="approve", guard="manifest"
        ) from None
    return manifest, signature


def _build_archive(
    attempt: Attempt, evidence: ArchiveEvidence, signed: tuple[bytes, bytes]
) -> dict[str, Any]:
    """Step 3: the bundle, stored with the approval; the document is archived by the
    transition that follows. The ``archive`` event records the manifest, the board's
    signature and the bundle by hash: it cannot be inside the bundle whose hash it records,
    so the bundle's segment ends with the ``approve`` event, and the database's chain vouches
    for the bundle from here on."""
    session, document, now, work = attempt.session, attempt.document, attempt.now, attempt.work
    manifest, manifest_sig = signed
    try:
        bundle = build_bundle(evidence, manifest, manifest_sig)
    except SigningError as exc:
        raise GuardFailed(
            f"Không lập được gói lưu trữ: {exc}", trigger="approve", guard="bundle"
        ) from None
    manifest_sha = blobs.put_blob(session, manifest, blobs.JSON, now=now)
    manifest_sig_sha = blobs.put_blob(session, manifest_sig, blobs.CMS, now=now)
    bundle_sha = blobs.put_blob(session, bundle, blobs.ZIP, now=now)
    frozen = document.frozen_version
    assert frozen is not None
    decision = work["decision"]
    session.add(
        Approval(
            document_id=document.id,
            version_id=frozen.id,
            approver_id=attempt.user.id,
            credential_id=work["credential"].id,
            decision_number=decision.get("number"),
            decision_date=parse_date(decision.get("date")),
            manifest_sha256=manifest_sha,
            signature_sha256=manifest_sig_sha,
            bundle_sha256=bundle_sha,
            approved_at=now,
        )
    )
    # Written with the archived state in one UPDATE (the check constraint ties them).
    document.bundle_sha256 = bundle_sha
    return {
        "bundle_sha256": bundle_sha,
        "manifest_sha256": manifest_sha,
        "approval_signature_sha256": manifest_sig_sha,
    }


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


def _signing_complete(attempt: Attempt) -> dict[str, Any]:
    frozen = attempt.document.frozen_version
    return {"version": frozen.number if frozen else None}


COMPLETE_SIGNING = Steps(effect=_signing_complete)


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
        if run_system(session, document, "complete_signing", COMPLETE_SIGNING, now=now):
            moved.append(document.id)
    return moved
