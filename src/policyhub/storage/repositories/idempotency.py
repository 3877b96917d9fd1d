"""Stored first responses of POSTs sent with an ``Idempotency-Key``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from policyhub.storage.tables import idempotency_keys


@dataclass(frozen=True)
class StoredResponse:
    request_hash: str
    principal_id: str
    status: int
    body: str
    headers: dict[str, str]


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, org_id: str, key: str) -> StoredResponse | None:
        row = self.conn.execute(
            select(idempotency_keys).where(idempotency_keys.c.org_id == org_id, idempotency_keys.c.key == key)
        ).first()
        if row is None:
            return None
        return StoredResponse(row.request_hash, row.principal_id, row.status, row.body, dict(row.headers))

    def put(self, org_id: str, key: str, principal_id: str, stored: StoredResponse, at: datetime) -> None:
        self.conn.execute(
            idempotency_keys.insert().values(
                org_id=org_id,
                key=key,
                principal_id=principal_id,
                request_hash=stored.request_hash,
                status=stored.status,
                body=stored.body,
                headers=stored.headers,
                created_at=at,
            )
        )
