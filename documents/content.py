"""The content of a pledge or a nomination as frozen, validated dataclasses.

Every class checks and normalises its fields on construction (NFC text, no control characters,
sane lengths, consistent numbers) and raises :class:`DocumentError` naming the offending field,
so anything that exists as a content object can be rendered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from documents.errors import DocumentError
from documents.profiles import PROFILES
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

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# Authority prefixes in their Party spelling; the State profile prints "TM.", "KT.", ...
AUTHORITIES = ("T/M", "K/T", "T/L", "T/U", "Q.", "")
MAX_UNITS = 40
MAX_NOMINEES = 100
MAX_POINTS = 1000
_CODE = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{0,30}[A-Z0-9])?")
# Symbols such as "GU/CTĐ4", "TTr/CTĐ4", "TTr-BTĐKT": letters, digits, "/", "-", "." only.
_SYMBOL = re.compile(r"[^\W_](?:[\w./-]{0,38}[^\W_])?")


MISSING_FIELD = "thiếu trường bắt buộc"


class _Required:
    """The default of every field a caller must give. A dataclass with only defaults lets
    ``PledgeContent()`` reach ``__post_init__``, which reports the first missing field as
    ``DocumentError(field, MISSING_FIELD)``, the error ``content_from_dict`` raises for a
    missing key, instead of Python's TypeError that names no field a form can show."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


def require_fields(obj: DataclassInstance) -> None:
    """Raise DocumentError for the first field of ``obj`` left at REQUIRED."""
    for f in dataclasses.fields(obj):
        if getattr(obj, f.name) is REQUIRED:
            raise DocumentError(f.name, MISSING_FIELD)


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _recipients(value: Any) -> tuple[str, ...]:
    """The "Nơi nhận" list, the same rules for every document kind."""
    return clean_lines(
        value, "recipients", required=False, max_len=SHORT, max_items=20, strip_end=";.,"
    )


def _nested(value: Any, cls: type, field: str) -> Any:
    """A nested field must already be an instance (dicts go through ``content_from_dict``)."""
    if isinstance(value, cls):
        return value
    raise DocumentError(field, f"phải là {cls.__name__}")


def _nested_tuple(value: Any, cls: type, field: str, *, max_items: int) -> tuple[Any, ...]:
    if value is None or isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        raise DocumentError(field, "phải là danh sách")
    items = list(value)
    if len(items) > max_items:
        raise DocumentError(field, f"quá nhiều mục ({len(items)}, tối đa {max_items})")
    return tuple(_nested(item, cls, f"{field}[{i}]") for i, item in enumerate(items))


def _clean_code(value: Any, field: str) -> str:
    text = clean_text(value, field, max_len=32)
    if not _CODE.fullmatch(text):
        raise DocumentError(field, "mã đơn vị chỉ gồm chữ in hoa A–Z, chữ số và dấu '-'")
    return text


def _clean_symbol(value: Any, field: str) -> str:
    text = clean_text(value, field, max_len=40)
    if not _SYMBOL.fullmatch(text):
        raise DocumentError(field, "ký hiệu chỉ gồm chữ, số, '/', '-' và '.', không có dấu cách")
    return text


def _check_deputy(authority: str, signer_title: str, field: str) -> None:
    # "K/T" means a deputy signs for the head ("K/T CHÁNH VĂN PHÒNG / PHÓ CHÁNH VĂN PHÒNG").
    if authority == "K/T" and not signer_title.casefold().startswith("phó "):
        raise DocumentError(
            field, "K/T (ký thay) chỉ dùng khi cấp phó ký: chức danh phải bắt đầu bằng 'Phó'"
        )


def _clean_year(value: Any, field: str = "year") -> int:
    return clean_int(value, field, lo=1990, hi=2100)


@dataclass(frozen=True)
class Issuer:
    """The issuing body and the body above it, as typed (the header prints them upper-case)."""

    name: str = REQUIRED  # "Cụm thi đua số 4", "Văn phòng"
    superior_body: str = ""  # "Thành ủy Hà Nội", "Huyện ủy Mỹ Đức"

    def __post_init__(self) -> None:
        require_fields(self)
        _set(self, "name", clean_text(self.name, "name", max_len=120))
        _set(
            self,
            "superior_body",
            clean_text(self.superior_body, "superior_body", required=False, max_len=120),
        )


