"""The emulation pledge (giao ước thi đua) and its scoring sheet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from documents.errors import DocumentError
from documents.fields import (
    MAX_POINTS,
    REQUIRED,
    clean_recipients,
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
    clean_date,
    clean_int,
    clean_lines,
    clean_optional_int,
    clean_text,
)


@dataclass(frozen=True)
class Criterion:
    """One line of the scoring sheet."""

    title: str = REQUIRED
    max_points: int = REQUIRED

    def __post_init__(self) -> None:
        require_fields(self)
        set_field(self, "title", clean_text(self.title, "title", max_len=600))
        set_field(self, "max_points", clean_int(self.max_points, "max_points", lo=1, hi=MAX_POINTS))


@dataclass(frozen=True)
class ScoringSheet:
    """Criteria whose points add up to ``total``, plus a capped bonus group."""

    items: tuple[Criterion, ...] = REQUIRED
    total: int = 100
    bonus: tuple[Criterion, ...] = ()
    bonus_cap: int = 0

    def __post_init__(self) -> None:
        require_fields(self)
        items = nested_tuple(self.items, Criterion, "items", max_items=40)
        if not items:
            raise DocumentError("items", "cần ít nhất một tiêu chí")
        set_field(self, "items", items)
        set_field(self, "total", clean_int(self.total, "total", lo=1, hi=MAX_POINTS))
        points = sum(c.max_points for c in items)
        if points != self.total:
            raise DocumentError(
                "total", f"tổng điểm các tiêu chí là {points}, không bằng tổng đã khai {self.total}"
            )
        set_field(self, "bonus", nested_tuple(self.bonus, Criterion, "bonus", max_items=20))
        set_field(self, "bonus_cap", clean_int(self.bonus_cap, "bonus_cap", lo=0, hi=MAX_POINTS))
        if self.bonus and not self.bonus_cap:
            raise DocumentError("bonus_cap", "có điểm thưởng thì phải khai điểm thưởng tối đa")
        for i, item in enumerate(self.bonus):
            if item.max_points > self.bonus_cap:
                raise DocumentError(
                    f"bonus[{i}].max_points",
                    f"vượt điểm thưởng tối đa ({item.max_points} > {self.bonus_cap})",
                )


@dataclass(frozen=True)
class PledgeContent(SignedByMembers):
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
    # "Tổ chức thực hiện": the cluster head's duties and the review timetable.
    implementation: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        require_fields(self)
        clean_cluster_heading(self)
        set_field(self, "number", clean_optional_int(self.number, "number", lo=1, hi=99999))
        set_field(self, "symbol", clean_symbol(self.symbol, "symbol"))
        set_field(self, "place", clean_text(self.place, "place", max_len=60))
        set_field(self, "date", clean_date(self.date, "date"))
        if self.date.year not in (self.year - 1, self.year):
            raise DocumentError(
                "date",
                f"giao ước năm {self.year} phải ký trong năm "
                f"{self.year} hoặc cuối năm {self.year - 1}",
            )
        set_field(
            self,
            "legal_bases",
            clean_lines(self.legal_bases, "legal_bases", max_len=600, strip_end=";.,"),
        )
        set_field(self, "preamble", clean_lines(self.preamble, "preamble", required=False))
        set_field(self, "contents", clean_lines(self.contents, "contents"))
        set_field(self, "targets", clean_lines(self.targets, "targets", required=False))
        set_field(self, "criteria", nested(self.criteria, ScoringSheet, "criteria"))
        set_field(self, "commitments", clean_lines(self.commitments, "commitments"))
        set_field(
            self,
            "implementation",
            clean_lines(self.implementation, "implementation", required=False),
        )
        clean_members(self)
        set_field(self, "summary", clean_text(self.summary, "summary", required=False, max_len=300))
        set_field(self, "recipients", clean_recipients(self.recipients))

    @property
    def title(self) -> str:
        return f"GIAO ƯỚC THI ĐUA NĂM {self.year}"
