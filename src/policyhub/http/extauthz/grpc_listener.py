"""Envoy's gRPC services on a gRPC listener: ``envoy.service.auth.v3.Authorization/Check`` (ext_authz's
``grpc_service``) and ``envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit`` (the rate limit
filter's service). Needs the ``grpc`` extra (``grpcio``, ``xds-protos``: Envoy's generated protos).

Started by ``policyhub serve --grpc-port N`` (``POLICYHUB_GRPC_PORT``) inside the serving process: a
``grpc.aio`` server on the app's event loop (:func:`install`), calling the same DecisionService as the
HTTP faces. With several workers, each binds the port (``SO_REUSEPORT``) and the kernel spreads calls.

**Authentication**: call metadata ``x-policyhub-key: <key>`` or ``authorization: Bearer <key>`` (Envoy:
``grpc_service.initial_metadata``). A missing or unknown key is ``UNAUTHENTICATED``.

**Check**: ``attributes.request.http`` (method, path with its query, headers or ``header_map``, body or
``raw_body``) and ``attributes.source.address`` (the client Envoy saw) become an ``http_request`` input
(:mod:`.translate`). The org is the key's; the scope is the route's ``context_extensions``
``policyhub_scope`` (``ExtAuthzPerRoute.check_settings``), else the ``x-policyhub-scope`` metadata, else
the org level. Allow: ``OK`` with ``ok_response.response_headers_to_add`` (the rate-limit headers, for
the client). Deny: ``PERMISSION_DENIED`` with ``denied_response``: status 429 (throttling, with
``Retry-After``) or 403, the headers, and the JSON body of the HTTP face. Source ``envoy_grpc``.

**ShouldRateLimit**: :mod:`.ratelimit` (domain, descriptors, statuses). Source ``envoy_ratelimit``.

Errors end the call with a gRPC status (``UNAUTHENTICATED``, ``NOT_FOUND``, ``INVALID_ARGUMENT``,
``PERMISSION_DENIED``, ``UNAVAILABLE``): Envoy then applies its ``failure_mode_allow`` (false: refuse).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc
from envoy.type.v3 import http_status_pb2
from fastapi import FastAPI
from google.protobuf.duration_pb2 import Duration
from google.rpc import code_pb2, status_pb2

from policyhub import errors as e
from policyhub.engine.engine import DecisionRequest
from policyhub.http.deps import Container
from policyhub.http.extauthz import ratelimit
from policyhub.http.extauthz.callers import Caller, Callers, KeyCallers
from policyhub.http.extauthz.translate import KEY_HEADER, POINT, OriginalRequest, Verdict, http_request_input, verdict

log = logging.getLogger(__name__)

SCOPE_EXTENSION = "policyhub_scope"
SCOPE_METADATA = "x-policyhub-scope"
MAX_MESSAGE_BYTES = 1024 * 1024
CODES: dict[type[e.DomainError], grpc.StatusCode] = {
    e.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    e.NotFound: grpc.StatusCode.NOT_FOUND,
    e.Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    e.InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,
    e.Unavailable: grpc.StatusCode.UNAVAILABLE,
}


def _code(exc: e.DomainError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]
    return grpc.StatusCode.INVALID_ARGUMENT


async def _caller(callers: Callers, context: Any) -> tuple[Caller, dict[str, str]]:
    metadata = {str(k).lower(): v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
    key = metadata.get(KEY_HEADER)
    if not key:
        scheme, _, token = metadata.get("authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else None
    if not key and callers.requires_key:
        raise e.Unauthenticated(
            f"missing credentials: send the API key as '{KEY_HEADER}' or 'authorization: Bearer' metadata"
        )
    return await callers.caller(key.strip() if key else None, None), metadata


async def _decide(caller: Caller, data: dict[str, Any], scope: str | None, source: str) -> Verdict:
    result = await caller.decisions.decide_async(caller.actor, DecisionRequest(POINT, data, scope), source=source)
    return verdict(result)


async def _guarded(context: Any, work: Any) -> Any:
    """Run ``work`` (a coroutine); a domain error ends the call with its gRPC status, never a traceback."""
    try:
        return await work
    except e.DomainError as exc:
        await context.abort(_code(exc), exc.detail)
    except ValueError as exc:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    except Exception:
        log.exception("gRPC check failed")
        await context.abort(grpc.StatusCode.INTERNAL, "an unexpected error occurred; it has been logged")


def _headers(headers: Mapping[str, str]) -> list[Any]:
    return [base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=k, value=v)) for k, v in headers.items()]


# -- Check --------------------------------------------------------------------------------------------
def original_request(attributes: Any) -> OriginalRequest:
    """What ``AttributeContext`` tells of the request (headers from ``headers`` or ``header_map``)."""
    http = attributes.request.http
    headers = {k.lower(): v for k, v in http.headers.items()}
    for entry in http.header_map.headers:
        value = entry.value or entry.raw_value.decode("utf-8", "replace")
        name = entry.key.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    headers = {k: v for k, v in headers.items() if not k.startswith(":")}
    address = attributes.source.address.socket_address.address or None
    return OriginalRequest(
        method=http.method or "GET",
        path=http.path or "/",
        headers=headers,
        peer_ip=address,
        body=http.raw_body or http.body or None,
    )


def check_response(answer: Verdict) -> Any:
    if answer.allowed:
        return external_auth_pb2.CheckResponse(
            status=status_pb2.Status(code=code_pb2.OK),
            ok_response=external_auth_pb2.OkHttpResponse(response_headers_to_add=_headers(answer.headers)),
        )
    headers = {**answer.headers, "content-type": "application/json"}
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code_pb2.PERMISSION_DENIED, message=f"denied with {answer.status}"),
        denied_response=external_auth_pb2.DeniedHttpResponse(
            status=http_status_pb2.HttpStatus(code=answer.status),  # the enum's numbers are the HTTP codes
            headers=_headers(headers),
            body=json.dumps(answer.body),
        ),
    )


class AuthorizationService(external_auth_pb2_grpc.AuthorizationServicer):  # type: ignore[misc]
    def __init__(self, callers: Callers) -> None:
        self.callers = callers

    async def Check(self, request: Any, context: Any) -> Any:
        return await _guarded(context, self._check(request, context))

    async def _check(self, request: Any, context: Any) -> Any:
        caller, metadata = await _caller(self.callers, context)
        attributes = request.attributes
        scope = attributes.context_extensions.get(SCOPE_EXTENSION) or metadata.get(SCOPE_METADATA) or None
        data = http_request_input(original_request(attributes))
        answer = await _decide(caller, data, scope, "envoy_grpc")
        return check_response(answer)


# -- ShouldRateLimit ----------------------------------------------------------------------------------
def rate_limit_response(answer: Verdict, descriptors: int) -> Any:
    code = rls_pb2.RateLimitResponse.OK if answer.allowed else rls_pb2.RateLimitResponse.OVER_LIMIT
    status = rls_pb2.RateLimitResponse.DescriptorStatus(code=code)
    if answer.rate is not None:
        rate = answer.rate
        status.current_limit.CopyFrom(
            rls_pb2.RateLimitResponse.RateLimit(
                requests_per_unit=int(rate.get("limit") or 0),
                unit=rls_pb2.RateLimitResponse.RateLimit.Unit.Value(
                    ratelimit.unit_of(float(rate.get("window_s") or 0))
                ),
            )
        )
        status.limit_remaining = int(rate.get("remaining") or 0)
        reset = Duration()
        reset.FromMilliseconds(int(float(rate.get("reset_after_s") or 0) * 1000))
        status.duration_until_reset.CopyFrom(reset)
    headers = {
        k: v for k, v in answer.headers.items() if k.lower().startswith(("ratelimit-", "retry-after", "x-ratelimit"))
    }
    return rls_pb2.RateLimitResponse(
        overall_code=code,
        statuses=[status] * max(1, descriptors),
        response_headers_to_add=[base_pb2.HeaderValue(key=k, value=v) for k, v in headers.items()],
    )


class RateLimitService(rls_pb2_grpc.RateLimitServiceServicer):  # type: ignore[misc]
    def __init__(self, callers: Callers) -> None:
        self.callers = callers

    async def ShouldRateLimit(self, request: Any, context: Any) -> Any:
        return await _guarded(context, self._should(request, context))

    async def _should(self, request: Any, context: Any) -> Any:
        caller, _ = await _caller(self.callers, context)
        named, scope = ratelimit.split_domain(request.domain)
        if named not in caller.org_names:
            raise e.NotFound(f"org {named!r} (the domain's) not found")
        descriptors = [[(entry.key, entry.value) for entry in d.entries] for d in request.descriptors]
        data = ratelimit.descriptor_input(descriptors)
        answer = await _decide(caller, data, scope, "envoy_ratelimit")
        return rate_limit_response(answer, len(request.descriptors))


# -- the listener -------------------------------------------------------------------------------------
async def start(who: Container | Callers, host: str, port: int) -> Any:
    """A started ``grpc.aio`` server with both services on ``host:port`` (port 0: a free one, see ``.port``).
    ``who``: the hub's container (its API keys and decisions) or another rule for who asks (an agent's)."""
    callers: Callers = KeyCallers(who) if isinstance(who, Container) else who
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES), ("grpc.so_reuseport", 1)])
    external_auth_pb2_grpc.add_AuthorizationServicer_to_server(AuthorizationService(callers), server)
    rls_pb2_grpc.add_RateLimitServiceServicer_to_server(RateLimitService(callers), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if not bound:
        raise OSError(f"cannot listen for gRPC on {host}:{port}")
    server.port = bound
    await server.start()
    return server


def install(app: FastAPI, host: str, port: int, callers: Callers | None = None) -> None:
    """Serve the gRPC listener for as long as ``app`` runs (inside its lifespan, on its event loop).
    ``callers``: who may ask (default: the app's container's API keys)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(target: FastAPI) -> AsyncIterator[Any]:
        async with inner(target) as state:
            server = await start(callers or target.state.container, host, port)
            log.info("gRPC listener on %s:%s (ext_authz Check, rate limit service)", host, server.port)
            try:
                yield state
            finally:
                await server.stop(grace=2)

    app.router.lifespan_context = lifespan
