"""Content-addressed blob store inside the database (table ``blobs``).

Storing the bytes in the same database as the state means a transition and its files commit
or roll back together. Writing the same bytes twice is a no-op, also when two transactions
race (``INSERT ... ON CONFLICT DO NOTHING`` on both SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.clock import aware
from workflow.errors import NotFound
from workflow.models import Blob
from workflow.values import sha256_hex

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CMS = "application/pkcs7-signature"
JSON = "application/json"
ZIP = "application/zip"


def put_blob(session: Session, data: bytes, media_type: str, *, now: datetime | None = None) -> str:
    """Store ``data`` (if new) and return its SHA-256 hex."""
    digest = sha256_hex(data)
    values = {
        "sha256": digest,
        "size": len(data),
        "media_type": media_type,
        "data": bytes(data),
        "created_at": aware(now),
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(Blob).values(**values).on_conflict_do_nothing(index_elements=["sha256"]))
    return digest


def get_blob(session: Session, sha256: str) -> bytes:
    data = session.scalar(select(Blob.data).where(Blob.sha256 == sha256))
    if data is None:
        raise NotFound(f"Không tìm thấy tệp {sha256}.")
    return bytes(data)
