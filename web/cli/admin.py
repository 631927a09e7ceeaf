"""Operator commands: ``init``, ``seed-demo``, ``list``, ``export``, ``audit verify``,
``ca export``, ``token create``, ``users add|signature-image``, ``units add|seal``,
``clusters add|add-term``, ``credentials issue|revoke|unlock|list`` and ``sweep``.

Thin wrappers over ``workflow`` services: one transaction per command, committed when the
command succeeds. Errors print a clear message and exit 2; ``audit verify`` exits 1 when the
chain is broken.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from signing.pades.images import MAX_IMAGE_BYTES
from web.cli import instance_option, main
from workflow import seed as demo_seed
from workflow.audit import verify_audit_chain
from workflow.config import Config, init_instance, load_config
from workflow.db import is_up_to_date, make_engine, session_factory, upgrade
from workflow.definitions import STATE_LABELS, STATES
from workflow.errors import WorkflowError
from workflow.models import DOCUMENT_KINDS, ROLES
from workflow.pki import ensure_ca
from workflow.services import admin, auth, lifecycle, stamps


class CliError(click.ClickException):
    """A clear message on stderr and exit status 2, never a traceback."""

    exit_code = 2


def cli_config(instance: Path | None) -> Config:
    try:
        return load_config(instance)
    except WorkflowError as exc:
        raise CliError(exc.message) from None


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _require_database(url: str) -> None:
    """Refuse a SQLite file that does not exist yet: opening it would create it (and its
    folder), leaving a stray empty database wherever the command ran. Only ``init`` makes one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    if parsed.query.get("mode") == "memory" or Path(parsed.database).is_file():
        return
    raise CliError(
        f"Chưa có cơ sở dữ liệu {_safe_url(url)}; hãy chạy `thidua init` "
        "(hoặc đặt DATABASE_URL trỏ tới cơ sở dữ liệu đã có)."
    )


@contextmanager
def cli_session(config: Config, *, check_schema: bool = True) -> Iterator[Session]:
    """One transaction: committed if the body succeeds, rolled back otherwise."""
    _require_database(config.database_url)
    engine = make_engine(config.database_url)
    try:
        if check_schema and not is_up_to_date(engine):
            raise CliError(
                f"Cơ sở dữ liệu {_safe_url(config.database_url)} chưa ở phiên bản mới nhất; "
                "hãy chạy `thidua init`."
            )
        with session_factory(engine)() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    except WorkflowError as exc:
        raise CliError(exc.message) from None
    except SQLAlchemyError as exc:
        detail = getattr(exc, "orig", None) or exc
        raise CliError(f"Lỗi cơ sở dữ liệu: {detail}") from None
    finally:
        engine.dispose()


