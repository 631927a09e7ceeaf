"""Suite-wide helpers: tools that CI must have are skipped locally but fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest

# Database fixtures (engine, clean tables, seeded demo data) shared by workflow and web tests.
pytest_plugins = ["tests.fixtures_db"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_executable(name: str) -> str:
    """Return the path of ``name``; skip when it is missing, but fail in CI where it must exist."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed"
    if IN_CI:
        pytest.fail(f"{message}, and CI must have it (.ci/run installs it)")
    pytest.skip(message)
    raise AssertionError("unreachable")


# The demo nomination's documents, in the dossier's order (documents.render_dossier).
DOSSIER_PARTS = (
    "01-to-trinh.docx",
    "02-bien-ban.docx",
    "03-danh-sach.docx",
    "04-bao-cao-thanh-tich-1.docx",
    "05-bao-cao-thanh-tich-2.docx",
    "06-bao-cao-thanh-tich-3.docx",
)
