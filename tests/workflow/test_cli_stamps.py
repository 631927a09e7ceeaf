"""``thidua units seal`` and ``thidua users signature-image``: the operator sets or removes
the stamp images of visible PDF signatures; bad input exits 2 with the reason."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from web.cli import main
from workflow.db import make_engine, session_factory
from workflow.models import AuditEvent, Unit, User


@pytest.fixture
def cli(db, db_url, tmp_path, monkeypatch):
    """Invoke ``thidua`` on a fresh instance whose database is the test database."""
    monkeypatch.setenv("THIDUA_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    for name in ("THIDUA_SECRET_KEY", "THIDUA_CA_SECRET"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert invoke("init").exit_code == 0
    assert invoke("units", "add", "VPHU-BV", "Văn phòng Huyện ủy Ba Vì").exit_code == 0
    added = invoke("users", "add", "bv-signer", "--name", "Nguyễn Văn A", "--password", "x" * 10)
    assert added.exit_code == 0, added.output
    return invoke


def _png(tmp_path, name: str, mode: str = "RGBA"):
    image = Image.new(mode, (60, 60), (0, 0, 0, 0) if mode == "RGBA" else (255, 255, 255))
    image.putpixel((30, 30), (255, 0, 0, 255) if mode == "RGBA" else (255, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return path


def _state(db_url: str) -> tuple[str | None, str | None, list[str]]:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            seal = s.scalar(select(Unit.seal_sha256).where(Unit.code == "VPHU-BV"))
            image = s.scalar(select(User.signature_sha256).where(User.username == "bv-signer"))
            actions = list(
                s.scalars(
                    select(AuditEvent.actor + ":" + AuditEvent.action)
                    .where(AuditEvent.action.like("%seal%") | AuditEvent.action.like("%image%"))
                    .order_by(AuditEvent.seq)
                )
            )
            return seal, image, actions
    finally:
        engine.dispose()


def test_the_operator_sets_and_removes_a_seal_and_a_signature_image(cli, db_url, tmp_path):
    seal = _png(tmp_path, "con-dau.png")
    done = cli("units", "seal", "vphu-bv", str(seal))
    assert done.exit_code == 0, done.output
    assert "Đã lưu ảnh con dấu của đơn vị VPHU-BV" in done.output
    done = cli("users", "signature-image", "bv-signer", str(_png(tmp_path, "chu-ky.png")))
    assert done.exit_code == 0, done.output
    sha_seal, sha_image, _ = _state(db_url)
    assert sha_seal is not None
    assert sha_seal in cli("units", "seal", "VPHU-BV", str(seal)).output  # same bytes, same hash
    assert sha_image is not None
    assert cli("units", "seal", "VPHU-BV", "--remove").exit_code == 0
    removed = cli("users", "signature-image", "bv-signer", "--remove")
    assert removed.exit_code == 0
    assert "Đã xóa ảnh chữ ký của bv-signer." in removed.output
    sha_seal, sha_image, actions = _state(db_url)
    assert (sha_seal, sha_image) == (None, None)
    assert actions == [
        "console:unit_seal_set",
        "console:signature_image_set",
        "console:unit_seal_set",
        "console:unit_seal_remove",
        "console:signature_image_remove",
    ]


def test_bad_input_exits_2_with_the_reason_and_changes_nothing(cli, db_url, tmp_path):
    opaque = _png(tmp_path, "opaque.png", "RGB")
    text = tmp_path / "note.txt"
    text.write_text("không phải ảnh")
    cases = [
        (("units", "seal", "VPHU-BV", str(opaque)), "nền trong suốt"),
        (("users", "signature-image", "bv-signer", str(text)), "phải là tệp PNG"),
        (("units", "seal", "VPHU-BV", str(tmp_path / "missing.png")), "không đọc được"),
        (("units", "seal", "VPHU-BV"), "thiếu tệp ảnh PNG"),
        (("users", "signature-image", "bv-signer", str(opaque), "--remove"), "không ghi cả hai"),
        (("units", "seal", "NO-SUCH", str(_png(tmp_path, "ok.png"))), "Không có đơn vị mã NO-SUCH"),
        (("users", "signature-image", "nobody", str(tmp_path / "ok.png")), "nobody"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert _state(db_url) == (None, None, [])
