"""Administration: units, clusters and yearly terms, users and roles, signing credentials.

Every page and action goes through ``workflow.services.admin`` (which refuses non-admins);
GET pages ask ``require_admin`` first so a non-admin sees a 403 page, not an empty list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from signing.pades.images import MAX_IMAGE_BYTES
from web import db
from web.auth import login_required, renew_session, signed_in_user
from workflow.errors import ConflictError, NotFound, ValidationError
from workflow.models import ROLES, UNIT_KINDS
from workflow.services import admin as svc
from workflow.services import require_admin, set_signature_image, set_unit_seal, sign_out_everywhere

bp = Blueprint("admin", __name__, url_prefix="/admin")

SECTIONS = ("units", "clusters", "users", "credentials")


def _guard() -> None:
    require_admin(db.get_session(), signed_in_user())


def _page(
    section: str, status: int = 200, error: str | None = None, form: Any = None
) -> tuple[str, int]:
    session = db.get_session()
    data: dict[str, Any] = {
        "section": section,
        "error": error,
        "form": form or {},
        "roles": ROLES,
        "unit_kinds": UNIT_KINDS,
        "revocation_reasons": svc.REVOCATION_REASONS,
    }
    data["units"] = svc.list_units(session)
    if section == "clusters":
        data["clusters"] = svc.list_clusters(session)
    if section == "users":
        data["users"] = svc.list_users(session)
    if section == "credentials":
        data["credentials"] = svc.list_credentials(session)
        data["users"] = svc.list_users(session)
    return render_template(f"admin/{section}.html", **data), status


@bp.get("")
@login_required
def index() -> BaseResponse:
    _guard()
    return redirect(url_for("admin.section", section="units"))


@bp.get("/<section>")
@login_required
def section(section: str) -> ResponseReturnValue:
    _guard()
    if section not in SECTIONS:
        return redirect(url_for("admin.section", section="units"))
    return _page(section)


def _act(section: str, action: Callable[[], Any], done: str) -> ResponseReturnValue:
    try:
        action()
    except (ValidationError, ConflictError, NotFound) as exc:
        db.rollback()
        status = (
            409 if isinstance(exc, ConflictError) else (404 if isinstance(exc, NotFound) else 422)
        )
        return _page(section, status=status, error=exc.message, form=request.form)
    renew_session()  # a change of the admin's own roles or password: a new session
    flash(done, "success")
    return redirect(url_for("admin.section", section=section))


def _f(name: str) -> str:
    return (request.form.get(name) or "").strip()


@bp.post("/units")
@login_required
def add_unit() -> ResponseReturnValue:
    return _act(
        "units",
        lambda: svc.add_unit(
            db.get_session(), signed_in_user(), _f("code"), _f("name"), kind=_f("kind") or "member"
        ),
        _("Đã thêm đơn vị."),
    )


@bp.post("/clusters")
@login_required
def add_cluster() -> ResponseReturnValue:
    return _act(
        "clusters",
        lambda: svc.add_cluster(db.get_session(), signed_in_user(), _f("code"), _f("name")),
        _("Đã thêm cụm thi đua."),
    )


@bp.post("/terms")
@login_required
def add_term() -> ResponseReturnValue:
    def run() -> Any:
        try:
            year = int(_f("year"))
        except ValueError:
            raise ValidationError(_("Năm phải là số."), field="year") from None
        members = [m.strip() for m in _f("members").replace("\n", ",").split(",") if m.strip()]
        return svc.add_term(
            db.get_session(),
            signed_in_user(),
            _f("cluster_code"),
            year,
            head=_f("head"),
            deputy=_f("deputy") or None,
            board=_f("board"),
            members=members,
        )

    return _act("clusters", run, _("Đã thêm nhiệm kỳ."))


@bp.post("/users")
@login_required
def add_user() -> ResponseReturnValue:
    def run() -> Any:
        role = _f("role")
        roles = [(_f("unit_code") or None, role)] if role else []
        return svc.add_user(
            db.get_session(),
            signed_in_user(),
            _f("username"),
            _f("full_name"),
            password=request.form.get("password") or None,
            roles=roles,
        )

    return _act("users", run, _("Đã thêm người dùng."))


@bp.post("/users/roles")
@login_required
def grant_role() -> ResponseReturnValue:
    return _act(
        "users",
        lambda: svc.grant_role(
            db.get_session(), signed_in_user(), _f("username"), _f("unit_code") or None, _f("role")
        ),
        _("Đã cấp vai trò."),
    )


@bp.post("/users/roles/revoke")
@login_required
def revoke_role() -> ResponseReturnValue:
    return _act(
        "users",
        lambda: svc.revoke_role(
            db.get_session(), signed_in_user(), _f("username"), _f("unit_code") or None, _f("role")
        ),
        _("Đã thu hồi vai trò."),
    )


@bp.post("/users/active")
@login_required
def set_active() -> ResponseReturnValue:
    active = _f("active") == "1"
    return _act(
        "users",
        lambda: svc.set_active(db.get_session(), signed_in_user(), _f("username"), active),
        _("Đã mở khóa tài khoản.") if active else _("Đã khóa tài khoản."),
    )


@bp.post("/users/sign-out")
@login_required
def sign_out_user() -> ResponseReturnValue:
    """End every session of a user at once (a lost laptop, a shared computer)."""
    return _act(
        "users",
        lambda: sign_out_everywhere(db.get_session(), signed_in_user(), _f("username")),
        _("Đã đăng xuất người dùng khỏi mọi phiên."),
    )


@bp.post("/credentials")
@login_required
def issue_credential() -> ResponseReturnValue:
    secret = current_app.config["THIDUA_CONFIG"].ca_master_secret
    return _act(
        "credentials",
        lambda: svc.issue_credential(
            db.get_session(),
            signed_in_user(),
            _f("username"),
            _f("unit_code"),
            request.form.get("pin") or "",
            ca_secret=secret,
        ),
        _("Đã cấp chứng thư số."),
    )


@bp.post("/credentials/<int:credential_id>/revoke")
@login_required
def revoke_credential(credential_id: int) -> ResponseReturnValue:
    current_app.extensions.pop("thidua.crl_cache", None)
    return _act(
        "credentials",
        lambda: svc.revoke_credential(
            db.get_session(), signed_in_user(), credential_id, reason=_f("reason") or "unspecified"
        ),
        _("Đã thu hồi chứng thư số; danh sách thu hồi (CRL) đã cập nhật."),
    )


@bp.post("/credentials/<int:credential_id>/unlock")
@login_required
def unlock_credential(credential_id: int) -> ResponseReturnValue:
    return _act(
        "credentials",
        lambda: svc.unlock_credential(db.get_session(), signed_in_user(), credential_id),
        _("Đã mở khóa khóa ký."),
    )


# --- stamp images: a unit's seal, a user's signature (PNG with transparency) ---------------


def _png_upload() -> bytes:
    """The uploaded PNG, read no further than one byte past the stamp limit (the service
    then refuses it as too large); ValidationError when no file was chosen."""
    upload = request.files.get("image")
    data = upload.read(MAX_IMAGE_BYTES + 1) if upload is not None and upload.filename else b""
    if not data:
        raise ValidationError(_("Hãy chọn một tệp ảnh PNG."), field="image")
    return data


@bp.post("/units/seal")
@login_required
def set_seal() -> ResponseReturnValue:
    return _act(
        "units",
        lambda: set_unit_seal(db.get_session(), signed_in_user(), _f("code"), _png_upload()),
        _("Đã lưu ảnh con dấu của đơn vị."),
    )


@bp.post("/units/seal/remove")
@login_required
def remove_seal() -> ResponseReturnValue:
    return _act(
        "units",
        lambda: set_unit_seal(db.get_session(), signed_in_user(), _f("code"), None),
        _("Đã xóa ảnh con dấu của đơn vị."),
    )


@bp.post("/users/signature-image")
@login_required
def set_signature() -> ResponseReturnValue:
    return _act(
        "users",
        lambda: set_signature_image(
            db.get_session(), signed_in_user(), _f("username"), _png_upload()
        ),
        _("Đã lưu ảnh chữ ký của người dùng."),
    )


@bp.post("/users/signature-image/remove")
@login_required
def remove_signature() -> ResponseReturnValue:
    return _act(
        "users",
        lambda: set_signature_image(db.get_session(), signed_in_user(), _f("username"), None),
        _("Đã xóa ảnh chữ ký của người dùng."),
    )
