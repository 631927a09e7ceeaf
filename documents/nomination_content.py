"""The nomination dossier (hồ sơ đề nghị khen thưởng): the submission (tờ trình), the
minutes of the review meeting (biên bản), the nominees and their achievement reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from documents.errors import DocumentError
from documents.fields import (
    MAX_NOMINEES,
    MAX_POINTS,
    MAX_UNITS,
    REQUIRED,
    clean_code,
    clean_recipients,
    clean_signer,
    clean_symbol,
    nested,
    nested_tuple,
    require_fields,
    set_field,
)
from documents.parties import (
    Issuer,
    MemberUnit,
    SignedByMembers,
    clean_cluster_heading,
    clean_members,
)
from documents.text import (
    SHORT,
    clean_choice,
    clean_date,
    clean_int,
    clean_lines,
    clean_optional_int,
    clean_score,
    clean_text,
    clean_time,
)


@dataclass(frozen=True)
class Submission:
    """The tờ trình that sends the nomination to the emulation board."""

    number: int | None = REQUIRED
    symbol: str = REQUIRED  # "TTr/CTĐ4"
    date: dt.date = REQUIRED
    addressee: str = REQUIRED  # "Hội đồng Thi đua – Khen thưởng các cơ quan Đảng ..."
    summary: str = REQUIRED  # "Về việc đề nghị khen thưởng ..."
    legal_bases: tuple[str, ...] = REQUIRED
    request: tuple[str, ...] = REQUIRED  # body paragraphs
    signer_title: str = REQUIRED  # "Cụm trưởng"
    signer_name: str = REQUIRED
    signer_authority: str = "T/M"
    recipients: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()  # the documents sent with it ("Hồ sơ kèm theo")

    def __post_init__(self) -> None:
        require_fields(self)
        set_field(self, "number", clean_optional_int(self.number, "number", lo=1, hi=99999))
        set_field(self, "symbol", clean_symbol(self.symbol, "symbol"))
        set_field(self, "date", clean_date(self.date, "date"))
        set_field(self, "addressee", clean_text(self.addressee, "addressee", max_len=200))
        set_field(self, "summary", clean_text(self.summary, "summary", max_len=300))
        set_field(
            self,
            "legal_bases",
            clean_lines(self.legal_bases, "legal_bases", max_len=600, strip_end=";.,"),
        )
        set_field(self, "request", clean_lines(self.request, "request"))
        clean_signer(self)
        set_field(self, "recipients", clean_recipients(self.recipients))
        set_field(
            self,
            "attachments",
            clean_lines(
                self.attachments, "attachments", required=False, max_len=SHORT, strip_end=";.,"
            ),
        )


VOTING_METHODS = {"secret_ballot": "bỏ phiếu kín", "show_of_hands": "biểu quyết giơ tay"}
COMMITTEE_ROLES = {"head": "Trưởng ban", "member": "Thành viên"}


@dataclass(frozen=True)
class Representative:
    """Who attended the review meeting for a member unit (the minutes name each one)."""

    unit_code: str = REQUIRED
    name: str = REQUIRED
    position: str = REQUIRED  # "Chánh Văn phòng Huyện ủy Mỹ Đức"

    def __post_init__(self) -> None:
        require_fields(self)
        set_field(self, "unit_code", clean_code(self.unit_code, "unit_code"))
        set_field(self, "name", clean_text(self.name, "name", max_len=80))
        set_field(self, "position", clean_text(self.position, "position", max_len=160))


@dataclass(frozen=True)
class CommitteeMember:
    """A member of the vote-counting committee (ban kiểm phiếu) of a secret ballot."""

    name: str = REQUIRED
    position: str = REQUIRED
    role: str = "member"  # "head" | "member"

    def __post_init__(self) -> None:
        require_fields(self)
        set_field(self, "name", clean_text(self.name, "name", max_len=80))
        set_field(self, "position", clean_text(self.position, "position", max_len=160))
        set_field(self, "role", clean_choice(self.role, "role", COMMITTEE_ROLES))

    @property
    def role_text(self) -> str:
        return COMMITTEE_ROLES[self.role]


@dataclass(frozen=True)
class Meeting:
    """The review meeting (hội nghị bình xét) whose minutes are part of the nomination."""

    number: int | None = REQUIRED
    symbol: str = REQUIRED  # "BB/CTĐ4"
    date: dt.date = REQUIRED
    start_time: str = REQUIRED  # "08:00"
    end_time: str = REQUIRED  # "11:30"
    place: str = REQUIRED
    chair_name: str = REQUIRED
    chair_title: str = REQUIRED
    secretary_name: str = REQUIRED
    secretary_title: str = REQUIRED
    voting_method: str = REQUIRED  # "secret_ballot" | "show_of_hands"
    ballots_issued: int = REQUIRED
    ballots_valid: int = REQUIRED
    discussion: tuple[str, ...] = REQUIRED
    absent_units: tuple[str, ...] = ()  # codes of member units not present
    next_head_unit: str | None = None
    next_deputy_unit: str | None = None
    representatives: tuple[Representative, ...] = ()
    counting_committee: tuple[CommitteeMember, ...] = ()

    def __post_init__(self) -> None:
        require_fields(self)
        set_field(self, "number", clean_optional_int(self.number, "number", lo=1, hi=99999))
        set_field(self, "symbol", clean_symbol(self.symbol, "symbol"))
        set_field(self, "date", clean_date(self.date, "date"))
        set_field(self, "start_time", clean_time(self.start_time, "start_time"))
        set_field(self, "end_time", clean_time(self.end_time, "end_time"))
        if self.end_time <= self.start_time:
            raise DocumentError("end_time", "giờ kết thúc phải sau giờ bắt đầu")
        set_field(self, "place", clean_text(self.place, "place", max_len=200))
        for name, limit in (
            ("chair_name", 80),
            ("chair_title", 160),
            ("secretary_name", 80),
            ("secretary_title", 160),
        ):
            set_field(self, name, clean_text(getattr(self, name), name, max_len=limit))
        set_field(
            self, "voting_method", clean_choice(self.voting_method, "voting_method", VOTING_METHODS)
        )
        set_field(
            self, "ballots_issued", clean_int(self.ballots_issued, "ballots_issued", lo=1, hi=10000)
        )
        set_field(
            self, "ballots_valid", clean_int(self.ballots_valid, "ballots_valid", lo=0, hi=10000)
        )
        if self.ballots_valid > self.ballots_issued:
            raise DocumentError("ballots_valid", "số phiếu hợp lệ vượt số phiếu phát ra")
        set_field(self, "discussion", clean_lines(self.discussion, "discussion"))
        codes = clean_lines(
            self.absent_units, "absent_units", required=False, max_len=32, max_items=MAX_UNITS
        )
        set_field(
            self,
            "absent_units",
            tuple(clean_code(c, f"absent_units[{i}]") for i, c in enumerate(codes)),
        )
        for name in ("next_head_unit", "next_deputy_unit"):
            value = getattr(self, name)
            set_field(self, name, None if value in (None, "") else clean_code(value, name))
        set_field(
            self,
            "representatives",
            nested_tuple(
                self.representatives, Representative, "representatives", max_items=2 * MAX_UNITS
            ),
        )
        set_field(
            self,
            "counting_committee",
            nested_tuple(
                self.counting_committee, CommitteeMember, "counting_committee", max_items=9
            ),
        )
        self._check_committee()

    def _check_committee(self) -> None:
        committee = self.counting_committee
        if not committee:
            return
        if self.voting_method != "secret_ballot":
            raise DocumentError("counting_committee", "chỉ bỏ phiếu kín mới có ban kiểm phiếu")
        heads = [i for i, member in enumerate(committee) if member.role == "head"]
        if len(heads) != 1:
            raise DocumentError(
                f"counting_committee[{heads[1]}].role" if heads else "counting_committee",
                "ban kiểm phiếu có đúng một trưởng ban",
            )

    @property
    def voting_method_text(self) -> str:
        return VOTING_METHODS[self.voting_method]


@dataclass(frozen=True)
class Votes:
    """Votes cast on one nominee."""

    in_favour: int = REQUIRED
    against: int = 0
    abstain: int = 0

    def __post_init__(self) -> None:
        require_fields(self)
        for name in ("in_favour", "against", "abstain"):
            set_field(self, name, clean_int(getattr(self, name), name, lo=0, hi=10000))

    @property
    def cast(self) -> int:
        return self.in_favour + self.against + self.abstain


NOMINEE_KINDS = {"unit": "Tập thể", "person": "Cá nhân"}


@dataclass(frozen=True)
class Nominee:
    """A unit or a person proposed for an award, with its score and the votes it got."""

    rank: int = REQUIRED
    name: str = REQUIRED  # "Văn phòng Huyện ủy Mỹ Đức" or "Đồng chí Trần Thị Lan"
    award: str = REQUIRED  # "Cờ thi đua của Ủy ban nhân dân Thành phố Hà Nội"
    score: float = REQUIRED
    votes: Votes = REQUIRED
    kind: str = "unit"  # "unit" | "person"
    unit_code: str | None = None
    description: str = ""  # e.g. the person's position

    def __post_init__(self) -> None:
        require_fields(self)
        set_field(self, "rank", clean_int(self.rank, "rank", lo=1, hi=MAX_NOMINEES))
        set_field(self, "name", clean_text(self.name, "name", max_len=160))
        set_field(self, "award", clean_text(self.award, "award", max_len=200))
        set_field(self, "score", clean_score(self.score, "score", hi=MAX_POINTS))
        set_field(self, "votes", nested(self.votes, Votes, "votes"))
        set_field(self, "kind", clean_choice(self.kind, "kind", NOMINEE_KINDS))
        code = self.unit_code
        set_field(self, "unit_code", None if code in (None, "") else clean_code(code, "unit_code"))
        set_field(
            self,
            "description",
            clean_text(self.description, "description", required=False, max_len=200),
        )


@dataclass(frozen=True)
class AchievementReport:
    """The achievement report (báo cáo thành tích) of a nominee, signed by its own head: a
    document of the dossier in its own right (docs/domain.md §2.5)."""

    nominee_rank: int = REQUIRED  # the nominee it reports on
    number: int | None = REQUIRED
    symbol: str = REQUIRED  # "BC/VPHU"
    date: dt.date = REQUIRED
    background: tuple[str, ...] = REQUIRED  # history, organisation, functions
    achievements: tuple[str, ...] = REQUIRED
    past_awards: tuple[str, ...] = ()  # "Năm 2017: Bằng khen của ... (Quyết định số ...)"
    signer_title: str = REQUIRED
    signer_name: str = REQUIRED
    signer_authority: str = ""

    def __post_init__(self) -> None:
        require_fields(self)
        set_field(
            self,
            "nominee_rank",
            clean_int(self.nominee_rank, "nominee_rank", lo=1, hi=MAX_NOMINEES),
        )
        set_field(self, "number", clean_optional_int(self.number, "number", lo=1, hi=99999))
        set_field(self, "symbol", clean_symbol(self.symbol, "symbol"))
        set_field(self, "date", clean_date(self.date, "date"))
        set_field(self, "background", clean_lines(self.background, "background"))
        set_field(self, "achievements", clean_lines(self.achievements, "achievements"))
        set_field(
            self,
            "past_awards",
            clean_lines(self.past_awards, "past_awards", required=False, max_len=600),
        )
        clean_signer(self)


@dataclass(frozen=True)
class NominationContent(SignedByMembers):
    """The year-end nomination: submission (tờ trình), minutes (biên bản) and nominee list."""

    kind: ClassVar[str] = "nomination"

    cluster_name: str = REQUIRED
    year: int = REQUIRED
    issuer: Issuer = REQUIRED
    place: str = REQUIRED
    submission: Submission = REQUIRED
    meeting: Meeting = REQUIRED
    nominees: tuple[Nominee, ...] = REQUIRED
    member_units: tuple[MemberUnit, ...] = REQUIRED
    head_unit: str = REQUIRED
    deputy_unit: str | None = None
    profile: str = "party"
    achievement_reports: tuple[AchievementReport, ...] = ()

    def __post_init__(self) -> None:
        require_fields(self)
        clean_cluster_heading(self)
        set_field(self, "place", clean_text(self.place, "place", max_len=60))
        set_field(self, "submission", nested(self.submission, Submission, "submission"))
        set_field(self, "meeting", nested(self.meeting, Meeting, "meeting"))
        set_field(
            self,
            "nominees",
            nested_tuple(self.nominees, Nominee, "nominees", max_items=MAX_NOMINEES),
        )
        clean_members(self)
        set_field(
            self,
            "achievement_reports",
            nested_tuple(
                self.achievement_reports,
                AchievementReport,
                "achievement_reports",
                max_items=MAX_NOMINEES,
            ),
        )
        self._check_consistency()
        self._check_attendance()
        self._check_reports()

    def _check_consistency(self) -> None:
        meeting, codes = self.meeting, {u.code for u in self.member_units}
        if meeting.date.year not in (self.year, self.year + 1):
            raise DocumentError(
                "meeting.date",
                f"hội nghị bình xét năm {self.year} phải họp trong năm {self.year} "
                f"hoặc đầu năm {self.year + 1}",
            )
        if self.submission.date < meeting.date:
            raise DocumentError("submission.date", "tờ trình không thể lập trước hội nghị bình xét")
        for i, code in enumerate(meeting.absent_units):
            if code not in codes:
                raise DocumentError(
                    f"meeting.absent_units[{i}]", f"{code} không phải đơn vị thành viên"
                )
        if len(set(meeting.absent_units)) != len(meeting.absent_units):
            raise DocumentError("meeting.absent_units", "có đơn vị bị ghi trùng")
        if len(meeting.absent_units) >= len(self.member_units):
            raise DocumentError("meeting.absent_units", "không có đơn vị nào dự hội nghị")
        for name in ("next_head_unit", "next_deputy_unit"):
            code = getattr(meeting, name)
            if code is not None and code not in codes:
                raise DocumentError(f"meeting.{name}", f"{code} không phải đơn vị thành viên")
        if meeting.next_head_unit and meeting.next_head_unit == meeting.next_deputy_unit:
            raise DocumentError("meeting.next_deputy_unit", "cụm phó phải khác cụm trưởng")
        if not self.nominees:
            raise DocumentError("nominees", "cần ít nhất một tập thể hoặc cá nhân được đề nghị")
        ranks: set[int] = set()
        for i, nominee in enumerate(self.nominees):
            if nominee.rank in ranks:
                raise DocumentError(f"nominees[{i}].rank", f"thứ hạng {nominee.rank} bị trùng")
            ranks.add(nominee.rank)
            if nominee.unit_code is not None and nominee.unit_code not in codes:
                raise DocumentError(
                    f"nominees[{i}].unit_code", f"{nominee.unit_code} không phải đơn vị thành viên"
                )
            if nominee.votes.cast != meeting.ballots_valid:
                raise DocumentError(
                    f"nominees[{i}].votes",
                    f"đồng ý + không đồng ý + không biểu quyết = {nominee.votes.cast}, "
                    f"phải bằng số phiếu hợp lệ ({meeting.ballots_valid})",
                )

    def _check_attendance(self) -> None:
        """Each representative speaks for a member unit that was present, once."""
        present = {u.code for u in self.present_units}
        seen: set[str] = set()
        for i, person in enumerate(self.meeting.representatives):
            where = f"meeting.representatives[{i}].unit_code"
            if person.unit_code not in present:
                raise DocumentError(
                    where, f"{person.unit_code} không phải đơn vị thành viên dự hội nghị"
                )
            if person.unit_code in seen:
                raise DocumentError(where, f"{person.unit_code} đã có đại biểu ở dòng trước")
            seen.add(person.unit_code)

    def _check_reports(self) -> None:
        """One report at most per nominee, written before the submission that sends it."""
        ranks = {n.rank for n in self.nominees}
        seen: set[int] = set()
        for i, report in enumerate(self.achievement_reports):
            where = f"achievement_reports[{i}]"
            if report.nominee_rank not in ranks:
                raise DocumentError(
                    f"{where}.nominee_rank",
                    f"không có người được đề nghị thứ {report.nominee_rank}",
                )
            if report.nominee_rank in seen:
                raise DocumentError(
                    f"{where}.nominee_rank", f"người thứ {report.nominee_rank} đã có báo cáo"
                )
            seen.add(report.nominee_rank)
            if report.date > self.submission.date:
                raise DocumentError(
                    f"{where}.date", "báo cáo thành tích phải lập trước tờ trình gửi nó đi"
                )

    def report_for(self, nominee: Nominee) -> AchievementReport | None:
        return next((r for r in self.achievement_reports if r.nominee_rank == nominee.rank), None)

    @property
    def title(self) -> str:
        return f"HỒ SƠ ĐỀ NGHỊ KHEN THƯỞNG NĂM {self.year}"

    @property
    def present_units(self) -> tuple[MemberUnit, ...]:
        return tuple(u for u in self.member_units if u.code not in self.meeting.absent_units)
