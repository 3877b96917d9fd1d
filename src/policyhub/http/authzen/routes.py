"""The AuthZEN endpoints: translate, call the decision service, translate back.

Each org is a tenant and a PDP of its own; a scope of the org is a PDP too (its policies are the org's
and those of the scopes above it, as for any decision):

- ``POST {pdp}/access/v1/evaluation``, ``/evaluations``, ``/search/subject``, ``/search/resource``,
  ``/search/action``, where ``{pdp}`` is ``/orgs/{org}`` or ``/orgs/{org}/scopes/{scope path}``;
- ``GET /.well-known/authzen-configuration/orgs/{org}[/scopes/{scope path}]``: the PDP metadata, whose
  ``policy_decision_point`` is ``{POLICYHUB_PUBLIC_BASE_URL}{pdp}``. That is exactly the URL the
  specification's discovery rule (RFC 8615: the well-known string inserted between host and path)
  derives the metadata's address from, and the default endpoint paths appended to it are the ones
  served here.

Authentication is a PolicyHub API key (``Authorization: Bearer``); any role may ask, at a scope its key
covers. The metadata document needs none: it is the same URLs for anyone, and says nothing about
whether the org exists.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from policyhub.domain.records import Actor
from policyhub.errors import InvalidInput, NotFound
from policyhub.evaluation.inputs.authzen import AuthzenInput, EntityKind
from policyhub.http.authzen import wire
from policyhub.http.authzen.errors import echo
from policyhub.http.deps import Container, authenticated, key_org
from policyhub.http.json_body import parse_json
from policyhub.http.media import parse_media_type
from policyhub.http.openapi import body_schema
from policyhub.http.urls import public_base_url
from policyhub.services import authzen
from policyhub.services.decisions import DecisionService

WELL_KNOWN = "/.well-known/authzen-configuration"
ENDPOINTS = {
    "access_evaluation_endpoint": "/access/v1/evaluation",
    "access_evaluations_endpoint": "/access/v1/evaluations",
    "search_subject_endpoint": "/access/v1/search/subject",
    "search_resource_endpoint": "/access/v1/search/resource",
    "search_action_endpoint": "/access/v1/search/action",
}
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_.~]{0,127}$")

#: What a request needs: who asks (the key, checked against the org in the path), the decision service,
#: the public base URL and the JSON depth limit. The default reads the app's container; another app
#: (e.g. an agent) passes its own when it mounts :func:`build_router`.
Caller = tuple[Actor, DecisionService]


class Backend:
    """The services the AuthZEN face calls: a container's (by default the app's, ``app.state.container``).

    Another app serving the face passes a container of its own, or overrides these methods."""

    def __init__(self, container: Container | None = None) -> None:
        self.container = container

    def _container(self, request: Request) -> Container:
        found: Container = self.container or request.app.state.container
        return found

    async def caller(self, request: Request, org: str) -> Caller:
        container = self._container(request)
        actor = await authenticated(request.scope, container)
        key_org(request, org)
        return actor, container.decisions

    def base_url(self, request: Request) -> str:
        return public_base_url(self._container(request).settings)

    def max_json_depth(self, request: Request) -> int:
        return self._container(request).settings.max_json_depth


def _json(request: Request, body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers=echo(request, {}))


async def _body(request: Request, backend: Backend) -> dict[str, Any]:
    """The request's JSON object: ``Content-Type: application/json`` and a body are required (400)."""
    media = parse_media_type(request.headers.get("content-type"))
    if media != "application/json":
        raise InvalidInput.field("Content-Type", f"must be application/json, not {media or 'missing'!r}")
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput.field("body", "is empty; send a JSON object")
    body = parse_json(raw, max_depth=backend.max_json_depth(request))
    if not isinstance(body, dict):
        raise InvalidInput.field("body", "must be a JSON object")
    return body


def _scope(request: Request) -> str | None:
    scope = request.path_params.get("scope")
    return str(scope).strip("/") or None if scope is not None else None


Handler = Callable[[Request], Awaitable[Response]]


