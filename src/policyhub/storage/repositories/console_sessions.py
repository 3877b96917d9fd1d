"""Console sessions, looked up by the hash of the cookie's token (the token itself is never stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Row

from policyhub.storage.tables import console_sessions


@dataclass(frozen=True)
class ConsoleSession:
    id: str  # SHA-256 of the cookie's token
    org_id: str
    key_id: str
    key_hash: str  # the API key's stored secret hash: the session acts as that key
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def _session(row: Row[Any]) -> ConsoleSession:
    return ConsoleSession(
        id=row.id,
        org_id=row.org_id,
        key_id=row.key_id,
        key_hash=row.key_hash,
        csrf_token=row.csrf_token,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )


class ConsoleSessionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, session: ConsoleSession) -> None:
        self.conn.execute(
            console_sessions.insert().values(
                id=session.id,
                org_id=session.org_id,
                key_id=session.key_id,
                key_hash=session.key_hash,
                csrf_token=session.csrf_token,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                expires_at=session.expires_at,
            )
        )

    def get(self, session_id: str) -> ConsoleSession | None:
        row = self.conn.execute(select(console_sessions).where(console_sessions.c.id == session_id)).first()
        return _session(row) if row else None

    def touch(self, session_id: str, at: datetime) -> None:
        self.conn.execute(update(console_sessions).where(console_sessions.c.id == session_id).values(last_seen_at=at))

    def delete(self, session_id: str) -> None:
        self.conn.execute(delete(console_sessions).where(console_sessions.c.id == session_id))

    def delete_for_key(self, org_id: str, key_id: str) -> int:
        stmt = delete(console_sessions).where(console_sessions.c.org_id == org_id, console_sessions.c.key_id == key_id)
        return int(self.conn.execute(stmt).rowcount or 0)

    def delete_expired(self, before: datetime) -> int:
        """Sessions past their absolute expiry (idle ones are removed when next presented)."""
        stmt = delete(console_sessions).where(console_sessions.c.expires_at <= before)
        return int(self.conn.execute(stmt).rowcount or 0)
