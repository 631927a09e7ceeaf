"""The use cases against a real database (SQLite, or PostgreSQL in CI's second run), on the
seeded demo cluster: permissions, versions, review, signing, approval, archive."""

from __future__ import annotations

import copy
import hashlib
from datetime import date

import docx as python_docx
import pytest
from sqlalchemy import func, select

import documents
from documents import samples
from signing import TrustStore
from signing.archive import verify_bundle
from tests.workflow.helpers import (
    HEAD_2018,
    HEAD_2019,
    SIGNERS,
    cms_for,
    drive_to_signing,
    frozen_docx,
    run,
    sign_all_uploaded,
    user,
)
from workflow.clock import utcnow
from workflow.db import session_factory
from workflow.errors import (
    ConflictError,
    CredentialLocked,
    GuardFailed,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
    WrongPinError,
)
from workflow.inputs import TriggerInputs
from workflow.models import ApiToken, Approval, Credential, Document, Signature
from workflow.seed import DEMO_PASSWORD, DEMO_PIN
from workflow.services import (
    admin,
    allowed_triggers,
    authenticate,
    comment,
    create_document,
    create_token,
    edit_draft,
    export_bundle,
    get_document,
    inbox,
    lifecycle,
    revoke_tokens,
    signature_progress,
    timeline,
    user_for_token,
    visible_documents,
)


def pledge_2019_dict() -> dict:
    return documents.content_to_dict(samples.pledge_2019())


# --- visibility and permissions -----------------------------------------------------------


def test_a_non_member_sees_nothing_of_the_cluster(demo_session, demo):
    s = demo_session
    admin.add_unit(s, None, "VPHU-BV", "Văn phòng Huyện ủy Ba Vì")
    stranger = admin.add_user(
        s, None, "vphu-bv-signer", "Nguyễn Văn A", "mat-khau-dai", roles=[("VPHU-BV", "signer")]
    )
    assert visible_documents(s, stranger) == []
    assert inbox(s, stranger).items == []
    for doc_id in (demo.pledge_2018, demo.nomination_2018, demo.pledge_2019):
        with pytest.raises(NotFound):
            get_document(s, stranger, doc_id)
        with pytest.raises(NotFound):
            timeline(s, stranger, doc_id)
        with pytest.raises(NotFound):
            lifecycle.fire(s, stranger, doc_id, "concur")
    with pytest.raises(NotFound):
        export_bundle(s, stranger, demo.pledge_2018)
    with pytest.raises(NotFound):
        comment(s, stranger, demo.nomination_2018, "nominees[0]", "Tôi muốn góp ý")


def test_members_and_the_board_see_the_cluster(demo_session, demo):
    for name in ("vphu-qo-signer", "vptu-st-drafter", "board-approver", "admin"):
        ids = {d.id for d in visible_documents(demo_session, user(demo_session, name))}
        assert ids == {demo.pledge_2018, demo.nomination_2018, demo.pledge_2019}
    only_2018 = visible_documents(
        demo_session, user(demo_session, "vphu-md-signer"), year=2018, kind="pledge"
    )
    assert [d.id for d in only_2018] == [demo.pledge_2018]


def test_only_the_head_units_drafter_creates_documents(demo_session, demo):
    s = demo_session
    lifecycle.cancel(s, user(s, HEAD_2019), demo.pledge_2019, reason="Soạn lại từ đầu")
    for name in ("vphu-md-drafter", "vphu-uh-signer", "board-approver", "admin"):
        with pytest.raises(PermissionDenied):
            create_document(s, user(s, name), pledge_2019_dict(), cluster_id=1)
    doc = create_document(s, user(s, HEAD_2019), pledge_2019_dict())
    assert doc.state == "draft"
    assert doc.current_version.number == 1
    with pytest.raises(ConflictError) as info:
        create_document(s, user(s, HEAD_2019), pledge_2019_dict())
    assert info.value.code == "document_exists"


def test_content_must_match_the_term(demo_session, demo):
    s = demo_session
    drafter = user(s, HEAD_2019)
    data = pledge_2019_dict()
    data["member_units"] = data["member_units"][:-1]
    with pytest.raises(ValidationError) as info:
        edit_draft(s, drafter, demo.pledge_2019, data, None)
    assert info.value.field == "member_units"
    bad = pledge_2019_dict()
    bad["member_units"][3]["name"] = ""
    with pytest.raises(ValidationError) as info:
        edit_draft(s, drafter, demo.pledge_2019, bad, None)
    assert info.value.field == "member_units[3].name"
    wrong_head = pledge_2019_dict()
    wrong_head["head_unit"] = "VPHU-MD"
    with pytest.raises(ValidationError) as info:
        edit_draft(s, drafter, demo.pledge_2019, wrong_head, None)
    assert info.value.field == "head_unit"