def _handlers(backend: Backend) -> dict[str, Handler]:
    async def decide(request: Request, actor: Actor, decisions: DecisionService, item: dict[str, Any]) -> Any:
        try:
            return await authzen.evaluate(decisions, actor, _scope(request), item)
        except InvalidInput as exc:
            raise wire.wire_error(exc) from None

    async def evaluation(request: Request) -> Response:
        actor, decisions = await backend.caller(request, request.path_params["org"])
        body = await _body(request, backend)
        item = wire.evaluation_input(body)
        return _json(request, wire.decision(await decide(request, actor, decisions, item), item))

    async def evaluations(request: Request) -> Response:
        actor, decisions = await backend.caller(request, request.path_params["org"])
        body = await _body(request, backend)
        parsed = wire.batch(body)
        if parsed is None:  # no evaluations: the single evaluation API
            item = wire.evaluation_input(body)
            return _json(request, wire.decision(await decide(request, actor, decisions, item), item))
        items, semantic = parsed
        results = await authzen.evaluate_many(decisions, actor, _scope(request), items, semantic)
        return _json(request, {"evaluations": [wire.answer(r, item) for r, item in zip(results, items, strict=False)]})

    def search(kind: EntityKind) -> Handler:
        async def handler(request: Request) -> Response:
            actor, decisions = await backend.caller(request, request.path_params["org"])
            body = await _body(request, backend)
            asked, page = wire.search_request(kind, body)
            results = await authzen.search(decisions, actor, _scope(request), kind, asked)
            return _json(request, wire.page_of(kind, asked, page, results))

        return handler

    async def metadata(request: Request) -> Response:
        org, scope = request.path_params["org"], _scope(request)
        if not _SEGMENT.fullmatch(org) or (scope and not all(_SEGMENT.fullmatch(p) for p in scope.split("/"))):
            raise NotFound("no PDP here")
        pdp = f"{backend.base_url(request)}/orgs/{org}" + (f"/scopes/{scope}" if scope else "")
        document: dict[str, Any] = {"policy_decision_point": pdp}
        document.update({name: pdp + path for name, path in ENDPOINTS.items()})
        document["supported_obligations"] = list(wire.PROFILE_OBLIGATIONS)
        return _json(request, document)

    return {
        "evaluation": evaluation,
        "evaluations": evaluations,
        "search/subject": search("subject"),
        "search/resource": search("resource"),
        "search/action": search("action"),
        "metadata": metadata,
    }


BASES = ("/orgs/{org}", "/orgs/{org}/scopes/{scope:path}")


#: The documented body of each endpoint (the handlers read bodies themselves: AuthZEN's 400s).
BODIES: dict[str, Any] = {
    "evaluation": AuthzenInput,
    "evaluations": {"type": "object", "description": "an evaluation's members as defaults, `evaluations`, `options`"},
    "search/subject": wire.SubjectSearch,
    "search/resource": wire.ResourceSearch,
    "search/action": wire.ActionSearch,
}


def _documented(base: str, body: Any = None) -> dict[str, Any]:
    names = re.findall(r"{(\w+)(?::\w+)?}", base)
    parameters = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]
    return {"parameters": parameters, **(body_schema({"application/json": body}) if body is not None else {})}


class AuthzenRoute(Route):
    """A plain Starlette route that names itself in the request's scope (so metrics and the access log label
    it by its template), as ``routing.HotRoute`` does, for the POST endpoints: PEPs call them on every
    access, and FastAPI's routing and request handling would cost about as much as the decision. Their
    documented twins are :func:`build_router`'s; AuthZEN's content-type rule (400, not ``/v1``'s 415) is
    why they are not ``HotRoute`` s."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def fast_routes(backend: Backend | None = None, prefix: str = "") -> list[Route]:
    """The POST endpoints as plain routes, for an app to match before its other routes."""
    handlers = _handlers(backend or Backend())
    return [
        AuthzenRoute(f"{prefix}{base}{path}", handlers[path.removeprefix("/access/v1/")], methods=["POST"])
        for base in BASES
        for path in ENDPOINTS.values()
    ]


def build_router(backend: Backend | None = None, prefix: str = "") -> APIRouter:
    """The AuthZEN routes (under ``prefix``), for this app or another one."""
    handlers = _handlers(backend or Backend())
    router = APIRouter(tags=["authzen"])
    for base in BASES:
        for name, path in ENDPOINTS.items():
            key = path.removeprefix("/access/v1/")
            router.add_api_route(
                f"{prefix}{base}{path}",
                handlers[key],
                methods=["POST"],
                summary=f"AuthZEN {name.removesuffix('_endpoint').replace('_', ' ')}",
                response_class=Response,
                openapi_extra=_documented(base, BODIES[key]),
            )
        router.add_api_route(
            f"{prefix}{WELL_KNOWN}{base}",
            handlers["metadata"],
            methods=["GET"],
            summary="AuthZEN PDP metadata",
            response_class=Response,
            openapi_extra=_documented(base),
        )
    return router
