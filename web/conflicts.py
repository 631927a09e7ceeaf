"""The message of a lost race (``workflow.services.races``), in the reader's language: what
the document's state is now, which action moved it, when and by whom."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from flask_babel import gettext as _

from web.errors import error_code, error_response, status_for, workflow_message
from web.i18n import iso_datetime
from web.labels import ACTION_LABELS, STATE_LABELS, TRIGGER_LABELS
from workflow.errors import ConflictError, InvalidTransition, WorkflowError
from workflow.services.races import CODE as STATE_CHANGED


def message(exc: WorkflowError) -> str:
    """The message to show for a workflow error; a lost race's in the reader's words."""
    details = exc.details
    if "changed_at" not in details:
        return workflow_message(exc)
    if exc.code != STATE_CHANGED:  # refused in the state it already had: since when?
        return _(
            "Không thể «%(trigger)s»: văn bản ở trạng thái «%(state)s» từ %(at)s (thao tác "
            "«%(action)s» của %(actor)s).",
            **_words(details),
        )
    return _(
        "Văn bản đã chuyển sang trạng thái «%(state)s» lúc %(at)s (thao tác «%(action)s» "
        "của %(actor)s); không thể «%(trigger)s» nữa. Hãy tải lại văn bản.",
        **_words(details),
    )


def _words(details: dict[str, Any]) -> dict[str, Any]:
    action = str(details.get("action") or "")
    state = str(details.get("state") or "")
    trigger = str(details.get("trigger") or "")
    return {
        "state": STATE_LABELS.get(state, state),
        "at": iso_datetime(details.get("changed_at")),
        "action": ACTION_LABELS.get(action, action),
        "actor": details.get("changed_by") or _("hệ thống"),
        "trigger": TRIGGER_LABELS.get(trigger, trigger),
    }


def register(bp: Blueprint) -> None:
    """Answer every ``ConflictError`` and ``InvalidTransition`` of the app with this message
    (the same envelope and status as the app's handler of workflow errors, web.errors)."""

    @bp.app_errorhandler(ConflictError)
    @bp.app_errorhandler(InvalidTransition)
    def _conflict(exc: WorkflowError) -> Response:
        extra = {
            k: v for k, v in exc.details.items() if v is None or isinstance(v, str | int | float)
        }
        return error_response(status_for(exc), error_code(exc), message(exc), **extra)
