"""Org administration: settings, principals, API keys, document schemas, audit verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from policyhub.domain.canonical import iso
from policyhub.domain.records import Org, Role
from policyhub.http.deps import ContainerDep, CurrentActor, JsonBody, OrgDep, parse_model, require_json_object
from policyhub.http.media import require_json
from policyhub.http.openapi import body_schema
from policyhub.http.v1 import schemas
from policyhub.http.v1.render import FastJSON, key_out, principal_out
from policyhub.services import audit, document_schemas, keys, orgs
from policyhub.services.authz import require_role

router = APIRouter(prefix="/v1/orgs/{org}", tags=["administration"])


def _org_out(org: Org) -> dict[str, Any]:
    return {
        "id": org.id,
        "slug": org.slug,
        "name": org.name,
        "settings": org.settings,
        "created_at": iso(org.created_at),
    }


@router.get("", response_model=schemas.OrgOut, summary="The org")
def get_org(actor: CurrentActor, org: OrgDep) -> Response:
    require_role(actor, Role.VIEWER, actor.scope_path)
    return FastJSON(_org_out(org))


@router.patch(
    "/settings",
    response_model=schemas.OrgOut,
    summary="Change org settings (admin)",
    openapi_extra=body_schema({"application/json": schemas.OrgSettingsIn}),
)
def patch_settings(request: Request, c: ContainerDep, actor: CurrentActor, org: OrgDep, body: JsonBody) -> Response:
    require_json(request)
    data = parse_model(schemas.OrgSettingsIn, body)
    changes = data.model_dump(exclude_unset=True)
    updated = c.db.transact(lambda uow: orgs.update_settings(uow, actor, org, changes))
    c.actors.clear()  # cached keys carry their org's settings
    return FastJSON(_org_out(updated))


@router.post(
    "/principals",
    status_code=201,
    response_model=schemas.PrincipalOut,
    summary="Create a principal",
    openapi_extra=body_schema({"application/json": schemas.PrincipalIn}, examples=schemas.PRINCIPAL_EXAMPLES),
)
def create_principal(request: Request, c: ContainerDep, actor: CurrentActor, org: OrgDep, body: JsonBody) -> Response:
    require_json(request)
    data = parse_model(schemas.PrincipalIn, body)
    principal = c.db.transact(
        lambda uow: keys.create_principal(uow, actor, kind=data.kind, display_name=data.display_name, email=data.email)
    )
    return FastJSON(principal_out(principal), status_code=201)


@router.get("/principals", response_model=list[schemas.PrincipalOut], summary="List principals (admin)")
def list_principals(c: ContainerDep, actor: CurrentActor, org: OrgDep) -> Response:
    with c.db.read() as uow:
        return FastJSON([principal_out(p) for p in keys.list_principals(uow, actor)])


@router.post(
    "/keys",
    status_code=201,
    response_model=schemas.KeyCreated,
    summary="Issue an API key (admin)",
    description="A key belongs to a principal: create one first (`POST .../principals`) and send its `id` as "
    "`principal_id`. The secret (`token`) is in this response only.",
    openapi_extra=body_schema({"application/json": schemas.KeyIn}, examples=schemas.KEY_EXAMPLES),
)
def create_key(request: Request, c: ContainerDep, actor: CurrentActor, org: OrgDep, body: JsonBody) -> Response:
    require_json(request)
    data = parse_model(schemas.KeyIn, body)
    issued = c.db.transact(
        lambda uow: keys.issue_key(
            uow,
            actor,
            principal_id=data.principal_id,
            role=data.role,
            scope=data.scope,
            name=data.name,
            expires_at=data.expires_at,
        )
    )
    scope = data.scope.strip("/") if data.scope else None
    return FastJSON(
        {**key_out(issued.key, scope), "token": issued.token}, status_code=201, headers={"Cache-Control": "no-store"}
    )


@router.get("/keys", response_model=list[schemas.KeyOut], summary="List API keys (admin; never the secrets)")
def list_keys(c: ContainerDep, actor: CurrentActor, org: OrgDep) -> Response:
    with c.db.read() as uow:
        return FastJSON([key_out(k, scope) for k, scope in keys.list_keys(uow, actor)])


@router.get("/keys/{key_id}", response_model=schemas.KeyOut, summary="One API key (admin)")
def get_key(c: ContainerDep, actor: CurrentActor, org: OrgDep, key_id: str) -> Response:
    with c.db.read() as uow:
        return FastJSON(key_out(*keys.get_key(uow, actor, key_id)))


@router.delete("/keys/{key_id}", response_model=schemas.KeyOut, summary="Revoke an API key (admin)")
def revoke_key(c: ContainerDep, actor: CurrentActor, org: OrgDep, key_id: str) -> Response:
    revoked = c.db.transact(lambda uow: keys.revoke_key(uow, actor, key_id))
    c.actors.clear()  # the revoked key must stop working here at once
    return FastJSON(key_out(*revoked))


@router.get("/document-schemas", summary="The org's JSON Schemas for document policies")
def list_document_schemas(c: ContainerDep, actor: CurrentActor, org: OrgDep) -> Response:
    with c.db.read() as uow:
        return FastJSON([{"name": n, "schema": s} for n, s in document_schemas.list_all(uow, actor)])


@router.get("/document-schemas/{name}", summary="One document schema")
def get_document_schema(c: ContainerDep, actor: CurrentActor, org: OrgDep, name: str) -> Response:
    with c.db.read() as uow:
        return FastJSON({"name": name, "schema": document_schemas.get(uow, actor, name)})


@router.put(
    "/document-schemas/{name}",
    summary="Create or replace a document schema (admin)",
    description='The body is the JSON Schema (2020-12) itself, not wrapped in `{"schema": ...}` (refused: it '
    'would check nothing). Document policies name it in `spec["$schema"]`.',
    openapi_extra=body_schema(
        {"application/json": {"type": "object", "description": "a JSON Schema"}},
        examples=schemas.DOCUMENT_SCHEMA_EXAMPLES,
    ),
)
def put_document_schema(
    request: Request, c: ContainerDep, actor: CurrentActor, org: OrgDep, name: str, body: JsonBody
) -> Response:
    require_json(request)
    schema = require_json_object(body)
    document_schemas.check(schema)  # here, not on the writer thread (put checks again, from a cache)
    created = c.db.transact(lambda uow: document_schemas.put(uow, actor, name, schema))
    return FastJSON({"name": name, "schema": schema}, status_code=201 if created else 200)


@router.delete("/document-schemas/{name}", status_code=204, summary="Delete a document schema no policy uses")
def delete_document_schema(c: ContainerDep, actor: CurrentActor, org: OrgDep, name: str) -> Response:
    c.db.transact(lambda uow: document_schemas.delete(uow, actor, name))
    return Response(status_code=204)


@router.get("/audit/verify", response_model=schemas.AuditReport, summary="Verify the org's audit hash chain")
def verify_audit(c: ContainerDep, actor: CurrentActor, org: OrgDep) -> Response:
    with c.db.read() as uow:
        report = audit.verify(uow, actor)
    return FastJSON(
        {
            "ok": report.ok,
            "events_checked": report.events_checked,
            "versions_checked": report.versions_checked,
            "broken_at_seq": report.broken_at_seq,
            "reason": report.reason,
            "unkeyed_through": report.unkeyed_through,
            "note": report.note,
        }
    )
