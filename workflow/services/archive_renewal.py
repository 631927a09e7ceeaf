"""Renewing archive timestamps (issue 17, ``thidua archive renew``): before the certificate of
the TSA that made a bundle's newest archive timestamp expires, a new one from today's TSA
covers the bundle's manifest and every earlier timestamp, with today's CRL, so the chain of
evidence outlives each TSA key (what ETSI EN 319 102-1 calls augmentation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import cms
from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.archive import read_zip
from signing.archive.timestamps import add_archive_timestamp, archive_timestamp_files
from signing.errors import SigningError
from workflow import blobs
from workflow.audit import append_event
from workflow.clock import aware
from workflow.errors import ConfigError, ValidationError, WorkflowError
from workflow.models import Approval, Document, User
from workflow.pki import crl_der
from workflow.services._common import lock_document, operator_name
from workflow.tsa import timestamper

__all__ = ["RENEW_BEFORE_DAYS", "Renewal", "renew_archives"]

# Renew when the newest archive timestamp's TSA certificate has less than this left.
RENEW_BEFORE_DAYS = 2 * 365


@dataclass(frozen=True)
class Renewal:
    document_id: int
    renewed: bool
    old_bundle_sha256: str
    new_bundle_sha256: str | None
    tsa_expires: datetime | None  # of the newest archive timestamp before renewal


def renew_archives(
    session: Session,
    actor: User | None,
    *,
    ca_secret: bytes,
    now: datetime | None = None,
    before_days: int = RENEW_BEFORE_DAYS,
    force: bool = False,
    document_ids: list[int] | None = None,
) -> list[Renewal]:
    """Add an archive timestamp to each archived bundle (those of ``document_ids``, or all)
    whose newest archive timestamp's TSA certificate expires within ``before_days``, that
    has none, or every one with ``force``. Each renewal replaces the document's bundle and
    appends an ``archive_renew`` audit event; the old bundle stays stored."""
    who = operator_name(session, actor)
    if not isinstance(before_days, int) or not 0 <= before_days <= 20 * 366:
        raise ValidationError("Số ngày gia hạn trước phải từ 0 đến 7320.", field="before_days")
    now = aware(now)
    stamps = timestamper(session, ca_secret, now=now)
    if stamps is None:
        raise ConfigError("Không có đơn vị cấp dấu thời gian để gia hạn.", code="no_tsa")
    query = select(Document.id).where(Document.bundle_sha256.is_not(None)).order_by(Document.id)
    if document_ids is not None:
        query = query.where(Document.id.in_(document_ids))
    ids = list(session.scalars(query))
    missing = sorted(set(document_ids or ()) - set(ids))
    if missing:
        raise ValidationError(
            "Văn bản chưa được lưu trữ hoặc không tồn tại: " + ", ".join(map(str, missing)),
            field="document_ids",
        )
    crl: bytes | None = None
    out = []
    for doc_id in ids:
        document = lock_document(session, session.get_one(Document, doc_id))
        old_sha = document.bundle_sha256
        assert old_sha is not None
        bundle = blobs.get_blob(session, old_sha)
        expires = _newest_tsa_expiry(bundle)
        due = force or expires is None or expires - now < timedelta(days=before_days)
        if not due:
            out.append(Renewal(doc_id, False, old_sha, None, expires))
            continue
        if crl is None:
            crl = crl_der(session, ca_secret, now=now)
        try:
            renewed = add_archive_timestamp(bundle, stamps, crl=crl)
        except SigningError as exc:
            raise WorkflowError(
                f"Không gia hạn được gói lưu trữ của văn bản {doc_id}: {exc}",
                code="renew_failed",
            ) from None
        new_sha = blobs.put_blob(session, renewed, blobs.ZIP, now=now)
        document.bundle_sha256 = new_sha
        for approval in session.scalars(select(Approval).where(Approval.document_id == doc_id)):
            approval.bundle_sha256 = new_sha
        append_event(
            session,
            action="archive_renew",
            actor=who,
            now=now,
            document=document,
            data={"old_bundle_sha256": old_sha, "bundle_sha256": new_sha},
        )
        out.append(Renewal(doc_id, True, old_sha, new_sha, expires))
    session.flush()
    return out


def _newest_tsa_expiry(bundle: bytes) -> datetime | None:
    """notAfter of the certificate in the bundle's newest archive timestamp, None when the
    bundle has none (made before issue 17) or it cannot be read (renewing then is right)."""
    try:
        present = archive_timestamp_files(read_zip(bundle).files)
        if not present:
            return None
        token = cms.ContentInfo.load(present[max(present)]["tsr"])
        signed = token["content"]
        issuer_serial = signed["signer_infos"][0]["sid"].chosen
        for choice in signed["certificates"] or []:
            cert = choice.chosen
            if cert.serial_number == issuer_serial["serial_number"].native:
                return x509.load_der_x509_certificate(cert.dump()).not_valid_after_utc
    except (ValueError, TypeError, KeyError, IndexError, SigningError):
        return None
    return None
