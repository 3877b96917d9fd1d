"""Small management routes for the objects policies refer to (not part of Apinizer's policy pages).

- ``POST/GET /apiops/projects/``: create (admin key) / list projects.
- ``POST/GET /apiops/projects/{projectName}/apiProxies/``: create (admin key) / list API proxies with
  their endpoints (``endpointList: [{endpoint, httpMethod, active}]``, fixed at creation).
- ``GET /apiops/projects/{projectName}/apiProxies/{apiProxyName}/``: one API proxy (Get API Proxy);
  ``.../endpoints/``: its endpoints (List Endpoints).
- ``POST/GET /apiops/environments/``: create (editor key) / list deployment environments;
  ``GET /apiops/environments/{projectName}``: the environments a project can deploy to (all of them).

Lists answer ``{"status": "SUCCESS", "resultList": [...], "resultCount": n}`` with status 200, except the
environment and endpoint lists, which answer ``{"success": true, ...}`` as their pages document; Get API Proxy answers
the proxy object itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from policyhub.http.compat.apinizer import proxies, translate
from policyhub.http.compat.apinizer.routes import ERRORS
from policyhub.http.compat.apinizer.schemas import (
    ApiProxyDetail,
    ApiProxyIn,
    ApiProxyList,
    EndpointList,
    EnvironmentIn,
    EnvironmentList,
    ProjectIn,
    ProjectList,
)
from policyhub.http.deps import ContainerDep, CurrentActor, JsonBody, parse_model
from policyhub.http.media import require_json
from policyhub.http.openapi import body_schema

router = APIRouter(prefix="/apiops", tags=["apinizer management"], responses=ERRORS)
ProjectName = Annotated[str, Path(alias="projectName", max_length=128)]
ProxyName = Annotated[str, Path(alias="apiProxyName", max_length=128)]


def _one(item: dict[str, object]) -> Response:
    return JSONResponse(translate.result_list([item]))


@router.post(
    "/projects/",
    response_model=ProjectList,
    summary="Create a project (a scope of kind apinizer_project)",
    openapi_extra=body_schema({"application/json": ProjectIn}),
)
def create_project(request: Request, c: ContainerDep, actor: CurrentActor, body: JsonBody) -> Response:
    require_json(request)
    data = parse_model(ProjectIn, body)
    project = c.db.transact(lambda uow: proxies.create_project(c, uow, actor, data))
    return _one(translate.project_out(project))


@router.get("/projects/", response_model=ProjectList, summary="List projects")
def list_projects(c: ContainerDep, actor: CurrentActor) -> Response:
    with c.db.read() as uow:
        found = proxies.list_projects(c, uow, actor)
    return JSONResponse(translate.result_list([translate.project_out(p) for p in found]))


@router.post(
    "/projects/{projectName}/apiProxies/",
    response_model=ApiProxyList,
    summary="Create an API proxy with its endpoints (a scope of kind api_proxy)",
    openapi_extra=body_schema({"application/json": ApiProxyIn}),
)
def create_proxy(
    request: Request, c: ContainerDep, actor: CurrentActor, body: JsonBody, project: ProjectName
) -> Response:
    require_json(request)
    data = parse_model(ApiProxyIn, body)
    proxy = c.db.transact(lambda uow: proxies.create_proxy(c, uow, actor, project, data))
    return _one(translate.proxy_out(project, proxy))


@router.get("/projects/{projectName}/apiProxies/", response_model=ApiProxyList, summary="List a project's API proxies")
def list_proxies(c: ContainerDep, actor: CurrentActor, project: ProjectName) -> Response:
    with c.db.read() as uow:
        found = proxies.list_proxies(c, uow, actor, project)
    return JSONResponse(translate.result_list([translate.proxy_out(project, p) for p in found]))


@router.get(
    "/projects/{projectName}/apiProxies/{apiProxyName}/",
    response_model=ApiProxyDetail,
    summary="Get an API proxy (routing and deployments are empty: PolicyHub routes no traffic)",
)
@router.get("/projects/{projectName}/apiProxies/{apiProxyName}", include_in_schema=False)
def get_proxy(c: ContainerDep, actor: CurrentActor, project: ProjectName, proxy: ProxyName) -> Response:
    with c.db.read() as uow:
        found = proxies.find_proxy(c, uow, actor, project, proxy)
    return JSONResponse(translate.proxy_detail(project, found))


@router.get(
    "/projects/{projectName}/apiProxies/{apiProxyName}/endpoints/",
    response_model=EndpointList,
    summary="List an API proxy's endpoints (without their policies)",
)
@router.get("/projects/{projectName}/apiProxies/{apiProxyName}/endpoints", include_in_schema=False)
def list_endpoints(c: ContainerDep, actor: CurrentActor, project: ProjectName, proxy: ProxyName) -> Response:
    with c.db.read() as uow:
        found = proxies.find_proxy(c, uow, actor, project, proxy)
    return JSONResponse(translate.success_list(translate.endpoints_out(found)))


@router.post(
    "/environments/",
    response_model=EnvironmentList,
    summary="Create a deployment environment (a resource of kind apinizer.environment)",
    openapi_extra=body_schema({"application/json": EnvironmentIn}),
)
def create_environment(request: Request, c: ContainerDep, actor: CurrentActor, body: JsonBody) -> Response:
    require_json(request)
    data = parse_model(EnvironmentIn, body)
    env = c.db.transact(lambda uow: proxies.create_environment(c, uow, actor, data))
    return JSONResponse(translate.success_list([translate.environment_out(env)]))


@router.get("/environments/", response_model=EnvironmentList, summary="List deployment environments")
def list_environments(c: ContainerDep, actor: CurrentActor) -> Response:
    with c.db.read() as uow:
        found = proxies.list_environments(c, uow, actor)
    return JSONResponse(translate.success_list([translate.environment_out(e) for e in found]))


@router.get(
    "/environments/{projectName}",
    response_model=EnvironmentList,
    summary="List the environments a project can deploy to (environments are org-wide: all of them)",
)
@router.get("/environments/{projectName}/", include_in_schema=False)
def project_environments(c: ContainerDep, actor: CurrentActor, project: ProjectName) -> Response:
    with c.db.read() as uow:
        found = proxies.project_environments(c, uow, actor, project)
    return JSONResponse(translate.success_list([translate.environment_out(e) for e in found]))
