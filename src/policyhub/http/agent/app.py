"""The agent's ASGI app: ``POST /v1/orgs/{org}/decisions`` (and ``/batch``) exactly as the hub answers
them (the same request parsing, the same :class:`DecisionService`, the same problem+json errors), plus
``GET /status`` (also ``/v1/status``), ``/healthz`` and ``/readyz``, and the enforcement protocols
(AuthZEN, Envoy ext_authz, nginx auth_request: :mod:`.protocols`).

Authentication: the agent is a sidecar on loopback, so by default its listener takes no key (the
enforcement point next to it is the only caller that can reach it). With ``POLICYHUB_AGENT_LOCAL_TOKEN``
set, every endpoint but ``/healthz`` needs ``Authorization: Bearer <that token>``; the agent refuses to
listen on a non-loopback address without one. Either way the caller may ask about any scope of the
org: the agent holds only its environment's bundle, and a scope outside it is a 404.

Answers add ``bundle_revision`` (the revision the agent's state is known current at, which is also the
decision's ``policy_state``); each result names its policy's ``version`` and ``revision``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from policyhub.agent.runtime import Agent
from policyhub.domain.bounded_json import json_bytes
from policyhub.errors import DomainError, Unauthenticated
from policyhub.evaluation.outcome import DecisionResult
from policyhub.http import problems
from policyhub.http.agent import protocols
from policyhub.http.deps import header
from policyhub.http.json_body import parse_json
from policyhub.http.media import check_json_media
from policyhub.http.middleware import BodyLimitMiddleware
from policyhub.http.routing import HotRoute, read_body
from policyhub.http.v1.decisions import batch_requests, decision_request
from policyhub.http.v1.render import FastJSON


def create_agent_app(agent: Agent, *, start: bool = True) -> FastAPI:
    """The listener of ``agent``; ``start``: run the agent's loops for the app's lifetime."""
    settings = agent.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        if start:
            await anyio.to_thread.run_sync(agent.start)
        yield
        if start:
            await anyio.to_thread.run_sync(agent.stop)

    app = FastAPI(
        title="PolicyHub agent",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.agent = agent
    app.state.retry_after_s = settings.retry_after_s
    faces = problems.ErrorFaces()
    app.state.error_faces = faces
    problems.install(app, faces)
    guard = _LocalToken(agent.config.local_token.get_secret_value() if agent.config.local_token else None)
    callers = protocols.install(app, faces, agent, guard.check_token, token_set=guard.required)
    if agent.config.grpc_port is not None:  # Envoy's gRPC services, on this process's event loop
        from policyhub.http.extauthz import grpc_listener

        grpc_listener.install(app, agent.config.host, agent.config.grpc_port, callers)

    async def batch(request: Request) -> Response:
        guard.check(request.scope)
        org = request.path_params["org"]
        protocols.serving(agent, org)
        check_json_media(request.headers.get("content-type"))
        body = parse_json(await request.body(), max_depth=settings.max_json_depth)
        answers = await agent.decisions.decide_batch(agent.actor(), batch_requests(body))
        out: list[dict[str, Any]] = []
        for answer in answers:
            if isinstance(answer, DomainError):
                out.append({"error": problems.problem_body(problems.status_of(answer), answer)})
            elif isinstance(answer, DecisionResult):
                out.append(_answer(answer))
        return FastJSON({"decisions": out})

    async def status(request: Request) -> Response:
        guard.check(request.scope)
        return JSONResponse(agent.status())

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        guard.check(request.scope)
        if agent.applied is None:
            return JSONResponse(
                {"status": "unavailable", "detail": "no verified bundle yet"},
                status_code=503,
                headers={"Retry-After": str(settings.retry_after_s)},
            )
        return JSONResponse({"status": "ready", "revision": agent.applied.revision})

    app.router.routes[0:0] = [
        HotRoute("/v1/orgs/{org}/decisions", _HotDecide(agent, guard), methods=["POST"]),
        HotRoute("/v1/orgs/{org}/decisions/batch", batch, methods=["POST"]),
        HotRoute("/status", status, methods=["GET"]),
        HotRoute("/v1/status", status, methods=["GET"]),
        HotRoute("/healthz", healthz, methods=["GET"]),
        HotRoute("/readyz", readyz, methods=["GET"]),
    ]
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, faces=faces)
    return app


def _answer(result: DecisionResult) -> dict[str, Any]:
    return {**result.to_json(), "bundle_revision": result.snapshot_seq}


class _LocalToken:
    """``Authorization: Bearer <POLICYHUB_AGENT_LOCAL_TOKEN>`` when one is configured, compared in
    constant time (digests of equal length)."""

    def __init__(self, token: str | None) -> None:
        self._digest = hashlib.sha256(token.encode()).digest() if token else None

    @property
    def required(self) -> bool:
        return self._digest is not None

    def check(self, scope: Scope) -> None:
        if self._digest is None:
            return
        scheme, _, given = (header(scope, b"authorization") or "").partition(" ")
        digest = hashlib.sha256(given.strip().encode("utf-8", "surrogatepass")).digest()
        if scheme.lower() != "bearer" or not hmac.compare_digest(digest, self._digest):
            raise Unauthenticated("this agent needs 'Authorization: Bearer <POLICYHUB_AGENT_LOCAL_TOKEN>'")

    def check_token(self, given: str | None) -> None:
        """The token as a protocol face received it (its key header; None: none sent)."""
        if self._digest is None:
            return
        digest = hashlib.sha256((given or "").encode("utf-8", "surrogatepass")).digest()
        if not given or not hmac.compare_digest(digest, self._digest):
            raise Unauthenticated("this agent needs its POLICYHUB_AGENT_LOCAL_TOKEN as the key")


class _HotDecide:
    """One decision as a bare ASGI app (what the hub's ``HotDecide`` does, on the agent's state)."""

    def __init__(self, agent: Agent, guard: _LocalToken) -> None:
        self.agent = agent
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        agent = self.agent
        self.guard.check(scope)
        protocols.serving(agent, scope["path_params"]["org"])
        check_json_media(header(scope, b"content-type"))
        body = parse_json(await read_body(receive), max_depth=agent.settings.max_json_depth)
        result = await agent.decisions.decide_async(agent.actor(), decision_request(body), source=agent.source_label)
        payload = json_bytes(_answer(result))
        headers = [(b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
