"""``thidua demo``: the whole system on this machine in one command.

Initialises the instance when needed (``thidua init``), loads the Hanoi demo cluster when the
database is empty (``thidua seed-demo``), then serves the web interface on 127.0.0.1:5000 and
prints the URL and the demo logins. ``--out DIR`` instead renders the sample documents of the
Hanoi 2018 cluster as DOCX files into DIR and prints their paths (no server).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

import documents
from documents import samples
from web.cli import instance_option, main
from web.cli.serve import listen_options, serve_demo

SAMPLES = (
    ("pledge-2018", samples.pledge_2018),
    ("nomination-2018", samples.nomination_2018),
    ("pledge-2019", samples.pledge_2019),
)


class DemoError(click.ClickException):
    exit_code = 2


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: never a half-written file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(f"không tạo được thư mục {folder}: {exc.strerror or exc}") from None


def render_samples(out_dir: Path) -> None:
    _mkdir(out_dir)
    for name, build in SAMPLES:
        content = build()
        if isinstance(content, documents.NominationContent):
            # A dossier is separate documents: one folder, one DOCX each.
            folder = out_dir / name
            _mkdir(folder)
            files = [(folder / p.name, p.docx) for p in documents.render_dossier(content)]
        else:
            files = [(out_dir / f"{name}.docx", documents.render(content))]
        for path, data in files:
            try:
                _write_atomically(path, data)
            except OSError as exc:
                raise DemoError(f"không ghi được {path}: {exc.strerror or exc}") from None
            click.echo(str(path))


@main.command("demo")
@instance_option
@listen_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Chỉ ghi các văn bản mẫu (DOCX) vào thư mục này rồi thoát, không chạy máy chủ.",
)
@click.pass_context
def demo(
    ctx: click.Context, instance: Path | None, host: str, port: int, out_dir: Path | None
) -> None:
    """Init (if needed), seed the demo cluster (if empty) and serve on 127.0.0.1:5000."""
    if out_dir is not None:
        render_samples(out_dir)
        return
    serve_demo(ctx, instance, host, port)
