"""The schema comes from the dated Alembic migrations, matches the models, and the database
itself refuses states that contradict their data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from workflow.db import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from workflow.models import Base

ROOT = Path(__file__).resolve().parents[2]


def test_migrated_schema_matches_the_models(db_engine):
    with db_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert current_revision(db_engine) == head_revision()


def test_migrations_ship_inside_the_package_with_dated_names():
    assert MIGRATIONS_DIR.is_relative_to(ROOT / "workflow")
    files = sorted(
        p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py") if p.name != "__init__.py"
    )
    assert files
    for name in files:
        assert re.fullmatch(r"\d{8}_\d{4}_[0-9a-f]{12}_[a-z0-9_]+\.py", name), name
    assert not (ROOT / "alembic.ini").exists()


def test_upgrade_downgrade_round_trip(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'round.db'}")
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_nothing_creates_tables_behind_the_migrations():
    offenders = []
    for folder in ("workflow", "web", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "test_schema.py":
                continue
            if re.search(r"\.create_all\(", path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# Each statement contradicts a check constraint of the schema.
VIOLATIONS = {
    "archived without bundle": "UPDATE documents SET state = 'archived' WHERE state = 'draft'",
    "signing without frozen version": (
        "UPDATE documents SET state = 'signing', frozen_version_id = NULL WHERE state = 'draft'"
    ),
    "cancelled without reason": "UPDATE documents SET state = 'cancelled' WHERE state = 'draft'",
    "unknown state": "UPDATE documents SET state = 'lost' WHERE state = 'draft'",
    "locked before five wrong PINs": "UPDATE credentials SET status = 'locked'",
    "revoked without time": "UPDATE credentials SET status = 'revoked'",
    "six wrong PINs": "UPDATE credentials SET failed_pins = 6",
    "admin tied to a unit": (
        "UPDATE role_memberships SET role = 'admin' WHERE unit_id IS NOT NULL"
    ),
    "voided without reason": "UPDATE signatures SET voided_at = signed_at",
    "changes requested without reason": (
        "UPDATE review_decisions SET decision = 'request_changes', reason = NULL"
    ),
    "frozen without bytes": (
        "UPDATE document_versions SET signed_sha256 = NULL WHERE frozen_at IS NOT NULL"
    ),
    "head is deputy": "UPDATE cluster_terms SET deputy_unit_id = head_unit_id",
    "half a decision": "UPDATE approvals SET decision_number = '15/QĐ'",
    "second live pledge in a term": (
        "INSERT INTO documents (kind, term_id, state, definition_version, title, version, "
        "created_by_id, created_at, updated_at) SELECT kind, term_id, 'draft', 1, title, 1, "
        "created_by_id, created_at, updated_at FROM documents WHERE state = 'draft'"
    ),
}


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_the_database_refuses_contradictory_rows(demo_db, name):
    # Autocommit: the statement itself must fail, whatever the backend's deferral rules.
    with (
        demo_db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        pytest.raises(IntegrityError),
    ):
        conn.execute(text(VIOLATIONS[name]))
