"""The operator's commands end to end: init, seed-demo, list, export, verify, openssl on
every unit's signature, audit verify (intact, then with a row deleted by hand), tokens."""

from __future__ import annotations

import json
import stat
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from click.testing import CliRunner
from sqlalchemy import text

from tests.conftest import require_executable
from web.cli import main
from workflow.db import make_engine, session_factory
from workflow.services import user_for_token


@pytest.fixture
def cli(db, db_url, tmp_path, monkeypatch):
    """Invoke ``thidua`` on a fresh instance whose database is the test database."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("THIDUA_INSTANCE", str(instance))
    monkeypatch.setenv("DATABASE_URL", db_url)
    for name in ("THIDUA_SECRET_KEY", "THIDUA_CA_SECRET"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    invoke.instance = instance  # type: ignore[attr-defined]
    return invoke


def test_init_seed_export_verify_audit(cli, db_url, tmp_path):
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert "CA SHA-256:" in result.output
    for name in ("secret_key", "ca_master_secret"):
        assert stat.S_IMODE((cli.instance / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.instance.stat().st_mode) == 0o700, "only the owner enters it"
    assert cli("init").exit_code == 0, "init is idempotent"

    result = cli("seed-demo")
    assert result.exit_code == 0, result.output
    assert "thidua-demo" in result.output
    assert "123456" in result.output
    again = cli("seed-demo")
    assert again.exit_code == 2
    assert "đã có dữ liệu" in again.output

    listing = json.loads(cli("list", "--json").output)
    by_key = {(d["kind"], d["year"]): d for d in listing}
    assert {k: d["state"] for k, d in by_key.items()} == {
        ("pledge", 2018): "archived",
        ("nomination", 2018): "in_review",
        ("pledge", 2019): "draft",
    }
    assert all(d["cluster"] == "CTD4" and isinstance(d["id"], int) for d in listing)
    archived = json.loads(cli("list", "--json", "--state", "archived").output)
    assert [d["id"] for d in archived] == [by_key[("pledge", 2018)]["id"]]

    bundle = tmp_path / "pledge-2018.zip"
    ca_pem = tmp_path / "ca.pem"
    pledge_id = str(by_key[("pledge", 2018)]["id"])
    assert cli("export", pledge_id, "--out", str(bundle)).exit_code == 0
    assert cli("ca", "export", "--out", str(ca_pem)).exit_code == 0
    verified = cli("verify", str(bundle), "--trust", str(ca_pem))
    assert verified.exit_code == 0, verified.output

    not_archived = cli(
        "export", str(by_key[("pledge", 2019)]["id"]), "--out", str(tmp_path / "x.zip")
    )
    assert not_archived.exit_code == 2
    assert "chưa được lưu trữ" in not_archived.output
    assert cli("export", "9999", "--out", str(tmp_path / "y.zip")).exit_code == 2

    _openssl_accepts_every_unit(bundle, ca_pem, tmp_path)
    _valid_ten_years_on_and_renewed(cli, bundle, ca_pem, pledge_id, tmp_path)

    token_out = cli("token", "create", "vphu-md-signer")
    assert token_out.exit_code == 0
    token = token_out.output.split()[-1]
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        assert user_for_token(session, token).username == "vphu-md-signer"
    assert cli("token", "create", "khong-co-ai").exit_code == 2

    audit = cli("audit", "verify")
    assert audit.exit_code == 0, audit.output
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 45"))
    engine.dispose()
    broken = cli("audit", "verify")
    assert broken.exit_code == 1
    assert "seq 46" in broken.output


def _openssl_accepts_every_unit(bundle: Path, ca_pem: Path, tmp_path: Path) -> None:
    openssl = require_executable("openssl")
    out = tmp_path / "bag"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(out)
    (top,) = list(out.iterdir())
    data = top / "data"
    signatures = sorted((data / "signatures").glob("*.p7s"))
    assert len(signatures) == 8
    for p7s in signatures:
        proc = subprocess.run(
            [
                openssl,
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(p7s),
                "-content",
                str(data / "document.docx"),
                "-CAfile",
                str(ca_pem),
                "-purpose",
                "any",
                "-cades",
                "-out",
                "/dev/null",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, (p7s.name, proc.stderr)
        _openssl_accepts_the_timestamp(openssl, p7s, ca_pem, tmp_path)


def _openssl_accepts_the_timestamp(openssl: str, p7s: Path, ca_pem: Path, tmp_path: Path) -> None:
    """CAdES-T: the signature-time-stamp token, extracted, passes ``openssl ts -verify``
    over the signature value with the project CA (the README's command)."""
    signer_info = cms.ContentInfo.load(p7s.read_bytes())["content"]["signer_infos"][0]
    (attribute,) = signer_info["unsigned_attrs"]
    assert attribute["type"].native == "signature_time_stamp_token"
    value = tmp_path / f"{p7s.stem}.sig"
    value.write_bytes(signer_info["signature"].native)
    token = tmp_path / f"{p7s.stem}.tsr"
    token.write_bytes(attribute["values"][0].dump())
    proc = subprocess.run(
        [openssl, "ts", "-verify", "-data", str(value), "-token_in", "-in", str(token),
         "-CAfile", str(ca_pem)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, (p7s.name, proc.stderr)
    assert "Verification: OK" in proc.stdout


def _valid_ten_years_on_and_renewed(
    cli: Any, bundle: Path, ca_pem: Path, pledge_id: str, tmp_path: Path
) -> None:
    """Ten years on every certificate has expired; the timestamps prove the signatures came
    first. A renewal adds an archive timestamp and the bundle still verifies."""
    later = (datetime.now(UTC) + timedelta(days=3653)).date().isoformat()
    verified = cli("verify", str(bundle), "--trust", str(ca_pem), "--at", later)
    assert verified.exit_code == 0, verified.output
    assert "Kết luận: HỢP LỆ (TOTAL_PASSED)" in verified.output
    assert verified.output.count("dấu thời gian chứng minh chữ ký được tạo khi còn hiệu lực") == 9
    assert "Dấu thời gian lưu trữ  1 dấu" in verified.output
    report = json.loads(cli("verify", str(bundle), "--trust", str(ca_pem), "--at", later,
                            "--json").output)  # fmt: skip
    states = {u["code"]: u["report"]["certificate_state"] for u in report["units"]}
    assert set(states.values()) == {"expired_after_poe"}

    not_due = cli("archive", "renew")
    assert not_due.exit_code == 0, not_due.output
    assert "chưa đến hạn" in not_due.output
    renewed = cli("archive", "renew", "--force", "--document", pledge_id)
    assert renewed.exit_code == 0, renewed.output
    assert "đã gia hạn" in renewed.output
    again = tmp_path / "renewed.zip"
    assert cli("export", pledge_id, "--out", str(again)).exit_code == 0
    with zipfile.ZipFile(again) as zf:
        names = {n.split("/", 1)[1] for n in zf.namelist()}
    assert {"archive-timestamps/0001.tsr", "archive-timestamps/0002.tsr"} <= names
    assert "archive-timestamps/0002.crl" in names
    verified = cli("verify", str(again), "--trust", str(ca_pem), "--at", later)
    assert verified.exit_code == 0, verified.output
    assert "Dấu thời gian lưu trữ  2 dấu" in verified.output
    assert cli("archive", "renew", "--document", "9999").exit_code == 2


def test_admin_commands(cli):
    assert cli("init").exit_code == 0
    assert cli("units", "add", "VPHU-BV", "Văn phòng Huyện ủy Ba Vì").exit_code == 0
    duplicate = cli("units", "add", "VPHU-BV", "Trùng")
    assert duplicate.exit_code == 2
    assert "VPHU-BV" in duplicate.output
    added = cli(
        "users",
        "add",
        "vphu-bv-signer",
        "--name",
        "Nguyễn Văn A",
        "--role",
        "VPHU-BV:signer",
        "--password",
        "mat-khau-dai",
    )
    assert added.exit_code == 0, added.output
    bad_role = cli(
        "users",
        "add",
        "x-user",
        "--name",
        "X",
        "--role",
        "VPHU-BV:boss",
        "--password",
        "mat-khau-dai",
    )
    assert bad_role.exit_code == 2
    issued = cli("credentials", "issue", "vphu-bv-signer", "VPHU-BV", "--pin", "246810")
    assert issued.exit_code == 0, issued.output
    listed = cli("credentials", "list")
    assert "vphu-bv-signer" in listed.output
    assert cli("list").output.strip() == "Không có văn bản nào."
    swept = cli("sweep")
    assert swept.exit_code == 0
    assert "Không có văn bản" in swept.output


def test_commands_before_init_say_what_to_do(cli):
    result = cli("list")
    assert result.exit_code == 2
    assert "thidua init" in result.output


def test_default_database_is_a_file_in_the_instance(cli, monkeypatch):
    monkeypatch.delenv("DATABASE_URL")
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert (cli.instance / "thidua.db").is_file()
