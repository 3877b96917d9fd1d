"""Syft Space (OpenMined) compatible API under ``/syftspace``: endpoint policies, their types, endpoints.

Contract: Syft Space's ``/policies`` router (see ``schemas``), errors as FastAPI renders them (``errors``),
tenancy by ``X-Tenant-ID`` / ``X-Tenant-Name`` (``tenancy``); the mapping onto core policies and scopes is
in ``translate``.
"""

from __future__ import annotations

from fastapi import FastAPI

from policyhub.http.compat.syftspace import endpoints, policies, types
from policyhub.http.compat.syftspace.errors import render_error
from policyhub.http.compat.syftspace.schemas import PREFIX
from policyhub.http.problems import ErrorFaces
from policyhub.http.routing import include_flat


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Serve the dialect and render every error under its prefix as Syft Space does."""
    include_flat(app, types.router, policies.router, endpoints.router)  # types before /policies/{policy_id}
    faces.register(PREFIX, render_error)
