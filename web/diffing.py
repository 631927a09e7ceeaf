"""A readable diff between two versions of a content dict: one row per changed field, with
word-level insertions and deletions marked (escaped here, rendered as <ins>/<del>)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, child in value.items():
            out.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out.update(flatten(child, f"{prefix}[{i}]"))
        if not value:
            out[prefix] = ""
    else:
        out[prefix] = "" if value is None else str(value)
    return out


@dataclass(frozen=True)
class DiffRow:
    path: str
    change: str  # "changed" | "added" | "removed"
    old: Markup
    new: Markup


def _words(text: str) -> list[str]:
    return text.replace("\n", " \n ").split(" ")


def inline(old: str, new: str) -> tuple[Markup, Markup]:
    a, b = _words(old), _words(new)
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        old_part = escape(" ".join(a[i1:i2]))
        new_part = escape(" ".join(b[j1:j2]))
        if op == "equal":
            left.append(old_part)
            right.append(new_part)
        else:
            if i2 > i1:
                left.append(Markup("<del>%s</del>") % old_part)
            if j2 > j1:
                right.append(Markup("<ins>%s</ins>") % new_part)
    return Markup(" ").join(left), Markup(" ").join(right)


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[DiffRow]:
    a, b = flatten(old), flatten(new)
    rows: list[DiffRow] = []
    for path in list(dict.fromkeys([*a.keys(), *b.keys()])):
        if path in a and path in b:
            if a[path] != b[path]:
                left, right = inline(a[path], b[path])
                rows.append(DiffRow(path, "changed", left, right))
        elif path in a:
            rows.append(DiffRow(path, "removed", Markup("<del>%s</del>") % a[path], Markup("")))
        else:
            rows.append(DiffRow(path, "added", Markup(""), Markup("<ins>%s</ins>") % b[path]))
    return rows
