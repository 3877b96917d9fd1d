"""The append-only audit event log."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from policyhub.domain.records import Event
from policyhub.storage.prepared import Prepared
from policyhub.storage.tables import events


def _event(row: Row[Any]) -> Event:
    return Event(
        org_id=row.org_id,
        seq=int(row.seq),
        object_kind=row.object_kind,
        object_id=row.object_id,
        type=row.type,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        at=row.at,
        data=row.data if isinstance(row.data, dict) else {},
        prev_hash=row.prev_hash,
        hash=row.hash,
        key_id=row.key_id,
        mac=row.mac,
    )


@dataclass(frozen=True)
class EventFilter:
    object_id: str | None = None
    object_kind: str | None = None
    types: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    after_seq: int | None = None
    #: Newest first, below ``before_seq`` (the console's audit view pages backwards from the head).
    before_seq: int | None = None
    newest_first: bool = False


EVENT_KEYS = (
    "org_id",
    "seq",
    "object_kind",
    "object_id",
    "type",
    "actor_id",
    "actor_name",
    "at",
    "data",
    "prev_hash",
    "hash",
    "key_id",
    "mac",
)


def event_columns(e: Event) -> dict[str, Any]:
    """An event's row, by column (``EVENT_KEYS``)."""
    return {key: getattr(e, key) for key in EVENT_KEYS}


_INSERT = Prepared(events.insert().inline(), column_keys=EVENT_KEYS)  # every write appends (``storage.prepared``)


class EventRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, e: Event) -> None:
        _INSERT.execute(self.conn, event_columns(e))

    def list(self, org_id: str, flt: EventFilter, limit: int) -> list[Event]:
        stmt = select(events).where(events.c.org_id == org_id)
        if flt.object_id:
            stmt = stmt.where(events.c.object_id == flt.object_id)
        if flt.object_kind:
            stmt = stmt.where(events.c.object_kind == flt.object_kind)
        if flt.types:
            stmt = stmt.where(events.c.type.in_(flt.types))
        if flt.since:
            stmt = stmt.where(events.c.at >= flt.since)
        if flt.until:
            stmt = stmt.where(events.c.at < flt.until)
        if flt.after_seq is not None:
            stmt = stmt.where(events.c.seq > flt.after_seq)
        if flt.before_seq is not None:
            stmt = stmt.where(events.c.seq < flt.before_seq)
        order = events.c.seq.desc() if flt.newest_first else events.c.seq
        return [_event(r) for r in self.conn.execute(stmt.order_by(order).limit(limit))]

    def for_object(self, org_id: str, object_id: str) -> builtins.list[Event]:
        stmt = select(events).where(events.c.org_id == org_id, events.c.object_id == object_id)
        return [_event(r) for r in self.conn.execute(stmt.order_by(events.c.seq))]

    def last_key_id(self) -> str:
        """The key id of the newest event of any org ('' when it is unkeyed, or there is none)."""
        row = self.conn.execute(select(events.c.key_id).order_by(events.c.id.desc()).limit(1)).first()
        return str(row.key_id) if row is not None else ""

    def stream(self, org_id: str, batch: int = 1000) -> Iterator[Event]:
        """Every event of the org in chain (``seq``) order, batch by batch."""
        last_seq = -1
        while True:
            stmt = (
                select(events)
                .where(events.c.org_id == org_id, events.c.seq > last_seq)
                .order_by(events.c.seq)
                .limit(batch)
            )
            rows = list(self.conn.execute(stmt))
            if not rows:
                return
            for row in rows:
                yield _event(row)
            last_seq = int(rows[-1].seq)