# --- drafting and versions ----------------------------------------------------------------


def test_edit_in_place_then_a_new_version_after_review(demo_session, demo):
    s = demo_session
    drafter = user(s, HEAD_2019)
    doc = get_document(s, drafter, demo.pledge_2019)
    data = pledge_2019_dict()
    data["commitments"].append("Báo cáo sơ kết 6 tháng trước ngày 15/6/2019.")
    edit_draft(s, drafter, doc.id, data, doc.version)
    assert [v.number for v in doc.versions] == [1]
    assert doc.current_version.content["commitments"][-1].startswith("Báo cáo sơ kết")
    lifecycle.submit_for_review(s, drafter, doc.id)
    comment(s, user(s, "vphu-to-signer"), doc.id, "commitments[0]", "Đề nghị ghi rõ thời hạn.")
    lifecycle.revise(s, drafter, doc.id)
    data["commitments"][0] += " (trong tháng 4)"
    edit_draft(s, drafter, doc.id, data, doc.version)
    assert [v.number for v in doc.versions] == [1, 2]
    assert doc.current_version.number == 2
    edit_draft(s, drafter, doc.id, pledge_2019_dict(), doc.version)
    assert [v.number for v in doc.versions] == [1, 2], "later edits update the new version"


def test_stale_version_is_a_conflict(demo_session, demo):
    s = demo_session
    drafter = user(s, HEAD_2019)
    doc = get_document(s, drafter, demo.pledge_2019)
    stale = doc.version
    edit_draft(s, drafter, doc.id, {**pledge_2019_dict(), "number": 4}, stale)
    with pytest.raises(ConflictError) as info:
        edit_draft(s, drafter, doc.id, {**pledge_2019_dict(), "number": 5}, stale)
    assert info.value.code == "stale_version"
    with pytest.raises(ConflictError):
        lifecycle.fire(
            s, drafter, doc.id, "submit_for_review", TriggerInputs(expected_version=stale)
        )


def test_two_sessions_racing_on_a_draft_one_conflicts(demo_db, demo):
    factory = session_factory(demo_db)
    with factory() as first, factory() as second:
        a = get_document(first, user(first, HEAD_2019), demo.pledge_2019)
        b = get_document(second, user(second, HEAD_2019), demo.pledge_2019)
        assert a.version == b.version
        edit_draft(
            first, user(first, HEAD_2019), a.id, {**pledge_2019_dict(), "number": 7}, a.version
        )
        first.commit()
        # Same expected version as the first: the optimistic lock rejects the second.
        with pytest.raises(ConflictError):
            edit_draft(
                second,
                user(second, HEAD_2019),
                b.id,
                {**pledge_2019_dict(), "number": 8},
                b.version,
            )


def test_only_a_draft_is_editable_and_only_by_the_head_drafter(demo_session, demo):
    s = demo_session
    with pytest.raises(PermissionDenied):
        edit_draft(s, user(s, "vphu-px-drafter"), demo.pledge_2019, pledge_2019_dict(), None)
    with pytest.raises(ConflictError) as info:
        edit_draft(
            s,
            user(s, HEAD_2018),
            demo.nomination_2018,
            documents.content_to_dict(samples.nomination_2018()),
            None,
        )
    assert info.value.code == "not_draft"


# --- review -------------------------------------------------------------------------------


def test_comments_are_anchored_and_come_from_members(demo_session, demo):
    s = demo_session
    doc_id = demo.nomination_2018
    row = comment(
        s, user(s, "vphu-qo-drafter"), doc_id, "submission.request[0]", "Đề nghị bổ sung số liệu."
    )
    assert row.anchor == "submission.request[0]"
    assert row.unit.code == "VPHU-QO"
    for anchor in ("nominees[999]", "khong_co", "../x", ""):
        with pytest.raises(ValidationError) as info:
            comment(s, user(s, "vphu-qo-drafter"), doc_id, anchor, "x")
        assert info.value.field == "anchor"
    with pytest.raises(ValidationError) as info:
        comment(s, user(s, "vphu-qo-drafter"), doc_id, "nominees[0]", "  ")
    assert info.value.field == "text"
    with pytest.raises(GuardFailed):
        comment(s, user(s, "board-approver"), doc_id, "nominees[0]", "Ban không góp ý ở đây")
    with pytest.raises(PermissionDenied):
        comment(
            s,
            user(s, "vphu-qo-drafter"),
            doc_id,
            "nominees[0]",
            "Nhân danh đơn vị khác",
            unit_code="VPHU-MD",
        )
    with pytest.raises(InvalidTransition):
        comment(s, user(s, "vphu-qo-drafter"), demo.pledge_2019, "criteria", "Chưa gửi góp ý")


