"""The org's scope tree as an actor may see it, with the live policies held at each node (the console's
scope page): counts and the first names per node, read in one pass over the policy names."""

from __future__ import annotations

from dataclasses import dataclass, field

from policyhub.domain.records import Actor, Scope
from policyhub.services.authz import covers
from policyhub.services.scopes import ScopeService
from policyhub.storage.unit_of_work import UnitOfWork


@dataclass
class TreeNode:
    scope: Scope | None  # None: the org level
    depth: int
    count: int = 0
    names: list[str] = field(default_factory=list)


def scope_tree(uow: UnitOfWork, scopes: ScopeService, actor: Actor, per_scope: int) -> list[TreeNode]:
    """The org level (when the actor sees it) and every scope the actor sees, parents before children."""
    visible = sorted(scopes.list(uow, actor), key=lambda s: s.path)
    org_level = covers(actor, None)
    ids: list[str | None] = [None] if org_level else []
    held = uow.scopes.live_policies_by_scope(actor.org_id, ids + [s.id for s in visible], per_scope)
    nodes = []
    if org_level:
        count, names = held.get(None, (0, []))
        nodes.append(TreeNode(None, 0, count, names))
    for s in visible:
        count, names = held.get(s.id, (0, []))
        nodes.append(TreeNode(s, s.path.count("/") + 1, count, names))
    return nodes
