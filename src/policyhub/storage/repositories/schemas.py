"""Org-supplied JSON Schemas for ``document`` policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from policyhub.storage.tables import document_schemas


class DocumentSchemaRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, org_id: str, name: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(document_schemas.c.schema).where(
                document_schemas.c.org_id == org_id, document_schemas.c.name == name
            )
        ).first()
        return dict(row.schema) if row else None

    def list(self, org_id: str) -> list[tuple[str, dict[str, Any]]]:
        stmt = select(document_schemas).where(document_schemas.c.org_id == org_id).order_by(document_schemas.c.name)
        return [(r.name, dict(r.schema)) for r in self.conn.execute(stmt)]

    def upsert(self, org_id: str, name: str, schema: dict[str, Any], at: datetime) -> bool:
        """Store the schema; True when it was created."""
        changed = self.conn.execute(
            update(document_schemas)
            .where(document_schemas.c.org_id == org_id, document_schemas.c.name == name)
            .values(schema=schema, updated_at=at)
        ).rowcount
        if changed:
            return False
        self.conn.execute(
            document_schemas.insert().values(org_id=org_id, name=name, schema=schema, created_at=at, updated_at=at)
        )
        return True

    def delete(self, org_id: str, name: str) -> bool:
        stmt = delete(document_schemas).where(document_schemas.c.org_id == org_id, document_schemas.c.name == name)
        return bool(self.conn.execute(stmt).rowcount)
