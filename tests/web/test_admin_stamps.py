"""The admin pages take a unit's seal and a user's signature image (issue 16, Decree 30):
uploaded as PNG with a transparent background, refused with a 422 and the reason otherwise,
removable, CSRF-protected, admins only."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from tests.web.conftest import PASSWORD, login
from web import db as web_db
from workflow import blobs
from workflow.models import AuditEvent, Unit, User


def _png(mode: str = "RGBA") -> bytes:
    image = Image.new(mode, (80, 80), (0, 0, 0, 0) if mode == "RGBA" else (255, 255, 255))
    image.putpixel((40, 40), (200, 0, 0, 255) if mode == "RGBA" else (200, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _post(client: FlaskClient, path: str, fields: dict[str, str], image: bytes | None) -> Any:
    data: dict[str, object] = dict(fields)
    if image is not None:
        data["image"] = (io.BytesIO(image), "stamp.png")
    return client.post(path, data=data, content_type="multipart/form-data")


def _seal(app: Flask, code: str) -> str | None:
    with app.app_context():
        session = web_db.get_session()
        return session.scalar(select(Unit.seal_sha256).where(Unit.code == code))


def _signature(app: Flask, username: str) -> str | None:
    with app.app_context():
        session = web_db.get_session()
        return session.scalar(select(User.signature_sha256).where(User.username == username))


def test_the_units_page_uploads_shows_and_removes_a_seal(app: Flask) -> None:
    admin = login(app, "admin")
    page = admin.get("/admin/units").get_data(as_text=True)
    assert 'action="/admin/units/seal"' in page
    assert 'enctype="multipart/form-data"' in page
    seal = _png()
    response = _post(admin, "/admin/units/seal", {"code": "VPHU-MD"}, seal)
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã lưu ảnh con dấu của đơn vị." in page
    row = re.search(r'<tr data-unit="VPHU-MD">.*?</tr>', page, re.S)
    assert row
    assert 'data-test="seal"' in row.group(0)
    other = re.search(r'<tr data-unit="VPHU-UH">.*?</tr>', page, re.S)
    assert other
    assert 'data-test="seal"' not in other.group(0)
    sha = _seal(app, "VPHU-MD")
    assert sha is not None
    with app.app_context():
        assert blobs.get_blob(web_db.get_session(), sha) == seal
    response = admin.post("/admin/units/seal/remove", data={"code": "VPHU-MD"})
    assert response.status_code == 302
    assert _seal(app, "VPHU-MD") is None


def test_the_users_page_uploads_and_removes_a_signature_image(app: Flask) -> None:
    admin = login(app, "admin")
    assert 'action="/admin/users/signature-image"' in admin.get("/admin/users").get_data(
        as_text=True
    )
    response = _post(admin, "/admin/users/signature-image", {"username": "vphu-md-signer"}, _png())
    assert response.status_code == 302
    page = admin.get("/admin/users").get_data(as_text=True)
    row = re.search(r'<tr data-user="vphu-md-signer">.*?</tr>', page, re.S)
    assert row
    assert 'data-test="signature-image"' in row.group(0)
    assert _signature(app, "vphu-md-signer") is not None
    response = admin.post(
        "/admin/users/signature-image/remove", data={"username": "vphu-md-signer"}
    )
    assert response.status_code == 302
    assert _signature(app, "vphu-md-signer") is None


def test_a_bad_image_is_a_422_with_the_reason_and_changes_nothing(app: Flask) -> None:
    admin = login(app, "admin")
    cases = [
        (_png("RGB"), "nền trong suốt"),
        (b"%PDF-1.7 not a picture", "phải là tệp PNG"),
        (_png()[:50], "bị hỏng"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024), "quá lớn"),
        (None, "Hãy chọn một tệp ảnh PNG."),
    ]
    for image, message in cases:
        response = _post(admin, "/admin/units/seal", {"code": "VPHU-MD"}, image)
        assert response.status_code == 422, message
        page = response.get_data(as_text=True)
        assert 'data-test="admin-error"' in page
        assert message in page
        response = _post(
            admin, "/admin/users/signature-image", {"username": "vphu-md-signer"}, image
        )
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True)
    assert _seal(app, "VPHU-MD") is None
    assert _signature(app, "vphu-md-signer") is None


def test_unknown_unit_or_user_is_a_404_page(app: Flask) -> None:
    admin = login(app, "admin")
    response = _post(admin, "/admin/units/seal", {"code": "NO-SUCH"}, _png())
    assert response.status_code == 404
    assert "Không có đơn vị mã NO-SUCH" in response.get_data(as_text=True)
    response = _post(admin, "/admin/users/signature-image", {"username": "nobody"}, _png())
    assert response.status_code == 404


def test_a_non_admin_is_refused(app: Flask) -> None:
    signer = login(app, "vphu-md-signer")
    response = _post(signer, "/admin/units/seal", {"code": "VPHU-MD"}, _png())
    assert response.status_code == 403
    response = _post(signer, "/admin/users/signature-image", {"username": "vphu-md-signer"}, _png())
    assert response.status_code == 403
    assert _seal(app, "VPHU-MD") is None
    assert _signature(app, "vphu-md-signer") is None


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_csrf_is_enforced_on_the_upload_forms(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    admin = app.test_client()
    token = _csrf(admin.get("/login").get_data(as_text=True))
    data = {"username": "admin", "password": PASSWORD, "csrf_token": token}
    assert admin.post("/login", data=data).status_code == 302
    response = _post(admin, "/admin/units/seal", {"code": "VPHU-MD"}, _png())
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)
    response = admin.post("/admin/units/seal/remove", data={"code": "VPHU-MD"})
    assert response.status_code == 400
    response = _post(admin, "/admin/users/signature-image", {"username": "vphu-md-signer"}, _png())
    assert response.status_code == 400
    assert _seal(app, "VPHU-MD") is None
    assert _signature(app, "vphu-md-signer") is None
    # With the page's token the same upload goes through, and the audit names the hash.
    token = _csrf(admin.get("/admin/units").get_data(as_text=True))
    response = _post(admin, "/admin/units/seal", {"code": "VPHU-MD", "csrf_token": token}, _png())
    assert response.status_code == 302
    sha = _seal(app, "VPHU-MD")
    assert sha is not None
    with app.app_context():
        event = web_db.get_session().scalar(
            select(AuditEvent).where(AuditEvent.action == "unit_seal_set")
        )
        assert event is not None
        assert event.actor == "admin"
        assert event.data["sha256"] == sha