def test_concur_and_request_changes_once_per_unit(demo_session, demo):
    s = demo_session
    doc_id = demo.nomination_2018
    lifecycle.concur(s, user(s, "vphu-tt-signer"), doc_id)
    with pytest.raises(GuardFailed, match="đã cho ý kiến"):
        lifecycle.request_changes(s, user(s, "vphu-tt-signer"), doc_id, reason="Đổi ý")
    with pytest.raises(GuardFailed, match="lý do"):
        lifecycle.request_changes(s, user(s, "vphu-to-signer"), doc_id, reason=" ")
    lifecycle.request_changes(s, user(s, "vphu-to-signer"), doc_id, reason="Sai số phiếu")
    with pytest.raises(GuardFailed):
        lifecycle.concur(s, user(s, "vphu-cm-drafter"), doc_id)  # drafters do not decide
    with pytest.raises(GuardFailed):
        lifecycle.concur(s, user(s, "vphu-qo-signer"), doc_id, unit_code="VPHU-CM")


def test_open_signing_waits_for_every_member_unless_overridden(demo_session, demo):
    s = demo_session
    drafter = user(s, HEAD_2018)
    with pytest.raises(GuardFailed, match="chưa nhất trí"):
        lifecycle.open_signing(s, drafter, demo.nomination_2018)
    doc = lifecycle.open_signing(
        s, drafter, demo.nomination_2018, override=True, reason="Hội nghị đã biểu quyết thông qua"
    )
    assert doc.state == "signing"
    events = timeline(s, drafter, doc.id)
    assert events[-1].data["override_reason"] == "Hội nghị đã biểu quyết thông qua"


def test_open_signing_freezes_the_rendered_bytes(demo_session, demo):
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    doc = get_document(s, user(s, HEAD_2019), demo.pledge_2019)
    version = doc.frozen_version
    data = frozen_docx(s, doc.id)
    assert hashlib.sha256(data).hexdigest() == version.signed_sha256
    assert version.frozen_at is not None
    assert version.reference_code.startswith("TD-GU-2019-")
    text = "\n".join(
        p.text for p in python_docx.Document(__import__("io").BytesIO(data)).paragraphs
    )
    assert "2019" in text
    progress = signature_progress(s, doc)
    assert (progress.total, progress.signed) == (8, 0)


# --- signing ------------------------------------------------------------------------------


def test_sign_with_server_key_and_the_same_unit_again_gets_it_back(demo_session, demo):
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    signer = user(s, "vphu-px-signer")
    first = lifecycle.sign(s, signer, demo.pledge_2019, pin=DEMO_PIN)
    assert first.method == "server_key"
    again = lifecycle.sign(s, signer, demo.pledge_2019, pin="khong-can")
    assert again.id == first.id
    assert (
        s.scalar(
            select(func.count())
            .select_from(Signature)
            .where(Signature.document_id == demo.pledge_2019)
        )
        == 1
    )


def test_wrong_pins_are_counted_across_rollbacks_and_lock_after_five(demo_db, demo):
    factory = session_factory(demo_db)
    with factory() as s:
        drive_to_signing(s, demo.pledge_2019)
        s.commit()
    for tries_left in (4, 3, 2, 1):
        with pytest.raises(WrongPinError) as info:
            run(factory, "vphu-tt-signer", lifecycle.sign, demo.pledge_2019, pin="000000")
        assert info.value.tries_left == tries_left
    with pytest.raises(CredentialLocked):
        run(factory, "vphu-tt-signer", lifecycle.sign, demo.pledge_2019, pin="000000")
    with pytest.raises(CredentialLocked):
        run(factory, "vphu-tt-signer", lifecycle.sign, demo.pledge_2019, pin=DEMO_PIN)
    with factory() as s:
        cred = s.scalar(
            select(Credential)
            .join(Credential.user)
            .where(Credential.user_id == user(s, "vphu-tt-signer").id)
        )
        assert (cred.status, cred.failed_pins) == ("locked", 5)
        admin.unlock_credential(s, None, cred.id)
        s.commit()
    sig = run(factory, "vphu-tt-signer", lifecycle.sign, demo.pledge_2019, pin=DEMO_PIN)
    with factory() as s:
        assert s.get(Signature, sig.id).unit.code == "VPHU-TT"


