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

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from policyhub.domain.bounded_json import json_bytes
from policyhub.engine.engine import DecisionRequest
from policyhub.errors import DomainError, NotFound, Unauthenticated
from policyhub.http.extauthz.callers import Callers, KeyCallers
from policyhub.http.extauthz.translate import (
    KEY_HEADER,
    POINT,
    OriginalRequest,
    http_request_input,
    joined_headers,
    verdict,
)
from policyhub.http.problems import problem_response
from policyhub.http.routing import read_body

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


def routes(*dialects: Dialect, callers: Callers | None = None) -> list[Route]:
    """The check routes of ``dialects`` (both by default): plain ASGI routes, for this app or another (an
    agent's): ``Router(routes=routes())`` or :func:`policyhub.http.extauthz.install`. ``callers``: who
    asks (default: the serving app's API keys, :class:`KeyCallers`)."""
    chosen = callers or KeyCallers()
    return [
        CheckRoute(dialect.prefix + "/orgs/{org}/{rest:path}", CheckApp(dialect, chosen), methods=METHODS)
        for dialect in dialects or (ENVOY, NGINX)
    ]


class CheckRoute(Route):
    """A plain route that names itself in the request's scope, as ``routing.HotRoute`` does (so metrics
    and the access log label it by its template), but with no documented twin: the check paths are a
    proxy's protocol, described in this package's README, not ``/v1`` operations."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


class CheckApp:
    """One dialect's check as a bare ASGI app: proxies call it on every request they pass, so it skips
    FastAPI's request objects and dependency solving (as ``/v1``'s hot decision route does). Errors are
    raised to the app's exception handlers."""

    def __init__(self, dialect: Dialect, callers: Callers | None = None) -> None:
        self.dialect = dialect
        self.callers = callers or KeyCallers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        dialect = self.dialect
        params = scope["path_params"]
        scope_path, path = split_target(params["rest"])
        headers = joined_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        key = headers.get(KEY_HEADER, "").strip()
        if not key and self.callers.requires_key:
            raise Unauthenticated(f"missing credentials: the proxy sends the PolicyHub API key in '{KEY_HEADER}'")
        caller = await self.callers.caller(key or None, scope["app"])
        if params["org"] not in caller.org_names:
            raise NotFound(f"org {params['org']!r} not found")
        method = headers.pop(ORIGINAL_METHOD, None) if dialect.trusts_original_method else None
        query = scope["query_string"].decode("latin-1")
        original = OriginalRequest(
            method=method or scope["method"],
            path=f"{path}?{query}" if query else path,
            headers=headers,
            body=await read_body(receive),
        )
        request = DecisionRequest(POINT, http_request_input(original), scope_path)
        answer = verdict(await caller.decisions.decide_async(caller.actor, request, source=dialect.source))
        status, payload = 200, b""
        if not answer.allowed:
            status, payload = answer.status, json_bytes(answer.body)
            answer.headers["Content-Type"] = "application/json"
            if not dialect.passes_429:
                answer.headers["X-PolicyHub-Status"] = str(status)
                status = 403
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in answer.headers.items()]
        raw.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})


def render_error(status: int, exc: DomainError, request: Request) -> Response:
    """``/v1``'s problem document, without ``WWW-Authenticate``: Envoy and nginx hand an authorization
    service's 401 headers to the client, whose browser must not be asked for PolicyHub's key."""
    response = problem_response(status, exc, request)
    del response.headers["www-authenticate"]
    return response
