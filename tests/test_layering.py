"""The import direction of DESIGN.md: web -> workflow -> documents, signing; one way only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"web", "workflow", "documents", "signing"}

# What each package may import from the project, and third-party roots it must not touch.
ALLOWED = {
    "documents": set(),
    "signing": set(),
    "workflow": {"documents", "signing"},
    "web": {"workflow", "documents", "signing"},
}
FORBIDDEN_THIRD_PARTY = {
    "documents": {"flask", "sqlalchemy", "alembic", "werkzeug", "flask_login", "psycopg"},
    "signing": {"flask", "sqlalchemy", "alembic", "werkzeug", "flask_login", "psycopg"},
    "workflow": {"flask", "werkzeug", "flask_login", "flask_wtf", "flask_babel"},
    "web": set(),
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def package_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_flow_one_way(package: str) -> None:
    files = package_files(package)
    assert files, f"package {package} has no modules"
    offences = []
    for path in files:
        roots = imported_roots(path)
        for bad in (roots & PROJECT) - ALLOWED[package] - {package}:
            offences.append(f"{path.relative_to(ROOT)} imports {bad}")
        for bad in roots & FORBIDDEN_THIRD_PARTY[package]:
            offences.append(f"{path.relative_to(ROOT)} imports {bad}")
    assert not offences, "\n".join(offences)


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("import workflow.models\nfrom flask import Flask\n", encoding="utf-8")
    assert {"workflow", "flask"} <= imported_roots(bad)
