"""Rollout, read-only: each environment, the scopes it receives, the desired revision, and per agent the
revision it applied, whether it is in sync (drift) and how far behind, as ``GET .../environments/{env}/status``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from policyhub.http.console.pages import container, page, router
from policyhub.http.console.session import User
from policyhub.storage.unit_of_work import UnitOfWork


@router.get("/rollout")
async def rollout_page(request: Request, user: User) -> Response:
    c = container(request)

    def read(uow: UnitOfWork) -> list[dict[str, Any]]:
        return [c.rollout.status(uow, user.actor, env.name) for env in c.rollout.list_environments(uow, user.actor)]

    environments = await c.db.read_async(read)
    return page(request, user, "rollout.html", nav="rollout", environments=environments)
