"""JFrog Unified Policy (AppTrust lifecycle policies), compatible at ``/unifiedpolicy/api/v1``.

Policies are core policies of type ``jfrog.lifecycle``; rules and templates are resources of kinds
``jfrog.rule`` and ``jfrog.template``; evaluations are ``lifecycle_gate`` decisions read back from the
decision log. Every error under the prefix is ``{"errors": [{code, message, field}]}``. See
:mod:`.translate` for how JFrog fields map onto the core. The Artifactory and Xray version probes the
Terraform provider makes first are answered too (:mod:`.system`).
"""

from __future__ import annotations

from fastapi import FastAPI

from policyhub.http.compat.jfrog import evaluations, policies, rules, system, templates
from policyhub.http.compat.jfrog.errors import render_error
from policyhub.http.compat.jfrog.requests import PREFIX
from policyhub.http.problems import ErrorFaces
from policyhub.http.routing import include_flat


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Serve the JFrog routes and render every error under the prefix in JFrog's shape."""
    include_flat(app, policies.router, rules.router, templates.router, evaluations.router, system.router)
    for prefix in (PREFIX, system.ARTIFACTORY_PREFIX, system.XRAY_PREFIX):
        faces.register(prefix, render_error)
