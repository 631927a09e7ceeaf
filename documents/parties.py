"""The parties of a document: the issuing body and the member units that sign it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from documents.errors import DocumentError
from documents.fields import (
    MAX_UNITS,
    REQUIRED,
    check_profile,
    clean_code,
    clean_signer,
    clean_year,
    nested,
    nested_tuple,
    require_fields,
    set_field,
)
from documents.text import clean_text


@dataclass(frozen=True)
class Issuer:
    """The issuing body and the body above it, as typed (the header prints them upper-case)."""

    name: str = REQUIRED  # "Cụm thi đua số 4", "Văn phòng"
    superior_body: str = ""  # "Thành ủy Hà Nội", "Huyện ủy Mỹ Đức"

    def __post_init__(self) -> None:
        require_fields(self)
        set_field(self, "name", clean_text(self.name, "name", max_len=120))
        set_field(
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
        set_field(self, "code", clean_code(self.code, "code"))
        set_field(self, "name", clean_text(self.name, "name", max_len=120))
        clean_signer(self, "authority")


def check_units(units: tuple[MemberUnit, ...], head: Any, deputy: Any) -> tuple[str, str | None]:
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
    head_code = clean_code(head, "head_unit")
    if head_code not in seen_codes:
        raise DocumentError("head_unit", f"{head_code} không phải đơn vị thành viên")
    deputy_code = None
    if deputy not in (None, ""):
        deputy_code = clean_code(deputy, "deputy_unit")
        if deputy_code not in seen_codes:
            raise DocumentError("deputy_unit", f"{deputy_code} không phải đơn vị thành viên")
        if deputy_code == head_code:
            raise DocumentError("deputy_unit", "cụm phó phải khác cụm trưởng")
    return head_code, deputy_code


def signing_order(
    units: tuple[MemberUnit, ...], head: str, deputy: str | None
) -> tuple[MemberUnit, ...]:
    first = [u for u in units if u.code == head] + [u for u in units if u.code == deputy]
    return tuple(first + [u for u in units if u.code not in (head, deputy)])


def cluster_roles(head: str, deputy: str | None) -> dict[str, str]:
    """The label of the cluster head's and deputy's units, by unit code."""
    roles = {head: "Cụm trưởng"}
    if deputy:
        roles[deputy] = "Cụm phó"
    return roles


def clean_cluster_heading(obj: Any) -> None:
    """What every document of a cluster opens with: profile, cluster, year, issuing body."""
    set_field(obj, "profile", check_profile(obj.profile))
    set_field(obj, "cluster_name", clean_text(obj.cluster_name, "cluster_name", max_len=160))
    set_field(obj, "year", clean_year(obj.year))
    set_field(obj, "issuer", nested(obj.issuer, Issuer, "issuer"))


def clean_members(obj: Any) -> None:
    """The member units that sign a document, and which of them are head and deputy."""
    units = nested_tuple(obj.member_units, MemberUnit, "member_units", max_items=MAX_UNITS)
    set_field(obj, "member_units", units)
    head, deputy = check_units(units, obj.head_unit, obj.deputy_unit)
    set_field(obj, "head_unit", head)
    set_field(obj, "deputy_unit", deputy)


class SignedByMembers:
    """What a document signed by the cluster's member units derives from them (a mixin of the
    content dataclasses: it holds no fields of its own)."""

    member_units: tuple[MemberUnit, ...]
    head_unit: str
    deputy_unit: str | None

    @property
    def signing_order(self) -> tuple[MemberUnit, ...]:
        """Member units as the signature grid shows them: head, deputy, then the others."""
        return signing_order(self.member_units, self.head_unit, self.deputy_unit)

    @property
    def cluster_roles(self) -> dict[str, str]:
        return cluster_roles(self.head_unit, self.deputy_unit)
