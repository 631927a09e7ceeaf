"""close_pdfs with a timestamper (issue 17): the board's signature is B-T and the PDF the
workflow stores and hands to the bundle is the B-LTA one (DSS, document timestamp)."""

from __future__ import annotations

import itertools

import pytest

from signing import KeySigner, TrustStore, generate_private_key
from signing.ca import CERTIFIER_UNIT
from signing.pades import BOARD_FIELD, CERTIFICATION_FIELD, verify_pdf
from signing.tsa import AuthorityTimestamper, TimeStampAuthority
from signing.validation import Indication
from tests.workflow.helpers import HEAD_2019, SIGNERS, user
from workflow import blobs
from workflow.clock import utcnow
from workflow.errors import ValidationError
from workflow.models import Document
from workflow.pki import crl_der, load_ca
from workflow.seed import DEMO_PIN
from workflow.services import admin, lifecycle
from workflow.services.signed_pdf import close_pdfs

pytestmark = pytest.mark.slow


def _signed(s, demo) -> Document:
    lifecycle.submit_for_review(s, user(s, HEAD_2019), demo.pledge_2019)
    for signer in SIGNERS:
        lifecycle.concur(s, user(s, signer), demo.pledge_2019)
    doc = lifecycle.open_signing(
        s, user(s, HEAD_2019), demo.pledge_2019, ca_secret=demo.ca_secret, signed_pdf=True
    )
    for signer in SIGNERS:
        lifecycle.sign(s, user(s, signer), doc.id, pin=DEMO_PIN)
    return doc


def test_close_pdfs_with_a_timestamper_stores_the_b_lta_pdf(demo_session, demo):
    s = demo_session
    doc = _signed(s, demo)
    frozen = doc.frozen_version
    board = doc.term.board_unit
    ca = load_ca(s, demo.ca_secret)
    now = utcnow().replace(microsecond=0)
    key = generate_private_key()
    cert = ca.issue(
        key.public_key(),
        person="Phạm Thị Bảng",
        unit_name=board.name,
        unit_code=board.code,
        user_id="board-test",
        now=now,
    )
    tsa_key = generate_private_key("ec-p256")
    tsa_cert = ca.issue_tsa(tsa_key.public_key(), name="Thidua TSA", now=now)
    tsa = TimeStampAuthority(
        KeySigner(tsa_key, tsa_cert, [ca.certificate]), "1.3.6.1.4.1.59999.17.1"
    )
    serials = itertools.count(1)
    stamper = AuthorityTimestamper(tsa, at=now, next_serial=lambda: next(serials))
    before = blobs.get_blob(s, frozen.pdf_sha256)
    pdfs = close_pdfs(
        s,
        frozen,
        board,
        KeySigner(key, cert, (ca.certificate,)),
        user(s, "board-approver"),
        now,
        timestamper=stamper,
        certificates=[ca.certificate, tsa_cert, cert],
        crls=[crl_der(s, demo.ca_secret, now=now)],
    )
    stored = blobs.get_blob(s, frozen.pdf_sha256)
    assert pdfs == {"document.pdf": stored}
    assert stored.startswith(before)
    expected: dict[str, str | None] = {
        **{code: code for code in (u.code for u in doc.term.member_units)},
        BOARD_FIELD: board.code,
        CERTIFICATION_FIELD: CERTIFIER_UNIT,
    }
    report = verify_pdf(
        stored, TrustStore.from_pem(admin.ca_pem(s)), at=now, expected_fields=expected
    )
    assert report.indication is Indication.TOTAL_PASSED, report.to_dict()
    assert report.lta
    assert report.dss_crls == 1
    board_sig = next(r for r in report.signatures if r.field == BOARD_FIELD)
    assert board_sig.trusted_time == now
    assert report.document_timestamps[0].report.gen_time == now


def test_certificates_without_a_timestamper_are_refused(demo_session, demo):
    s = demo_session
    doc = _signed(s, demo)
    with pytest.raises(ValidationError, match="dấu thời gian"):
        close_pdfs(
            s,
            doc.frozen_version,
            doc.term.board_unit,
            object(),  # type: ignore[arg-type]  # refused before it is used
            user(s, "board-approver"),
            utcnow(),
            crls=[b"crl"],
        )
