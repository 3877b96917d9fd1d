"""An org's decision-relevant state, indexed so that selecting policies never scans: what a decision
point selects from and what an evaluator reads (scopes, resources, other policies).

The engine builds one (:func:`policyhub.engine.snapshot.load_snapshot`) and swaps it for a new one when
the org changes; decision points and policy types only read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from policyhub.domain.records import Policy, Scope
from policyhub.evaluation.compiled import CompiledPolicy
from policyhub.storage.repositories.resources import Resource

ORG_LEVEL = ""


@dataclass(frozen=True)
class Entry:
    """One policy in a snapshot, with its compiled form."""

    policy: Policy
    compiled: CompiledPolicy
    point: str


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
