"""Every refusal names the field by its full path, whether the content comes from a dict or
is built directly, and text that prints differently from what is stored is refused."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from documents import (
    DocumentError,
    Issuer,
    MemberUnit,
    NominationContent,
    PledgeContent,
    content_from_dict,
    content_to_dict,
    samples,
)

SAMPLES = [samples.pledge_2018(), samples.nomination_2018(), samples.pledge_2019()]
IDS = ["pledge_2018", "nomination_2018", "pledge_2019"]

# Each prints as nothing or reorders the text around it.
INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "arabic letter mark": "\u061c",
    "soft hyphen": "\u00ad",
    "word joiner": "\u2060",
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "first strong isolate": "\u2068",
    "byte order mark": "\ufeff",
}


def _text_leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every non-empty string in a content dict, as DocumentError spells it."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "kind":
                yield from _text_leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _text_leaves(item, f"{path}[{i}]")
    elif isinstance(value, str) and value.strip():
        yield path, value


def _keys(value: Any, path: str = "") -> Iterator[str]:
    """The path of every key of every object in a content dict."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "kind":
                here = f"{path}.{key}" if path else key
                yield here
                yield from _keys(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _keys(item, f"{path}[{i}]")


def _parent_and_key(data: dict[str, Any], path: str) -> tuple[Any, Any]:
    """The container holding ``path`` and the key or index of it there."""
    parts: list[Any] = []
    for piece in path.replace("]", "").replace("[", ".[").split("."):
        parts.append(int(piece[1:]) if piece.startswith("[") else piece)
    node: Any = data
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def _refusal(data: dict[str, Any]) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        content_from_dict(data)
    return caught.value


@pytest.mark.parametrize("content", SAMPLES, ids=IDS)
def test_an_invisible_character_anywhere_is_refused_at_its_full_path(content):
    base = content_to_dict(content)
    leaves = list(_text_leaves(base))
    assert len(leaves) > 40  # the samples fill every part of the document
    names = sorted(INVISIBLE)
    # Codes and choices refuse any odd character already; what matters is that free text,
    # names above all, refuse every invisible one.
    for n, (path, text) in enumerate(leaves):
        name = names[n % len(names)]
        data = copy.deepcopy(base)
        parent, key = _parent_and_key(data, path)
        middle = len(text) // 2
        parent[key] = text[:middle] + INVISIBLE[name] + text[middle:]
        error = _refusal(data)
        assert error.field == path, (name, path, error)
        assert str(error).startswith(f"{path}: ")


@pytest.mark.parametrize("name", sorted(INVISIBLE))
def test_the_message_says_which_character_and_where(name):
    data = content_to_dict(samples.pledge_2018())
    unit = data["member_units"][3]
    unit["name"] = "Văn phòng Huyện ủy Mỹ" + INVISIBLE[name] + "Đức"
    error = _refusal(data)
    assert error.field == "member_units[3].name"
    assert f"U+{ord(INVISIBLE[name]):04X}" in error.reason
    assert "vô hình" in error.reason
    assert "vị trí 22" in error.reason


def test_a_zero_width_space_never_reaches_the_document():
    """The clerk's complaint: "Mỹ\u200bĐức" printed as "MỹĐức"."""
    with pytest.raises(DocumentError) as caught:
        MemberUnit(
            "VPHU-MD", "Văn phòng Huyện ủy Mỹ\u200bĐức", "Chánh Văn phòng", "Nguyễn Văn Hùng"
        )
    assert caught.value.field == "name"


@pytest.mark.parametrize("content", SAMPLES, ids=IDS)
def test_every_missing_required_key_is_named_by_its_full_path(content):
    base = content_to_dict(content)
    required = [path for path in _keys(base) if not _has_default(path)]
    assert len(required) > 30
    for path in required:
        data = copy.deepcopy(base)
        parent, key = _parent_and_key(data, path)
        del parent[key]
        error = _refusal(data)
        assert (error.field, error.reason) == (path, "thiếu trường bắt buộc")


def _has_default(path: str) -> bool:
    optional = {
        "deputy_unit", "summary", "recipients", "profile", "authority", "superior_body",
        "bonus", "bonus_cap", "total", "kind", "unit_code", "description", "against",
        "abstain", "absent_units", "next_head_unit", "next_deputy_unit", "signer_authority",
        "representatives", "counting_committee", "attachments", "achievement_reports",
        "past_awards", "role", "implementation",
    }  # fmt: skip
    return path.rsplit(".", 1)[-1] in optional


@pytest.mark.parametrize("cls", [PledgeContent, NominationContent])
def test_building_with_nothing_raises_the_error_a_dict_would(cls):
    with pytest.raises(DocumentError) as direct:
        cls()
    from_dict = _refusal({"kind": cls.kind})
    assert (direct.value.field, direct.value.reason) == (from_dict.field, from_dict.reason)
    assert direct.value.field == "cluster_name"
    assert direct.value.reason == "thiếu trường bắt buộc"


def test_a_missing_field_of_a_nested_object_is_named():
    with pytest.raises(DocumentError) as caught:
        MemberUnit(code="VPHU-MD", name="Văn phòng Huyện ủy Mỹ Đức", signer_title="Chánh Văn phòng")
    assert (caught.value.field, caught.value.reason) == ("signer_name", "thiếu trường bắt buộc")
    with pytest.raises(DocumentError) as caught:
        Issuer()
    assert caught.value.field == "name"


def test_a_required_field_given_as_none_is_not_missing_but_checked():
    """None is a value (the blank number a records clerk fills in), not an absent field."""
    pledge = samples.pledge_2018()
    data = content_to_dict(pledge)
    data["number"] = None
    assert content_from_dict(data).number is None
    data["place"] = None
    assert _refusal(data).field == "place"
