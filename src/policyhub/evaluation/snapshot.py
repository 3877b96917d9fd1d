"""An org's decision-relevant state, indexed so that selecting policies never scans: what a decision
point selects from and what an evaluator reads (scopes, resources, other policies).

The engine builds one (:func:`policyhub.engine.snapshot.load_snapshot`) and swaps it for a new one when
the org changes; decision points and policy types only read it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import cast

from policyhub.domain.records import Policy, Scope
from policyhub.evaluation.compiled import CompiledPolicy
from policyhub.evaluation.persistent_map import PersistentMap
from policyhub.evaluation.sorted_chunks import SortedChunks
from policyhub.storage.repositories.resources import Resource

ORG_LEVEL = ""


@dataclass(frozen=True)
class Entry:
    """One policy in a snapshot, with its compiled form."""

    policy: Policy
    compiled: CompiledPolicy
    point: str


#: A (scope, point) list: a list while a full load builds it, chunks once a change has rebuilt it.
Listed = list[Entry] | SortedChunks[Entry]


class OrgSnapshot:
    """Immutable once published; the engine swaps in a new one when the org changes.

    A full load builds one with :meth:`add`; a small change makes the next one with :meth:`evolve` and
    :meth:`with_entries`, which share every index bucket and every per-(scope, point) list they do not
    touch (:mod:`policyhub.evaluation.persistent_map`), so the cost follows the change, not the org:
    a decision still running on this snapshot never sees it change.
    """

    def __init__(self, org_id: str, seq: int, scopes: list[Scope], resources: list[Resource]) -> None:
        self.org_id = org_id
        self.seq = seq
        self._scopes_by_path: PersistentMap[str, Scope] = PersistentMap((s.path, s) for s in scopes)
        self._scopes_by_id: PersistentMap[str, Scope] = PersistentMap((s.id, s) for s in scopes)
        self._resources: PersistentMap[tuple[str, str], Resource] = PersistentMap(
            ((r.kind, r.id), r) for r in resources
        )
        #: (scope path, point) -> its entries ordered by policy name; lists while :meth:`add` builds, then
        #: replaced, never changed, by :meth:`with_entries` (as :class:`SortedChunks`: a change to a list
        #: of the whole org copies one chunk of it, not the list).
        self._by_scope: PersistentMap[tuple[str, str], Listed] = PersistentMap()
        self._by_id: PersistentMap[str, Entry] = PersistentMap()
        self._selected: dict[tuple[str, str | None], tuple[Entry, ...]] = {}
        self._building = True

    # -- building ---------------------------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        """Add a policy while a full load builds the snapshot, in policy name order."""
        if not self._building:
            raise RuntimeError("a published snapshot is never changed: evolve it")
        key = (entry.policy.scope_path or ORG_LEVEL, entry.point)
        listed = self._by_scope.get(key)
        if listed is None:
            self._by_scope.set_while_building(key, [entry])
        else:
            cast(list[Entry], listed).append(entry)  # a list while building
        self._by_id.set_while_building(entry.policy.id, entry)

    def evolve(
        self,
        seq: int,
        *,
        scopes: Mapping[str, Scope | None] | None = None,
        resources: Mapping[tuple[str, str], Resource | None] | None = None,
    ) -> OrgSnapshot:
        """A new snapshot at ``seq`` with the same policies and these scopes (by id) and resources (by
        (kind, id)) changed (None: removed). Policies that depend on a changed resource are recompiled
        against the result and set with :meth:`with_entries`."""
        self._building = False
        evolved = self._copy(seq)
        if scopes:
            by_id: dict[str, Scope | None] = {}
            by_path: dict[str, Scope | None] = {}
            for scope_id, scope in scopes.items():
                old = self._scopes_by_id.get(scope_id)
                if old is not None:
                    by_path[old.path] = None
                by_id[scope_id] = scope
            for scope in scopes.values():
                if scope is not None:
                    by_path[scope.path] = scope
            evolved._scopes_by_id = self._scopes_by_id.evolve(by_id)
            evolved._scopes_by_path = self._scopes_by_path.evolve(by_path)
        if resources:
            evolved._resources = self._resources.evolve(resources)
        return evolved

    def with_entries(self, changes: Mapping[str, Entry | None]) -> OrgSnapshot:
        """A new snapshot (same seq) with these policies (by id) set, moved or removed (None). Only the
        (scope, point) lists they leave or join change, each by the chunks the policies leave or join
        (:mod:`policyhub.evaluation.sorted_chunks`): the cost follows the change, not the list's length."""
        self._building = False
        if not changes:
            return self
        leaving: dict[tuple[str, str], list[Entry]] = {}
        joining: dict[tuple[str, str], list[Entry]] = {}
        for policy_id, entry in changes.items():
            old = self._by_id.get(policy_id)
            if old is not None:
                leaving.setdefault(_list_key(old), []).append(old)
            if entry is not None:
                joining.setdefault(_list_key(entry), []).append(entry)
        lists: dict[tuple[str, str], Listed | None] = {}
        for key in leaving.keys() | joining.keys():
            listed = self._by_scope.get(key) or ()
            chunks = listed if isinstance(listed, SortedChunks) else SortedChunks(listed, name_order)
            kept = chunks.changed(leaving.get(key, ()), joining.get(key, ()))
            lists[key] = kept if len(kept) else None
        evolved = self._copy(self.seq)
        evolved._by_scope = self._by_scope.evolve(lists)
        evolved._by_id = self._by_id.evolve(changes)
        return evolved

    def _copy(self, seq: int) -> OrgSnapshot:
        copy = OrgSnapshot.__new__(OrgSnapshot)
        copy.org_id = self.org_id
        copy.seq = seq
        copy._scopes_by_path = self._scopes_by_path
        copy._scopes_by_id = self._scopes_by_id
        copy._resources = self._resources
        copy._by_scope = self._by_scope
        copy._by_id = self._by_id
        copy._selected = {}
        copy._building = False
        return copy

    # -- selection --------------------------------------------------------------------------------

    def at_scope(self, point: str, scope_path: str | None) -> tuple[Entry, ...]:
        """Policies of ``point`` at the org level and at each scope from the top down to ``scope_path``
        (worked out once per snapshot, point and scope: the snapshot never changes)."""
        key = (point, scope_path)
        found = self._selected.get(key)
        if found is None:
            chain = list(self._by_scope.get((ORG_LEVEL, point)) or ())
            if scope_path:
                parts = scope_path.split("/")
                for depth in range(1, len(parts) + 1):
                    chain.extend(self._by_scope.get(("/".join(parts[:depth]), point)) or ())
            found = self._selected[key] = tuple(chain)
        return found

    def entry(self, policy_id: str) -> Entry | None:
        return self._by_id.get(policy_id)

    def entries(self) -> Iterator[Entry]:
        """Every policy of the snapshot (no order)."""
        return self._by_id.values()

    def scope(self, ref: str) -> Scope | None:
        """A scope by id or path."""
        return self._scopes_by_id.get(ref) or self._scopes_by_path.get(ref.strip("/"))

    def scopes(self) -> list[Scope]:
        """Every scope, by path."""
        return sorted(self._scopes_by_path.values(), key=lambda s: s.path)

    # -- resources (the compile and evaluation context) -------------------------------------------

    def resource(self, kind: str, resource_id: str) -> Resource | None:
        return self._resources.get((kind, resource_id))

    def resources(self, kind: str) -> list[Resource]:
        """The resources of ``kind``, oldest first."""
        found = [r for r in self._resources.values() if r.kind == kind]
        return sorted(found, key=lambda r: (r.created_at, r.id))


def name_order(entry: Entry) -> tuple[str, str]:
    """The order of a (scope, point) list: by policy name (unique among live policies), then id."""
    return (entry.policy.name, entry.policy.id)


def _list_key(entry: Entry) -> tuple[str, str]:
    return (entry.policy.scope_path or ORG_LEVEL, entry.point)


def applies_at(policy_scope: str | None, scope_path: str | None) -> bool:
    """Whether a policy placed at ``policy_scope`` (None: the org level) applies to a decision asked at
    ``scope_path``: the rule of :meth:`OrgSnapshot.at_scope` for one policy (the org level, the scope's
    ancestors and the scope itself). Selections by another key (an attachment, a name) filter with it, so
    that naming something never reaches a policy the scope would not select."""
    if not policy_scope:
        return True
    return scope_path is not None and (scope_path == policy_scope or scope_path.startswith(policy_scope + "/"))
