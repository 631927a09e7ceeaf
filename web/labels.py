"""Translatable names of states, triggers and audit actions (the engine stores them as codes;
listing them here lets pybabel extract them for the English catalog)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

STATE_LABELS = {
    "draft": _l("Dự thảo"),
    "in_review": _l("Đang góp ý"),
    "signing": _l("Đang ký"),
    "signed": _l("Đã ký đủ"),
    "submitted": _l("Đã trình"),
    "approved": _l("Đã phê duyệt"),
    "archived": _l("Đã lưu trữ"),
    "cancelled": _l("Đã hủy"),
}

TRIGGER_LABELS = {
    "submit_for_review": _l("Gửi góp ý"),
    "comment": _l("Góp ý"),
    "concur": _l("Nhất trí"),
    "request_changes": _l("Đề nghị sửa"),
    "revise": _l("Chỉnh sửa lại"),
    "open_signing": _l("Mở ký"),
    "sign": _l("Ký"),
    "decline": _l("Từ chối ký"),
    "submit": _l("Trình"),
    "approve": _l("Phê duyệt"),
    "archive": _l("Lưu trữ"),
    "complete_signing": _l("Đủ chữ ký"),
    "return": _l("Trả lại"),
    "cancel": _l("Hủy"),
}

ACTION_LABELS = {
    "create": _l("Tạo văn bản"),
    "created": _l("Tạo văn bản"),
    "edit": _l("Sửa nội dung"),
    "edited": _l("Sửa nội dung"),
    "new_version": _l("Tạo phiên bản mới"),
    "freeze": _l("Chốt văn bản"),
    "frozen": _l("Chốt văn bản"),
    "signature": _l("Ký số"),
    "signed": _l("Ký số"),
    "approval": _l("Phê duyệt"),
    "bundle": _l("Lập gói lưu trữ"),
    **TRIGGER_LABELS,
}

KIND_LABELS = {"pledge": _l("Giao ước thi đua"), "nomination": _l("Hồ sơ đề nghị khen thưởng")}
ROLE_LABELS = {
    "drafter": _l("Chuyên viên soạn thảo"),
    "reviewer": _l("Góp ý"),
    "signer": _l("Lãnh đạo ký"),
    "board": _l("Ban Thi đua – Khen thưởng"),
    "admin": _l("Quản trị"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def trigger_label(trigger: str) -> str:
    if trigger in TRIGGER_LABELS:
        return str(TRIGGER_LABELS[trigger])
    # A trigger added to the definitions later: its own (Vietnamese) label, not the code.
    from workflow.definitions import DEFINITIONS

    for definition in DEFINITIONS.values():
        if definition.specs(trigger):
            return definition.label(trigger)
    return trigger


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action.replace("_", " ")))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def init_app(app: Flask) -> None:
    from web.content_view import sections

    app.jinja_env.globals.update(
        content_sections=sections,
        state_label=state_label,
        trigger_label=trigger_label,
        action_label=action_label,
        kind_name=kind_label,
    )
