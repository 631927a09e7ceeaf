"""One place that turns a trigger and its inputs (from a form or a JSON body) into the
workflow service call. Who may do what is decided by the services, not here."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from web import db
from web.auth import actor
from workflow.errors import InvalidTransition, ValidationError
from workflow.services import drafting, lifecycle

USER_TRIGGERS = (
    "submit_for_review",
    "comment",
    "concur",
    "request_changes",
    "revise",
    "open_signing",
    "sign",
    "decline",
    "submit",
    "approve",
    "return",
    "cancel",
)


@dataclass
class Inputs:
    """Everything a trigger may need; unused fields stay None."""

    expected_version: int | None = None
    reason: str | None = None
    pin: str | None = None
    signature: bytes | None = None
    text: str | None = None
    anchor: str | None = None
    unit_code: str | None = None
    override: bool = False
    decision_number: str | None = None
    decision_date: date | None = None


def _int_or_none(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("Giá trị không hợp lệ."), field=field) from None


def _date_or_none(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(
            _("Ngày quyết định phải có dạng YYYY-MM-DD."), field="decision_date"
        ) from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(_("Giá trị phải là văn bản."), field="reason")
    return value


def inputs_from(data: Mapping[str, Any], signature: bytes | None = None) -> Inputs:
    """Read inputs from a form (strings) or a JSON object (``signature`` in base64)."""
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
    return Inputs(
        expected_version=_int_or_none(data.get("expected_version"), "expected_version"),
        reason=_text(
            data.get("reason") if data.get("reason") is not None else data.get("override_reason")
        ),
        pin=_text(data.get("pin")),
        signature=sig,
        text=_text(data.get("text")),
        anchor=_text(data.get("anchor")),
        unit_code=_text(data.get("unit_code")) or None,
        override=override in (True, "1", "true", "on", 1) or bool(data.get("override_reason")),
        decision_number=_text(data.get("decision_number")),
        decision_date=_date_or_none(data.get("decision_date")),
    )


def fire(document_id: int, trigger: str, inp: Inputs) -> Any:
    """Fire ``trigger`` on the document through the workflow services."""
    session = db.get_session()
    who = actor()
    if trigger not in USER_TRIGGERS:
        raise InvalidTransition(
            _("Thao tác '%(t)s' không tồn tại.", t=trigger), trigger=trigger, state=""
        )
    version = inp.expected_version
    if trigger == "comment":
        return drafting.comment(
            session, who, document_id, inp.anchor or "", inp.text or "", unit_code=inp.unit_code
        )
    if trigger == "sign":
        return lifecycle.sign(
            session,
            who,
            document_id,
            pin=inp.pin,
            signature_der=inp.signature,
            unit_code=inp.unit_code,
            expected_version=version,
        )
    if trigger == "approve":
        config = current_app.config["THIDUA_CONFIG"]
        return lifecycle.approve(
            session,
            who,
            document_id,
            pin=inp.pin or "",
            ca_secret=config.ca_master_secret,
            decision_number=inp.decision_number,
            decision_date=inp.decision_date,
            expected_version=version,
        )
    if trigger == "concur":
        return lifecycle.concur(
            session, who, document_id, unit_code=inp.unit_code, expected_version=version
        )
    if trigger == "request_changes":
        return lifecycle.request_changes(
            session,
            who,
            document_id,
            reason=inp.reason or "",
            unit_code=inp.unit_code,
            expected_version=version,
        )
    if trigger == "open_signing":
        return lifecycle.open_signing(
            session,
            who,
            document_id,
            override=inp.override,
            reason=inp.reason,
            expected_version=version,
            public_url=current_app.config.get("PUBLIC_BASE_URL"),
        )
    if trigger == "decline":
        return lifecycle.decline(
            session,
            who,
            document_id,
            reason=inp.reason or "",
            unit_code=inp.unit_code,
            expected_version=version,
        )
    if trigger == "return":
        return lifecycle.return_document(
            session, who, document_id, reason=inp.reason or "", expected_version=version
        )
    if trigger == "cancel":
        return lifecycle.cancel(
            session, who, document_id, reason=inp.reason or "", expected_version=version
        )
    if trigger == "revise":
        return lifecycle.revise(
            session, who, document_id, reason=inp.reason, expected_version=version
        )
    if trigger == "submit":
        return lifecycle.submit(session, who, document_id, expected_version=version)
    return lifecycle.submit_for_review(session, who, document_id, expected_version=version)
