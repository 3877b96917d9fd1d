"""Principals: users and service accounts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from policyhub.domain.records import Principal
from policyhub.storage.tables import principals


def _principal(row: Row[Any]) -> Principal:
    return Principal(
        id=row.id,
        org_id=row.org_id,
        kind=row.kind,
        display_name=row.display_name,
        email=row.email,
        created_at=row.created_at,
        disabled=bool(row.disabled),
    )


class PrincipalRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, p: Principal) -> None:
        self.conn.execute(
            principals.insert().values(
                id=p.id,
                org_id=p.org_id,
                kind=p.kind,
                display_name=p.display_name,
                email=p.email,
                created_at=p.created_at,
                disabled=p.disabled,
            )
        )

    def get(self, org_id: str, principal_id: str) -> Principal | None:
        row = self.conn.execute(
            select(principals).where(principals.c.org_id == org_id, principals.c.id == principal_id)
        ).first()
        return _principal(row) if row else None

    def list(self, org_id: str) -> list[Principal]:
        stmt = select(principals).where(principals.c.org_id == org_id).order_by(principals.c.created_at)
        return [_principal(r) for r in self.conn.execute(stmt)]

    def names(self, org_id: str, ids: set[str]) -> dict[str, Principal]:
        if not ids:
            return {}
        stmt = select(principals).where(principals.c.org_id == org_id, principals.c.id.in_(sorted(ids)))
        return {r.id: _principal(r) for r in self.conn.execute(stmt)}
