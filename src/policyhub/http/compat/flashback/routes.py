"""``/policy``: Flashback's AI policy API (create, list, get, partial update, soft delete).

Each route translates the wire request, calls the core services inside one transaction and renders
the result as Flashback's ``{success, policy}`` / ``{success, policies}`` envelopes. Permissions,
tenant isolation, versioning, audit and preconditions are the services' business.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from policyhub.domain import names
from policyhub.domain.ids import is_canonical_uuid
from policyhub.domain.records import Actor, Org, Policy
from policyhub.errors import Conflict, FieldError, InvalidInput, NotFound
from policyhub.http.compat.flashback import translate, wire
from policyhub.http.compat.flashback.levels import Levels
from policyhub.http.compat.flashback.translate import TYPE_NAME
from policyhub.http.deps import Container, ContainerDep, CurrentActor, JsonBody, key_org, parse_model
from policyhub.http.deps import require_json_object as json_object
from policyhub.http.openapi import body_schema
from policyhub.services import keys
from policyhub.services.commands import ArchivePolicy, CreatePolicy, MergePatchPolicy, OrgWrite, WriteOptions
from policyhub.services.policies import PolicyService, Preconditions
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/policy", tags=["flashback"], responses=wire.ERROR_RESPONSES)

PolicyId = Annotated[str, Path(description="Unique identifier of the policy (UUID)")]
OrgId = Annotated[str | None, Query(description="The key's org (id or slug); any other org is a 404")]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="optional: the core ETag to write against")]
PAGE = 500


@router.post(
    "",
    response_model=wire.FlashbackPolicyEnvelope,
    summary="Create AI Policy",
    openapi_extra=body_schema({"application/json": wire.FlashbackCreatePolicyRequest}),
)
def create_policy(request: Request, c: ContainerDep, actor: CurrentActor, body: JsonBody) -> Response:
    req = parse_model(wire.FlashbackCreatePolicyRequest, json_object(body))
    org = key_org(request, req.orgId)
    name = _check_name(req.name)

    def work(w: OrgWrite) -> dict[str, Any]:
        levels = Levels(c.scopes, w.uow, actor)
        target = levels.target(req.workspaceId, req.repoId)
        core = _free_core_name(c.policies, w.uow, org, name, None)
        doc = translate.create_document(name, req.content, req.riskType, req.actionType, core)
        result = w.run(CreatePolicy(doc, TYPE_NAME, target.path if target else None))
        return {"success": True, "policy": _dtos(w.uow, org, levels, [result.policy])[0]}

    return JSONResponse(c.commands.in_org_sync(actor, org, work))


@router.get("", response_model=wire.FlashbackPolicyListEnvelope, summary="Get AI Policies")
def list_policies(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    orgId: Annotated[str, Query(description="The key's org (id or slug); any other org is a 404")],
    workspaceId: Annotated[str | None, Query(description="list the workspace's policies")] = None,
    repoId: Annotated[str | None, Query(description="list the repository's policies (needs workspaceId)")] = None,
) -> Response:
    """The live policies of exactly the named level (org, workspace or repo), oldest first."""
    org = key_org(request, orgId)
    with c.db.read() as uow:
        levels = Levels(c.scopes, uow, actor)
        target = levels.target(workspaceId or None, repoId or None)
        found = _policies_at(c, uow, actor, target.path if target else None, target.id if target else None)
        return JSONResponse({"success": True, "policies": _dtos(uow, org, levels, found)})


@router.get("/{policyId}", response_model=wire.FlashbackPolicyEnvelope, summary="Get AI Policy")
def get_policy(
    request: Request, c: ContainerDep, actor: CurrentActor, policyId: PolicyId, orgId: OrgId = None
) -> Response:
    org = key_org(request, orgId)
    with c.db.read() as uow:
        policy = _find(c, uow, actor, policyId)
        return JSONResponse({"success": True, "policy": _dtos(uow, org, Levels(c.scopes, uow, actor), [policy])[0]})


@router.put(
    "/{policyId}",
    response_model=wire.FlashbackPolicyEnvelope,
    summary="Update AI Policy",
    openapi_extra=body_schema({"application/json": wire.FlashbackUpdatePolicyRequest}),
)
def update_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    policyId: PolicyId,
    body: JsonBody,
    if_match: IfMatch = None,
    orgId: OrgId = None,
) -> Response:
    """Partial update: only the fields given change; the scope (org/workspace/repo) is fixed. An
    ``orgId`` (query or body) naming another org is a 404, as everywhere in this API."""
    raw = dict(json_object(body))
    scope_fields = {key: raw.pop(key) for key in wire.SCOPE_FIELDS if key in raw}
    named = scope_fields.get("orgId")
    org = key_org(request, orgId)
    if isinstance(named, str):
        key_org(request, named)
    changes = _changes(parse_model(wire.FlashbackUpdatePolicyRequest, raw))
    if not scope_fields:
        _require_changes(changes)

    def work(w: OrgWrite) -> dict[str, Any]:
        uow = w.uow
        levels = Levels(c.scopes, uow, actor)
        current = _find(c, uow, actor, policyId)
        _check_scope_unchanged(scope_fields, current, org, levels)
        _require_changes(changes)
        core = _free_core_name(c.policies, uow, org, changes["name"], current) if "name" in changes else current.name
        patch = translate.update_patch(changes, core if core != current.name else None)
        result = w.run(MergePatchPolicy(current.id, patch), Preconditions(if_match=if_match))
        return {"success": True, "policy": _dtos(uow, org, levels, [result.policy])[0]}

    return JSONResponse(c.commands.in_org_sync(actor, org, work))


@router.delete("/{policyId}", response_model=wire.FlashbackActionResponse, summary="Delete AI Policy (soft delete)")
def delete_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    policyId: PolicyId,
    if_match: IfMatch = None,
    orgId: OrgId = None,
) -> Response:
    """Archive the policy: it is no longer enforced or listed; its history stays in the core."""
    org = key_org(request, orgId)

    options = WriteOptions(
        preconditions=Preconditions(if_match=if_match),
        guard=lambda uow: ArchivePolicy(_find(c, uow, actor, policyId).id),
    )
    c.commands.execute_sync(actor, org, ArchivePolicy(policyId), options)
    return JSONResponse({"success": True, "message": "Policy deleted successfully"})


# -- helpers -----------------------------------------------------------------------------------------
def _find(c: Container, uow: UnitOfWork, actor: Actor, policy_id: str) -> Policy:
    """A live ``flashback.ai`` policy by id, as the actor may see it; anything else is a 404."""
    if not is_canonical_uuid(policy_id):  # ids are UUIDs; a name (or a NUL byte) never reaches the store
        raise NotFound("Policy not found")
    try:
        policy = c.policies.get(uow, actor, policy_id, include_archived=False)
    except NotFound:
        raise NotFound("Policy not found") from None
    if policy.id != policy_id or policy.type != TYPE_NAME:  # another vendor's policy is not Flashback's
        raise NotFound("Policy not found")
    return policy


def _policies_at(c: Container, uow: UnitOfWork, actor: Actor, path: str | None, scope_id: str | None) -> list[Policy]:
    """Every live Flashback policy attached exactly at the scope (Flashback lists are not paged)."""
    found: list[Policy] = []
    after: tuple[str, str] | None = None
    while True:
        flt = PolicyFilter(type=TYPE_NAME, scope_path=path, archived=False, after=after)
        page = c.policies.list(uow, actor, flt, PAGE)
        found += [p for p in page if p.scope_id == scope_id]
        if len(page) < PAGE:
            return sorted(found, key=lambda p: (p.created_at, p.id))
        after = (page[-1].name, page[-1].id)


def _dtos(uow: UnitOfWork, org: Org, levels: Levels, policies: list[Policy]) -> list[dict[str, Any]]:
    ids = {p.created_by for p in policies} | {p.updated_by for p in policies}
    principals = keys.principal_names(uow, org.id, ids)
    return [translate.policy_dto(p, org.id, principals, *levels.of_policy(p)) for p in policies]


def _check_name(value: str) -> str:
    name = names.check_text("name", value, max_len=translate.NAME_MAX)
    if not name.strip():
        raise InvalidInput.field("name", "must not be empty")
    return name


def _changes(req: wire.FlashbackUpdatePolicyRequest) -> dict[str, Any]:
    changes = {key: getattr(req, key) for key in wire.UPDATABLE if key in req.model_fields_set}
    nulls = [FieldError(key, "must not be null") for key, value in changes.items() if value is None]
    if nulls:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in nulls), nulls)
    if "name" in changes:
        changes["name"] = _check_name(changes["name"])
    return changes


def _require_changes(changes: dict[str, Any]) -> None:
    if not changes:
        raise InvalidInput(f"At least one field must be provided for the update ({', '.join(wire.UPDATABLE)})")


def _check_scope_unchanged(given: dict[str, Any], current: Policy, org: Org, levels: Levels) -> None:
    """Scope fields may be echoed with their stored values; any other value is a 400."""
    workspace, repo = levels.of_policy(current)
    stored: dict[str, tuple[str | None, ...]] = {
        "orgId": (org.id, org.slug),
        "workspaceId": (workspace.id if workspace else None,),
        "repoId": (repo.id if repo else None,),
    }
    errors = [
        FieldError(key, "cannot be changed: the policy's scope (org/workspace/repo) is fixed at creation")
        for key, value in given.items()
        if value not in stored[key]
    ]
    if errors:
        raise InvalidInput("The policy's scope (org/workspace/repo) cannot be changed after creation", errors)


def _free_core_name(policy_service: PolicyService, uow: UnitOfWork, org: Org, name: str, current: Policy | None) -> str:
    """A core name for ``name`` no other live policy holds (keeping ``current``'s suffix if it can)."""
    suffix = (translate.name_suffix(current.name) if current else None) or secrets.token_hex(4)
    for _ in range(8):
        candidate = translate.core_name(name, suffix)
        holder = policy_service.name_holder(uow, org, candidate)
        if holder is None or (current is not None and holder.id == current.id):
            return candidate
        suffix = secrets.token_hex(4)
    raise Conflict("could not derive a free policy name; retry")
