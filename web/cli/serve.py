"""``thidua serve``: run the web application of an existing instance.

Uses Werkzeug's threaded server, which is fine for a cluster office and for the demo; a
production deployment runs ``gunicorn "web:create_app()"`` behind HTTPS (see README).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from web.cli import main
from workflow.errors import WorkflowError


class ServeError(click.ClickException):
    """A clear message on stderr and exit status 2, never a traceback."""

    exit_code = 2


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_app(instance: Path | None):  # type: ignore[no-untyped-def]
    """The app of an initialised, migrated instance; ServeError says what to run otherwise."""
    from web import create_app
    from workflow.config import load_config
    from workflow.db import is_up_to_date, make_engine

    try:
        config = load_config(instance)
    except WorkflowError as exc:
        raise ServeError(exc.message) from None
    engine = make_engine(config.database_url)
    try:
        if not is_up_to_date(engine):
            raise ServeError(
                "Cơ sở dữ liệu chưa ở phiên bản mới nhất; hãy chạy `thidua init` trước."
            )
    except ServeError:
        engine.dispose()
        raise
    except Exception as exc:  # a database that does not answer
        engine.dispose()
        raise ServeError(f"Không kết nối được cơ sở dữ liệu: {exc}") from None
    return create_app({"THIDUA_CONFIG": config, "ENGINE": engine})


def run(app, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    from werkzeug.serving import run_simple

    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    except OSError as exc:
        raise ServeError(f"Không mở được cổng {host}:{port}: {exc.strerror or exc}") from None


@main.command("serve")
@click.option("--instance", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Thư mục instance (mặc định: $THIDUA_INSTANCE hoặc ./instance).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def serve_command(instance: Path | None, host: str, port: int) -> None:
    """Serve the web interface and the JSON API of an existing instance."""
    if not _is_loopback(host) and os.environ.get("THIDUA_INSECURE_COOKIES") != "1":
        click.echo(
            "Lưu ý: cookie phiên chỉ gửi qua HTTPS; hãy đặt máy chủ sau HTTPS "
            "(hoặc THIDUA_INSECURE_COOKIES=1 khi chỉ thử trong mạng nội bộ).",
            err=True,
        )
    app = build_app(instance)
    click.echo(f"thidua: http://{host}:{port}/  (Ctrl+C để dừng)")
    run(app, host, port)
