"""The org's change feed: its audit events after a sequence number, read by seq (the ``uq_events_org_seq``
index), and what the decision engine needs to apply them (the policies a resource's change affects)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from policyhub.domain.records import Event
from policyhub.storage.repositories.events import _event
from policyhub.storage.tables import events, orgs, policy_references


@dataclass(frozen=True, slots=True)
class Touch:
    """What one event changed: its sequence number, the kind and id of the object, the event type."""

    seq: int
    object_kind: str
    object_id: str
    type: str


class ChangeFeedRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def touched(self, org_id: str, after: int, limit: int) -> list[Touch]:
        """What the org's events after ``after`` changed, in chain order (at most ``limit``)."""
        stmt = (
            select(events.c.seq, events.c.object_kind, events.c.object_id, events.c.type)
            .where(events.c.org_id == org_id, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        rows = self.conn.execute(stmt)
        return [Touch(int(r.seq), r.object_kind, r.object_id, r.type) for r in rows]

    def page(self, org_id: str, after: int, upto: int, limit: int, skip_kinds: Collection[str]) -> list[Event]:
        """The org's events with ``after < seq <= upto`` whose object kind is not in ``skip_kinds``, in
        chain order (at most ``limit``)."""
        stmt = select(events).where(events.c.org_id == org_id, events.c.seq > after, events.c.seq <= upto)
        if skip_kinds:
            stmt = stmt.where(events.c.object_kind.not_in(sorted(skip_kinds)))
        return [_event(r) for r in self.conn.execute(stmt.order_by(events.c.seq).limit(limit))]

    def first_seq(self, org_id: str) -> int | None:
        """The oldest sequence number the org still holds (None: no event)."""
        found = self.conn.execute(select(func.min(events.c.seq)).where(events.c.org_id == org_id)).scalar()
        return int(found) if found is not None else None

    def heads(self, org_ids: Iterable[str]) -> dict[str, int]:
        """The chain sequence number of each org (one read for every org a poller waits on)."""
        ids = sorted(set(org_ids))
        if not ids:
            return {}
        rows = self.conn.execute(select(orgs.c.id, orgs.c.chain_seq).where(orgs.c.id.in_(ids)))
        return {r.id: int(r.chain_seq) for r in rows}

    def references_of(self, org_id: str, policy_ids: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        """The (kind, id) references of these policies, by policy id."""
        if not policy_ids:
            return {}
        stmt = select(policy_references.c.policy_id, policy_references.c.kind, policy_references.c.ref_id).where(
            policy_references.c.org_id == org_id, policy_references.c.policy_id.in_(sorted(policy_ids))
        )
        found: dict[str, list[tuple[str, str]]] = {}
        for row in self.conn.execute(stmt):
            found.setdefault(row.policy_id, []).append((row.kind, row.ref_id))
        return found

    def referencing(self, org_id: str, kind: str, ref_id: str) -> list[str]:
        """Ids of the policies (live or not) that refer to the resource."""
        stmt = select(policy_references.c.policy_id).where(
            policy_references.c.org_id == org_id,
            policy_references.c.kind == kind,
            policy_references.c.ref_id == ref_id,
        )
        return [r.policy_id for r in self.conn.execute(stmt)]