def test_a_right_pin_resets_the_counter(demo_db, demo):
    factory = session_factory(demo_db)
    with factory() as s:
        drive_to_signing(s, demo.pledge_2019)
        s.commit()
    with pytest.raises(WrongPinError):
        run(factory, "vphu-cm-signer", lifecycle.sign, demo.pledge_2019, pin="999999")
    run(factory, "vphu-cm-signer", lifecycle.sign, demo.pledge_2019, pin=DEMO_PIN)
    with factory() as s:
        cred = s.scalar(
            select(Credential).where(Credential.user_id == user(s, "vphu-cm-signer").id)
        )
        assert cred.failed_pins == 0


def test_uploaded_signatures_are_verified_before_they_are_stored(demo_session, demo):
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    data = frozen_docx(s, demo.pledge_2019)
    signer = user(s, "vphu-qo-signer")
    with pytest.raises(ValidationError) as info:
        lifecycle.sign(
            s,
            signer,
            demo.pledge_2019,
            signature_der=cms_for(s, demo, "vphu-qo-signer", data + b"x"),
        )
    assert info.value.code == "signature_invalid"
    with pytest.raises(ValidationError):
        lifecycle.sign(s, signer, demo.pledge_2019, signature_der=b"\x30\x03garbage")
    # A signature made with another unit's key, uploaded by this signer.
    with pytest.raises((ValidationError, PermissionDenied)):
        lifecycle.sign(
            s, signer, demo.pledge_2019, signature_der=cms_for(s, demo, "vphu-md-signer", data)
        )
    sig = lifecycle.sign(
        s, signer, demo.pledge_2019, signature_der=cms_for(s, demo, "vphu-qo-signer", data)
    )
    assert sig.method == "upload"
    assert sig.unit.code == "VPHU-QO"


def test_signers_sign_only_for_their_unit_and_the_board_never(demo_session, demo):
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    with pytest.raises(GuardFailed):
        lifecycle.sign(
            s, user(s, "vphu-md-signer"), demo.pledge_2019, pin=DEMO_PIN, unit_code="VPHU-UH"
        )
    with pytest.raises(GuardFailed):
        lifecycle.sign(s, user(s, "board-approver"), demo.pledge_2019, pin=DEMO_PIN)
    with pytest.raises(GuardFailed):
        lifecycle.sign(
            s, user(s, "board-approver"), demo.pledge_2019, pin=DEMO_PIN, unit_code="VPHU-MD"
        )
    with pytest.raises(GuardFailed):
        lifecycle.sign(s, user(s, HEAD_2019), demo.pledge_2019, pin=DEMO_PIN)
    assert signature_progress(s, get_document(s, user(s, "admin"), demo.pledge_2019)).signed == 0


def test_a_revoked_credential_cannot_sign(demo_session, demo):
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    signer = user(s, "vphu-to-signer")
    cred = s.scalar(select(Credential).where(Credential.user_id == signer.id))
    admin.revoke_credential(s, None, cred.id, reason="key_compromise")
    with pytest.raises(CredentialLocked):
        lifecycle.sign(s, signer, demo.pledge_2019, pin=DEMO_PIN)
    # An upload made with the revoked certificate is a refused input (422), not a lock.
    with pytest.raises(ValidationError) as info:
        lifecycle.sign(
            s,
            signer,
            demo.pledge_2019,
            signature_der=cms_for(s, demo, "vphu-to-signer", frozen_docx(s, demo.pledge_2019)),
        )
    assert info.value.code == "credential_revoked"


