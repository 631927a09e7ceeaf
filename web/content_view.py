"""A readable view of a content dict, split into sections and items that review comments
can anchor to (``legal_bases``, ``criteria.items[2]``, ``member_units[3]``...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from web.content_form import CHOICES, DATE_FIELDS, label
from web.i18n import vn_iso_date


@dataclass
class Item:
    anchor: str
    text: str
    points: Any = None
    extra: str = ""


@dataclass
class Section:
    anchor: str
    title: str
    items: list[Item] = field(default_factory=list)
    numbered: bool = True
    table: bool = False


PLEDGE_ORDER = ("legal_bases", "preamble", "contents", "targets", "commitments")
SUBMISSION_LISTS = ("legal_bases", "request")


def _display(key: str, value: Any) -> str:
    """A field value as a reader expects it: dates in words, choices by their label."""
    if key in DATE_FIELDS and isinstance(value, str):
        return vn_iso_date(value)
    for choice, text in CHOICES.get(key, []):
        if choice == value:
            return str(text)
    return str(value)


def _lines(anchor: str, values: Any) -> list[Item]:
    return [Item(f"{anchor}[{i}]", str(v)) for i, v in enumerate(values or [])]


def sections(content: Mapping[str, Any]) -> list[Section]:
    out: list[Section] = []
    kind = content.get("kind")
    if kind == "pledge":
        for key in PLEDGE_ORDER:
            values = content.get(key) or []
            if values:
                out.append(Section(key, label(key), _lines(key, values)))
        criteria = content.get("criteria") or {}
        if criteria:
            items = [
                Item(f"criteria.items[{i}]", c.get("title", ""), c.get("max_points"))
                for i, c in enumerate(criteria.get("items") or [])
            ]
            items += [
                Item(
                    f"criteria.bonus[{i}]",
                    c.get("title", ""),
                    c.get("max_points"),
                    extra=str(label("bonus")),
                )
                for i, c in enumerate(criteria.get("bonus") or [])
            ]
            out.append(Section("criteria", label("criteria"), items, table=True))
    elif kind == "nomination":
        meeting = content.get("meeting") or {}
        if meeting:
            facts = [
                Item("meeting", f"{label(k)}: {_display(k, meeting.get(k))}")
                for k in (
                    "date",
                    "start_time",
                    "end_time",
                    "place",
                    "chair_name",
                    "secretary_name",
                    "voting_method",
                    "ballots_issued",
                    "ballots_valid",
                )
                if meeting.get(k) not in (None, "")
            ]
            facts += _lines("meeting.discussion", meeting.get("discussion"))
            out.append(Section("meeting", label("meeting"), facts, numbered=False))
        nominees = content.get("nominees") or []
        if nominees:
            items = []
            for i, n in enumerate(nominees):
                votes = n.get("votes") or {}
                extra = f"{n.get('award', '')} · {label('in_favour')}: {votes.get('in_favour', '')}"
                items.append(Item(f"nominees[{i}]", n.get("name", ""), n.get("score"), extra))
            out.append(Section("nominees", label("nominees"), items, table=True))
        submission = content.get("submission") or {}
        for key in SUBMISSION_LISTS:
            values = submission.get(key) or []
            if values:
                out.append(
                    Section(
                        f"submission.{key}",
                        f"{label('submission')} — {label(key)}",
                        _lines(f"submission.{key}", values),
                    )
                )
    units = content.get("member_units") or []
    if units:
        out.append(
            Section(
                "member_units",
                label("member_units"),
                [
                    Item(
                        f"member_units[{i}]",
                        u.get("name", ""),
                        extra=" ".join(
                            str(u.get(k) or "")
                            for k in ("authority", "signer_title", "signer_name")
                        ).strip(),
                    )
                    for i, u in enumerate(units)
                ],
                table=True,
            )
        )
    return out


def anchors(content: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(anchor, human label) pairs for the comment form's select."""
    result: list[tuple[str, str]] = []
    for section in sections(content):
        result.append((section.anchor, section.title))
        for n, item in enumerate(section.items, start=1):
            if item.anchor != section.anchor:
                text = item.text if len(item.text) <= 60 else item.text[:57] + "…"
                result.append((item.anchor, f"— {section.title} {n}: {text}"))
    return result
