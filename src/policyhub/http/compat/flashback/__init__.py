"""Flashback AI Policy API (``backend.flashback.tech``) as a PolicyHub dialect, at ``/policy``.

Policies are core policies of type ``flashback.ai``; workspaces and repositories are core scopes
(kinds ``workspace`` and ``repo``, the repo a child of its workspace), created with
``POST /v1/orgs/{org}/scopes``. See :mod:`.translate` for how names are kept and :mod:`.levels`
for how levels map to scopes. Violations and alerts (:mod:`.violations`) are read from the decision
log; prompts and responses are evaluated by ``POST /v1/orgs/{org}/decisions`` at point ``ai_content``
(Flashback documents no evaluation endpoint: its gateway evaluates internally).
"""

from __future__ import annotations

from fastapi import FastAPI

from policyhub.http.compat.flashback import recommend, validate, violations
from policyhub.http.compat.flashback.errors import render_error
from policyhub.http.compat.flashback.routes import router
from policyhub.http.problems import ErrorFaces
from policyhub.http.routing import include_flat

PREFIX = "/policy"


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Mount the ``/policy`` routes and render every error under the prefix in Flashback's shape.

    Violations, alerts, validation and recommendation first: ``/policy/violations`` must not be read as a
    policy id.
    """
    include_flat(app, violations.router, validate.router, recommend.router, router)
    faces.register(PREFIX, render_error)


__all__ = ["PREFIX", "install"]
