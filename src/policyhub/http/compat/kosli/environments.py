"""``/api/v2/environments/{org}``: the minimal environment API policies attach to.

Create-or-update (``PUT``), partial update (``PATCH``), list (filters and pages: :mod:`.env_list`),
get, archive (``PUT .../{env_name}/archive``, as ``kosli archive environment`` and Terraform's destroy
send it) and attach/detach policies (``POST``/``DELETE .../{env_name}/policies`` with
``{"policy_names": [...]}``). Environments are core resources (see :mod:`.envs`), written through
``ResourceService`` (audited, editor role) in one transaction with the policy lookups. Snapshots and
compliance state are not implemented (``state`` and ``last_reported_at`` are ``null``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from policyhub.domain.records import Actor, Org
from policyhub.errors import InvalidInput
from policyhub.evaluation.inputs.attachments import POLICY_IDS
from policyhub.http.compat.kosli import env_list, envs, schemas
from policyhub.http.compat.kosli.deps import JsonObject, KosliOrg
from policyhub.http.compat.kosli.lookups import Reads
from policyhub.http.compat.kosli.translate import ENV_KIND
from policyhub.http.deps import Container, ContainerDep, CurrentActor, parse_model
from policyhub.http.openapi import body_schema
from policyhub.services.commands import OrgWrite
from policyhub.storage.repositories.resources import Resource

router = APIRouter(prefix="/api/v2/environments", tags=["kosli"], responses=schemas.ERROR_RESPONSES)

EnvName = Annotated[str, Path(title="Env Name")]
Env = schemas.KosliEnvironmentResponse


@router.put(
    "/{org}",
    response_model=Env,
    summary="Create or update environment",
    operation_id="kosli_put_environment",
    openapi_extra=body_schema({"application/json": schemas.KosliEnvironmentPutInput}),
    responses={
        200: {"description": "Update Success", "model": Env},
        201: {"description": "Creation Success", "model": Env},
    },
)
def put_environment(c: ContainerDep, actor: CurrentActor, org: KosliOrg, body: JsonObject) -> Response:
    req = parse_model(schemas.KosliEnvironmentPutInput, body)

    def work(w: OrgWrite) -> tuple[dict[str, Any], bool]:
        uow = w.uow
        reads = Reads(c, uow, actor, org.slug)
        ids = reads.policy_ids(req.policies, "policies") if req.policies is not None else None
        existing = reads.environment_or_none(req.name)
        data = envs.new_data(req, ids or []) if existing is None else envs.put_data(existing.data, req, ids)
        envs.check_included(str(data["type"]), list(data["included_environments"]), _types(reads, req.name))
        if existing is None:
            saved = c.resources.create(uow, actor, ENV_KIND, req.name, data)
        else:
            saved = c.resources.update(uow, actor, ENV_KIND, existing.id, data)
        return _out(reads, saved), existing is None

    out, created = c.commands.in_org_sync(actor, org, work)
    return JSONResponse(out, status_code=201 if created else 200)


@router.get(
    "/{org}",
    response_model=list[Env] | schemas.KosliEnvironmentPage,
    summary="List environments",
    description="The plain list; with `page` or `per_page`, one page of it with the totals.",
    operation_id="kosli_list_environments",
)
def list_environments(
    c: ContainerDep,
    actor: CurrentActor,
    org: KosliOrg,
    page: Annotated[int | None, Query(ge=1, description="page number, from 1")] = None,
    per_page: Annotated[int | None, Query(ge=1, le=env_list.MAX_PER_PAGE, description="default 15")] = None,
    name: Annotated[str | None, Query(max_length=256, description="case-insensitive substring")] = None,
    env_type: Annotated[list[schemas.EnvType] | None, Query(alias="type", description="any of these types")] = None,
    tag: Annotated[list[str] | None, Query(description="has any of these tags: `key` or `key:value`")] = None,
    space_id: Annotated[list[str] | None, Query(description="no spaces here: matches nothing")] = None,
    sort: env_list.SortField = "name",
    sort_direction: env_list.SortDirection = "asc",
    archived: Annotated[bool, Query(description="list the archived environments instead")] = False,
) -> Response:
    query = env_list.EnvQuery(
        name=name,
        types=tuple(env_type or ()),
        tags=tuple(tag or ()),
        space_ids=tuple(space_id or ()),
        sort=sort,
        direction=sort_direction,
    )
    with c.db.read() as uow:
        reads = Reads(c, uow, actor, org.slug)
        found = query.select(reads.environments(archived=archived))

        def render(chosen: list[Resource]) -> list[dict[str, Any]]:
            return [e.model_dump(mode="json") for e in reads.env_responses(chosen)]

        if page is None and per_page is None:
            return JSONResponse(render(found))
        return JSONResponse(env_list.page_of(found, page or 1, per_page or env_list.DEFAULT_PER_PAGE, render))


@router.get("/{org}/{env_name}", response_model=Env, summary="Get environment", operation_id="kosli_get_environment")
def get_environment(c: ContainerDep, actor: CurrentActor, org: KosliOrg, env_name: EnvName) -> Response:
    with c.db.read() as uow:
        reads = Reads(c, uow, actor, org.slug)
        return JSONResponse(_out(reads, reads.environment(env_name)))


@router.put(
    "/{org}/{env_name}/archive",
    response_model=Env,
    summary="Archive environment",
    description="It leaves the environment list (`archived=true` lists it) and its policies' `consuming_envs`; "
    "its data is kept, and a `PUT` of its name brings it back. Any request body is ignored.",
    operation_id="kosli_archive_environment",
)
def archive_environment(c: ContainerDep, actor: CurrentActor, org: KosliOrg, env_name: EnvName) -> Response:
    return update_environment(c, actor, org, env_name, lambda reads, env: envs.archived_data(env.data))


@router.patch(
    "/{org}/{env_name}",
    response_model=Env,
    summary="Update environment",
    operation_id="kosli_patch_environment",
    openapi_extra=body_schema({"application/json": schemas.KosliEnvironmentPatchInput}),
)
def patch_environment(
    c: ContainerDep, actor: CurrentActor, org: KosliOrg, env_name: EnvName, body: JsonObject
) -> Response:
    req = parse_model(schemas.KosliEnvironmentPatchInput, body)

    def change(reads: Reads, env: Resource) -> dict[str, Any]:
        ids = reads.policy_ids(req.policies, "policies") if req.policies is not None else None
        data = envs.patch_data(env.data, req, ids)
        envs.check_included(str(data["type"]), list(data["included_environments"]), _types(reads, env.key))
        return data

    return update_environment(c, actor, org, env_name, change)


@router.post(
    "/{org}/{env_name}/policies",
    response_model=Env,
    summary="Attach policy to environment",
    operation_id="kosli_attach_policies",
    openapi_extra=body_schema({"application/json": schemas.KosliAttachPoliciesInput}),
)
def attach_policies(
    c: ContainerDep, actor: CurrentActor, org: KosliOrg, env_name: EnvName, body: JsonObject
) -> Response:
    req = parse_model(schemas.KosliAttachPoliciesInput, body)

    def change(reads: Reads, env: Resource) -> dict[str, Any]:
        ids = reads.policy_ids(_non_empty(req.policy_names))
        return {**env.data, POLICY_IDS: envs.attach(envs.policy_ids(env), ids)}

    return update_environment(c, actor, org, env_name, change)


@router.delete(
    "/{org}/{env_name}/policies",
    response_model=Env,
    summary="Detach policy from environment",
    operation_id="kosli_detach_policies",
    openapi_extra=body_schema({"application/json": schemas.KosliAttachPoliciesInput}),
)
def detach_policies(
    c: ContainerDep, actor: CurrentActor, org: KosliOrg, env_name: EnvName, body: JsonObject
) -> Response:
    req = parse_model(schemas.KosliAttachPoliciesInput, body)

    def change(reads: Reads, env: Resource) -> dict[str, Any]:
        ids = reads.policy_ids(_non_empty(req.policy_names))
        return {**env.data, POLICY_IDS: envs.detach(envs.policy_ids(env), ids)}

    return update_environment(c, actor, org, env_name, change)


def update_environment(
    c: Container, actor: Actor, org: Org, env_name: str, change: Callable[[Reads, Resource], dict[str, Any]]
) -> Response:
    """Change one environment's data in one transaction (no change, no event) and return it."""

    def work(w: OrgWrite) -> dict[str, Any]:
        reads = Reads(c, w.uow, actor, org.slug)
        env = reads.environment(env_name)
        saved = c.resources.update(w.uow, actor, ENV_KIND, env.id, change(reads, env))
        return _out(reads, saved)

    return JSONResponse(c.commands.in_org_sync(actor, org, work))


def _out(reads: Reads, env: Resource) -> dict[str, Any]:
    return reads.env_responses([env])[0].model_dump(mode="json")


def _types(reads: Reads, own_name: str) -> dict[str, str]:
    """Environment name -> type, for checking ``included_environments`` (an env cannot include itself)."""
    return {r.key: str(r.data.get("type", "")) for r in reads.environments() if r.key != own_name}


def _non_empty(names: list[str]) -> list[str]:
    if not names:
        raise InvalidInput.field("policy_names", "name at least one policy")
    return names
