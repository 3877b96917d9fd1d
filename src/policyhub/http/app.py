"""The ASGI application: routers, error faces, middleware, health and metrics."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from policyhub import __version__
from policyhub.app import build_container
from policyhub.errors import DomainError, Unauthenticated
from policyhub.http import authzen, compat, console, extauthz, problems
from policyhub.http.deps import Container
from policyhub.http.docs import install_docs
from policyhub.http.middleware import BodyLimitMiddleware, ObservabilityMiddleware
from policyhub.http.openapi import install_openapi
from policyhub.http.routing import include_flat
from policyhub.http.v1 import ROUTERS as V1_ROUTERS
from policyhub.http.v1 import decisions, policies
from policyhub.sandbox import rego
from policyhub.settings import Settings, get_settings


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    """Build the app. Tests pass their own settings or container; ``serve`` uses the environment."""
    settings = settings or (container.settings if container else get_settings())
    owned = container is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Threads for blocking work (database calls); POLICYHUB_THREADS tunes it.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield
        if owned:
            app.state.container.decisions.log.close()
            app.state.container.db.dispose()
            rego.shutdown()  # this process's Rego workers

    app = FastAPI(
        title="PolicyHub",
        version=__version__,
        description="Author, validate, version, audit and evaluate policies. Core API under /v1; "
        "vendor-compatible APIs at their documented paths.",
        lifespan=lifespan,
        # Metrics are Prometheus (/metrics) and logs structlog: FastAPI's native OpenTelemetry hooks would
        # only cost a provider check on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,  # /docs and /redoc are served from installed assets (http/docs.py), not a CDN
        redoc_url=None,
    )
    app.state.container = container or build_container(settings)
    app.state.retry_after_s = settings.retry_after_s
    faces = problems.ErrorFaces()
    app.state.error_faces = faces
    problems.install(app, faces)
    _health_routes(app, settings)
    include_flat(app, *V1_ROUTERS)
    app.router.routes[0:0] = [*decisions.hot_routes(), *policies.hot_routes()]
    compat.install(app, faces)
    authzen.install(app, faces)
    extauthz.install(app, faces)
    install_openapi(app)
    install_docs(app)
    console.install(app, faces)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, faces=faces)
    app.add_middleware(ObservabilityMiddleware, access_log_enabled=settings.access_log)
    return app


def _health_routes(app: FastAPI, settings: Settings) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The database answers")
    def readyz() -> Response:
        try:
            app.state.container.db.ping()
        except DomainError as exc:
            return JSONResponse(
                {"status": "unavailable", "detail": exc.detail},
                status_code=503,
                headers={"Retry-After": str(app.state.retry_after_s)},
            )
        return JSONResponse({"status": "ready"})

    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics (Bearer POLICYHUB_METRICS_TOKEN when set)")
    def metrics(request: Request) -> Response:
        if token is not None and not _bearer_is(request.headers.get("authorization"), token):
            raise Unauthenticated("/metrics needs 'Authorization: Bearer <POLICYHUB_METRICS_TOKEN>'")
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _bearer_is(authorization: str | None, token: str) -> bool:
    """Whether the header is ``Bearer <token>``, compared in constant time (digests of equal length, so
    not even the given value's length shows in the timing)."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    digest = hashlib.sha256(given.strip().encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(digest, hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest())