@dataclass(frozen=True)
class MemberUnit:
    """A member unit of the cluster and the person who signs for it."""

    code: str = REQUIRED  # "VPHU-MD"
    name: str = REQUIRED  # "Văn phòng Huyện ủy Mỹ Đức"
    signer_title: str = REQUIRED  # "Chánh Văn phòng" (the title line does not repeat the unit)
    signer_name: str = REQUIRED  # "Nguyễn Văn Hùng"
    authority: str = ""  # a staff office's head signs with the title alone (HD 36 §1.7.1)

    def __post_init__(self) -> None:
        require_fields(self)
        _set(self, "code", _clean_code(self.code, "code"))
        _set(self, "name", clean_text(self.name, "name", max_len=120))
        _set(self, "signer_title", clean_text(self.signer_title, "signer_title", max_len=80))
        _set(self, "signer_name", clean_text(self.signer_name, "signer_name", max_len=80))
        authority = clean_text(self.authority, "authority", required=False, max_len=8)
        _set(self, "authority", clean_choice(authority, "authority", AUTHORITIES))
        _check_deputy(self.authority, self.signer_title, "authority")


@dataclass(frozen=True)
class Criterion:
    """One line of the scoring sheet."""

    title: str = REQUIRED
    max_points: int = REQUIRED

    def __post_init__(self) -> None:
        require_fields(self)
        _set(self, "title", clean_text(self.title, "title", max_len=600))
        _set(self, "max_points", clean_int(self.max_points, "max_points", lo=1, hi=MAX_POINTS))


@dataclass(frozen=True)
class ScoringSheet:
    """Criteria whose points add up to ``total``, plus a capped bonus group."""

    items: tuple[Criterion, ...] = REQUIRED
    total: int = 100
    bonus: tuple[Criterion, ...] = ()
    bonus_cap: int = 0

    def __post_init__(self) -> None:
        require_fields(self)
        items = _nested_tuple(self.items, Criterion, "items", max_items=40)
        if not items:
            raise DocumentError("items", "cần ít nhất một tiêu chí")
        _set(self, "items", items)
        _set(self, "total", clean_int(self.total, "total", lo=1, hi=MAX_POINTS))
        points = sum(c.max_points for c in items)
        if points != self.total:
            raise DocumentError(
                "total", f"tổng điểm các tiêu chí là {points}, không bằng tổng đã khai {self.total}"
            )
        _set(self, "bonus", _nested_tuple(self.bonus, Criterion, "bonus", max_items=20))
        _set(self, "bonus_cap", clean_int(self.bonus_cap, "bonus_cap", lo=0, hi=MAX_POINTS))
        if self.bonus and not self.bonus_cap:
            raise DocumentError("bonus_cap", "có điểm thưởng thì phải khai điểm thưởng tối đa")
        for i, item in enumerate(self.bonus):
            if item.max_points > self.bonus_cap:
                raise DocumentError(
                    f"bonus[{i}].max_points",
                    f"vượt điểm thưởng tối đa ({item.max_points} > {self.bonus_cap})",
                )


def _check_units(units: tuple[MemberUnit, ...], head: Any, deputy: Any) -> tuple[str, str | None]:
    if not units:
        raise DocumentError("member_units", "cần ít nhất một đơn vị thành viên")
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for i, unit in enumerate(units):
        if unit.code in seen_codes:
            raise DocumentError(
                f"member_units[{i}].code",
                f"mã {unit.code} trùng với đơn vị thứ {seen_codes[unit.code] + 1}",
            )
        folded = unit.name.casefold()
        if folded in seen_names:
            raise DocumentError(
                f"member_units[{i}].name",
                f"tên đơn vị trùng với đơn vị thứ {seen_names[folded] + 1}",
            )
        seen_codes[unit.code] = i
        seen_names[folded] = i
    head_code = _clean_code(head, "head_unit")
    if head_code not in seen_codes:
        raise DocumentError("head_unit", f"{head_code} không phải đơn vị thành viên")
    deputy_code = None
    if deputy not in (None, ""):
        deputy_code = _clean_code(deputy, "deputy_unit")
        if deputy_code not in seen_codes:
            raise DocumentError("deputy_unit", f"{deputy_code} không phải đơn vị thành viên")
        if deputy_code == head_code:
            raise DocumentError("deputy_unit", "cụm phó phải khác cụm trưởng")
    return head_code, deputy_code


def _check_profile(value: Any) -> str:
    return clean_choice(value, "profile", sorted(PROFILES))


