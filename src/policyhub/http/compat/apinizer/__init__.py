"""Apinizer API Ops (Management API) dialect, under ``/apiops``: policies of API proxies.

- ``GET    /apiops/projects/{p}/apiProxies/{a}/policies/``               List Policies
- ``POST   /apiops/projects/{p}/apiProxies/{a}/policies/{policyName}/``  Add Policy
- ``PUT    /apiops/projects/{p}/apiProxies/{a}/policies/{policyName}/``  Update Policy
- ``DELETE /apiops/projects/{p}/apiProxies/{a}/policies/{policyName}/``  Delete Policy (JSON body)
- projects, API proxies and environments: see :mod:`.management`.

Projects and proxies are core scopes (:mod:`.proxies`), each Apinizer policy is a core policy of
type ``apinizer.<policy.type>`` at its proxy's scope, named as :mod:`.naming` says, with its list
and order in ``attributes["apinizer"]`` (:mod:`.placement`). Errors are Apinizer's
``{"error", "error_description"}`` (:mod:`.errors`). See README.md next to this file.
"""

from __future__ import annotations

from fastapi import FastAPI

from policyhub.http.compat.apinizer import management, routes
from policyhub.http.compat.apinizer.errors import render_error
from policyhub.http.problems import ErrorFaces
from policyhub.http.routing import include_flat

PREFIX = "/apiops"


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Mount the Apinizer routes and render every error under ``/apiops`` in Apinizer's shape."""
    include_flat(app, routes.router, management.router)
    faces.register(PREFIX, render_error)
