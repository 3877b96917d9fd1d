"""JFrog Unified Policy (AppTrust lifecycle policies), compatible at ``/unifiedpolicy/api/v1``.

Policies are core policies of type ``jfrog.lifecycle``; rules and templates are resources of kinds
``jfrog.rule`` and ``jfrog.template``; evaluations are ``lifecycle_gate`` decisions read back from the
decision log. Every error under the prefix is ``{"errors": [{code, message, field}]}``. See
:mod:`.translate` for how JFrog fields map onto the core.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from policyhub.http.compat.jfrog import evaluations, policies, rules, templates
from policyhub.http.compat.jfrog.errors import render_error
from policyhub.http.compat.jfrog.requests import PREFIX
from policyhub.http.problems import ErrorFaces

router = APIRouter(prefix=PREFIX)
router.include_router(policies.router)
router.include_router(rules.router)
router.include_router(templates.router)
router.include_router(evaluations.router)


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Serve the JFrog routes and render every error under the prefix in JFrog's shape."""
    app.include_router(router)
    faces.register(PREFIX, render_error)
