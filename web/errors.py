"""Every error becomes a clear page or one JSON envelope; never a traceback, never a 500
for a workflow error. Authorisation decisions stay in ``workflow``: here they are only
translated to HTTP."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from web.boundary import BadInput
from workflow import errors as werr

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


# Guards that say "this role may not do this" (as opposed to "not yet" or "missing input"):
# the web answers them with 403, the other refused guards with 422.
PERMISSION_GUARDS = frozenset(
    {"is_head_drafter", "is_cluster_member", "is_member_signer", "is_submitter", "is_board"}
)


def status_for(exc: werr.WorkflowError) -> int:
    """HTTP status of a workflow error: the engine declares it on the class."""
    if isinstance(exc, werr.GuardFailed) and exc.guard in PERMISSION_GUARDS:
        return 403
    status = getattr(exc, "http_status", 400)
    # A misconfigured instance is our fault, everything else is a 4xx the user can act on.
    return status if isinstance(status, int) and 400 <= status < 600 else 400


def error_code(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return code
    return type(exc).__name__


def workflow_message(exc: werr.WorkflowError) -> str:
    message = exc.message or _("Thao tác không thực hiện được.")
    if isinstance(exc, werr.WrongPinError):
        tries = getattr(exc, "tries_left", None)
        if tries is not None:
            message = _(
                "Mã PIN không đúng. Còn %(n)d lần thử trước khi chứng thư bị khóa.", n=tries
            )
    return message


def error_response(status: int, code: str, message: str, **extra: object) -> Response:
    if wants_json():
        body: dict[str, object] = {"code": code, "message": message}
        body.update(extra)
        response = jsonify(error=body)
    else:
        response = Response(
            render_template("errors/error.html", status=status, code=code, message=message),
            mimetype="text/html",
        )
    response.status_code = status
    return response


def _http_message(exc: HTTPException) -> str:
    messages: dict[int, str] = {
        400: _("Yêu cầu không hợp lệ."),
        401: _("Vui lòng đăng nhập để tiếp tục."),
        403: _("Bạn không có quyền thực hiện thao tác này."),
        404: _("Không tìm thấy trang hoặc tài liệu yêu cầu."),
        405: _("Phương thức không được hỗ trợ cho địa chỉ này."),
        413: _("Tệp tải lên quá lớn (tối đa %(mb)d MB).", mb=20),
        429: _("Quá nhiều lần thử. Vui lòng đợi rồi thử lại."),
    }
    return messages.get(exc.code or 500, exc.description or _("Đã xảy ra lỗi."))


def init_app(app: Flask) -> None:
    @app.errorhandler(werr.WorkflowError)
    def _workflow(exc: werr.WorkflowError) -> Response:
        # Details are scalars the client can act on (tries_left, field, trigger, state).
        extra = {
            k: v for k, v in exc.details.items() if v is None or isinstance(v, str | int | float)
        }
        return error_response(status_for(exc), error_code(exc), workflow_message(exc), **extra)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        return error_response(
            400,
            "csrf_failed",
            _(
                "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. "
                "Hãy tải lại trang và thử lại."
            ),
        )

    @app.errorhandler(BadInput)
    def _bad_input(exc: BadInput) -> Response:
        # Refused at the input boundary (web.boundary): the message names the field.
        extra = {"field": exc.field} if exc.field else {}
        return error_response(exc.code or 400, exc.error_code, exc.message, **extra)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> Response:
        return error_response(413, "too_large", _http_message(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(
            status, (exc.name or "error").lower().replace(" ", "_")
        )
        return error_response(status, code, _http_message(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Logged with its traceback for the operator; the user sees a plain message.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            500,
            "internal_error",
            _("Lỗi hệ thống. Thao tác chưa được thực hiện; vui lòng thử lại."),
        )
