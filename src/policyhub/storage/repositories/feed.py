"""The org's change feed: its audit events after a sequence number, read by seq (the ``uq_events_org_seq``
index), and what the decision engine needs to apply them (the policies a resource's change affects)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Connection

from policyhub.domain.records import Event
from policyhub.storage.prepared import Prepared
from policyhub.storage.repositories.events import _event
from policyhub.storage.tables import events, orgs, policy_references


@dataclass(frozen=True, slots=True)
class Touch:
    """What one event changed: its sequence number, the kind and id of the object, the event type."""

    seq: int
    object_kind: str
    object_id: str
    type: str


#: The org's head and what its events after ``b_after`` touched, in one statement (so the two agree).
_SINCE = Prepared(
    select(orgs.c.chain_seq, events.c.seq, events.c.object_kind, events.c.object_id, events.c.type)
    .select_from(orgs.outerjoin(events, and_(events.c.org_id == orgs.c.id, events.c.seq > bindparam("b_after"))))
    .where(orgs.c.id == bindparam("b_org"))
    .order_by(events.c.seq)
    .limit(bindparam("b_limit"))
    .offset(bindparam("b_offset"))  # SQLite renders an offset with every limit: bound here, always 0
)
_REFERENCES = Prepared(
    select(policy_references.c.kind, policy_references.c.ref_id).where(
        policy_references.c.org_id == bindparam("b_org"), policy_references.c.policy_id == bindparam("b_id")
    )
)


class ChangeFeedRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def since(self, org_id: str, after: int, limit: int) -> tuple[int, list[Touch]] | None:
        """The org's chain head and what its first ``limit`` events after ``after`` touched, read together
        (the decision engine's freshness check and delta: one indexed statement); None: no such org."""
        rows = _SINCE.all(self.conn, {"b_org": org_id, "b_after": after, "b_limit": limit, "b_offset": 0})
        if not rows:
            return None
        touched = [Touch(int(r.seq), r.object_kind, r.object_id, r.type) for r in rows if r.seq is not None]
        return int(rows[0].chain_seq), touched

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
        """The (kind, id) references of these policies (few: a delta's), by policy id."""
        found: dict[str, list[tuple[str, str]]] = {}
        for policy_id in policy_ids:
            rows = _REFERENCES.all(self.conn, {"b_org": org_id, "b_id": policy_id})
            if rows:
                found[policy_id] = [(r.kind, r.ref_id) for r in rows]
        return found

    def referencing(self, org_id: str, kind: str, ref_id: str) -> list[str]:
        """Ids of the policies (live or not) that refer to the resource."""
        stmt = select(policy_references.c.policy_id).where(
            policy_references.c.org_id == org_id,
            policy_references.c.kind == kind,
            policy_references.c.ref_id == ref_id,
        )
        return [r.policy_id for r in self.conn.execute(stmt)]
