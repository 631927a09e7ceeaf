"""``thidua list`` (and every command that reads the database) where no database was set
up: a clear message and exit 2, and not one file left behind (issue 14, item 6)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from web.cli import main


@pytest.fixture
def bare_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder and no THIDUA_* or DATABASE_URL in the environment."""
    for name in list(os.environ):
        if name.startswith("THIDUA_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def _everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_list_in_an_empty_folder_creates_nothing(bare_cwd: Path) -> None:
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 2, result.output
    assert "thidua init" in result.output
    assert "Traceback" not in result.output
    assert _everything_under(bare_cwd) == []


def test_list_with_secrets_but_no_database_creates_no_sqlite_file(
    bare_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Secrets from the environment (as a service manager would give them), no database yet.
    monkeypatch.setenv("THIDUA_SECRET_KEY", "a-session-secret-for-this-test")
    monkeypatch.setenv("THIDUA_CA_SECRET", "a-ca-secret-for-this-test")
    for command in (["list"], ["list", "--json"], ["audit", "verify"], ["units", "list"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, (command, result.output)
        assert _everything_under(bare_cwd) == [], command
        assert "chưa có cơ sở dữ liệu" in result.output.lower(), result.output
        assert "thidua init" in result.output


def test_list_in_an_instance_without_its_database_creates_nothing(
    bare_cwd: Path, tmp_path: Path
) -> None:
    # An instance folder whose secrets exist but whose thidua.db was never made (or moved).
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    for name in ("secret_key", "ca_master_secret"):
        (instance / name).write_text("secret-for-this-test\n")
        (instance / name).chmod(0o600)
    result = CliRunner().invoke(main, ["list", "--instance", str(instance)])
    assert result.exit_code == 2, result.output
    assert sorted(p.name for p in instance.iterdir()) == ["ca_master_secret", "secret_key"]
    assert _everything_under(bare_cwd) == []
    assert "chưa có cơ sở dữ liệu" in result.output.lower(), result.output
