"""Alembic environment: runs online against the engine handed over by ``workflow.db``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from workflow.config import database_url
from workflow.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        # Invoked by the alembic command itself (e.g. to autogenerate): use the configured URL.
        engine = create_engine(database_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `thidua init`")
run_migrations_online()
