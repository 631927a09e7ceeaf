"""Helpers for driving the demo cluster's documents through the services in tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from signing.cms import sign_detached
from workflow import blobs
from workflow.clock import utcnow
from workflow.models import Document, User
from workflow.pki import ca_certificate
from workflow.services import lifecycle

CODES_2019 = [
    "VPHU-MD",
    "VPHU-UH",
    "VPHU-PX",
    "VPHU-TT",
    "VPHU-TO",
    "VPHU-CM",
    "VPHU-QO",
    "VPTU-ST",
]
SIGNERS = [f"{code.lower()}-signer" for code in CODES_2019]
HEAD_2019 = "vphu-uh-drafter"
HEAD_2018 = "vphu-md-drafter"

T = TypeVar("T")


def user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


def run(
    factory: sessionmaker[Session], actor: str, fn: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Call a service in its own committed transaction, as one web request would."""
    with factory() as session:
        try:
            result = fn(session, user(session, actor), *args, **kwargs)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return result


def frozen_docx(session: Session, document_id: int) -> bytes:
    doc = session.get(Document, document_id)
    assert doc is not None
    assert doc.frozen_version is not None
    assert doc.frozen_version.docx_sha256 is not None
    return blobs.get_blob(session, doc.frozen_version.docx_sha256)


def cms_for(session: Session, demo: Any, username: str, data: bytes) -> bytes:
    """A detached CMS made outside thidua with the user's key (as openssl or a token would)."""
    cert = x509.load_der_x509_certificate(demo.certificates[username])
    return sign_detached(
        data, demo.keys[username], cert, signing_time=utcnow(), chain=(ca_certificate(session),)
    )


def drive_to_signing(session: Session, document_id: int, head: str = HEAD_2019) -> None:
    """draft → in_review → every member concurs → signing (the caller commits)."""
    lifecycle.submit_for_review(session, user(session, head), document_id)
    for signer in SIGNERS:
        lifecycle.concur(session, user(session, signer), document_id)
    lifecycle.open_signing(session, user(session, head), document_id)


def sign_all_uploaded(
    session: Session, demo: Any, document_id: int, signers: list[str] | None = None
) -> None:
    """Every (or the given) member signer uploads a detached signature: fast, no KDF."""
    data = frozen_docx(session, document_id)
    for signer in signers or SIGNERS:
        lifecycle.sign(
            session,
            user(session, signer),
            document_id,
            signature_der=cms_for(session, demo, signer, data),
        )
