"""Vendor-owned objects that are not policies (JFrog rules and templates, environments, ...)."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Row

from policyhub.domain.records import Resource as Resource
from policyhub.storage.tables import resources


def _resource(row: Row[Any]) -> Resource:
    return Resource(
        id=row.id,
        org_id=row.org_id,
        kind=row.kind,
        key=row.key,
        data=dict(row.data or {}),
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


class ResourceRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, r: Resource) -> None:
        self.conn.execute(
            resources.insert().values(
                id=r.id,
                org_id=r.org_id,
                kind=r.kind,
                key=r.key,
                data=r.data,
                created_at=r.created_at,
                created_by=r.created_by,
                updated_at=r.updated_at,
                updated_by=r.updated_by,
            )
        )

    def update(self, r: Resource) -> None:
        self.conn.execute(
            update(resources)
            .where(resources.c.org_id == r.org_id, resources.c.id == r.id)
            .values(key=r.key, data=r.data, updated_at=r.updated_at, updated_by=r.updated_by)
        )

    def get(self, org_id: str, kind: str, resource_id: str) -> Resource | None:
        stmt = select(resources).where(
            resources.c.org_id == org_id, resources.c.kind == kind, resources.c.id == resource_id
        )
        row = self.conn.execute(stmt).first()
        return _resource(row) if row else None

    def by_key(self, org_id: str, kind: str, key: str) -> Resource | None:
        stmt = select(resources).where(resources.c.org_id == org_id, resources.c.kind == kind, resources.c.key == key)
        row = self.conn.execute(stmt).first()
        return _resource(row) if row else None

    def list(self, org_id: str, kind: str) -> list[Resource]:
        stmt = (
            select(resources)
            .where(resources.c.org_id == org_id, resources.c.kind == kind)
            .order_by(resources.c.created_at, resources.c.id)
        )
        return [_resource(r) for r in self.conn.execute(stmt)]

    def all(self, org_id: str) -> builtins.list[Resource]:
        """Every resource of the org, of every kind (the decision engine's snapshot)."""
        stmt = select(resources).where(resources.c.org_id == org_id).order_by(resources.c.created_at, resources.c.id)
        return [_resource(r) for r in self.conn.execute(stmt)]

    def delete(self, org_id: str, kind: str, resource_id: str) -> bool:
        stmt = delete(resources).where(
            resources.c.org_id == org_id, resources.c.kind == kind, resources.c.id == resource_id
        )
        return bool(self.conn.execute(stmt).rowcount)
