"""Demo data (``thidua seed-demo``): the Hanoi 2018 cluster of documents.samples, driven
through the real services, so the demo shows what the engine records for real use.

Demo-only secrets: every demo user's password is ``thidua-demo`` and every demo PIN is
``123456``. They are printed by the command and documented in the README as demo-only.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import documents
from documents import samples
from signing.credentials import generate_private_key, seal_private_key
from workflow.clock import aware, utcnow
from workflow.errors import ConflictError
from workflow.models import User
from workflow.pki import ensure_ca
from workflow.security import hash_password
from workflow.services import admin, drafting, lifecycle

DEMO_PASSWORD = "thidua-demo"  # noqa: S105 - demo data only, printed and documented as such
DEMO_PIN = "123456"
CLUSTER_CODE = "CTD4"
BOARD_CODE = "HDTDKT-HN"
BOARD_NAME = "Hội đồng Thi đua – Khen thưởng các cơ quan Đảng Thành phố Hà Nội"
BOARD_USER = "board-approver"
ADMIN_USER = "admin"
STEPS = 12


@dataclass
class SeedResult:
    documents: dict[str, int] = field(default_factory=dict)  # label -> document id
    users: list[str] = field(default_factory=list)
    password: str = DEMO_PASSWORD
    pin: str = DEMO_PIN


def is_seeded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))


def seed_demo(
    session: Session,
    *,
    ca_secret: bytes,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    signed_pdf: bool = True,
) -> SeedResult:
    """Create the demo cluster and documents in the caller's transaction (flushes only).
    With ``signed_pdf`` (needs LibreOffice) the archived 2018 pledge carries its PDF signed
    by the eight units and the board.

    Records are stamped with the real clock (never before ``now``, default now).

    Raises ``ConflictError`` if the database already has users (seed an empty instance).
    """
    now = aware(now)
    step = progress or (lambda _label: None)
    if is_seeded(session):
        raise ConflictError(
            "Cơ sở dữ liệu đã có dữ liệu; seed-demo chỉ chạy trên một instance trống.",
            code="already_seeded",
        )
    result = SeedResult()

    last = [now]

    def at() -> datetime:
        # The real clock, strictly increasing: every record is in the past by the time anyone
        # verifies it, and the timeline reads in the order things were done.
        moment = max(utcnow(), last[0] + timedelta(microseconds=1))
        last[0] = moment
        return moment

    step("CA của hệ thống")
    ensure_ca(session, ca_secret, now=at())

    pledge_2018 = samples.pledge_2018()
    nomination_2018 = samples.nomination_2018()
    pledge_2019 = samples.pledge_2019()

    step("Đơn vị, cụm và nhiệm kỳ")
    for member in pledge_2018.member_units:
        admin.add_unit(session, None, member.code, member.name, now=at())
    admin.add_unit(session, None, BOARD_CODE, BOARD_NAME, kind="board", now=at())
    admin.add_cluster(session, None, CLUSTER_CODE, pledge_2018.cluster_name, now=at())
    codes_2018 = [u.code for u in pledge_2018.member_units]
    admin.add_term(
        session,
        None,
        CLUSTER_CODE,
        2018,
        head="VPHU-MD",
        deputy="VPHU-UH",
        board=BOARD_CODE,
        members=codes_2018,
        now=at(),
    )
    admin.add_term(
        session,
        None,
        CLUSTER_CODE,
        2019,
        head="VPHU-UH",
        deputy="VPHU-PX",
        board=BOARD_CODE,
        members=[u.code for u in pledge_2019.member_units],
        now=at(),
    )

    step("Người dùng")
    # Each user gets its own Argon2 hash (its own salt), as real users would: one shared hash
    # would show anyone reading the table that these accounts share a password.
    signers: list[tuple[str, str]] = []
    for member in pledge_2018.member_units:
        prefix = member.code.lower()
        admin.add_user(
            session,
            None,
            f"{prefix}-drafter",
            f"Chuyên viên {member.name}",
            roles=[(member.code, "drafter"), (member.code, "reviewer")],
            password_hash=hash_password(DEMO_PASSWORD),
            now=at(),
        )
        admin.add_user(
            session,
            None,
            f"{prefix}-signer",
            member.signer_name,
            roles=[(member.code, "signer")],
            password_hash=hash_password(DEMO_PASSWORD),
            now=at(),
        )
        result.users += [f"{prefix}-drafter", f"{prefix}-signer"]
        signers.append((f"{prefix}-signer", member.code))
    admin.add_user(
        session,
        None,
        BOARD_USER,
        "Trần Thị Bình (Hội đồng TĐKT)",
        roles=[(BOARD_CODE, "board")],
        password_hash=hash_password(DEMO_PASSWORD),
        now=at(),
    )
    admin.add_user(
        session,
        None,
        ADMIN_USER,
        "Quản trị hệ thống",
        roles=[(None, "admin")],
        password_hash=hash_password(DEMO_PASSWORD),
        now=at(),
    )
    result.users += [BOARD_USER, ADMIN_USER]
    signers.append((BOARD_USER, BOARD_CODE))

    step("Khóa ký và chứng thư số")
    keys = [generate_private_key() for _ in signers]
    # Sealing runs Argon2id (about 0.2 s each); it releases the GIL, so seal in parallel.
    with ThreadPoolExecutor(max_workers=4) as pool:
        sealed = list(pool.map(lambda k: seal_private_key(k, DEMO_PIN), keys))
    for (username, unit_code), key, blob in zip(signers, keys, sealed, strict=True):
        admin.issue_credential(
            session,
            None,
            username,
            unit_code,
            DEMO_PIN,
            ca_secret=ca_secret,
            private_key=key,
            sealed_key=blob,
            now=at(),
        )

    def user(name: str) -> User:
        found = session.scalar(select(User).where(User.username == name))
        assert found is not None
        return found

    md_drafter = user("vphu-md-drafter")

    step("Giao ước 2018: dự thảo và góp ý")
    pledge = drafting.create_document(
        session, md_drafter, documents.content_to_dict(pledge_2018), now=at()
    )
    lifecycle.submit_for_review(session, md_drafter, pledge.id, now=at())
    drafting.comment(
        session,
        user("vphu-uh-drafter"),
        pledge.id,
        "criteria.items[3]",
        "Đề nghị nêu rõ tỷ lệ văn bản điện tử cần đạt trong năm.",
        now=at(),
    )
    drafting.comment(
        session,
        user("vphu-px-signer"),
        pledge.id,
        "commitments[0]",
        "Nhất trí; đề nghị bổ sung thời hạn báo cáo sơ kết 6 tháng.",
        now=at(),
    )
    drafting.comment(
        session,
        user("vptu-st-drafter"),
        pledge.id,
        "criteria",
        "Thang điểm phù hợp với hướng dẫn của Thành ủy.",
        now=at(),
    )

    step("Giao ước 2018: các đơn vị nhất trí")
    for username, _code in signers[:-1]:
        lifecycle.concur(session, user(username), pledge.id, now=at())

    step("Giao ước 2018: mở ký")
    lifecycle.open_signing(
        session, md_drafter, pledge.id, ca_secret=ca_secret, signed_pdf=signed_pdf, now=at()
    )

    step("Giao ước 2018: 8 đơn vị ký")
    for username, _code in signers[:-1]:
        lifecycle.sign(
            session, user(username), pledge.id, pin=DEMO_PIN, ca_secret=ca_secret, now=at()
        )

    step("Giao ước 2018: trình Hội đồng")
    lifecycle.submit(session, md_drafter, pledge.id, now=at())

    step("Giao ước 2018: phê duyệt và lưu trữ")
    lifecycle.approve(
        session, user(BOARD_USER), pledge.id, pin=DEMO_PIN, ca_secret=ca_secret, now=at()
    )
    result.documents["pledge-2018"] = pledge.id

    step("Hồ sơ khen thưởng 2018: gửi góp ý")
    nomination = drafting.create_document(
        session, md_drafter, documents.content_to_dict(nomination_2018), now=at()
    )
    lifecycle.submit_for_review(session, md_drafter, nomination.id, now=at())
    drafting.comment(
        session,
        user("vphu-cm-drafter"),
        nomination.id,
        "nominees[0]",
        "Đề nghị kiểm tra lại số phiếu bầu của đơn vị dẫn đầu.",
        now=at(),
    )
    result.documents["nomination-2018"] = nomination.id

    step("Giao ước 2019: dự thảo của Ứng Hòa")
    draft = drafting.create_document(
        session, user("vphu-uh-drafter"), documents.content_to_dict(pledge_2019), now=at()
    )
    result.documents["pledge-2019"] = draft.id
    session.flush()
    return result
