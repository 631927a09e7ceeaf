"""Errors of the workflow engine.

Every error a service raises on bad input, missing rights or a lost race is a
``WorkflowError`` with a stable ``code`` (for the JSON API and for tests) and a message in
Vietnamese (for people). The web layer maps the classes to HTTP statuses in one place:

==================  ======  ============================================================
class               HTTP    meaning
==================  ======  ============================================================
PermissionDenied    403     the actor may see the object but not do this to it
NotFound            404     missing, or not visible to this actor (never say which)
ConflictError       409     stale optimistic-lock version or a concurrent transition
InvalidTransition   409     the trigger does not exist in the document's current state
GuardFailed         422     the trigger exists here but a condition is not met (``reason``)
ValidationError     422     bad input; ``field`` is the dotted path (documents' own paths)
WrongPinError       422     the PIN does not open the key; ``tries_left`` before the lock
CredentialLocked    423     too many wrong PINs, or the credential is revoked/expired
ConfigError         500     the instance is not initialised or misconfigured
==================  ======  ============================================================
"""

from __future__ import annotations

from typing import Any


class WorkflowError(Exception):
    """Base class: ``code`` is stable across versions, ``message`` is for people."""

    code = "workflow_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON envelope body: ``{"code", "message", ...details}``."""
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        data.update(self.details)
        return data


class PermissionDenied(WorkflowError):
    code = "permission_denied"
    http_status = 403


class NotFound(WorkflowError):
    code = "not_found"
    http_status = 404


class ConflictError(WorkflowError):
    """Someone else changed the document first; reload and try again."""

    code = "conflict"
    http_status = 409


class InvalidTransition(WorkflowError):
    """The trigger is unknown or not available from the document's current state."""

    code = "invalid_transition"
    http_status = 409

    def __init__(self, message: str, *, trigger: str, state: str, **details: Any) -> None:
        super().__init__(message, trigger=trigger, state=state, **details)
        self.trigger = trigger
        self.state = state


class GuardFailed(WorkflowError):
    """A condition of the transition is not met; ``reason`` says which, in Vietnamese."""

    code = "guard_failed"
    http_status = 422

    def __init__(self, reason: str, *, trigger: str, guard: str, **details: Any) -> None:
        super().__init__(reason, trigger=trigger, guard=guard, **details)
        self.reason = reason
        self.trigger = trigger
        self.guard = guard


class ValidationError(WorkflowError):
    """Bad input. ``field`` is a dotted path such as ``member_units[3].name``."""

    code = "validation_error"
    http_status = 422

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message, field=field, **details)
        self.field = field


class WrongPinError(WorkflowError):
    code = "wrong_pin"
    http_status = 422

    def __init__(self, message: str, *, tries_left: int, **details: Any) -> None:
        super().__init__(message, tries_left=tries_left, **details)
        self.tries_left = tries_left


class CredentialLocked(WorkflowError):
    code = "credential_locked"
    http_status = 423


class ConfigError(WorkflowError):
    code = "config_error"
    http_status = 500


class TimestampUnavailable(ConfigError):
    """The external TSA did not answer (down, unreachable, timed out): passing, retry."""

    code = "tsa_unavailable"
    http_status = 503


class TimestampBadReply(ConfigError):
    """The external TSA answered with something that is not the token asked for."""

    code = "tsa_bad_reply"
    http_status = 502


class ConverterUnavailable(ConfigError):
    """LibreOffice is missing or failed to make the PDF: the server's fault, and passing (a
    retry may succeed); nothing was frozen."""

    code = "pdf_failed"
    http_status = 503