def test_the_last_signature_moves_to_signed_then_submit_approve_archive(demo_session, demo):
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    sign_all_uploaded(s, demo, demo.pledge_2019, SIGNERS[:-1])
    doc = get_document(s, user(s, "admin"), demo.pledge_2019)
    assert doc.state == "signing"
    lifecycle.sign(s, user(s, SIGNERS[-1]), doc.id, pin=DEMO_PIN)
    assert doc.state == "signed"
    assert signature_progress(s, doc).complete
    with pytest.raises(GuardFailed):
        lifecycle.submit(s, user(s, "vphu-px-drafter"), doc.id)
    lifecycle.submit(s, user(s, "vphu-uh-signer"), doc.id)
    with pytest.raises(WrongPinError):
        lifecycle.approve(
            s, user(s, "board-approver"), doc.id, pin="111111", ca_secret=demo.ca_secret
        )
    lifecycle.approve(s, user(s, "board-approver"), doc.id, pin=DEMO_PIN, ca_secret=demo.ca_secret)
    assert doc.state == "archived"
    approval = s.scalar(select(Approval).where(Approval.document_id == doc.id))
    assert approval.bundle_sha256 == doc.bundle_sha256
    bundle = export_bundle(s, user(s, "vptu-st-signer"), doc.id)
    report = verify_bundle(
        bundle, trust=TrustStore.from_pem(admin.ca_pem(s)), ca_fingerprint=None, at=utcnow()
    )
    assert report.passed, report.to_dict()
    with pytest.raises(InvalidTransition):
        lifecycle.fire(
            s, user(s, "board-approver"), doc.id, "return", TriggerInputs(reason="Quá hạn")
        )


def test_nomination_approval_needs_the_decision(demo_session, demo):
    s = demo_session
    doc_id = demo.nomination_2018
    for signer in SIGNERS:
        lifecycle.concur(s, user(s, signer), doc_id)
    lifecycle.open_signing(s, user(s, HEAD_2018), doc_id)
    sign_all_uploaded(s, demo, doc_id)
    lifecycle.submit(s, user(s, HEAD_2018), doc_id)
    board = user(s, "board-approver")
    with pytest.raises(GuardFailed, match="quyết định"):
        lifecycle.approve(s, board, doc_id, pin=DEMO_PIN, ca_secret=demo.ca_secret)
    with pytest.raises(ValidationError):
        lifecycle.approve(
            s, board, doc_id, pin=DEMO_PIN, ca_secret=demo.ca_secret, decision_number="15/QĐ-HĐTĐKT"
        )
    doc = lifecycle.fire(
        s,
        board,
        doc_id,
        "approve",
        TriggerInputs(
            pin=DEMO_PIN, decision_number="15/QĐ-HĐTĐKT", decision_date=date(2018, 12, 28)
        ),
        ca_secret=demo.ca_secret,
    )
    assert doc.state == "archived"
    approval = s.scalar(select(Approval).where(Approval.document_id == doc_id))
    assert (approval.decision_number, approval.decision_date) == (
        "15/QĐ-HĐTĐKT",
        date(2018, 12, 28),
    )


def test_decline_voids_signatures_and_starts_a_new_version(demo_session, demo):
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    sign_all_uploaded(s, demo, demo.pledge_2019, SIGNERS[:3])
    doc = get_document(s, user(s, "admin"), demo.pledge_2019)
    frozen_number = doc.frozen_version.number
    with pytest.raises(GuardFailed, match="lý do"):
        lifecycle.decline(s, user(s, "vphu-qo-signer"), doc.id, reason="")
    lifecycle.decline(s, user(s, "vphu-qo-signer"), doc.id, reason="Sai tên đơn vị")
    assert doc.state == "draft"
    assert doc.frozen_version_id is None
    assert doc.current_version.number == frozen_number + 1
    progress = signature_progress(s, doc)
    assert progress.signed == 0
    assert len(progress.voided) == 3
    assert all(v["voided"] and v["void_reason"] == "Sai tên đơn vị" for v in progress.voided)
    # The whole way again on the new version: every signature covers the new frozen bytes.
    drive_to_signing(s, doc.id)
    assert doc.frozen_version.number == frozen_number + 1
    sign_all_uploaded(s, demo, doc.id)
    assert doc.state == "signed"
    live = s.scalars(
        select(Signature).where(Signature.document_id == doc.id, Signature.voided_at.is_(None))
    ).all()
    assert {sig.version_id for sig in live} == {doc.frozen_version_id}


def test_the_board_returns_with_a_reason(demo_session, demo):
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    sign_all_uploaded(s, demo, demo.pledge_2019)
    lifecycle.submit(s, user(s, HEAD_2019), demo.pledge_2019)
    with pytest.raises(GuardFailed):
        lifecycle.return_document(s, user(s, "board-approver"), demo.pledge_2019, reason="")
    with pytest.raises(GuardFailed):
        lifecycle.return_document(s, user(s, HEAD_2019), demo.pledge_2019, reason="Tự trả")
    doc = lifecycle.return_document(
        s, user(s, "board-approver"), demo.pledge_2019, reason="Thiếu chỉ tiêu chuyển đổi số"
    )
    assert doc.state == "draft"
    assert len(signature_progress(s, doc).voided) == 8


