"""An org's decision-relevant state, read once and indexed so that selecting policies never scans.

A snapshot holds the org's enabled, live policies (compiled), its scopes and its resources, stamped
with the org's audit-chain sequence number. Every change to any of them appends an audit event in the
same transaction, so ``orgs.chain_seq`` is a cheap, exact revision: a snapshot is current as long as
the sequence number has not moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from policyhub.domain.records import Policy, Scope
from policyhub.engine.compiled import CompiledPolicy
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork

ORG_LEVEL = ""


@dataclass(frozen=True)
class Entry:
    """One policy in a snapshot, with its compiled form."""

    policy: Policy
    compiled: CompiledPolicy
    point: str


Compile = Callable[[Policy, "OrgSnapshot", tuple[Any, ...]], Entry | None]


class OrgSnapshot:
    """Immutable once built; the engine swaps in a new one when the org changes."""

    def __init__(self, org_id: str, seq: int, scopes: list[Scope], resources: list[Resource]) -> None:
        self.org_id = org_id
        self.seq = seq
        self._scopes_by_path = {s.path: s for s in scopes}
        self._scopes_by_id = {s.id: s for s in scopes}
        self._resources = {(r.kind, r.id): r for r in resources}
        self._by_scope: dict[tuple[str, str], list[Entry]] = {}
        self._by_id: dict[str, Entry] = {}
        self._selected: dict[tuple[str, str | None], tuple[Entry, ...]] = {}

    # -- building ---------------------------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        path = entry.policy.scope_path or ORG_LEVEL
        self._by_scope.setdefault((path, entry.point), []).append(entry)
        self._by_id[entry.policy.id] = entry

    # -- selection --------------------------------------------------------------------------------

    def at_scope(self, point: str, scope_path: str | None) -> tuple[Entry, ...]:
        """Policies of ``point`` at the org level and at each scope from the top down to ``scope_path``
        (worked out once per snapshot, point and scope: the snapshot never changes)."""
        key = (point, scope_path)
        found = self._selected.get(key)
        if found is None:
            chain = list(self._by_scope.get((ORG_LEVEL, point), ()))
            if scope_path:
                parts = scope_path.split("/")
                for depth in range(1, len(parts) + 1):
                    chain.extend(self._by_scope.get(("/".join(parts[:depth]), point), ()))
            found = self._selected[key] = tuple(chain)
        return found

    def entry(self, policy_id: str) -> Entry | None:
        return self._by_id.get(policy_id)

    def scope(self, ref: str) -> Scope | None:
        """A scope by id or path."""
        return self._scopes_by_id.get(ref) or self._scopes_by_path.get(ref.strip("/"))

    # -- resources (the compile and evaluation context) -------------------------------------------

    def resource(self, kind: str, resource_id: str) -> Resource | None:
        return self._resources.get((kind, resource_id))

    def resources(self, kind: str) -> list[Resource]:
        return [r for (k, _), r in self._resources.items() if k == kind]


def applies_at(policy_scope: str | None, scope_path: str | None) -> bool:
    """Whether a policy placed at ``policy_scope`` (None: the org level) applies to a decision asked at
    ``scope_path``: the rule of :meth:`OrgSnapshot.at_scope` for one policy (the org level, the scope's
    ancestors and the scope itself). Selections by another key (an attachment, a name) filter with it, so
    that naming something never reaches a policy the scope would not select."""
    if not policy_scope:
        return True
    return scope_path is not None and (scope_path == policy_scope or scope_path.startswith(policy_scope + "/"))


def load_snapshot(uow: UnitOfWork, org_id: str, compile_policy: Compile) -> OrgSnapshot:
    """Read the org's state in one read transaction and compile what changed (via ``compile_policy``).

    The sequence number is read first: a write that lands while the rest is read moves it, so the next
    freshness check reloads; a snapshot can be newer than its stamp, never older.
    """
    seq, _ = uow.orgs.chain_head(org_id)
    snapshot = OrgSnapshot(org_id, seq, uow.scopes.list(org_id), uow.resources.all(org_id))
    references = uow.policies.all_references(org_id)
    for policy in uow.policies.live_enabled(org_id):
        stamp = _reference_stamp(snapshot, references.get(policy.id, ()))
        entry = compile_policy(policy, snapshot, stamp)
        if entry is not None:
            snapshot.add(entry)
    return snapshot


def _reference_stamp(snapshot: OrgSnapshot, refs: Any) -> tuple[Any, ...]:
    """What a compiled policy depends on outside itself: each referenced resource's last change."""
    stamp = []
    for kind, ref_id in sorted(refs):
        resource = snapshot.resource(kind, ref_id)
        stamp.append((kind, ref_id, resource.updated_at.isoformat() if resource else None))
    return tuple(stamp)
