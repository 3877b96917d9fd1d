"""``/apiops/projects/{projectName}/apiProxies/{apiProxyName}/policies/...``: list, add, update, delete.

Paths end with ``/`` as Apinizer documents them; the same paths without the final ``/`` are accepted too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from policyhub.http.compat.apinizer import deploy, operations, proxies, translate
from policyhub.http.compat.apinizer.operations import Call, Target
from policyhub.http.compat.apinizer.schemas import DeleteEnvelope, ErrorOut, PolicyEnvelope, PolicyListOut, StatusOut
from policyhub.http.deps import ContainerDep, CurrentActor, JsonBody, key_org, parse_model
from policyhub.http.media import require_json
from policyhub.http.openapi import body_schema
from policyhub.services.policies import Preconditions
from policyhub.storage.unit_of_work import UnitOfWork

PROXY = "/apiops/projects/{projectName}/apiProxies/{apiProxyName}"
POLICY = PROXY + "/policies/{policyName}"
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "invalid request, missing or duplicate policy"},
    401: {"model": ErrorOut, "description": "unauthorized_client: Invalid token"},
    403: {"model": ErrorOut, "description": "the key may not change this proxy"},
    404: {"model": ErrorOut, "description": "project or API proxy not found"},
}

router = APIRouter(tags=["apinizer"], responses=ERRORS)

ProjectName = Annotated[str, Path(alias="projectName", max_length=128)]
ProxyName = Annotated[str, Path(alias="apiProxyName", max_length=128)]
PolicyName = Annotated[str, Path(alias="policyName", max_length=256)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="optional PolicyHub precondition")]
Work = Callable[[Call, UnitOfWork], dict[str, Any]]


async def _run(request: Request, c: ContainerDep, actor: CurrentActor, if_match: str | None, work: Work) -> Response:
    """The write on a worker thread; then, on the event loop, its deployment waited for (``deploy``)."""
    call = Call(c, actor, key_org(request, None), Preconditions(if_match=if_match))
    result = await run_in_threadpool(c.commands.in_org_sync, call.actor, call.org, lambda w: work(call, w.uow))
    return JSONResponse(await deploy.finish(c, call.actor, result))


def _envelope(request: Request, body: object) -> tuple[PolicyEnvelope, dict[str, Any]]:
    require_json(request)
    envelope = parse_model(PolicyEnvelope, body)
    return envelope, envelope.policy.model_dump()  # ``type`` and every other field as sent


@router.get(PROXY + "/policies/", response_model=PolicyListOut, summary="List the policies of an API proxy")
@router.get(PROXY + "/policies", include_in_schema=False)
def list_policies(c: ContainerDep, actor: CurrentActor, project: ProjectName, proxy: ProxyName) -> Response:
    with c.db.read() as uow:
        view = proxies.load(c, uow, actor, project, proxy)
    return JSONResponse(translate.result_list([translate.proxy_policies_out(view.proxy, view.policies)]))


@router.post(
    POLICY + "/",
    response_model=StatusOut,
    summary="Add a policy to an API proxy",
    openapi_extra=body_schema({"application/json": PolicyEnvelope}),
)
@router.post(POLICY, include_in_schema=False)
async def add_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    body: JsonBody,
    project: ProjectName,
    proxy: ProxyName,
    name: PolicyName,
) -> Response:
    envelope, policy = _envelope(request, body)
    target = Target(project, proxy, name)
    return await _run(
        request, c, actor, None, lambda call, uow: operations.add(call, uow, target, envelope.operationMetadata, policy)
    )


@router.put(
    POLICY + "/",
    response_model=StatusOut,
    summary="Update a policy of an API proxy (full replace; may move it to another list or position)",
    openapi_extra=body_schema({"application/json": PolicyEnvelope}),
)
@router.put(POLICY, include_in_schema=False)
async def update_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    body: JsonBody,
    project: ProjectName,
    proxy: ProxyName,
    name: PolicyName,
    if_match: IfMatch = None,
) -> Response:
    envelope, policy = _envelope(request, body)
    target = Target(project, proxy, name)
    return await _run(
        request,
        c,
        actor,
        if_match,
        lambda call, uow: operations.update(call, uow, target, envelope.operationMetadata, policy),
    )


@router.delete(
    POLICY + "/",
    response_model=StatusOut,
    summary="Delete a policy from one list of an API proxy",
    openapi_extra=body_schema({"application/json": DeleteEnvelope}),
)
@router.delete(POLICY, include_in_schema=False)
async def delete_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    body: JsonBody,
    project: ProjectName,
    proxy: ProxyName,
    name: PolicyName,
    if_match: IfMatch = None,
) -> Response:
    require_json(request)
    envelope = parse_model(DeleteEnvelope, body)
    target = Target(project, proxy, name)
    return await _run(
        request, c, actor, if_match, lambda call, uow: operations.delete(call, uow, target, envelope.operationMetadata)
    )
