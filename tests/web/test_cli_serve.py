"""``thidua serve`` and ``web:create_app()`` as gunicorn calls it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from web import create_app
from web.cli import main
from web.cli.serve import ServeError, build_app
from workflow.config import init_instance


def test_serve_refuses_an_uninitialised_instance(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--instance", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "thidua init" in result.output
    assert "Traceback" not in result.output


def test_serve_refuses_an_unmigrated_database(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("THIDUA_SECRET_KEY", "THIDUA_CA_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    init_instance(tmp_path)
    with pytest.raises(ServeError, match="thidua init"):
        build_app(tmp_path)


def _instance(tmp_path: Path, monkeypatch, db_url: str) -> Path:  # type: ignore[no-untyped-def]
    for name in ("THIDUA_SECRET_KEY", "THIDUA_CA_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    init_instance(tmp_path)
    return tmp_path


def test_create_app_reads_the_instance_from_the_environment(
    tmp_path: Path,
    monkeypatch,
    demo_db,
    db_url: str,  # type: ignore[no-untyped-def]
) -> None:
    instance = _instance(tmp_path, monkeypatch, db_url)
    monkeypatch.setenv("THIDUA_INSTANCE", str(instance))
    app = create_app()
    try:
        assert app.config["SECRET_KEY"] == (instance / "secret_key").read_text().strip()
        assert app.test_client().get("/healthz").status_code == 200
        assert app.test_client().get("/login").status_code == 200
    finally:
        app.extensions["thidua.engine"].dispose()


def test_build_app_serves_a_migrated_instance(
    tmp_path: Path,
    monkeypatch,
    demo_db,
    db_url: str,  # type: ignore[no-untyped-def]
) -> None:
    app = build_app(_instance(tmp_path, monkeypatch, db_url))
    try:
        assert app.test_client().get("/login").status_code == 200
    finally:
        app.extensions["thidua.engine"].dispose()


def test_a_taken_port_is_a_clear_error() -> None:
    import socket

    from web.cli.serve import run

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match="cổng"):
            run(create_app, "127.0.0.1", port)
