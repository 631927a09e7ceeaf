"""The ``thidua`` command line: a click group whose commands live in sibling modules."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

# Each module registers its commands on ``main`` when imported.
COMMAND_MODULES: tuple[str, ...] = (
    "web.cli.verify",
    "web.cli.demo",
    "web.cli.admin",
    "web.cli.archive",
    "web.cli.serve",
)


instance_option = click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Thư mục instance (mặc định: $THIDUA_INSTANCE hoặc ./instance).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """thidua: giao ước thi đua và hồ sơ khen thưởng có chữ ký số."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name)
