"""One place that turns a trigger and its inputs (from a form or a JSON body) into the
workflow service call. Who may do what is decided by the services, not here."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from web import db
from web.auth import actor
from workflow.definitions import DEFINITIONS
from workflow.errors import InvalidTransition, ValidationError
from workflow.inputs import TriggerInputs
from workflow.services import lifecycle
from workflow.values import parse_date

# What people can fire (the definitions' own triggers, less the system's sweep), in the
# definitions' order; the OpenAPI enum and the pages list the same.
USER_TRIGGERS = tuple(
    dict.fromkeys(t for definition in DEFINITIONS.values() for t in definition.user_triggers)
)


def _int_or_none(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("Giá trị không hợp lệ."), field=field) from None


def _date_or_none(value: Any) -> date | None:
    try:
        return parse_date(value)
    except ValidationError:
        raise ValidationError(
            _("Ngày quyết định phải có dạng YYYY-MM-DD."), field="decision_date"
        ) from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(_("Giá trị phải là văn bản."), field="reason")
    return value


def inputs_from(data: Mapping[str, Any], signature: bytes | None = None) -> TriggerInputs:
    """The workflow's ``TriggerInputs`` read from a form (strings) or a JSON object
    (``signature`` in base64); keys no trigger reads (the CSRF token...) are left out."""
    sig = signature
    raw_sig = data.get("signature")
    if sig is None and isinstance(raw_sig, str) and raw_sig.strip():
        try:
            sig = base64.b64decode(raw_sig.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(
                _("Chữ ký phải là CMS dạng DER mã hóa base64."), field="signature"
            ) from None
    override = data.get("override")
    return TriggerInputs(
        expected_version=_int_or_none(data.get("expected_version"), "expected_version"),
        reason=_text(
            data.get("reason") if data.get("reason") is not None else data.get("override_reason")
        ),
        pin=_text(data.get("pin")),
        signature_der=sig,
        text=_text(data.get("text")),
        anchor=_text(data.get("anchor")),
        unit_code=_text(data.get("unit_code")) or None,
        override=override in (True, "1", "true", "on", 1) or bool(data.get("override_reason")),
        decision_number=_text(data.get("decision_number")),
        decision_date=_date_or_none(data.get("decision_date")),
    )


def fire(document_id: int, trigger: str, inp: TriggerInputs) -> Any:
    """Fire ``trigger`` on the document through the workflow services."""
    if trigger not in USER_TRIGGERS:
        raise InvalidTransition(
            _("Thao tác '%(t)s' không tồn tại.", t=trigger), trigger=trigger, state=""
        )
    config = current_app.config["THIDUA_CONFIG"]
    return lifecycle.fire(
        db.get_session(),
        actor(),  # type: ignore[arg-type]
        document_id,
        trigger,
        inp,
        ca_secret=config.ca_master_secret,
        public_url=current_app.config.get("PUBLIC_BASE_URL"),
        signed_pdf=config.signed_pdf,
    )
