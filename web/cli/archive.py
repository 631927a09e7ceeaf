"""``thidua archive renew``: a new archive timestamp over bundles whose newest one's TSA
certificate is about to expire (issue 17); meant for a yearly cron job."""

from __future__ import annotations

import json
from pathlib import Path

import click

from web.cli import instance_option, main
from web.cli.admin import cli_config, cli_session
from workflow.services import RENEW_BEFORE_DAYS, renew_archives


@main.group("archive")
def archive_group() -> None:
    """Gói lưu trữ: gia hạn dấu thời gian lưu trữ."""


@archive_group.command("renew")
@instance_option
@click.option(
    "--before-days",
    type=click.IntRange(0, 7320),
    default=RENEW_BEFORE_DAYS,
    show_default=True,
    help="Gia hạn khi chứng thư của TSA đóng dấu mới nhất còn ít hơn số ngày này.",
)
@click.option("--force", is_flag=True, help="Gia hạn mọi gói lưu trữ, dù chưa đến hạn.")
@click.option("--document", "document_ids", type=int, multiple=True, help="Chỉ văn bản này.")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
def archive_renew_command(
    instance: Path | None,
    before_days: int,
    force: bool,
    document_ids: tuple[int, ...],
    as_json: bool,
) -> None:
    """Thêm dấu thời gian lưu trữ mới cho các gói sắp hết hạn bằng chứng."""
    config = cli_config(instance)
    with cli_session(config) as session:
        done = renew_archives(
            session,
            None,
            ca_secret=config.ca_master_secret,
            before_days=before_days,
            force=force,
            document_ids=list(document_ids) or None,
        )
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "document_id": r.document_id,
                        "renewed": r.renewed,
                        "old_bundle_sha256": r.old_bundle_sha256,
                        "bundle_sha256": r.new_bundle_sha256 or r.old_bundle_sha256,
                        "tsa_expires": r.tsa_expires.isoformat() if r.tsa_expires else None,
                    }
                    for r in done
                ],
                ensure_ascii=False,
            )
        )
        return
    for r in done:
        until = r.tsa_expires.date().isoformat() if r.tsa_expires else "chưa có"
        if r.renewed:
            click.echo(
                f"Văn bản {r.document_id}: đã gia hạn (TSA cũ hết hạn {until}), "
                f"gói mới {r.new_bundle_sha256}"
            )
        else:
            click.echo(f"Văn bản {r.document_id}: chưa đến hạn (TSA hết hạn {until})")
    if not done:
        click.echo("Không có gói lưu trữ nào.")
