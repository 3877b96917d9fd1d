"""Route registration: every API route sits in the app's own flat route list.

FastAPI (>= 0.137) keeps an included router as a nested branch that is matched twice per request
(once to find the branch, once inside it), which cost more than the database read of a GET. Our
routers therefore carry their full path prefix themselves and their routes are placed directly in
the app's list, in order: the same routes, matched once.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.requests import ClientDisconnect
from starlette.routing import Match, Route
from starlette.types import Receive, Scope


def include_flat(app: FastAPI, *routers: APIRouter) -> None:
    """Append the routes of ``routers`` (in order) to the app's own route list.

    Each router must hold only its own routes (no nested includes) with its full prefix; router-level
    tags and responses were applied when its routes were declared, so nothing is lost.
    """
    for router in routers:
        for route in router.routes:
            if type(route).__name__ == "_IncludedRouter":  # pragma: no cover - a programming error
                raise TypeError(f"router {router.prefix!r} nests an include; declare the full prefix instead")
            app.router.routes.append(route)


class HotRoute(Route):
    """A plain Starlette route (for the hottest endpoints) that names itself in the request's scope.

    Starlette's router sets ``scope["route"]`` for the route it picks; FastAPI's router leaves that to
    its own routes' ``matches``, so a plain ``Route`` placed in a FastAPI app was seen by the metrics and
    the access log as ``unmatched``. This one says which route it is, so they label it by its template
    (``/v1/orgs/{org}/decisions``), never by the raw path: the label set stays bounded.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


async def read_body(receive: Receive) -> bytes:
    """The whole request body of a plain ASGI route, read as ``Request.body`` reads it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