def test_cancelled_is_final(demo_session, demo):
    s = demo_session
    drafter = user(s, HEAD_2018)
    with pytest.raises(GuardFailed):
        lifecycle.cancel(s, drafter, demo.nomination_2018, reason="")
    doc = lifecycle.cancel(s, drafter, demo.nomination_2018, reason="Làm lại hồ sơ")
    assert doc.state == "cancelled"
    assert doc.cancel_reason == "Làm lại hồ sơ"
    assert allowed_triggers(s, drafter, doc) == []
    for trigger in ("submit_for_review", "revise", "cancel", "concur"):
        with pytest.raises(InvalidTransition):
            lifecycle.fire(s, drafter, doc.id, trigger, TriggerInputs(reason="x"))


# --- what the UI asks ---------------------------------------------------------------------


def test_allowed_triggers_per_role(demo_session, demo):
    s = demo_session

    def allowed(name: str, doc_id: int) -> list[str]:
        return allowed_triggers(s, user(s, name), get_document(s, user(s, name), doc_id))

    assert allowed(HEAD_2019, demo.pledge_2019) == ["submit_for_review", "cancel"]
    assert allowed("vphu-md-drafter", demo.pledge_2019) == []
    assert allowed("vphu-md-signer", demo.pledge_2019) == []
    assert allowed("board-approver", demo.pledge_2019) == []
    assert set(allowed("vphu-tt-signer", demo.nomination_2018)) == {
        "comment",
        "concur",
        "request_changes",
    }
    assert allowed("vphu-tt-drafter", demo.nomination_2018) == ["comment"]
    assert set(allowed(HEAD_2018, demo.nomination_2018)) == {
        "comment",
        "revise",
        "open_signing",
        "cancel",
    }
    assert allowed("board-approver", demo.nomination_2018) == []
    assert allowed("admin", demo.pledge_2018) == []
    drive_to_signing(s, demo.pledge_2019)
    assert set(allowed("vphu-cm-signer", demo.pledge_2019)) == {"sign", "decline"}
    assert allowed("board-approver", demo.pledge_2019) == []
    sign_all_uploaded(s, demo, demo.pledge_2019, ["vphu-cm-signer"])
    assert allowed("vphu-cm-signer", demo.pledge_2019) == ["decline"]


def test_inbox_shows_what_waits_for_me(demo_session, demo):
    s = demo_session
    box = inbox(s, user(s, "vphu-qo-signer"))
    assert [i.document.id for i in box.items] == [demo.nomination_2018]
    assert box.counts == {"archived": 1, "in_review": 1, "draft": 1}
    assert box.recent
    assert box.recent[0].seq > box.recent[-1].seq
    assert [i.document.id for i in inbox(s, user(s, HEAD_2019)).items] == [demo.pledge_2019]
    assert inbox(s, user(s, "board-approver")).items == []


def test_timeline_and_progress_of_the_archived_demo_pledge(demo_session, demo):
    s = demo_session
    events = timeline(s, user(s, "vphu-px-signer"), demo.pledge_2018)
    actions = [e.action for e in events]
    assert actions[0] == "create"
    assert actions[-2:] == ["approve", "archive"]
    assert actions.count("sign") == 8
    assert actions.count("comment") == 3
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert events[-1].to_state == "archived"
    doc = get_document(s, user(s, "admin"), demo.pledge_2018)
    progress = signature_progress(s, doc)
    assert progress.complete
    assert progress.signed == 8
    assert [u.unit_code for u in progress.units][:2] == ["VPHU-MD", "VPHU-UH"]
    assert all(entry["signer"].endswith("-signer") for entry in progress.signatures())


# --- authentication -----------------------------------------------------------------------


def test_passwords(demo_session):
    s = demo_session
    assert authenticate(s, "vphu-md-drafter", DEMO_PASSWORD).username == "vphu-md-drafter"
    assert authenticate(s, "VPHU-MD-DRAFTER ", DEMO_PASSWORD) is not None
    assert authenticate(s, "vphu-md-drafter", "sai-mat-khau") is None
    assert authenticate(s, "khong-ton-tai", DEMO_PASSWORD) is None
    admin.set_active(s, None, "vphu-md-drafter", False)
    assert authenticate(s, "vphu-md-drafter", DEMO_PASSWORD) is None