@dataclass(frozen=True)
class PledgeContent:
    """A cluster's emulation pledge (giao ước thi đua), co-signed by every member unit."""

    kind: ClassVar[str] = "pledge"

    cluster_name: str = REQUIRED  # "Cụm thi đua số 4 – Văn phòng các huyện ủy, ..."
    year: int = REQUIRED
    issuer: Issuer = REQUIRED
    number: int | None = REQUIRED  # None: left blank for the records clerk to fill in
    symbol: str = REQUIRED  # "GU/CTĐ4"
    place: str = REQUIRED  # "Mỹ Đức"
    date: dt.date = REQUIRED
    legal_bases: tuple[str, ...] = REQUIRED
    preamble: tuple[str, ...] = REQUIRED
    contents: tuple[str, ...] = REQUIRED
    targets: tuple[str, ...] = REQUIRED
    criteria: ScoringSheet = REQUIRED
    commitments: tuple[str, ...] = REQUIRED
    member_units: tuple[MemberUnit, ...] = REQUIRED
    head_unit: str = REQUIRED
    deputy_unit: str | None = None
    summary: str = ""
    recipients: tuple[str, ...] = ()
    profile: str = "party"

    def __post_init__(self) -> None:
        require_fields(self)
        _set(self, "profile", _check_profile(self.profile))
        _set(self, "cluster_name", clean_text(self.cluster_name, "cluster_name", max_len=160))
        _set(self, "year", _clean_year(self.year))
        _set(self, "issuer", _nested(self.issuer, Issuer, "issuer"))
        _set(self, "number", clean_optional_int(self.number, "number", lo=1, hi=99999))
        _set(self, "symbol", _clean_symbol(self.symbol, "symbol"))
        _set(self, "place", clean_text(self.place, "place", max_len=60))
        _set(self, "date", clean_date(self.date, "date"))
        if self.date.year not in (self.year - 1, self.year):
            raise DocumentError(
                "date",
                f"giao ước năm {self.year} phải ký trong năm "
                f"{self.year} hoặc cuối năm {self.year - 1}",
            )
        _set(
            self,
            "legal_bases",
            clean_lines(self.legal_bases, "legal_bases", max_len=600, strip_end=";.,"),
        )
        _set(self, "preamble", clean_lines(self.preamble, "preamble", required=False))
        _set(self, "contents", clean_lines(self.contents, "contents"))
        _set(self, "targets", clean_lines(self.targets, "targets", required=False))
        _set(self, "criteria", _nested(self.criteria, ScoringSheet, "criteria"))
        _set(self, "commitments", clean_lines(self.commitments, "commitments"))
        _set(
            self,
            "member_units",
            _nested_tuple(self.member_units, MemberUnit, "member_units", max_items=MAX_UNITS),
        )
        head, deputy = _check_units(self.member_units, self.head_unit, self.deputy_unit)
        _set(self, "head_unit", head)
        _set(self, "deputy_unit", deputy)
        _set(self, "summary", clean_text(self.summary, "summary", required=False, max_len=300))
        _set(self, "recipients", _recipients(self.recipients))

    @property
    def title(self) -> str:
        return f"GIAO ƯỚC THI ĐUA NĂM {self.year}"

    @property
    def signing_order(self) -> tuple[MemberUnit, ...]:
        """Member units as the signature grid shows them: head, deputy, then the others."""
        return _signing_order(self.member_units, self.head_unit, self.deputy_unit)


def _signing_order(
    units: tuple[MemberUnit, ...], head: str, deputy: str | None
) -> tuple[MemberUnit, ...]:
    first = [u for u in units if u.code == head] + [u for u in units if u.code == deputy]
    return tuple(first + [u for u in units if u.code not in (head, deputy)])


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

    def __post_init__(self) -> None:
        require_fields(self)
        _set(self, "number", clean_optional_int(self.number, "number", lo=1, hi=99999))
        _set(self, "symbol", _clean_symbol(self.symbol, "symbol"))
        _set(self, "date", clean_date(self.date, "date"))
        _set(self, "addressee", clean_text(self.addressee, "addressee", max_len=200))
        _set(self, "summary", clean_text(self.summary, "summary", max_len=300))
        _set(
            self,
            "legal_bases",
            clean_lines(self.legal_bases, "legal_bases", max_len=600, strip_end=";.,"),
        )
        _set(self, "request", clean_lines(self.request, "request"))
        _set(self, "signer_title", clean_text(self.signer_title, "signer_title", max_len=80))
        _set(self, "signer_name", clean_text(self.signer_name, "signer_name", max_len=80))
        authority = clean_text(self.signer_authority, "signer_authority", required=False, max_len=8)
        _set(self, "signer_authority", clean_choice(authority, "signer_authority", AUTHORITIES))
        _check_deputy(self.signer_authority, self.signer_title, "signer_authority")
        _set(self, "recipients", _recipients(self.recipients))


