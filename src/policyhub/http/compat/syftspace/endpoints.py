"""``/syftspace/endpoints/``: the minimal endpoint routes policies need (create, list, get).

An endpoint is a core scope of kind ``endpoint`` at the org level (key = slug, name = name; the description
is kept in ``attributes["syftspace"]``); its id is the scope's UUID, which is what ``endpoint_id`` holds.
Endpoints can equally be made with ``POST /v1/orgs/{org}/scopes`` ``{"kind": "endpoint", "key": ...}``, also
below other scopes. Deleting one is ``DELETE /v1/orgs/{org}/scopes/{id}``, refused while it holds live
policies (Syft Space would cascade; PolicyHub keeps history). Creating one needs an admin key, as any scope.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse, Response

from policyhub.errors import Conflict
from policyhub.http.compat.syftspace import schemas as s
from policyhub.http.compat.syftspace.errors import parse_uuid, parse_wire, read_body
from policyhub.http.compat.syftspace.policies import find_endpoint
from policyhub.http.compat.syftspace.tenancy import TenantOrg
from policyhub.http.compat.syftspace.translate import ENDPOINT_KIND, VENDOR_KEY, endpoint_response
from policyhub.http.deps import ContainerDep, CurrentActor
from policyhub.http.openapi import body_schema

router = APIRouter(prefix=f"{s.PREFIX}/endpoints", tags=["syftspace: endpoints"])
Body = Annotated[object, Depends(read_body)]


@router.post(
    "/",
    status_code=201,
    response_model=s.SyftSpaceEndpointResponse,
    responses=s.WRITE_RESPONSES,
    openapi_extra=body_schema({"application/json": s.SyftSpaceCreateEndpointRequest}),
    summary="Create an endpoint (a scope of kind 'endpoint')",
)
def create_endpoint(c: ContainerDep, actor: CurrentActor, org: TenantOrg, body: Body) -> Response:
    req = parse_wire(s.SyftSpaceCreateEndpointRequest, body)
    attributes = {VENDOR_KEY: {"description": req.description}} if req.description else {}
    try:
        scope = c.db.transact(
            lambda uow: c.scopes.create(
                uow, actor, kind=ENDPOINT_KIND, key=req.slug, name=req.name, attributes=attributes
            )
        )
    except Conflict as exc:
        raise Conflict(f"Endpoint with slug '{req.slug}' already exists", exc.errors) from None
    return JSONResponse(endpoint_response(scope), status_code=201)


@router.get(
    "/", response_model=list[s.SyftSpaceEndpointResponse], responses=s.ERROR_RESPONSES, summary="List endpoints"
)
def list_endpoints(c: ContainerDep, actor: CurrentActor, org: TenantOrg) -> Response:
    with c.db.read() as uow:
        found = c.scopes.list(uow, actor, kind=ENDPOINT_KIND)
    return JSONResponse([endpoint_response(scope) for scope in found])


@router.get(
    "/{endpoint_id}", response_model=s.SyftSpaceEndpointResponse, responses=s.ERROR_RESPONSES, summary="Get an endpoint"
)
def get_endpoint(
    c: ContainerDep,
    actor: CurrentActor,
    org: TenantOrg,
    endpoint_id: Annotated[str, Path(description="the endpoint's UUID", json_schema_extra={"format": "uuid"})],
) -> Response:
    eid = parse_uuid(endpoint_id, "path", "endpoint_id")
    with c.db.read() as uow:
        return JSONResponse(endpoint_response(find_endpoint(c, uow, actor, eid)))
