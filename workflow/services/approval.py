"""Approval: the board approves a submitted document and it is archived with its bundle, in
one transaction; and the export of an archived document's bundle."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from signing import KeySigner, TrustStore, verify_document
from signing.archive import ArchiveEvidence, approval_manifest, build_bundle
from signing.archive.timestamps import add_archive_timestamp
from signing.cades import add_signature_timestamp
from signing.cms import sign_detached
from signing.errors import SigningError
from workflow import blobs
from workflow.audit import document_events
from workflow.errors import ConflictError, GuardFailed, NotFound, ValidationError, WorkflowError
from workflow.inputs import TriggerInputs
from workflow.models import Approval, Credential, Document, TimestampAuthorityRecord, User
from workflow.pki import crl_der, load_ca
from workflow.services._common import clean_text, current_actor, live_signatures, load_document
from workflow.services.keys import certificate_of, open_key, server_credential
from workflow.services.pipeline import Attempt, Settings, Steps, run
from workflow.services.signed_pdf import close_pdfs
from workflow.tsa import timestamper
from workflow.values import parse_date


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
    credential = server_credential(session, attempt.user, attempt.document.term.board_unit_id)
    key = open_key(session, credential, attempt.inputs.pin, now)
    attempt.work.update(
        credential=credential,
        key=key,
        ca=load_ca(session, ca_secret),
        # Issue 17: the board's CMS is CAdES-T, its PDF signature B-T, the archived PDF
        # B-LTA and the bundle gets its first archive timestamp.
        timestamper=timestamper(session, ca_secret, now=now),
    )


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
        evidence,
        work["decision"],
        work["key"],
        work["credential"],
        work["ca"],
        attempt.now,
        work["timestamper"],
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
    assert frozen.signed_sha256 is not None
    by_unit = {s.unit_id: s for s in live_signatures(session, frozen.id)}
    members = document.term.member_units
    unit_sigs = {
        u.code: blobs.get_blob(session, by_unit[u.id].cms_sha256)
        for u in members
        if u.id in by_unit
    }
    signed = blobs.get_blob(session, frozen.signed_sha256)
    trust = TrustStore([ca.certificate], crls=[crl])
    report = verify_document(signed, {u.code: u.name for u in members}, unit_sigs, trust, at=now)
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
    assert frozen.signed_sha256 is not None
    events = _segment_ending_with_approval(attempt)
    certificates: list[Any] = [work["ca"].certificate]
    for sig in live_signatures(session, frozen.id):
        cred = session.get(Credential, sig.credential_id) if sig.credential_id else None
        if cred is not None:
            certificates.append(certificate_of(cred))
    stamps = work["timestamper"]
    if stamps is not None:
        certificates += _tsa_certificates(session)
    term = document.term
    board = KeySigner(work["key"], certificate_of(work["credential"]), (work["ca"].certificate,))
    pdfs = close_pdfs(
        session,
        frozen,
        term.board_unit,
        board,
        attempt.user,
        attempt.now,
        timestamper=stamps,
        certificates=[*certificates, board.certificate] if stamps is not None else (),
        crls=[work["crl"]] if stamps is not None else (),
    )
    return ArchiveEvidence(
        document_id=str(document.id),
        document=blobs.get_blob(session, frozen.signed_sha256),
        parts={part.name: blobs.get_blob(session, part.docx_sha256) for part in frozen.parts},
        pdfs=pdfs,
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


def _tsa_certificates(session: Session) -> list[x509.Certificate]:
    """Every certificate the deployment's TSA has had: validation material for the tokens
    in the bundle and the PDF (a token made with last year's key names last year's)."""
    rows = session.scalars(select(TimestampAuthorityRecord).order_by(TimestampAuthorityRecord.id))
    return [x509.load_pem_x509_certificate(bytes(row.certificate_pem)) for row in rows]


def _sign_manifest(
    evidence: ArchiveEvidence,
    decision: dict[str, Any],
    key: Any,
    credential: Credential,
    ca: Any,
    now: datetime,
    stamps: Any,
) -> tuple[bytes, bytes]:
    """Step 2: the approval manifest (pinning every file of the evidence) and the board
    member's CMS over it, CAdES-T when there is a timestamper."""
    try:
        manifest = approval_manifest(evidence, decision=decision, approved_at=now)
        signer = KeySigner(key, certificate_of(credential), (ca.certificate,))
        signature = sign_detached(manifest, signer, signing_time=now)
        if stamps is not None:
            signature = add_signature_timestamp(signature, stamps)
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
        if work["timestamper"] is not None:
            bundle = add_archive_timestamp(bundle, work["timestamper"])
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
