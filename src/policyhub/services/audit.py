"""The audit log: every change is an event, hash-chained per org, written in the change's transaction.

Each event is also MACed under the server's audit key (``domain.audit_keys``; the key is kept outside the
database), where its hash is computed: whoever can write the database but lacks the key can delete or
edit an event, and re-hash the rest, but cannot give the rewritten events valid MACs. Events written
before the deployment had a key carry none; once a keyed event appears, every later one must be keyed,
so MACs cannot be stripped from the end of the chain either. :func:`verify_org` also checks every stored
policy version against the content hash its event recorded, so an edited version is found too.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from policyhub.domain.audit_keys import AuditKeyring
from policyhub.domain.canonical import canonical_json, content_hash, iso, now, sha256_hex
from policyhub.domain.records import Actor, Event, EventType, Policy, Role, Version
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
    keyring = uow.audit_keyring
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
        digest = event_hash(draft)
        key_id, mac = keyring.event_mac(digest) if keyring is not None else ("", "")
        event = Event(**{**draft.__dict__, "hash": digest, "key_id": key_id, "mac": mac})
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
    #: The chain's events up to this one carry no MAC (written before the deployment had an audit key):
    #: only their hashes link them.
    unkeyed_through: int | None = None
    versions_checked: int = 0

    @property
    def note(self) -> str:
        if self.unkeyed_through is None:
            return ""
        return (
            f"events 1-{self.unkeyed_through} carry no MAC (written before the audit key was configured): "
            "only their hashes link them"
        )


def _mac_problem(e: Event, keyring: AuditKeyring | None, keyed_before: bool) -> str:
    """Why event ``e``'s MAC fails (empty when it holds, or when ``e`` is an unkeyed event of the prefix)."""
    if not e.mac and not e.key_id:
        return "no MAC after keyed events: the MACs were stripped" if keyed_before else ""
    if keyring is None:
        return (
            f"the event is keyed (key id {e.key_id}) but no audit key is configured: set POLICYHUB_AUDIT_KEY "
            "(or POLICYHUB_AUDIT_KEY_FILE) to the server's key"
        )
    ok = keyring.event_mac_ok(e.key_id, e.hash, e.mac)
    if ok is None:
        held = ", ".join(sorted(keyring.keys))
        return (
            f"the event is keyed with key id {e.key_id!r}, which is not a configured audit key (ids {held}): "
            "the wrong key, a retired key no longer listed, or a forged key id"
        )
    return "" if ok else "MAC does not match: the event was written or rewritten without the audit key"


def verify_chain(
    events: Iterable[Event], org_id: str, head: tuple[int, str], keyring: AuditKeyring | None = None
) -> ChainReport:
    """Walk the chain in ``seq`` order; report the first event whose link, content or MAC is wrong."""
    expected_seq, prev, count = 1, "", 0
    keyed, unkeyed_through = False, None
    for e in events:
        count += 1
        if e.seq != expected_seq:
            return ChainReport(org_id, count, False, expected_seq, f"event {expected_seq} is missing (found {e.seq})")
        if e.prev_hash != prev:
            return ChainReport(org_id, count, False, e.seq, "link broken: prev_hash does not match the previous event")
        if event_hash(e) != e.hash:
            return ChainReport(org_id, count, False, e.seq, "content altered: hash does not match the event")
        problem = _mac_problem(e, keyring, keyed)
        if problem:
            return ChainReport(org_id, count, False, e.seq, problem, unkeyed_through)
        if e.mac:
            keyed = True
        else:
            unkeyed_through = e.seq
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
            unkeyed_through,
        )
    if last > head_seq or head_hash != prev:
        return ChainReport(
            org_id,
            count,
            False,
            head_seq + 1 if last > head_seq else last,
            f"the log does not end at the org's recorded head (event {head_seq}): events were added",
            unkeyed_through,
        )
    return ChainReport(org_id, count, True, unkeyed_through=unkeyed_through)


#: Events that create a policy version; their ``data`` records its number and content hash.
_VERSION_EVENTS = frozenset({EventType.CREATION, EventType.NEW_VERSION, EventType.ROLLBACK})


def _noting_versions(events: Iterable[Event], recorded: dict[tuple[str, int], tuple[int, str]]) -> Iterator[Event]:
    """``events`` unchanged, noting in ``recorded`` which version each version event created, and its hash."""
    for e in events:
        if e.object_kind == "policy" and e.type in _VERSION_EVENTS and "content_hash" in e.data:
            recorded[(e.object_id, int(e.data["version"]))] = (e.seq, str(e.data["content_hash"]))
        yield e


