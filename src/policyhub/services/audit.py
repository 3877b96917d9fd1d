"""The audit log: every change is an event, hash-chained per org, written in the change's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from policyhub.domain.canonical import canonical_json, iso, now, sha256_hex
from policyhub.domain.records import Actor, Event, Role
from policyhub.services.authz import require_org_admin, require_role
from policyhub.storage.repositories.events import EventFilter
from policyhub.storage.unit_of_work import UnitOfWork


def event_hash(e: Event) -> str:
    """SHA-256 of the event's canonical JSON, which includes the previous event's hash."""
    body = {
        "org_id": e.org_id,
        "seq": e.seq,
        "object_kind": e.object_kind,
        "object_id": e.object_id,
        "type": e.type,
        "actor_id": e.actor_id,
        "actor_name": e.actor_name,
        "at": iso(e.at),
        "data": e.data,
        "prev_hash": e.prev_hash,
    }
    return sha256_hex(canonical_json(body))


class _Chain:
    """The org's chain head, held while the unit of work owns the org's write lock."""

    def __init__(self, seq: int, head: str) -> None:
        self.seq = seq
        self.head = head


def lock_org(uow: UnitOfWork, org_id: str) -> None:
    """Take the org's write lock and load its chain head. Every write starts here; idempotent."""
    chains: dict[str, _Chain] = uow.cache.setdefault("audit_chains", {})
    if org_id not in chains:
        seq, head = uow.orgs.lock_chain(org_id)
        chains[org_id] = _Chain(seq, head)


def record(
    uow: UnitOfWork,
    actor: Actor,
    *,
    object_kind: str,
    object_id: str,
    type: str,
    data: dict[str, Any],
) -> Event:
    """Append one event to the org's chain (the org must have been locked with :func:`lock_org`)."""
    (event,) = drafts(uow, actor, object_kind=object_kind, object_id=object_id, entries=[(type, data)])
    uow.events.append(event)
    uow.orgs.advance_chain(actor.org_id, event.seq, event.hash)
    advance(uow, [event])
    return event


def drafts(
    uow: UnitOfWork, actor: Actor, *, object_kind: str, object_id: str, entries: list[tuple[str, dict[str, Any]]]
) -> list[Event]:
    """The next events of the org's chain, one per ``(type, data)``, linked from its head but not yet
    written: write them, and the new head, then :func:`advance` (the org must be locked)."""
    chains: dict[str, _Chain] = uow.cache.get("audit_chains", {})
    chain = chains.get(actor.org_id)
    if chain is None:
        raise RuntimeError("audit events drafted before lock_org: the write would not be serialised")
    seq, head, at = chain.seq, chain.head, now()
    events = []
    for type, data in entries:
        draft = Event(
            org_id=actor.org_id,
            seq=seq + 1,
            object_kind=object_kind,
            object_id=object_id,
            type=type,
            actor_id=actor.principal_id,
            actor_name=actor.name,
            at=at,
            data=data,
            prev_hash=head,
        )
        event = Event(**{**draft.__dict__, "hash": event_hash(draft)})
        events.append(event)
        seq, head = event.seq, event.hash
    return events


def advance(uow: UnitOfWork, events: list[Event]) -> None:
    """Move the remembered chain head past ``events``, once they and the org's head are written."""
    chain = uow.cache["audit_chains"][events[-1].org_id]
    chain.seq, chain.head = events[-1].seq, events[-1].hash


@dataclass(frozen=True)
class ChainReport:
    org_id: str
    events_checked: int
    ok: bool
    broken_at_seq: int | None = None
    reason: str = ""


def verify_chain(events: Iterable[Event], org_id: str, head: tuple[int, str]) -> ChainReport:
    """Walk the chain in ``seq`` order; report the first event whose link or content is wrong."""
    expected_seq, prev, count = 1, "", 0
    for e in events:
        count += 1
        if e.seq != expected_seq:
            return ChainReport(org_id, count, False, expected_seq, f"event {expected_seq} is missing (found {e.seq})")
        if e.prev_hash != prev:
            return ChainReport(org_id, count, False, e.seq, "link broken: prev_hash does not match the previous event")
        if event_hash(e) != e.hash:
            return ChainReport(org_id, count, False, e.seq, "content altered: hash does not match the event")
        prev, expected_seq = e.hash, expected_seq + 1
    head_seq, head_hash = head
    last = expected_seq - 1
    if last < head_seq:
        return ChainReport(
            org_id,
            count,
            False,
            last + 1,
            f"chain truncated: the org's head is event {head_seq}, the log ends at {last}",
        )
    if last > head_seq or head_hash != prev:
        return ChainReport(
            org_id,
            count,
            False,
            head_seq + 1 if last > head_seq else last,
            f"the log does not end at the org's recorded head (event {head_seq}): events were added",
        )
    return ChainReport(org_id, count, True)


def verify_org(uow: UnitOfWork, org_id: str) -> ChainReport:
    return verify_chain(uow.events.stream(org_id), org_id, uow.orgs.chain_head(org_id))


def verify(uow: UnitOfWork, actor: Actor) -> ChainReport:
    """Verify the actor's org chain (org admins only)."""
    require_org_admin(actor)
    return verify_org(uow, actor.org_id)


def org_events(uow: UnitOfWork, actor: Actor, flt: EventFilter, limit: int) -> list[Event]:
    """The org's events; keys bound to a scope may not read the whole org's log."""
    require_role(actor, Role.VIEWER, None)
    return uow.events.list(actor.org_id, flt, limit)