VOTING_METHODS = {"secret_ballot": "bỏ phiếu kín", "show_of_hands": "biểu quyết giơ tay"}


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

    def __post_init__(self) -> None:
        require_fields(self)
        _set(self, "number", clean_optional_int(self.number, "number", lo=1, hi=99999))
        _set(self, "symbol", _clean_symbol(self.symbol, "symbol"))
        _set(self, "date", clean_date(self.date, "date"))
        _set(self, "start_time", clean_time(self.start_time, "start_time"))
        _set(self, "end_time", clean_time(self.end_time, "end_time"))
        if self.end_time <= self.start_time:
            raise DocumentError("end_time", "giờ kết thúc phải sau giờ bắt đầu")
        _set(self, "place", clean_text(self.place, "place", max_len=200))
        for name, limit in (
            ("chair_name", 80),
            ("chair_title", 160),
            ("secretary_name", 80),
            ("secretary_title", 160),
        ):
            _set(self, name, clean_text(getattr(self, name), name, max_len=limit))
        _set(
            self, "voting_method", clean_choice(self.voting_method, "voting_method", VOTING_METHODS)
        )
        _set(
            self, "ballots_issued", clean_int(self.ballots_issued, "ballots_issued", lo=1, hi=10000)
        )
        _set(self, "ballots_valid", clean_int(self.ballots_valid, "ballots_valid", lo=0, hi=10000))
        if self.ballots_valid > self.ballots_issued:
            raise DocumentError("ballots_valid", "số phiếu hợp lệ vượt số phiếu phát ra")
        _set(self, "discussion", clean_lines(self.discussion, "discussion"))
        codes = clean_lines(
            self.absent_units, "absent_units", required=False, max_len=32, max_items=MAX_UNITS
        )
        _set(
            self,
            "absent_units",
            tuple(_clean_code(c, f"absent_units[{i}]") for i, c in enumerate(codes)),
        )
        for name in ("next_head_unit", "next_deputy_unit"):
            value = getattr(self, name)
            _set(self, name, None if value in (None, "") else _clean_code(value, name))

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
            _set(self, name, clean_int(getattr(self, name), name, lo=0, hi=10000))

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
        _set(self, "rank", clean_int(self.rank, "rank", lo=1, hi=MAX_NOMINEES))
        _set(self, "name", clean_text(self.name, "name", max_len=160))
        _set(self, "award", clean_text(self.award, "award", max_len=200))
        _set(self, "score", clean_score(self.score, "score", hi=MAX_POINTS))
        _set(self, "votes", _nested(self.votes, Votes, "votes"))
        _set(self, "kind", clean_choice(self.kind, "kind", NOMINEE_KINDS))
        code = self.unit_code
        _set(self, "unit_code", None if code in (None, "") else _clean_code(code, "unit_code"))
        _set(
            self,
            "description",
            clean_text(self.description, "description", required=False, max_len=200),
        )


@dataclass(frozen=True)
class NominationContent:
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

    def __post_init__(self) -> None:
        require_fields(self)
        _set(self, "profile", _check_profile(self.profile))
        _set(self, "cluster_name", clean_text(self.cluster_name, "cluster_name", max_len=160))
        _set(self, "year", _clean_year(self.year))
        _set(self, "issuer", _nested(self.issuer, Issuer, "issuer"))
        _set(self, "place", clean_text(self.place, "place", max_len=60))
        _set(self, "submission", _nested(self.submission, Submission, "submission"))
        _set(self, "meeting", _nested(self.meeting, Meeting, "meeting"))
        _set(
            self,
            "nominees",
            _nested_tuple(self.nominees, Nominee, "nominees", max_items=MAX_NOMINEES),
        )
        _set(
            self,
            "member_units",
            _nested_tuple(self.member_units, MemberUnit, "member_units", max_items=MAX_UNITS),
        )
        head, deputy = _check_units(self.member_units, self.head_unit, self.deputy_unit)
        _set(self, "head_unit", head)
        _set(self, "deputy_unit", deputy)
        self._check_consistency()

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

    @property
    def title(self) -> str:
        return f"HỒ SƠ ĐỀ NGHỊ KHEN THƯỞNG NĂM {self.year}"

    @property
    def signing_order(self) -> tuple[MemberUnit, ...]:
        return _signing_order(self.member_units, self.head_unit, self.deputy_unit)

    @property
    def present_units(self) -> tuple[MemberUnit, ...]:
        return tuple(u for u in self.member_units if u.code not in self.meeting.absent_units)


Content = PledgeContent | NominationContent
CONTENT_TYPES: dict[str, type[PledgeContent] | type[NominationContent]] = {
    "pledge": PledgeContent,
    "nomination": NominationContent,
}
NESTED_TYPES = (Issuer, MemberUnit, Criterion, ScoringSheet, Submission, Meeting, Votes, Nominee)


__all__ = [
    "AUTHORITIES",
    "CONTENT_TYPES",
    "NESTED_TYPES",
    "Content",
    "Criterion",
    "Issuer",
    "Meeting",
    "MemberUnit",
    "NominationContent",
    "Nominee",
    "PledgeContent",
    "ScoringSheet",
    "Submission",
    "Votes",
]
