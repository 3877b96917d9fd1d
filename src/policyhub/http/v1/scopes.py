"""``/v1/orgs/{org}/scopes``: the org's scope tree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from policyhub.http.deps import ContainerDep, CurrentActor, JsonBody, OrgDep, parse_model
from policyhub.http.media import require_json
from policyhub.http.openapi import body_schema
from policyhub.http.v1 import schemas
from policyhub.http.v1.render import FastJSON, scope_out

router = APIRouter(prefix="/v1/orgs/{org}/scopes", tags=["scopes"])


@router.post(
    "",
    status_code=201,
    response_model=schemas.ScopeOut,
    summary="Create a scope",
    description="Scopes form a tree: `parent` is the path of the scope to create it under (omitted: the top).",
    openapi_extra=body_schema({"application/json": schemas.ScopeIn}, examples=schemas.SCOPE_EXAMPLES),
)
def create_scope(request: Request, c: ContainerDep, actor: CurrentActor, org: OrgDep, body: JsonBody) -> Response:
    require_json(request)
    data = parse_model(schemas.ScopeIn, body)
    scope = c.db.transact(
        lambda uow: c.scopes.create(
            uow, actor, kind=data.kind, key=data.key, name=data.name, parent=data.parent, attributes=data.attributes
        )
    )
    return FastJSON(scope_out(scope), status_code=201, headers={"Location": f"{request.url.path}/{scope.id}"})


@router.get("", response_model=list[schemas.ScopeOut], summary="List scopes")
def list_scopes(
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    under: Annotated[str | None, Query(description="only this scope and its descendants")] = None,
    kind: str | None = None,
) -> Response:
    with c.db.read() as uow:
        found = c.scopes.list(uow, actor, under=under, kind=kind)
    return FastJSON([scope_out(s) for s in found])


@router.get("/{ref:path}", response_model=schemas.ScopeOut, summary="Get a scope by id or path")
def get_scope(c: ContainerDep, actor: CurrentActor, org: OrgDep, ref: str) -> Response:
    with c.db.read() as uow:
        return FastJSON(scope_out(c.scopes.get(uow, actor, ref)))


@router.delete("/{ref:path}", status_code=204, summary="Delete an empty scope")
def delete_scope(c: ContainerDep, actor: CurrentActor, org: OrgDep, ref: str) -> Response:
    c.db.transact(lambda uow: c.scopes.delete(uow, actor, ref))
    return Response(status_code=204)
