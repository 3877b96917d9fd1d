"""Syft Space (OpenMined) compatible API under ``/syftspace``: endpoint policies, their types, endpoints.

Contract: Syft Space's ``/policies`` router (see ``schemas``), errors as FastAPI renders them (``errors``),
tenancy by ``X-Tenant-ID`` / ``X-Tenant-Name`` (``tenancy``); the mapping onto core policies and scopes is
in ``translate``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from policyhub.http.compat.syftspace import endpoints, policies, types
from policyhub.http.compat.syftspace.errors import render_error
from policyhub.http.problems import ErrorFaces

PREFIX = "/syftspace"

router = APIRouter(prefix=PREFIX)
router.include_router(types.router)  # before /policies/{policy_id}
router.include_router(policies.router)
router.include_router(endpoints.router)


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Serve the dialect and render every error under its prefix as Syft Space does."""
    app.include_router(router)
    faces.register(PREFIX, render_error)
