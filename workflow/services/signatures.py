"""Signing use cases: a member unit signs the frozen version (server-held key and PIN, or
an uploaded CMS); the sweeper completes what the signing join may have missed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing import KeySigner, verify_signature
from signing.cades import add_signature_timestamp
from signing.cms import sign_detached
from signing.errors import SigningError
from workflow import blobs
from workflow.clock import aware
from workflow.definitions import STATE_LABELS
from workflow.errors import ConflictError, CredentialLocked, PermissionDenied, ValidationError
from workflow.inputs import TriggerInputs
from workflow.models import Credential, Document, Signature, Unit, User
from workflow.pki import ca_certificate
from workflow.services._common import lock_document
from workflow.services.keys import certificate_of, open_key, server_credential, trust_store
from workflow.services.pipeline import (
    Attempt,
    Settings,
    Steps,
    read_member_unit,
    run,
    run_system,
)
from workflow.services.signed_pdf import sign_pdfs
from workflow.tsa import timestamper

MAX_UPLOAD_SIGNATURE = 256 * 1024


# --- sign ---------------------------------------------------------------------------------


def _replay_signature(attempt: Attempt) -> Signature | None:
    """This unit's live signature of the frozen version, if the actor signs for it: signing
    again (a double click, a retried request) gets it back instead of an error."""
    return _own_existing_signature(
        attempt.session, attempt.user, attempt.document.frozen_version_id, attempt.unit_id
    )


def _make_signature(attempt: Attempt) -> None:
    """The CMS over the frozen signed bytes (a pledge's DOCX, a dossier's manifest): verified
    from an upload, or made with the server-held
    key (unsealing it is the slow part, done before the document is locked)."""
    session, actor, now = attempt.session, attempt.user, attempt.now
    assert attempt.unit_id is not None  # is_member_signer passed
    unit = session.get(Unit, attempt.unit_id)
    assert unit is not None
    frozen = attempt.document.frozen_version
    assert frozen is not None
    assert frozen.signed_sha256 is not None
    signed = blobs.get_blob(session, frozen.signed_sha256)
    signature_der, pin = attempt.inputs.signature_der, attempt.inputs.pin
    if signature_der is not None:
        cms, credential_id, cert_sha, method = _uploaded(
            session, actor, unit, signed, signature_der, now
        )
    elif pin is not None:
        credential = server_credential(session, actor, unit.id)
        key = open_key(session, credential, pin, now)
        cert = certificate_of(credential)
        try:
            signer = KeySigner(key, cert, (ca_certificate(session),))
            cms = sign_detached(signed, signer, signing_time=now)
        except SigningError as exc:
            raise CredentialLocked(
                f"Không ký được bằng khóa này: {exc}", code="credential_damaged"
            ) from None
        credential_id, cert_sha, method = credential.id, credential.fingerprint_sha256, "server_key"
        attempt.work["signer"] = signer  # signs the PDFs too, once the document is locked
    else:
        raise ValidationError(
            "Cần nhập mã PIN hoặc tải lên tệp chữ ký (.p7s).", field="pin", code="pin_required"
        )
    # CAdES-T (issue 17): the deployment's TSA (or THIDUA_TSA_URL's) dates the signature
    # value, an uploaded one too, so the signature outlives its certificate.
    stamps = timestamper(session, attempt.settings.ca_secret, now=now)
    if stamps is not None:
        try:
            cms = add_signature_timestamp(cms, stamps)
        except SigningError as exc:
            raise ValidationError(
                f"Không đóng được dấu thời gian cho chữ ký: {exc}",
                field="signature",
                code="timestamp_failed",
            ) from None
    attempt.work["timestamper"] = stamps
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
    data = {
        "unit": work["unit"].code,
        "version": work["frozen_number"],
        "method": work["method"],
        "signature_sha256": cms_sha,
        "certificate_sha256": work["certificate_sha256"],
    }
    if work.get("signer") is not None:
        frozen = document.frozen_version
        assert frozen is not None
        # Read the PDFs' newest revisions under the lock: another signer may just have
        # added one.
        for row in (frozen, *frozen.parts):
            attempt.session.refresh(row, ["pdf_sha256"])
        signed = sign_pdfs(
            attempt.session,
            frozen,
            work["unit"],
            work["signer"],
            attempt.user,
            attempt.now,
            timestamper=work.get("timestamper"),
        )
        if signed:
            data["pdf_signatures"] = signed
    return data


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
    ca_secret: bytes | None = None,
    now: datetime | None = None,
) -> Signature:
    """A member unit's signer signs the frozen version, with the server-held key and ``pin``
    or by uploading a detached CMS (``signature_der``) made elsewhere, which is verified
    against the frozen bytes and the signer's registered certificate before it is stored.
    The signature gets a timestamp (CAdES-T) from THIDUA_TSA_URL's TSA, else from the
    built-in one, which ``ca_secret`` opens; with neither it is stored without.

    The same unit signing again gets its existing signature back.
    """
    inputs = TriggerInputs(
        pin=pin, signature_der=signature_der, unit_code=unit_code, expected_version=expected_version
    )
    settings = Settings(ca_secret=ca_secret)
    attempt = run(session, actor, document_id, "sign", SIGN, inputs, settings=settings, now=now)
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
    report = verify_signature(docx, der, trust_store(session), at=now, expected_unit_code=unit.code)
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
        # The upload itself is what is refused (422, like any signature that does not pass),
        # not a credential the signer could get unlocked (423).
        raise ValidationError(
            "Chứng thư số đã bị thu hồi.", field="signature", code="credential_revoked"
        )
    return der, credential.id, credential.fingerprint_sha256, "upload"


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
