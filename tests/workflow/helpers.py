"""Helpers for driving the demo cluster's documents through the services in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from signing.cms import sign_detached
from workflow import blobs
from workflow.clock import utcnow
from workflow.inputs import TriggerInputs
from workflow.models import Document, User
from workflow.pki import ca_certificate
from workflow.seed import DEMO_PIN
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
    assert doc.frozen_version.signed_sha256 is not None
    return blobs.get_blob(session, doc.frozen_version.signed_sha256)


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


OTHER_DRAFTER = ("vphu-xa-drafter", "mat-khau-xa-1")


def other_cluster_pledge(session: Session) -> int:
    """A second cluster, CTD9 (units VPHU-XA head and VPHU-XB deputy, its own board BTDKT-X),
    with a draft 2019 pledge by ``vphu-xa-drafter``; returns the pledge's id (flushed)."""
    import documents
    from workflow.services import admin, drafting

    admin.add_unit(session, None, "VPHU-XA", "Văn phòng Huyện ủy Xa")
    admin.add_unit(session, None, "VPHU-XB", "Văn phòng Huyện ủy Xb")
    admin.add_unit(session, None, "BTDKT-X", "Ban Thi đua cụm khác", kind="board")
    admin.add_cluster(session, None, "CTD9", "Cụm thi đua số 9")
    admin.add_term(
        session, None, "CTD9", 2019, head="VPHU-XA", deputy="VPHU-XB", board="BTDKT-X",
        members=["VPHU-XA", "VPHU-XB"],
    )  # fmt: skip
    username, password = OTHER_DRAFTER
    admin.add_user(session, None, username, "Chuyên viên Xa", password,
                   roles=[("VPHU-XA", "drafter")])  # fmt: skip
    content = documents.content_to_dict(documents.samples.pledge_2019())
    first = content["member_units"][0]
    content["member_units"] = [
        {**first, "code": "VPHU-XA", "name": "Văn phòng Huyện ủy Xa"},
        {**first, "code": "VPHU-XB", "name": "Văn phòng Huyện ủy Xb"},
    ]
    content.update(head_unit="VPHU-XA", deputy_unit="VPHU-XB", cluster_name="Cụm thi đua số 9")
    return drafting.create_document(session, user(session, username), content).id


def approve_nomination(session: Session, demo: Any, document_id: int) -> Document:
    """The board approves a submitted nomination with its decision (number and date)."""
    return lifecycle.fire(
        session,
        user(session, "board-approver"),
        document_id,
        "approve",
        TriggerInputs(
            pin=DEMO_PIN, decision_number="15/QĐ-HĐTĐKT", decision_date=date(2018, 12, 28)
        ),
        ca_secret=demo.ca_secret,
    )
