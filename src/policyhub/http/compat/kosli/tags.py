"""``PATCH /api/v2/tags/{org}/{resource_type}/{resource_id}``: tags on an environment.

The body is ``{"set_tags": {key: value}, "remove_tags": [key]}`` as ``kosli tag env`` and the Kosli
Terraform provider send it (kosli-dev/cli ``cmd/kosli/tag.go``; kosli-dev/terraform-provider-kosli
``pkg/client/tags.go``). The CLI puts the resource type as typed, so ``env``, ``environment`` and
``environments`` all name an environment. Only environments exist here: Kosli's other taggable
resources (flows, controls, repos) are a 404. Tags are stored in the environment's data through
``ResourceService`` (audited, editor role), and shown as ``tags`` on the environment.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from policyhub.errors import NotFound
from policyhub.http.compat.kosli import envs, schemas
from policyhub.http.compat.kosli.deps import JsonObject, KosliOrg
from policyhub.http.compat.kosli.environments import update_environment
from policyhub.http.deps import ContainerDep, CurrentActor, parse_model
from policyhub.http.openapi import body_schema

router = APIRouter(prefix="/api/v2/tags", tags=["kosli"], responses=schemas.ERROR_RESPONSES)

ENVIRONMENT_TYPES = ("env", "environment", "environments")
KOSLI_TYPES = ("flow", "flows", "control", "controls", "repo", "repos")


@router.patch(
    "/{org}/{resource_type}/{resource_id}",
    response_model=schemas.KosliEnvironmentResponse,
    summary="Tag a resource",
    description="Add or update (`set_tags`) and remove (`remove_tags`) an environment's tags; "
    "`resource_type` is `env`, `environment` or `environments`. Answers the environment.",
    operation_id="kosli_tag_resource",
    openapi_extra=body_schema({"application/json": schemas.KosliTagsPatchInput}),
)
def tag_resource(
    c: ContainerDep,
    actor: CurrentActor,
    org: KosliOrg,
    resource_type: Annotated[str, Path(title="Resource Type")],
    resource_id: Annotated[str, Path(title="Resource Id")],
    body: JsonObject,
) -> Response:
    if resource_type not in ENVIRONMENT_TYPES:
        if resource_type in KOSLI_TYPES:
            kind = resource_type.rstrip("s").capitalize()
            raise NotFound(f"{kind} '{resource_id}' does not exist in organization '{org.slug}' (only environments)")
        raise NotFound(f"Unknown resource type '{resource_type}': use environment")
    req = parse_model(schemas.KosliTagsPatchInput, body)
    return update_environment(c, actor, org, resource_id, lambda reads, env: envs.tagged_data(env.data, req))