def test_tokens_are_hashed_at_rest_and_revocable(demo_session):
    s = demo_session
    token = create_token(s, None, "vphu-uh-signer")
    assert user_for_token(s, token).username == "vphu-uh-signer"
    stored = s.scalars(select(ApiToken.token_sha256)).all()
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert user_for_token(s, token + "x") is None
    assert user_for_token(s, "Bearer " + token) is None
    with pytest.raises(PermissionDenied):
        create_token(s, user(s, "vphu-md-signer"), "vphu-uh-signer")
    assert revoke_tokens(s, None, "vphu-uh-signer") == 1
    assert user_for_token(s, token) is None


# --- administration -----------------------------------------------------------------------


def test_admin_validations(demo_session):
    s = demo_session
    with pytest.raises(ConflictError):
        admin.add_unit(s, None, "VPHU-MD", "Trùng mã")
    with pytest.raises(ValidationError):
        admin.add_unit(s, None, "mã có dấu", "Sai mã")
    with pytest.raises(PermissionDenied):
        admin.add_unit(s, user(s, "vphu-md-signer"), "VPHU-BV", "Không phải admin")
    admin.add_unit(s, user(s, "admin"), "VPHU-BV", "Văn phòng Huyện ủy Ba Vì")
    with pytest.raises(ValidationError):
        admin.add_term(
            s,
            None,
            "CTD4",
            2020,
            head="VPHU-BV",
            deputy=None,
            board="VPHU-MD",
            members=["VPHU-BV", "VPHU-MD"],
        )
    with pytest.raises(ValidationError):
        admin.add_term(
            s,
            None,
            "CTD4",
            2020,
            head="VPHU-QO",
            deputy=None,
            board="HDTDKT-HN",
            members=["VPHU-BV", "VPHU-MD"],
        )
    term = admin.add_term(
        s,
        None,
        "CTD4",
        2020,
        head="VPHU-BV",
        deputy="VPHU-MD",
        board="HDTDKT-HN",
        members=["VPHU-BV", "VPHU-MD"],
    )
    assert [u.code for u in term.member_units] == ["VPHU-BV", "VPHU-MD"]
    with pytest.raises(ValidationError):
        admin.add_user(s, None, "ngắn", "Tên", "mat-khau-dai")
    with pytest.raises(ValidationError):
        admin.add_user(s, None, "vphu-bv-signer", "Tên", "ngan")
    with pytest.raises(ValidationError):
        admin.add_user(
            s, None, "vphu-bv-board", "Tên", "mat-khau-dai", roles=[("VPHU-BV", "board")]
        )


def test_registered_certificate_signs_by_upload_only(demo_session, demo):
    from cryptography.hazmat.primitives import serialization

    from signing.cms import sign_detached
    from signing.credentials import generate_private_key
    from workflow.pki import load_ca

    s = demo_session
    admin.add_user(
        s, None, "vphu-px-signer2", "Lê Văn C", "mat-khau-dai", roles=[("VPHU-PX", "signer")]
    )
    key = generate_private_key()
    ca = load_ca(s, demo.ca_secret)
    cert = ca.issue(
        key.public_key(),
        person="Lê Văn C",
        unit_name="Văn phòng Huyện ủy Phú Xuyên",
        unit_code="VPHU-PX",
        user_id="ext-1",
        now=utcnow(),
    )
    cred = admin.register_certificate(
        s, None, "vphu-px-signer2", "VPHU-PX", cert.public_bytes(serialization.Encoding.PEM)
    )
    assert cred.sealed_key is None
    drive_to_signing(s, demo.pledge_2019)
    signer = user(s, "vphu-px-signer2")
    with pytest.raises(ValidationError) as info:
        lifecycle.sign(s, signer, demo.pledge_2019, pin=DEMO_PIN)
    assert info.value.code == "no_credential"
    der = sign_detached(frozen_docx(s, demo.pledge_2019), key, cert, signing_time=utcnow())
    sig = lifecycle.sign(s, signer, demo.pledge_2019, signature_der=der)
    assert (sig.method, sig.certificate_sha256) == ("upload", cred.fingerprint_sha256)
    with pytest.raises(ValidationError):
        admin.register_certificate(s, None, "vphu-px-signer2", "VPHU-PX", b"not a certificate")


def test_crl_lists_revoked_credentials(demo_session, demo):
    from cryptography import x509

    s = demo_session
    cred = s.scalars(select(Credential)).first()
    admin.revoke_credential(s, None, cred.id, reason="key_compromise")
    crl = x509.load_der_x509_crl(admin.crl(s, ca_secret=demo.ca_secret))
    assert crl.get_revoked_certificate_by_serial_number(int(cred.serial_number)) is not None


