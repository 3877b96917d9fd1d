"""Proxies' own authorization protocols over the ``http_request`` decision point (issue 14).

- Envoy ext_authz over HTTP (``http_service``) and nginx ``auth_request``: :mod:`.routes`.
- Envoy ext_authz over gRPC (``envoy.service.auth.v3.Authorization/Check``) and Envoy's rate limit
  service (``envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit``): :mod:`.grpc_listener`
  (the ``grpc`` extra), started by ``policyhub serve --grpc-port``.

A thin dialect: :mod:`.translate` turns the proxy's view of a request into an ``http_request`` input
and a decision into the proxy's answer; the decisions are the DecisionService's, logged with their
source (``envoy_http``, ``nginx``, ``envoy_grpc``, ``envoy_ratelimit``). See README.md here.
"""

from __future__ import annotations

from fastapi import FastAPI

from policyhub.http.extauthz.callers import Caller, Callers, KeyCallers
from policyhub.http.extauthz.routes import ENVOY, NGINX, Dialect, render_error, routes
from policyhub.http.problems import ErrorFaces

__all__ = ["ENVOY", "NGINX", "Caller", "Callers", "Dialect", "KeyCallers", "install", "routes"]


def install(app: FastAPI, faces: ErrorFaces | None = None, callers: Callers | None = None) -> None:
    """Add the HTTP check routes to ``app``, matched before every other route (proxies call them on each
    request they pass). Errors keep ``/v1``'s problem documents. ``callers``: who may ask (default: the
    app's API keys; an agent's listener passes its own rule)."""
    app.router.routes[0:0] = routes(callers=callers)
    if faces is not None:
        for dialect in (ENVOY, NGINX):
            faces.register(dialect.prefix, render_error)
