"""The org's scope tree, with the live policies held at each node."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from policyhub.domain.records import Policy, Scope
from policyhub.http.console.pages import container, page, router
from policyhub.http.console.session import User
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.unit_of_work import UnitOfWork

SHOWN_PER_NODE = 10
#: Policies read per node to find those held exactly there (the filter includes a node's descendants).
READ_PER_NODE = 60


@dataclass
class Node:
    scope: Scope
    depth: int
    count: int = 0
    policies: list[Policy] = field(default_factory=list)


@router.get("/scopes")
async def scope_tree(request: Request, user: User) -> Response:
    c = container(request)

    def read(uow: UnitOfWork) -> list[Node]:
        scopes = sorted(c.scopes.list(uow, user.actor), key=lambda s: s.path)
        nodes = []
        for s in scopes:
            node = Node(s, s.path.count("/"), uow.scopes.live_policy_count(user.actor.org_id, s.id))
            if node.count:
                found = c.policies.list(uow, user.actor, PolicyFilter(scope_path=s.path), READ_PER_NODE)
                node.policies = [p for p in found if p.scope_path == s.path][:SHOWN_PER_NODE]
            nodes.append(node)
        return nodes

    nodes = await c.db.read_async(read)
    return page(request, user, "scopes.html", nav="scopes", nodes=nodes, shown=SHOWN_PER_NODE)
