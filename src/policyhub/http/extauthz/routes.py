"""The HTTP check endpoints: Envoy's ext_authz ``http_service`` and nginx's ``auth_request``.

Paths (any method; the proxy appends the original path, query included, after the ``/-``):

- ``/ext_authz/orgs/{org}/-{original path}``: Envoy, org-level policies.
- ``/ext_authz/orgs/{org}/scopes/{scope path or id}/-{original path}``: Envoy, at a scope (its path may
  hold ``/``: the first ``/-/`` ends it, and no scope key is ``-``).
- ``/auth_request/orgs/{org}/...``: the same for nginx, whose ``auth_request`` passes only 401 and 403 on:
  a throttling denial is answered **403** with ``X-PolicyHub-Status: 429`` (and ``Retry-After``), which
  the nginx configuration turns into the client's 429 (``examples/nginx/policyhub-auth.conf``).

The enforcement point's API key is in ``X-PolicyHub-Key`` (Envoy: ``authorization_request.headers_to_add``;
nginx: ``proxy_set_header``), never in ``Authorization``, which belongs to the original request and is
forwarded as one of its headers. Errors (a missing key, an unknown org or scope, a database down) are
``/v1``'s problem documents with their statuses: any non-2xx answer makes Envoy and nginx refuse the
request (fail closed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from policyhub.engine.engine import DecisionRequest
from policyhub.errors import NotFound, Unauthenticated
from policyhub.http.deps import Container, key_actor
from policyhub.http.extauthz.translate import (
    KEY_HEADER,
    POINT,
    OriginalRequest,
    http_request_input,
    joined_headers,
    verdict,
)

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
#: nginx: the header naming the original method, when the subrequest's own method is not it.
ORIGINAL_METHOD = "x-original-method"


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one proxy is answered: its decision-log source and whether it can pass a 429 on."""

    prefix: str
    source: str
    passes_429: bool
    #: nginx sets ``X-Original-Method`` itself; behind Envoy it could only be the client's own header.
    trusts_original_method: bool = False


ENVOY = Dialect("/ext_authz", "envoy_http", passes_429=True)
NGINX = Dialect("/auth_request", "nginx", passes_429=False, trusts_original_method=True)


def split_target(rest: str) -> tuple[str | None, str]:
    """``-/api/x`` -> (None, ``/api/x``); ``scopes/a/b/-/api/x`` -> (``a/b``, ``/api/x``); else 404."""
    if rest == "-" or rest.startswith("-/"):
        return None, rest[1:] or "/"
    if rest.startswith("scopes/"):
        scoped = rest[len("scopes/") :]
        if scoped.endswith("/-"):
            scoped += "/"
        scope, sep, path = scoped.partition("/-/")
        if sep and scope:
            return scope, "/" + path
    raise NotFound("a check path is /orgs/{org}/-/{original path} or /orgs/{org}/scopes/{scope}/-/{original path}")


def router(*dialects: Dialect) -> APIRouter:
    """The check routes of ``dialects`` (both by default), for this app or another (e.g. an agent's)."""
    out = APIRouter()
    for dialect in dialects or (ENVOY, NGINX):
        out.add_api_route(
            dialect.prefix + "/orgs/{org}/{rest:path}",
            _endpoint(dialect),
            methods=METHODS,
            include_in_schema=False,
            name=f"{dialect.source}_check",
        )
    return out


def _endpoint(dialect: Dialect) -> Callable[[Request, str, str], Awaitable[Response]]:
    async def check(request: Request, org: str, rest: str) -> Response:
        container: Container = request.app.state.container
        scope, path = split_target(rest)
        key = request.headers.get(KEY_HEADER)
        if not key:
            raise Unauthenticated(f"missing credentials: the proxy sends the PolicyHub API key in '{KEY_HEADER}'")
        actor, found = await key_actor(container, key.strip())
        if org not in (found.slug, found.id):
            raise NotFound(f"org {org!r} not found")
        query = request.url.query
        original = OriginalRequest(
            method=(dialect.trusts_original_method and request.headers.get(ORIGINAL_METHOD)) or request.method,
            path=f"{path}?{query}" if query else path,
            headers=joined_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]),
            body=await request.body(),
        )
        data = http_request_input(original)
        data["headers"].pop(ORIGINAL_METHOD, None)
        result = await container.decisions.decide_async(
            actor, DecisionRequest(POINT, data, scope), source=dialect.source
        )
        answer = verdict(result)
        if answer.allowed:
            return Response(status_code=200, headers=answer.headers)
        status = answer.status
        if not dialect.passes_429:
            answer.headers["X-PolicyHub-Status"] = str(status)
            status = 403
        return JSONResponse(answer.body, status_code=status, headers=answer.headers)

    return check