def test_documents_of_the_demo_are_stored_as_validated_content(demo_session, demo):
    doc = demo_session.get(Document, demo.pledge_2018)
    content = documents.content_from_dict(copy.deepcopy(doc.frozen_version.content))
    assert content.year == 2018
    assert len(content.member_units) == 8


def test_bad_request_inputs_are_our_own_errors(demo_session, demo):
    s = demo_session
    drafter = user(s, HEAD_2019)
    with pytest.raises(ValidationError) as info:
        lifecycle.fire(
            s, drafter, demo.pledge_2019, "submit_for_review", TriggerInputs(expected_version="x")
        )
    assert info.value.field == "expected_version"
    with pytest.raises(NotFound):
        get_document(s, drafter, "không-phải-số")
    with pytest.raises(InvalidTransition):
        lifecycle.fire(s, drafter, demo.pledge_2019, "publish")
    with pytest.raises(ValidationError):
        edit_draft(s, drafter, demo.pledge_2019, "không phải nội dung", None)
    with pytest.raises(ValidationError) as info:
        create_document(s, drafter, {"kind": "memo", "year": 2019})
    assert info.value.field == "kind"


def test_decision_date_accepts_iso_text(demo_session, demo):
    s = demo_session
    doc_id = demo.nomination_2018
    lifecycle.open_signing(s, user(s, HEAD_2018), doc_id, override=True, reason="Đã biểu quyết")
    sign_all_uploaded(s, demo, doc_id)
    lifecycle.submit(s, user(s, HEAD_2018), doc_id)
    board = user(s, "board-approver")
    with pytest.raises(ValidationError) as info:
        lifecycle.fire(
            s,
            board,
            doc_id,
            "approve",
            TriggerInputs(pin=DEMO_PIN, decision_number="15/QĐ", decision_date="28/12/2018"),
            ca_secret=demo.ca_secret,
        )
    assert info.value.field == "decision_date"
    doc = lifecycle.fire(
        s,
        board,
        doc_id,
        "approve",
        TriggerInputs(pin=DEMO_PIN, decision_number="15/QĐ", decision_date="2018-12-28"),
        ca_secret=demo.ca_secret,
    )
    assert doc.state == "archived"


def test_sweep_completes_a_fully_signed_document_left_in_signing(demo_session, demo):
    from workflow import blobs
    from workflow.services import sweep

    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    sign_all_uploaded(s, demo, demo.pledge_2019, SIGNERS[:-1])
    assert sweep(s) == []
    # The last signature written behind the join's back (as after a crash or a manual repair).
    doc = get_document(s, user(s, "admin"), demo.pledge_2019)
    last = user(s, SIGNERS[-1])
    der = cms_for(s, demo, SIGNERS[-1], frozen_docx(s, doc.id))
    cred = s.scalar(select(Credential).where(Credential.user_id == last.id))
    s.add(
        Signature(
            document_id=doc.id,
            version_id=doc.frozen_version_id,
            unit_id=cred.unit_id,
            signer_id=last.id,
            credential_id=cred.id,
            method="upload",
            cms_sha256=blobs.put_blob(s, der, blobs.CMS),
            certificate_sha256=cred.fingerprint_sha256,
            signed_at=utcnow(),
        )
    )
    s.flush()
    assert doc.state == "signing"
    assert sweep(s) == [doc.id]
    assert doc.state == "signed"
    assert sweep(s) == []
    assert timeline(s, last, doc.id)[-1].action == "complete_signing"


def test_approval_refuses_signatures_that_no_longer_verify(demo_session, demo):
    s = demo_session
    drive_to_signing(s, demo.pledge_2019)
    sign_all_uploaded(s, demo, demo.pledge_2019)
    lifecycle.submit(s, user(s, HEAD_2019), demo.pledge_2019)
    cred = s.scalar(select(Credential).where(Credential.user_id == user(s, SIGNERS[2]).id))
    admin.revoke_credential(s, None, cred.id, reason="key_compromise")
    with pytest.raises(GuardFailed) as info:
        lifecycle.approve(
            s, user(s, "board-approver"), demo.pledge_2019, pin=DEMO_PIN, ca_secret=demo.ca_secret
        )
    assert info.value.guard == "signatures_verify"
    assert "VPHU-PX" in info.value.reason
