"""Pure-ASGI middleware: request-size limit, metrics and one structured log line per request."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policyhub.errors import DomainError, InvalidInput, PayloadTooLarge
from policyhub.http.problems import ErrorFaces, status_of

REQUESTS = Counter("policyhub_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "policyhub_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
access_log = structlog.get_logger("policyhub.access")


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413, by Content-Length or while streaming (chunked).

    Its answers go through the error faces, so each API answers in its own error format.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, faces: ErrorFaces) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.faces = faces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("raw_path", b"") or b"%00" in scope.get("query_string", b""):
            await self._reject(scope, send, InvalidInput.field("path", "a NUL character (%00) is not allowed"))
            return
        if b"%2f" in scope.get("raw_path", b"").lower():
            # Routing happens on the decoded path, so an encoded "/" would silently reach another route.
            await self._reject(scope, send, InvalidInput.field("path", "an encoded '/' (%2F) is not allowed"))
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    await self._reject(scope, send, InvalidInput.field("Content-Length", "is not a number"))
                    return
                if too_big:
                    await self._reject(scope, send, PayloadTooLarge(self._detail()))
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(scope, send, PayloadTooLarge(self._detail()))

    def _detail(self) -> str:
        return f"request body exceeds the limit of {self.max_bytes} bytes"

    async def _reject(self, scope: Scope, send: Send, exc: DomainError) -> None:
        request = Request(scope)
        response = self.faces.render(status_of(exc), exc, request)
        response.headers["Connection"] = "close"

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, no_body, send)


class ObservabilityMiddleware:
    """Counts and times requests by route template, and logs one JSON line per request."""

    def __init__(self, app: ASGIApp, *, access_log_enabled: bool = True) -> None:
        self.app = app
        self.access_log_enabled = access_log_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            elapsed = time.perf_counter() - start
            route = _route(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            if self.access_log_enabled:
                access_log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    route=route,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                )


def _route(scope: MutableMapping[str, Any]) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