def _write_atomically(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, then rename: never a half-written file."""
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise CliError(f"không ghi được {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CliError(f"không ghi được {path}: {exc.strerror or exc}") from None


# --- init and demo data -------------------------------------------------------------------


@main.command("init")
@instance_option
def init_command(instance: Path | None) -> None:
    """Create the instance (secrets with mode 0600), migrate the database, create the CA."""
    try:
        config = init_instance(instance)
    except WorkflowError as exc:
        raise CliError(exc.message) from None
    except OSError as exc:
        raise CliError(f"không tạo được thư mục instance: {exc.strerror or exc}") from None
    engine = make_engine(config.database_url)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        raise CliError(f"không nâng cấp được cơ sở dữ liệu: {exc}") from None
    finally:
        engine.dispose()
    with cli_session(config) as session:
        record = ensure_ca(session, config.ca_master_secret)
        fingerprint = record.fingerprint_sha256
    click.echo(f"Instance: {config.instance_dir}")
    click.echo(f"Cơ sở dữ liệu: {_safe_url(config.database_url)} (đã nâng cấp lên bản mới nhất)")
    click.echo(f"CA SHA-256: {fingerprint}")


@main.command("seed-demo")
@instance_option
def seed_demo_command(instance: Path | None) -> None:
    """Load the Hanoi 2018 demo cluster (demo passwords and PIN; never in production)."""
    config = cli_config(instance)
    with cli_session(config) as session:
        if demo_seed.is_seeded(session):
            raise CliError("Instance đã có dữ liệu; seed-demo chỉ chạy trên instance trống.")
        with click.progressbar(
            length=demo_seed.STEPS, label="Tạo dữ liệu mẫu", file=sys.stderr
        ) as bar:

            def progress(_label: str) -> None:
                bar.update(1)

            result = demo_seed.seed_demo(
                session,
                ca_secret=config.ca_master_secret,
                progress=progress,
                signed_pdf=config.signed_pdf,
            )
    click.echo("Đã tạo cụm thi đua mẫu (Hà Nội, 2018–2019).")
    for label, doc_id in result.documents.items():
        click.echo(f"  văn bản {doc_id}: {label}")
    click.echo("Tài khoản mẫu (CHỈ DÙNG ĐỂ THỬ):")
    click.echo("  " + ", ".join(result.users))
    click.echo(f"  mật khẩu: {result.password}   mã PIN ký: {result.pin}")


# --- documents ----------------------------------------------------------------------------


@main.command("list")
@instance_option
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS), default=None)
@click.option("--year", type=int, default=None)
@click.option("--state", type=click.Choice(STATES), default=None)
@click.option("--json", "as_json", is_flag=True, help="In danh sách dạng JSON.")
def list_command(
    instance: Path | None, kind: str | None, year: int | None, state: str | None, as_json: bool
) -> None:
    """List documents."""
    config = cli_config(instance)
    with cli_session(config) as session:
        docs = admin.all_documents(session, None, kind=kind, year=year, state=state)
        rows: list[dict[str, Any]] = [
            {
                "id": d.id,
                "kind": d.kind,
                "year": d.term.year,
                "state": d.state,
                "cluster": d.term.cluster.code,
                "cluster_name": d.term.cluster.name,
                "title": d.title,
                "version": d.version,
            }
            for d in docs
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Không có văn bản nào.")
        return
    for row in rows:
        click.echo(
            f"{row['id']:>5}  {row['year']}  {row['kind']:<10}  "
            f"{STATE_LABELS.get(row['state'], row['state']):<14}  {row['cluster']}  {row['title']}"
        )


@main.command("export")
@instance_option
@click.argument("document_id", type=int)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Tệp .zip sẽ ghi gói lưu trữ.",
)
def export_command(instance: Path | None, document_id: int, out: Path) -> None:
    """Write the archive bundle (BagIt zip) of an archived document."""
    config = cli_config(instance)
    with cli_session(config) as session:
        data = admin.document_bundle(session, None, document_id)
    _write_atomically(out, data)
    click.echo(f"Đã ghi gói lưu trữ của văn bản {document_id}: {out} ({len(data)} byte)")


# --- audit --------------------------------------------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """Audit chain."""


@audit_group.command("verify")
@instance_option
@click.option("--json", "as_json", is_flag=True)
def audit_verify_command(instance: Path | None, as_json: bool) -> None:
    """Walk the audit chain, then check the signatures, blobs and document states against it;
    exit 1 naming the first event that is broken or no longer matches its rows, 0 when intact."""
    config = cli_config(instance)
    with cli_session(config) as session:
        report = verify_audit_chain(session)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(report.describe())
    if not report.ok:
        raise SystemExit(1)


# --- CA, tokens ---------------------------------------------------------------------------


@main.group("ca")
def ca_group() -> None:
    """The project CA."""


@ca_group.command("export")
@instance_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Tệp PEM sẽ ghi (mặc định: in ra màn hình).",
)
@click.option(
    "--crl",
    "crl_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Ghi thêm danh sách thu hồi (CRL, DER) vào tệp này.",
)
def ca_export_command(instance: Path | None, out: Path | None, crl_out: Path | None) -> None:
    """Export the CA certificate (the trust anchor for `thidua verify --trust`)."""
    config = cli_config(instance)
    with cli_session(config) as session:
        pem = admin.ca_pem(session)
        crl_data = admin.crl(session, ca_secret=config.ca_master_secret) if crl_out else None
    if out is None:
        click.echo(pem.decode("ascii"), nl=False)
    else:
        _write_atomically(out, pem)
        click.echo(f"Đã ghi chứng thư CA: {out}")
    if crl_out is not None and crl_data is not None:
        _write_atomically(crl_out, crl_data)
        click.echo(f"Đã ghi CRL: {crl_out}")


@main.group("token")
def token_group() -> None:
    """API tokens."""


@token_group.command("create")
@instance_option
@click.argument("username")
@click.option(
    "--days",
    type=click.IntRange(1, auth.MAX_TOKEN_DAYS),
    default=auth.DEFAULT_TOKEN_DAYS,
    show_default=True,
    help="Số ngày mã còn hiệu lực.",
)
def token_create_command(instance: Path | None, username: str, days: int) -> None:
    """Create an API token for USERNAME, valid for DAYS; it is printed once, as the last
    word."""
    config = cli_config(instance)
    with cli_session(config) as session:
        token = auth.create_token(session, None, username, days=days)
    click.echo(
        f"Mã truy cập API mới cho {username}, hiệu lực {days} ngày (chỉ hiển thị một lần): {token}"
    )


@token_group.command("revoke")
@instance_option
@click.argument("username")
def token_revoke_command(instance: Path | None, username: str) -> None:
    """Revoke every API token of USERNAME (they stop working at once)."""
    config = cli_config(instance)
    with cli_session(config) as session:
        count = auth.revoke_tokens(session, None, username)
    click.echo(f"Đã thu hồi {count} mã truy cập của {username}.")


# --- units, clusters, terms, users, credentials -------------------------------------------


@main.group("units")
def units_group() -> None:
    """Units (member offices and emulation boards)."""


@units_group.command("add")
@instance_option
@click.argument("code")
@click.argument("name")
@click.option("--board", is_flag=True, help="Đơn vị là ban/hội đồng thi đua (phê duyệt).")
def units_add_command(instance: Path | None, code: str, name: str, board: bool) -> None:
    """Add a unit, e.g. `thidua units add VPHU-BV "Văn phòng Huyện ủy Ba Vì"`."""
    config = cli_config(instance)
    with cli_session(config) as session:
        unit = admin.add_unit(session, None, code, name, kind="board" if board else "member")
        click.echo(f"Đã thêm đơn vị {unit.code}: {unit.name}")


@units_group.command("list")
@instance_option
def units_list_command(instance: Path | None) -> None:
    config = cli_config(instance)
    with cli_session(config) as session:
        for unit in admin.list_units(session):
            click.echo(f"{unit.code:<12} {unit.kind:<7} {unit.name}")


def _stamp_png(path: Path | None, remove: bool) -> bytes | None:
    """The PNG at ``path`` (read no further than one byte past the stamp limit, which the
    service then refuses), or None with ``--remove``; exactly one of the two."""
    if remove:
        if path is not None:
            raise CliError("chỉ ghi tệp PNG hoặc --remove, không ghi cả hai")
        return None
    if path is None:
        raise CliError("thiếu tệp ảnh PNG (hoặc ghi --remove để xóa ảnh)")
    try:
        with path.expanduser().open("rb") as handle:
            return handle.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise CliError(f"không đọc được {path}: {exc.strerror or exc}") from None


@units_group.command("seal")
@instance_option
@click.argument("code")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--remove", is_flag=True, help="Xóa ảnh con dấu của đơn vị.")
def units_seal_command(instance: Path | None, code: str, file: Path | None, remove: bool) -> None:
    """Set the unit's seal image (PNG with a transparent background), or remove it.

    Example: thidua units seal VPHU-BV con-dau.png
    """
    png = _stamp_png(file, remove)
    config = cli_config(instance)
    with cli_session(config) as session:
        unit = stamps.set_unit_seal(session, None, code, png)
        if png is None:
            click.echo(f"Đã xóa ảnh con dấu của đơn vị {unit.code}.")
        else:
            click.echo(f"Đã lưu ảnh con dấu của đơn vị {unit.code} (SHA-256 {unit.seal_sha256}).")


@main.group("clusters")
def clusters_group() -> None:
    """Emulation clusters and their yearly terms."""


@clusters_group.command("add")
@instance_option
@click.argument("code")
@click.argument("name")
def clusters_add_command(instance: Path | None, code: str, name: str) -> None:
    config = cli_config(instance)
    with cli_session(config) as session:
        cluster = admin.add_cluster(session, None, code, name)
        click.echo(f"Đã thêm cụm {cluster.code}: {cluster.name}")


@clusters_group.command("add-term")
@instance_option
@click.argument("cluster_code")
@click.argument("year", type=int)
@click.option("--head", required=True, help="Mã đơn vị cụm trưởng.")
@click.option("--deputy", default=None, help="Mã đơn vị cụm phó.")
@click.option("--board", required=True, help="Mã ban/hội đồng thi đua phụ trách.")
@click.option(
    "--member",
    "members",
    multiple=True,
    required=True,
    help="Mã đơn vị thành viên, theo thứ tự ký (lặp lại cho mỗi đơn vị).",
)
def clusters_add_term_command(
    instance: Path | None,
    cluster_code: str,
    year: int,
    head: str,
    deputy: str | None,
    board: str,
    members: tuple[str, ...],
) -> None:
    config = cli_config(instance)
    with cli_session(config) as session:
        term = admin.add_term(
            session,
            None,
            cluster_code,
            year,
            head=head,
            deputy=deputy,
            board=board,
            members=list(members),
        )
        click.echo(
            f"Đã thêm nhiệm kỳ {year} của cụm {cluster_code} ({len(term.memberships)} "
            "đơn vị thành viên)"
        )


def _parse_role(text: str) -> tuple[str | None, str]:
    if text == "admin":
        return None, "admin"
    unit, sep, role = text.rpartition(":")
    if not sep or role not in ROLES or not unit:
        raise CliError(
            f"vai trò '{text}' không hợp lệ; dùng MÃ-ĐƠN-VỊ:vai-trò "
            f"({', '.join(r for r in ROLES if r != 'admin')}) hoặc 'admin'"
        )
    return unit, role


@main.group("users")
def users_group() -> None:
    """Users and their roles."""


@users_group.command("add")
@instance_option
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Họ và tên.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="MÃ-ĐƠN-VỊ:vai-trò (drafter, reviewer, signer, board) hoặc 'admin'; lặp lại.",
)
@click.option(
    "--password",
    prompt="Mật khẩu",
    hide_input=True,
    confirmation_prompt=True,
    help="Mật khẩu (hỏi khi không ghi).",
)
def users_add_command(
    instance: Path | None, username: str, full_name: str, roles: tuple[str, ...], password: str
) -> None:
    """Add a user with roles.

    Example: thidua users add vphu-bv-signer --name "Nguyễn Văn A" --role VPHU-BV:signer
    """
    parsed = [_parse_role(r) for r in roles]
    config = cli_config(instance)
    with cli_session(config) as session:
        user = admin.add_user(session, None, username, full_name, password, roles=parsed)
        click.echo(f"Đã thêm người dùng {user.username} ({len(parsed)} vai trò)")


@users_group.command("sign-out")
@instance_option
@click.argument("username")
def users_sign_out_command(instance: Path | None, username: str) -> None:
    """End every session of USERNAME at once (each browser must sign in again)."""
    config = cli_config(instance)
    with cli_session(config) as session:
        auth.sign_out_everywhere(session, None, username)
    click.echo(f"Đã đăng xuất {username} khỏi mọi phiên.")


@users_group.command("signature-image")
@instance_option
@click.argument("username")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--remove", is_flag=True, help="Xóa ảnh chữ ký của người dùng.")
def users_signature_image_command(
    instance: Path | None, username: str, file: Path | None, remove: bool
) -> None:
    """Set USERNAME's signature image (PNG with a transparent background), or remove it.

    Example: thidua users signature-image vphu-bv-signer chu-ky.png
    """
    png = _stamp_png(file, remove)
    config = cli_config(instance)
    with cli_session(config) as session:
        user = stamps.set_signature_image(session, None, username, png)
        if png is None:
            click.echo(f"Đã xóa ảnh chữ ký của {user.username}.")
        else:
            click.echo(f"Đã lưu ảnh chữ ký của {user.username} (SHA-256 {user.signature_sha256}).")


@main.group("credentials")
def credentials_group() -> None:
    """Signing credentials (keys sealed under a PIN, certificates from the project CA)."""


@credentials_group.command("issue")
@instance_option
@click.argument("username")
@click.argument("unit_code")
@click.option("--pin", prompt="Mã PIN", hide_input=True, confirmation_prompt=True)
def credentials_issue_command(
    instance: Path | None, username: str, unit_code: str, pin: str
) -> None:
    """Generate a key sealed under the PIN and a certificate for USERNAME at UNIT_CODE."""
    config = cli_config(instance)
    with cli_session(config) as session:
        cred = admin.issue_credential(
            session, None, username, unit_code, pin, ca_secret=config.ca_master_secret
        )
        click.echo(f"Đã cấp chứng thư số {cred.id} (SHA-256 {cred.fingerprint_sha256})")


@credentials_group.command("revoke")
@instance_option
@click.argument("credential_id", type=int)
@click.option("--reason", type=click.Choice(admin.REVOCATION_REASONS), default="unspecified")
def credentials_revoke_command(instance: Path | None, credential_id: int, reason: str) -> None:
    config = cli_config(instance)
    with cli_session(config) as session:
        admin.revoke_credential(session, None, credential_id, reason=reason)
        click.echo(f"Đã thu hồi chứng thư số {credential_id} ({reason})")


@credentials_group.command("unlock")
@instance_option
@click.argument("credential_id", type=int)
def credentials_unlock_command(instance: Path | None, credential_id: int) -> None:
    config = cli_config(instance)
    with cli_session(config) as session:
        admin.unlock_credential(session, None, credential_id)
        click.echo(f"Đã mở khóa chứng thư số {credential_id}")


@credentials_group.command("list")
@instance_option
def credentials_list_command(instance: Path | None) -> None:
    config = cli_config(instance)
    with cli_session(config) as session:
        rows: list[dict[str, Any]] = [
            {
                "id": c.id,
                "user": c.user.username,
                "unit": c.unit.code,
                "status": c.status,
                "server_key": c.sealed_key is not None,
                "fingerprint": c.fingerprint_sha256,
            }
            for c in admin.list_credentials(session)
        ]
    for row in rows:
        click.echo(
            f"{row['id']:>4}  {row['user']:<18} {row['unit']:<10} {row['status']:<8} "
            f"{'khóa trên máy chủ' if row['server_key'] else 'chỉ chứng thư'}  "
            f"{row['fingerprint'][:16]}"
        )


@main.command("sweep")
@instance_option
def sweep_command(instance: Path | None) -> None:
    """Move fully signed documents still marked `signing` to `signed` (idempotent; for cron)."""
    config = cli_config(instance)
    with cli_session(config) as session:
        moved = lifecycle.sweep(session)
    if moved:
        click.echo("Đã chuyển sang 'đã ký đủ': " + ", ".join(str(i) for i in moved))
    else:
        click.echo("Không có văn bản nào cần xử lý.")
