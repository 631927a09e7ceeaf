"""``thidua serve``: run the web application of an existing instance.

Uses Werkzeug's threaded server, which is fine for a cluster office and for the demo; a
production deployment runs ``gunicorn "web:create_app()"`` behind HTTPS (see README).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from web.cli import instance_option, main
from workflow.errors import WorkflowError

if TYPE_CHECKING:
    from flask import Flask


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


def build_app(instance: Path | None) -> Flask:
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


def run(app: Flask, host: str, port: int) -> None:
    """Serve until Ctrl+C (a threaded Werkzeug server; gunicorn is for production)."""
    from werkzeug.serving import make_server

    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        raise ServeError(f"Không mở được cổng {host}:{port}: {exc.strerror or exc}") from None
    except SystemExit:  # Werkzeug exits when the port is taken
        raise ServeError(
            f"Không mở được cổng {host}:{port}: đã có chương trình khác dùng cổng này "
            "(chọn cổng khác bằng --port)."
        ) from None
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Đã dừng.")
    finally:
        server.server_close()


def listen_options(command: Any) -> Any:
    """``--host`` and ``--port`` of the commands that serve the web interface."""
    command = click.option(
        "--port", default=5000, show_default=True, type=click.IntRange(1, 65535)
    )(command)
    return click.option(
        "--host", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe."
    )(command)


@main.command("serve")
@instance_option
@listen_options
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


# --- the demo: init if needed, seed if empty, serve -------------------------------------------


def _needs_init(instance: Path | None) -> bool:
    from workflow.config import load_config
    from workflow.db import is_up_to_date, make_engine

    try:
        config = load_config(instance)
    except WorkflowError:
        return True
    engine = make_engine(config.database_url)
    try:
        return not is_up_to_date(engine)
    except Exception:  # no database file or tables yet
        return True
    finally:
        engine.dispose()


def _is_empty(instance: Path | None) -> bool:
    from workflow.config import load_config
    from workflow.db import make_engine, session_factory
    from workflow.seed import is_seeded

    engine = make_engine(load_config(instance).database_url)
    try:
        with session_factory(engine)() as session:
            return not is_seeded(session)
    finally:
        engine.dispose()


def demo_logins(instance: Path | None) -> list[str]:
    from sqlalchemy import select

    from workflow import models
    from workflow.config import load_config
    from workflow.db import make_engine, session_factory

    engine = make_engine(load_config(instance).database_url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(models.User.username).order_by(models.User.id)))
    finally:
        engine.dispose()


def prepare_demo(ctx: click.Context, instance: Path | None) -> None:
    """``thidua init`` when the instance is missing or old, ``thidua seed-demo`` when empty."""
    from web.cli.admin import init_command, seed_demo_command

    if _needs_init(instance):
        ctx.invoke(init_command, instance=instance)
    if _is_empty(instance):
        ctx.invoke(seed_demo_command, instance=instance)


def serve_demo(ctx: click.Context, instance: Path | None, host: str, port: int) -> None:
    prepare_demo(ctx, instance)
    app = build_app(instance)
    logins = demo_logins(instance)
    app.config["DEMO_LOGINS"] = logins
    from workflow.seed import DEMO_PASSWORD, DEMO_PIN

    click.echo("")
    click.echo(f"thidua đang chạy tại: http://{host}:{port}/")
    click.echo("Tài khoản mẫu (CHỈ DÙNG ĐỂ THỬ, không dùng cho dữ liệu thật):")
    click.echo(f"  mật khẩu: {DEMO_PASSWORD}   mã PIN ký: {DEMO_PIN}")
    click.echo("  bắt đầu: vphu-uh-drafter (soạn giao ước 2019), các lãnh đạo <mã>-signer,")
    click.echo("           board-approver (Ban Thi đua – Khen thưởng), admin")
    click.echo("  tất cả: " + ", ".join(logins))
    click.echo("Nhấn Ctrl+C để dừng.")
    run(app, host, port)