def _version_problems(
    versions: Iterable[Version], recorded: dict[tuple[str, int], tuple[int, str]]
) -> tuple[int, list[tuple[int, str]]]:
    """Each stored version's content against the hash its (verified) event recorded; versions no event
    created, and versions an event created that are gone. Returns (versions checked, [(event seq, why)])."""
    count, problems = 0, []
    left = dict(recorded)
    for v in versions:
        count += 1
        created = left.pop((v.policy_id, v.version), None)
        if created is None:
            problems.append((0, f"version {v.version} of policy {v.policy_id} has no event that created it"))
            continue
        seq, expected = created
        actual = content_hash(v.spec, v.source)
        if actual != expected or v.content_hash != expected:
            problems.append(
                (
                    seq,
                    f"version {v.version} of policy {v.policy_id} was edited: its stored content hashes to "
                    f"{actual[:12]}..., event {seq} recorded {expected[:12]}...",
                )
            )
    for (policy_id, number), (seq, _) in left.items():
        problems.append((seq, f"version {number} of policy {policy_id}, created by event {seq}, is missing"))
    return count, problems


def _current_problems(
    policies: Iterable[Policy], recorded: dict[tuple[str, int], tuple[int, str]]
) -> list[tuple[int, str]]:
    """Each policy's current content (what decisions evaluate) against the version its row names."""
    problems = []
    for p in policies:
        created = recorded.get((p.id, p.version))
        if created is None:
            problems.append((0, f"policy {p.id} is at version {p.version}, which no event created"))
        elif content_hash(p.spec, p.source) != created[1]:
            problems.append(
                (
                    created[0],
                    f"policy {p.id} was edited: its current content is not version {p.version} as event "
                    f"{created[0]} recorded it",
                )
            )
    return problems


def verify_org(uow: UnitOfWork, org_id: str) -> ChainReport:
    """The org's chain (links, hashes, MACs), then every stored version, and every policy's current content,
    against the event that created it: the first problem, by event, is the report's."""
    recorded: dict[tuple[str, int], tuple[int, str]] = {}
    events = _noting_versions(uow.events.stream(org_id), recorded)
    report = verify_chain(events, org_id, uow.orgs.chain_head(org_id), uow.audit_keyring)
    if not report.ok:
        return report
    checked, problems = _version_problems(uow.policies.stream_versions(org_id), recorded)
    problems += _current_problems(uow.policies.stream_all(org_id), recorded)
    if problems:
        seq, why = min(problems)
        return replace(report, ok=False, broken_at_seq=seq or None, reason=why, versions_checked=checked)
    return replace(report, versions_checked=checked)


def key_problem(uow: UnitOfWork) -> str:
    """Why this process's audit key cannot continue the stored log (empty when it can): the newest event is
    keyed with a key the process does not hold (a replica with another key, a lost key file)."""
    key_id = uow.events.last_key_id()
    keyring = uow.audit_keyring
    if not key_id or (keyring is not None and key_id in keyring.keys):
        return ""
    held = f"key id {keyring.signing_id}" if keyring is not None else "no audit key"
    return (
        f"the audit log's newest event is keyed with key id {key_id}, but this process has {held}: give every "
        "replica the same POLICYHUB_AUDIT_KEY (after a rotation, list the old key after the new one)"
    )


def checkpoint(uow: UnitOfWork, org_id: str) -> dict[str, object]:
    """The org's chain head, MACed under the signing key: kept outside the database, it later proves the
    log was not rewound or rewritten up to there (``verify_checkpoint``)."""
    keyring = uow.audit_keyring
    if keyring is None:
        raise RuntimeError("a checkpoint needs the audit key (POLICYHUB_AUDIT_KEY or POLICYHUB_AUDIT_KEY_FILE)")
    seq, head = uow.orgs.chain_head(org_id)
    mac = keyring.checkpoint_mac(keyring.signing_id, org_id, seq, head)
    return {"org_id": org_id, "seq": seq, "head": head, "key_id": keyring.signing_id, "mac": mac}


def verify_checkpoint(uow: UnitOfWork, point: dict[str, object]) -> str:
    """Why the log contradicts a checkpoint (empty when it agrees): its MAC, then the event at its seq."""
    keyring = uow.audit_keyring
    org_id, seq, head = str(point.get("org_id")), int(str(point.get("seq"))), str(point.get("head"))
    if keyring is None:
        return "no audit key is configured: the checkpoint cannot be checked"
    mac = keyring.checkpoint_mac(str(point.get("key_id")), org_id, seq, head)
    if mac is None or not hmac.compare_digest(mac, str(point.get("mac"))):
        return f"checkpoint at event {seq}: its MAC does not verify under the configured audit keys"
    if seq == 0:
        return ""
    found = uow.events.list(org_id, EventFilter(after_seq=seq - 1), 1)
    if not found or found[0].seq != seq or found[0].hash != head:
        return f"checkpoint at event {seq}: the log no longer has that event with that hash (rewound or rewritten)"
    return ""


def verify(uow: UnitOfWork, actor: Actor) -> ChainReport:
    """Verify the actor's org chain (org admins only)."""
    require_org_admin(actor)
    return verify_org(uow, actor.org_id)


def org_events(uow: UnitOfWork, actor: Actor, flt: EventFilter, limit: int) -> list[Event]:
    """The org's events; keys bound to a scope may not read the whole org's log."""
    require_role(actor, Role.VIEWER, None)
    return uow.events.list(actor.org_id, flt, limit)
