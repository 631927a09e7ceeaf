"""``thidua demo``: render the sample documents of the Hanoi 2018 cluster into a folder.

An interim command until the web application lands: it shows what the cluster signs, as DOCX
files a clerk can open, and prints their paths.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

import documents
from documents import samples
from web.cli import main

SAMPLES = (
    ("pledge-2018.docx", samples.pledge_2018),
    ("nomination-2018.docx", samples.nomination_2018),
    ("pledge-2019.docx", samples.pledge_2019),
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


@main.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-out"), show_default=True,
              help="Thư mục ghi các văn bản mẫu (tạo mới nếu chưa có).")
def demo(out_dir: Path) -> None:
    """Render the sample pledge and nomination of the Hanoi 2018 cluster as DOCX files."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(f"không tạo được thư mục {out_dir}: {exc.strerror or exc}") from None
    for name, build in SAMPLES:
        path = out_dir / name
        try:
            _write_atomically(path, documents.render(build()))
        except OSError as exc:
            raise DemoError(f"không ghi được {path}: {exc.strerror or exc}") from None
        click.echo(str(path))
