"""Orgs and the head of each org's audit chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Row

from policyhub.domain.records import Org
from policyhub.storage.prepared import Prepared
from policyhub.storage.tables import orgs


def _org(row: Row[Any]) -> Org:
    return Org(id=row.id, slug=row.slug, name=row.name, settings=dict(row.settings or {}), created_at=row.created_at)


_CHAIN = select(orgs.c.chain_seq, orgs.c.chain_head).where(orgs.c.id == bindparam("b_id"))
# Every write runs these (see ``storage.prepared``).
_LOCK_CHAIN = Prepared(_CHAIN)  # SQLite: the write transaction already holds the database lock
_LOCK_CHAIN_FOR_UPDATE = Prepared(_CHAIN.with_for_update())
_ADVANCE = Prepared(update(orgs).where(orgs.c.id == bindparam("b_id")), column_keys=("chain_seq", "chain_head"))


class OrgRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, org_id: str) -> Org | None:
        row = self.conn.execute(select(orgs).where(orgs.c.id == org_id)).first()
        return _org(row) if row else None

    def by_slug(self, slug: str) -> Org | None:
        row = self.conn.execute(select(orgs).where(orgs.c.slug == slug)).first()
        return _org(row) if row else None

    def list(self) -> list[Org]:
        return [_org(r) for r in self.conn.execute(select(orgs).order_by(orgs.c.slug))]

    def insert(self, *, org_id: str, slug: str, name: str, settings: dict[str, Any], at: datetime) -> None:
        self.conn.execute(
            orgs.insert().values(
                id=org_id, slug=slug, name=name, settings=settings, chain_seq=0, chain_head="", created_at=at
            )
        )

    def update_settings(self, org_id: str, settings: dict[str, Any]) -> None:
        self.conn.execute(update(orgs).where(orgs.c.id == org_id).values(settings=settings))

    def lock_chain(self, org_id: str) -> tuple[int, str]:
        """Lock the org for writing and return its chain head (last seq, last hash).

        On PostgreSQL this row lock serialises the org's writers; SQLite already holds the
        database write lock (``BEGIN IMMEDIATE``).
        """
        stmt = _LOCK_CHAIN_FOR_UPDATE if self.conn.dialect.name != "sqlite" else _LOCK_CHAIN
        row = stmt.first(self.conn, {"b_id": org_id})
        if row is None:
            raise LookupError(f"org {org_id!r} does not exist")
        return int(row.chain_seq), str(row.chain_head)

    def advance_chain(self, org_id: str, seq: int, head: str) -> None:
        _ADVANCE.execute(self.conn, {"b_id": org_id, "chain_seq": seq, "chain_head": head})

    def chain_head(self, org_id: str) -> tuple[int, str]:
        row = self.conn.execute(select(orgs.c.chain_seq, orgs.c.chain_head).where(orgs.c.id == org_id)).one()
        return int(row.chain_seq), str(row.chain_head)
