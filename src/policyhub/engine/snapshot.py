"""An org's decision-relevant state, read once and indexed so that selecting policies never scans.

A snapshot holds the org's enabled, live policies (compiled), its scopes and its resources, stamped
with the org's audit-chain sequence number. Every change to any of them appends an audit event in the
same transaction, so ``orgs.chain_seq`` is a cheap, exact revision: a snapshot is current as long as
the sequence number has not moved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from policyhub.domain.records import Policy, Scope
from policyhub.evaluation.snapshot import Entry, OrgSnapshot
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork

#: Compiles one policy for a snapshot (the engine's cache); None: not evaluated at any decision point.
Compile = Callable[[Policy, OrgSnapshot, tuple[Any, ...]], Entry | None]


def load_snapshot(uow: UnitOfWork, org_id: str, compile_policy: Compile) -> OrgSnapshot:
    """Read the org's state in one read transaction and compile what changed (via ``compile_policy``).

    The sequence number is read first: a write that lands while the rest is read moves it, so the next
    freshness check reloads; a snapshot can be newer than its stamp, never older.
    """
    seq, _ = uow.orgs.chain_head(org_id)
    return build_snapshot(
        org_id,
        seq,
        scopes=uow.scopes.list(org_id),
        resources=uow.resources.all(org_id),
        policies=uow.policies.live_enabled(org_id),
        references=uow.policies.all_references(org_id),
        compile_policy=compile_policy,
    )


def build_snapshot(
    org_id: str,
    seq: int,
    *,
    scopes: Sequence[Scope],
    resources: Sequence[Resource],
    policies: Iterable[Policy],
    references: Mapping[str, Sequence[tuple[str, str]]],
    compile_policy: Compile,
) -> OrgSnapshot:
    """A snapshot from records, with no I/O: the database's full load and an agent's bundle both build
    through here. ``policies``: the org's live, enabled policies (others are skipped all the same);
    ``references``: the (kind, id) of the resources each policy refers to, by policy id."""
    snapshot = OrgSnapshot(org_id, seq, list(scopes), list(resources))
    for policy in sorted(policies, key=lambda p: (p.name, p.id)):
        if policy.archived or not policy.enabled:
            continue
        stamp = reference_stamp(snapshot, references.get(policy.id, ()))
        entry = compile_policy(policy, snapshot, stamp)
        if entry is not None:
            snapshot.add(entry)
    return snapshot


def reference_stamp(snapshot: OrgSnapshot, refs: Any) -> tuple[Any, ...]:
    """What a compiled policy depends on outside itself: each referenced resource's last change."""
    stamp = []
    for kind, ref_id in sorted(refs):
        resource = snapshot.resource(kind, ref_id)
        stamp.append((kind, ref_id, resource.updated_at.isoformat() if resource else None))
    return tuple(stamp)
