"""JFrog Unified Policy (AppTrust lifecycle policies), compatible at ``/unifiedpolicy/api/v1``.

Policies are core policies of type ``jfrog.lifecycle``; rules and templates are resources of kinds
``jfrog.rule`` and ``jfrog.template``; evaluations are ``lifecycle_gate`` decisions read back from the
decision log. Every error under the prefix is ``{"errors": [{code, message, field}]}``. See
:mod:`.translate` for how JFrog fields map onto the core.
"""

from __future__ import annotations

from fastapi import FastAPI

from policyhub.http.compat.jfrog import evaluations, policies, rules, templates
from policyhub.http.compat.jfrog.errors import render_error
from policyhub.http.compat.jfrog.requests import PREFIX
from policyhub.http.problems import ErrorFaces
from policyhub.http.routing import include_flat


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Serve the JFrog routes and render every error under the prefix in JFrog's shape."""
    include_flat(app, policies.router, rules.router, templates.router, evaluations.router)
    faces.register(PREFIX, render_error)
