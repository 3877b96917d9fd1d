"""Scopes: the tree inside an org."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.engine import Connection, Row

from policyhub.domain.records import Scope
from policyhub.storage.tables import policies, scopes


def _scope(row: Row[Any]) -> Scope:
    return Scope(
        id=row.id,
        org_id=row.org_id,
        parent_id=row.parent_id,
        kind=row.kind,
        key=row.key,
        name=row.name,
        path=row.path,
        attributes=dict(row.attributes or {}),
        created_at=row.created_at,
    )


class ScopeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, scope: Scope) -> None:
        self.conn.execute(
            scopes.insert().values(
                id=scope.id,
                org_id=scope.org_id,
                parent_id=scope.parent_id,
                kind=scope.kind,
                key=scope.key,
                name=scope.name,
                path=scope.path,
                attributes=scope.attributes,
                created_at=scope.created_at,
            )
        )

    def get(self, org_id: str, scope_id: str) -> Scope | None:
        row = self.conn.execute(select(scopes).where(scopes.c.org_id == org_id, scopes.c.id == scope_id)).first()
        return _scope(row) if row else None

    def by_path(self, org_id: str, path: str) -> Scope | None:
        row = self.conn.execute(select(scopes).where(scopes.c.org_id == org_id, scopes.c.path == path)).first()
        return _scope(row) if row else None

    def list(self, org_id: str, *, under: str | None = None, kind: str | None = None) -> list[Scope]:
        stmt = select(scopes).where(scopes.c.org_id == org_id)
        if under:
            stmt = stmt.where(or_(scopes.c.path == under, scopes.c.path.startswith(under + "/", autoescape=True)))
        if kind:
            stmt = stmt.where(scopes.c.kind == kind)
        return [_scope(r) for r in self.conn.execute(stmt.order_by(scopes.c.path))]

    def children_count(self, org_id: str, scope_id: str) -> int:
        stmt = select(func.count()).where(scopes.c.org_id == org_id, scopes.c.parent_id == scope_id)
        return int(self.conn.execute(stmt).scalar_one())

    def live_policy_count(self, org_id: str, scope_id: str) -> int:
        stmt = select(func.count()).where(
            and_(policies.c.org_id == org_id, policies.c.scope_id == scope_id, policies.c.archived.is_(False))
        )
        return int(self.conn.execute(stmt).scalar_one())

    def any_policy_count(self, org_id: str, scope_id: str) -> int:
        stmt = select(func.count()).where(policies.c.org_id == org_id, policies.c.scope_id == scope_id)
        return int(self.conn.execute(stmt).scalar_one())

    def delete(self, org_id: str, scope_id: str) -> None:
        self.conn.execute(delete(scopes).where(scopes.c.org_id == org_id, scopes.c.id == scope_id))

    def live_policies_by_scope(
        self, org_id: str, scope_ids: builtins.list[str | None], per_scope: int
    ) -> dict[str | None, tuple[int, builtins.list[str]]]:
        """For each of ``scope_ids`` holding live policies (None: the org level): how many, and the first
        ``per_scope`` names. Reads only the index of live policies by scope and name (no policy content)."""
        live = and_(policies.c.org_id == org_id, policies.c.archived.is_(False))
        counts = select(policies.c.scope_id, func.count()).where(live).group_by(policies.c.scope_id)
        held = {row[0]: int(row[1]) for row in self.conn.execute(counts)}
        found: dict[str | None, tuple[int, builtins.list[str]]] = {}
        for scope_id in scope_ids:
            if not held.get(scope_id):
                continue
            at = policies.c.scope_id.is_(None) if scope_id is None else policies.c.scope_id == scope_id
            first = select(policies.c.name).where(live, at).order_by(policies.c.name).limit(per_scope)
            found[scope_id] = (held[scope_id], list(self.conn.execute(first).scalars()))
        return found
