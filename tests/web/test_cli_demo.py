"""``thidua demo``: init if needed, seed if empty, then serve on 127.0.0.1:5000 with the demo
logins printed. The server itself is replaced by a recorder (the browser test runs a real one)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import web.cli.serve as serve_module
from web.cli import main


@pytest.fixture
def served(monkeypatch):  # type: ignore[no-untyped-def]
    calls: list[tuple[object, str, int]] = []
    monkeypatch.setattr(
        serve_module, "run", lambda app, host, port: calls.append((app, host, port))
    )
    for name in ("THIDUA_SECRET_KEY", "THIDUA_CA_SECRET", "DATABASE_URL", "THIDUA_INSTANCE"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_demo_initialises_seeds_and_serves(tmp_path: Path, served) -> None:  # type: ignore[no-untyped-def]
    instance = tmp_path / "instance"
    result = CliRunner().invoke(main, ["demo", "--instance", str(instance)])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/" in result.output
    assert "vphu-uh-drafter" in result.output
    assert "thidua-demo" in result.output
    assert "123456" in result.output
    ((app, host, port),) = served
    assert (host, port) == ("127.0.0.1", 5000)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'data-test="demo-logins"' in page
    assert "vphu-uh-drafter" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data={"username": "vphu-uh-drafter", "password": "thidua-demo", "csrf_token": token},
    )
    assert response.status_code == 302
    assert "GIAO ƯỚC THI ĐUA NĂM 2019" in client.get("/").get_data(as_text=True)
    app.extensions["thidua.engine"].dispose()

    # A second run serves the same data: no second init, no second seed.
    again = CliRunner().invoke(main, ["demo", "--instance", str(instance)])
    assert again.exit_code == 0, again.output
    assert "Đã tạo cụm thi đua mẫu" not in again.output
    served[-1][0].extensions["thidua.engine"].dispose()


def test_demo_out_renders_the_samples_without_serving(tmp_path: Path, served) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "pledge-2019.docx").is_file()
    assert served == []
    assert not (tmp_path / "instance").exists()


def test_demo_reports_a_broken_instance(tmp_path: Path, served) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["demo", "--instance", str(blocker / "instance")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert served == []
