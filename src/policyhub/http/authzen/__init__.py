"""OpenID AuthZEN Authorization API 1.0: PolicyHub as a Policy Decision Point (see README.md here).

A dialect like the vendor faces: it translates AuthZEN requests into decisions at point ``authzen``
(:mod:`policyhub.evaluation.inputs.authzen`), asks the decision service, and translates the answers
back (:mod:`.wire`); every decision is in the decision log with source ``authzen``. Errors under its
paths are AuthZEN's (a status and a message string, :mod:`.errors`).
"""

from __future__ import annotations

from fastapi import FastAPI

from policyhub.http.authzen.errors import render_error
from policyhub.http.authzen.routes import WELL_KNOWN, Backend, build_router, fast_routes
from policyhub.http.problems import ErrorFaces
from policyhub.http.routing import include_flat

__all__ = ["Backend", "build_router", "fast_routes", "install"]


def install(app: FastAPI, faces: ErrorFaces, backend: Backend | None = None, prefix: str = "") -> None:
    """Serve the AuthZEN routes in ``app`` and render every error under their paths in AuthZEN's shape."""
    include_flat(app, build_router(backend, prefix))  # the documented routes (and the metadata)
    app.router.routes[0:0] = fast_routes(backend, prefix)  # what serves the POSTs: matched first
    faces.register(f"{prefix}/orgs", render_error)
    faces.register(f"{prefix}{WELL_KNOWN}", render_error)
