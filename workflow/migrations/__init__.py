"""Alembic migrations of the workflow schema (dated file names; see workflow.db)."""
