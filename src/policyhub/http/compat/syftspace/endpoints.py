"""``/syftspace/endpoints/``: the endpoint routes policies need (create, list, get by slug or id).

An endpoint is a core scope of kind ``endpoint`` at the org level (key = slug, name = name; Syft Space's other
fields, ``description``, ``summary``, ``response_type``, ``published``, ``tags``, ``model_id`` and ``dataset_id``,
are kept in ``attributes["syftspace"]`` and returned); its id is the scope's UUID, which is what ``endpoint_id``
holds. Syft Space's frontend reads one endpoint by slug (``GET /endpoints/{slug}``); its UUID works too.
Endpoints can equally be made with ``POST /v1/orgs/{org}/scopes`` ``{"kind": "endpoint", "key": ...}``, also
below other scopes. Deleting one is ``DELETE /v1/orgs/{org}/scopes/{id}``, refused while it holds live
policies (Syft Space would cascade; PolicyHub keeps history). Creating one needs an admin key, as any scope.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse, Response

from policyhub.domain.records import Actor, Scope
from policyhub.errors import Conflict, NotFound
from policyhub.http.compat.syftspace import schemas as s
from policyhub.http.compat.syftspace.errors import parse_uuid, parse_wire, read_body
from policyhub.http.compat.syftspace.policies import find_endpoint, policies_at
from policyhub.http.compat.syftspace.tenancy import TenantOrg
from policyhub.http.compat.syftspace.translate import (
    ENDPOINT_KIND,
    attached_policy,
    endpoint_attributes,
    endpoint_response,
    is_uuid,
)
from policyhub.http.deps import Container, ContainerDep, CurrentActor
from policyhub.http.openapi import body_schema
from policyhub.storage.unit_of_work import UnitOfWork

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
    attributes = endpoint_attributes(req.model_dump(mode="json"))
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


@router.post(
    "/validate-slug",
    response_model=s.SyftSpaceSlugAvailabilityResponse,
    responses=s.ERROR_RESPONSES,
    openapi_extra=body_schema({"application/json": s.SyftSpaceSlugAvailabilityRequest}),
    summary="Whether a slug is free (Syft Space's frontend asks before creating an endpoint)",
)
def validate_slug(c: ContainerDep, actor: CurrentActor, org: TenantOrg, body: Body) -> Response:
    req = parse_wire(s.SyftSpaceSlugAvailabilityRequest, body)
    with c.db.read() as uow:
        try:
            c.scopes.get(uow, actor, req.slug)
            free = False
        except NotFound:
            free = True  # a scope the key cannot see is reported free; creating it then answers 409
    unknown = "PolicyHub publishes to no marketplace"
    marketplaces = (
        []
        if req.check_all_marketplaces
        else [{"marketplace_id": str(m), "available": None, "error": unknown} for m in req.marketplace_ids]
        if req.marketplace_ids
        else None
    )
    return JSONResponse({"slug": req.slug, "local_available": free, "marketplaces": marketplaces})


@router.get(
    "/{slug}",
    response_model=s.SyftSpaceEndpointResponse,
    responses=s.ERROR_RESPONSES,
    summary="Get an endpoint, by slug (as Syft Space) or UUID, with its policies",
)
def get_endpoint(
    c: ContainerDep,
    actor: CurrentActor,
    org: TenantOrg,
    slug: Annotated[str, Path(description="the endpoint's slug, or its UUID", max_length=128)],
) -> Response:
    with c.db.read() as uow:
        endpoint = _by_slug_or_id(c, uow, actor, slug)
        attached = policies_at(c, uow, actor, endpoint)
    return JSONResponse(endpoint_response(endpoint) | {"policies": [attached_policy(p) for p in attached]})


def _by_slug_or_id(c: Container, uow: UnitOfWork, actor: Actor, ref: str) -> Scope:
    """The endpoint whose slug (an org-level key) or UUID is ``ref``; else 404 ``Endpoint '<ref>' not found``."""
    if is_uuid(ref):
        try:
            return find_endpoint(c, uow, actor, parse_uuid(ref, "path", "slug"))
        except NotFound:
            pass  # a slug may look like a UUID
    try:
        scope = c.scopes.get(uow, actor, ref)
    except NotFound:
        scope = None
    if scope is None or scope.kind != ENDPOINT_KIND or scope.key != ref or scope.parent_id is not None:
        raise NotFound(f"Endpoint '{ref}' not found")
    return scope
