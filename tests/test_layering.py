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


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def private_imports(path: Path, root: Path = ROOT) -> list[str]:
    """Imports in ``path`` that reach into another module's private parts: a name with a
    leading underscore imported from another module, or a private module (``_common``,
    ``_util``) imported from outside the package that holds it."""
    here = _module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    offences = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [(node.module, [alias.name for alias in node.names])]
        elif isinstance(node, ast.Import):
            targets = [(alias.name, []) for alias in node.names]
        else:
            continue
        for module, names in targets:
            if module.split(".")[0] not in PROJECT:
                continue
            parts = module.split(".")
            for index, part in enumerate(parts):
                owner = ".".join(parts[:index])
                inside = package == owner or package.startswith(owner + ".")
                if _is_private(part) and not inside:
                    offences.append(f"{here} imports private module {module}")
            for name in names:
                if _is_private(name) and module != here:
                    offences.append(f"{here} imports private name {name} from {module}")
    return offences


def test_no_private_imports_across_modules() -> None:
    offences = [
        line
        for package in sorted(ALLOWED)
        for path in package_files(package)
        for line in private_imports(path)
    ]
    bench = sorted((ROOT / "bench").glob("*.py"))
    offences += [line for path in bench for line in private_imports(path)]
    assert not offences, "\n".join(offences)


def test_private_import_checker_sees_violations(tmp_path: Path) -> None:
    probe = tmp_path / "web" / "probe.py"
    probe.parent.mkdir()
    probe.write_text(
        "from signing._util import sha256_hex\n"
        "import workflow.services._common\n"
        "from web.db import _private_helper\n"
        "from web._sibling import helper\n",
        encoding="utf-8",
    )
    found = private_imports(probe, root=tmp_path)
    assert found == [
        "web.probe imports private module signing._util",
        "web.probe imports private module workflow.services._common",
        "web.probe imports private name _private_helper from web.db",
    ]
