"""The org's scope tree, with the live policies held at each node."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from policyhub.http.console.pages import container, page, router
from policyhub.http.console.session import User
from policyhub.services.scope_tree import TreeNode, scope_tree

SHOWN_PER_NODE = 8


@router.get("/scopes")
async def scope_page(request: Request, user: User) -> Response:
    c = container(request)
    nodes: list[TreeNode] = await c.db.read_async(lambda uow: scope_tree(uow, c.scopes, user.actor, SHOWN_PER_NODE))
    return page(request, user, "scopes.html", nav="scopes", nodes=nodes)
