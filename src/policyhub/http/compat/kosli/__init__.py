"""Kosli's policy API (``app.kosli.com/api/v2``) as a PolicyHub dialect, at ``/api/v2``.

Routes (``{org}`` is the key's org slug; any other org is a 404):

* ``PUT /api/v2/policies/{org}`` — multipart ``payload`` (JSON) + optional ``policy_file`` (YAML):
  create (201) or update (200) by name; ``GET /api/v2/policies/{org}`` (list) and
  ``GET /api/v2/policies/{org}/{name}``. No delete route, as in Kosli.
* ``PUT /api/v2/environments/{org}``, ``GET .../{org}`` (filters and pages as the CLI sends them),
  ``GET``/``PATCH .../{org}/{env}``, ``PUT .../{org}/{env}/archive`` and ``POST``/``DELETE
  .../{org}/{env}/policies`` (``{"policy_names": [...]}``): environments and attachments, which make
  ``consuming_envs`` real; ``PATCH /api/v2/tags/{org}/environment/{env}`` (``set_tags``,
  ``remove_tags``): an environment's tags.
* ``GET``/``POST /api/v2/asserts/{org}/fingerprint/{fingerprint}``: assert an artifact against an
  environment's attached policies or named policies, through the decision engine (:mod:`.asserts`).

Policies are core policies of type ``kosli.environment`` (the YAML kept verbatim as ``source``);
environments are core resources of kind ``kosli.environment``. Every error under the prefix is
``{"message", "errors"?}`` (:mod:`.errors`), including the core body limit's 413.

Where Kosli's documents are silent we chose:

* creating a policy without ``policy_file`` is a 400 (no default policy); updating without one changes
  only the metadata; an empty ``description`` on update keeps the stored one; an unknown form part is
  a 400 (a misspelt ``policy_file`` would otherwise silently skip the new version);
* a name held by a policy of another core type is a 400 on ``type``; such policies are invisible here;
* ``GET`` by name shows the live policy, else the latest archived one (``archived: true``); the list
  shows live policies only;
* attachments are stored by policy id in the environment's data, so a rename keeps them; an archived
  policy's attachments are suspended (hidden on both sides) and return when it is unarchived;
* an unknown policy or environment in an attach/detach is a 404 in Kosli's words, and the whole
  request changes nothing; attaching an attached policy or detaching a detached one is a no-op.
"""

from __future__ import annotations

from fastapi import FastAPI

from policyhub.http.compat.kosli.asserts import router as asserts_router
from policyhub.http.compat.kosli.environments import router as environments_router
from policyhub.http.compat.kosli.errors import render_error
from policyhub.http.compat.kosli.policies import router as policies_router
from policyhub.http.compat.kosli.tags import router as tags_router
from policyhub.http.problems import ErrorFaces
from policyhub.http.routing import include_flat

PREFIX = "/api/v2"


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Mount the ``/api/v2`` routes and render every error under the prefix in Kosli's shape."""
    include_flat(app, policies_router, environments_router, asserts_router, tags_router)
    faces.register(PREFIX, render_error)


__all__ = ["PREFIX", "install"]
