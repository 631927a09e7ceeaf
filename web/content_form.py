"""The structured editor: a pledge or nomination content dict <-> an HTML form.

Form field names are the documents package's own dotted paths (``criteria.items[2].max_points``,
``member_units[3].name``), so a ``DocumentError.field`` lands next to the input that caused
it. The form is generated from the content itself; labels and input types come from the
tables below, keyed by field name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

LABELS: dict[str, Any] = {
    "cluster_name": _l("Tên cụm thi đua"),
    "year": _l("Năm"),
    "issuer": _l("Cơ quan ban hành"),
    "name": _l("Tên"),
    "superior_body": _l("Cơ quan cấp trên"),
    "number": _l("Số văn bản"),
    "symbol": _l("Ký hiệu"),
    "place": _l("Địa danh"),
    "date": _l("Ngày"),
    "legal_bases": _l("Căn cứ"),
    "preamble": _l("Mở đầu"),
    "contents": _l("Nội dung thi đua"),
    "targets": _l("Chỉ tiêu"),
    "criteria": _l("Tiêu chí chấm điểm"),
    "items": _l("Tiêu chí"),
    "title": _l("Nội dung tiêu chí"),
    "max_points": _l("Điểm tối đa"),
    "total": _l("Tổng điểm"),
    "bonus": _l("Điểm thưởng"),
    "bonus_cap": _l("Điểm thưởng tối đa"),
    "commitments": _l("Cam kết"),
    "member_units": _l("Đơn vị thành viên"),
    "code": _l("Mã đơn vị"),
    "signer_title": _l("Chức danh người ký"),
    "signer_name": _l("Họ tên người ký"),
    "authority": _l("Thẩm quyền ký"),
    "head_unit": _l("Đơn vị cụm trưởng (mã)"),
    "deputy_unit": _l("Đơn vị cụm phó (mã)"),
    "summary": _l("Trích yếu"),
    "recipients": _l("Nơi nhận"),
    "profile": _l("Thể thức văn bản"),
    "submission": _l("Tờ trình"),
    "addressee": _l("Kính gửi"),
    "request": _l("Nội dung đề nghị"),
    "signer_authority": _l("Thẩm quyền ký"),
    "meeting": _l("Biên bản họp bình xét"),
    "start_time": _l("Giờ bắt đầu"),
    "end_time": _l("Giờ kết thúc"),
    "chair_name": _l("Chủ trì"),
    "chair_title": _l("Chức vụ chủ trì"),
    "secretary_name": _l("Thư ký"),
    "secretary_title": _l("Chức vụ thư ký"),
    "voting_method": _l("Hình thức biểu quyết"),
    "ballots_issued": _l("Số phiếu phát ra"),
    "ballots_valid": _l("Số phiếu hợp lệ"),
    "discussion": _l("Ý kiến thảo luận"),
    "absent_units": _l("Đơn vị vắng mặt (mã)"),
    "next_head_unit": _l("Cụm trưởng năm sau (mã)"),
    "next_deputy_unit": _l("Cụm phó năm sau (mã)"),
    "nominees": _l("Danh sách đề nghị khen thưởng"),
    "rank": _l("Thứ tự"),
    "award": _l("Hình thức khen thưởng"),
    "score": _l("Điểm"),
    "votes": _l("Số phiếu"),
    "in_favour": _l("Tán thành"),
    "against": _l("Không tán thành"),
    "abstain": _l("Không biểu quyết"),
    "kind": _l("Loại"),
    "unit_code": _l("Mã đơn vị (nếu là đơn vị)"),
    "description": _l("Mô tả, chức vụ"),
    "attachments": _l("Hồ sơ kèm theo"),
    "representatives": _l("Đại biểu các đơn vị dự hội nghị"),
    "position": _l("Chức vụ"),
    "counting_committee": _l("Ban kiểm phiếu"),
    "role": _l("Nhiệm vụ"),
    "achievement_reports": _l("Báo cáo thành tích"),
    "nominee_rank": _l("Của người được đề nghị (thứ tự)"),
    "background": _l("Đặc điểm, tình hình"),
    "achievements": _l("Thành tích đạt được"),
    "past_awards": _l("Các hình thức khen thưởng đã đạt"),
}

INT_FIELDS = {
    "year",
    "number",
    "max_points",
    "total",
    "bonus_cap",
    "ballots_issued",
    "ballots_valid",
    "rank",
    "nominee_rank",
    "in_favour",
    "against",
    "abstain",
}
FLOAT_FIELDS = {"score"}
DATE_FIELDS = {"date"}
TIME_FIELDS = {"start_time", "end_time"}
NULLABLE_FIELDS = {"number", "deputy_unit", "next_head_unit", "next_deputy_unit", "unit_code"}
LONG_LIST_FIELDS = {
    "legal_bases",
    "preamble",
    "contents",
    "targets",
    "commitments",
    "discussion",
    "request",
    "background",
    "achievements",
    "past_awards",
}
LONG_FIELDS = {"title", "award", "addressee", "summary"}
CHOICES: dict[str, list[tuple[str, Any]]] = {
    "profile": [
        ("party", _l("Văn bản của Đảng (HD 36-HD/VPTW)")),
        ("state", _l("Văn bản hành chính (NĐ 30/2020/NĐ-CP)")),
    ],
    "voting_method": [("secret_ballot", _l("Bỏ phiếu kín")), ("show_of_hands", _l("Giơ tay"))],
    # A staff office's head signs with the title alone, the usual case, so it comes first;
    # "T/M" is for collective bodies (HD 36 §1.7.1).
    "authority": [
        ("", _l("(không)")),
        ("K/T", "K/T"),
        ("T/M", "T/M"),
        ("T/L", "T/L"),
        ("T/U", "T/U"),
        ("Q.", "Q."),
    ],
    "role": [("head", _l("Trưởng ban")), ("member", _l("Thành viên"))],
}
NOMINEE_KINDS = [("unit", _l("Tập thể")), ("person", _l("Cá nhân"))]
# Fields whose points add up to the criteria total (shown live by static/js/thidua.js).
POINTS_GROUPS = {"criteria.items": "criteria", "criteria.bonus": "bonus"}
# Blank rows for lists of objects, so a list can grow even when it is empty.
BLANK_ITEMS: dict[str, dict[str, Any]] = {
    "member_units": {
        "code": "",
        "name": "",
        "signer_title": "",
        "signer_name": "",
        "authority": "",
    },
    "meeting.representatives": {"unit_code": "", "name": "", "position": ""},
    "meeting.counting_committee": {"name": "", "position": "", "role": "member"},
    "achievement_reports": {
        "nominee_rank": "",
        "number": None,
        "symbol": "BC",
        "date": "",
        "background": [],
        "achievements": [],
        "past_awards": [],
        "signer_title": "",
        "signer_name": "",
        "signer_authority": "",
    },
    "criteria.items": {"title": "", "max_points": ""},
    "criteria.bonus": {"title": "", "max_points": ""},
    "nominees": {
        "rank": "",
        "name": "",
        "award": "",
        "score": "",
        "votes": {"in_favour": "", "against": 0, "abstain": 0},
        "kind": "unit",
        "unit_code": None,
        "description": "",
    },
}
HIDDEN_FIELDS = {"kind"}


def label(key: str) -> str:
    return str(LABELS.get(key, key.replace("_", " ")))


@dataclass
class Node:
    """One form control or group, rendered by templates/macros/editor.html."""

    kind: str  # text | long | int | float | date | time | select | hidden | group | list
    path: str
    key: str
    label: str
    value: Any = None
    children: list[Node] = field(default_factory=list)
    item_kind: str = ""  # for lists: "text" | "long" | "group"
    template: Node | None = None  # blank row for lists
    choices: list[tuple[str, str]] = field(default_factory=list)
    points_group: str = ""
    error: str = ""

    @property
    def is_compound(self) -> bool:
        """A group holding lists or groups is laid out as a column, not a row of inputs."""
        return any(c.kind in ("group", "list") for c in self.children)

    @property
    def dom_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _schema_key(path: str) -> str:
    """'criteria.items[3].title' -> 'criteria.items.title' (list indices removed)."""
    return re.sub(r"\[\d+\]", "", path)


def _scalar_node(key: str, path: str, value: Any, parent_list: str = "") -> Node:
    if key in HIDDEN_FIELDS and "." not in path:
        return Node("hidden", path, key, label(key), value)
    if key == "kind" and _schema_key(parent_list) == "nominees":
        choices = [(v, str(t)) for v, t in NOMINEE_KINDS]
        return Node("select", path, key, label(key), value, choices=choices)
    if key in CHOICES:
        choices = [(v, str(t)) for v, t in CHOICES[key]]
        return Node("select", path, key, label(key), value, choices=choices)
    if key in INT_FIELDS:
        group = POINTS_GROUPS.get(_schema_key(parent_list), "") if key == "max_points" else ""
        return Node("int", path, key, label(key), value, points_group=group)
    if key in FLOAT_FIELDS:
        return Node("float", path, key, label(key), value)
    if key in DATE_FIELDS:
        return Node("date", path, key, label(key), value)
    if key in TIME_FIELDS:
        return Node("time", path, key, label(key), value)
    long = key in LONG_FIELDS or (isinstance(value, str) and len(value) > 90)
    return Node("long" if long else "text", path, key, label(key), value)


def _blank_like(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _blank_like(v) for k, v in value.items()}
    if isinstance(value, list):
        return []
    return ""


def build(value: Any, path: str = "", key: str = "", parent_list: str = "") -> Node:
    """The editor tree for a content dict (or any sub-value of it)."""
    if isinstance(value, Mapping):
        node = Node("group", path, key, label(key) if key else "")
        for child_key, child in value.items():
            node.children.append(build(child, _join(path, child_key), child_key, parent_list))
        return node
    if isinstance(value, list):
        schema = _schema_key(path)
        sample = BLANK_ITEMS.get(schema)
        if sample is None and value and isinstance(value[0], Mapping):
            sample = _blank_like(value[0])
        node = Node("list", path, key, label(key))
        if sample is not None:
            node.item_kind = "group"
            for i, item in enumerate(value):
                node.children.append(build(item, f"{path}[{i}]", "", parent_list=path))
            node.template = build(sample, f"{path}[__i__]", "", parent_list=path)
        else:
            node.item_kind = "long" if key in LONG_LIST_FIELDS else "text"
            for i, item in enumerate(value):
                node.children.append(Node(node.item_kind, f"{path}[{i}]", "", "", item))
            node.template = Node(node.item_kind, f"{path}[__i__]", "", "", "")
        return node
    return _scalar_node(key, path, value, parent_list)


def attach_error(root: Node, field_path: str, message: str) -> bool:
    """Put ``message`` on the node for ``field_path`` (or its nearest ancestor)."""
    best: Node | None = None

    def walk(node: Node) -> None:
        nonlocal best
        inside = node.path and (
            field_path == node.path
            or field_path.startswith(node.path + ".")
            or field_path.startswith(node.path + "[")
        )
        if inside and (best is None or len(node.path) > len(best.path)):
            best = node
        for child in node.children:
            walk(child)

    walk(root)
    target = best or root
    target.error = message
    return best is not None


# ---------------------------------------------------------------- form -> dict

_INDEX = re.compile(r"^\[(\d+)\]")


def _coerce(key: str, raw: str) -> Any:
    text = raw.strip()
    if key in NULLABLE_FIELDS and text == "":
        return None
    if key in INT_FIELDS:
        if text == "":
            return None
        try:
            return int(text)
        except ValueError:
            return text  # the documents package names the field and says why
    if key in FLOAT_FIELDS:
        if text == "":
            return None
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return text
    return raw.replace("\r\n", "\n").strip()


def parse(form: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rebuild the content dict from posted fields, shaped like ``schema`` (the current
    content). List rows may have been removed or added in the browser: indices are taken in
    the order they appear and renumbered from 0."""
    keys = list(form.keys())

    def value_at(path: str, key: str, schema_value: Any, parent_list: str) -> Any:
        if isinstance(schema_value, Mapping):
            return {k: value_at(_join(path, k), k, v, parent_list) for k, v in schema_value.items()}
        if isinstance(schema_value, list):
            indices: list[int] = []
            for name in keys:
                if name.startswith(path + "["):
                    m = _INDEX.match(name[len(path) :])
                    if m and int(m.group(1)) not in indices:
                        indices.append(int(m.group(1)))
            sample: Mapping[str, Any] | None = BLANK_ITEMS.get(_schema_key(path))
            if sample is None and schema_value and isinstance(schema_value[0], Mapping):
                sample = schema_value[0]
            items = []
            for i in indices:
                item_path = f"{path}[{i}]"
                if sample is not None:
                    item = value_at(item_path, "", sample, path)
                    if all(v in ("", None, 0) or v == {} for v in _leaves(item)):
                        continue  # an untouched blank row
                    items.append(item)
                else:
                    text = str(form.get(item_path, "")).replace("\r\n", "\n").strip()
                    if text:
                        items.append(text)
            return items
        if key in HIDDEN_FIELDS and path == key:
            return form.get(path, schema_value)
        raw = form.get(path)
        if raw is None:
            return schema_value
        return _coerce(key, str(raw))

    content: dict[str, Any] = value_at("", "", schema, "")
    return content


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        out: list[Any] = []
        for v in value.values():
            out.extend(_leaves(v))
        return out
    return [value]
