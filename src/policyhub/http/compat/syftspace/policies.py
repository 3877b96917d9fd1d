"""``/syftspace/policies/``: Syft Space's policy CRUD over :class:`~policyhub.services.policies.PolicyService`.

Only ``syftspace.*`` policies are visible here; any other policy id is a 404, like an unknown one. DELETE
archives the core policy (its versions and events stay readable through ``/v1``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import JSONResponse, Response

from policyhub.domain.canonical import utc
from policyhub.domain.policy_document import etag
from policyhub.domain.records import Actor, Policy, Scope
from policyhub.errors import Conflict, InvalidInput, NotFound
from policyhub.http.compat.syftspace import schemas as s
from policyhub.http.compat.syftspace.errors import parse_uuid, parse_wire, read_body
from policyhub.http.compat.syftspace.tenancy import TenantOrg
from policyhub.http.compat.syftspace.translate import (
    ENDPOINT_KIND,
    VENDOR_KEY,
    config_error,
    core_name,
    is_syftspace,
    list_item,
    policy_response,
    update_operations,
    vendor_attributes,
    vendor_type,
)
from policyhub.http.deps import Container, ContainerDep, CurrentActor
from policyhub.http.openapi import body_schema
from policyhub.policy_types.syftspace import SyftSpaceType, require_syftspace_type, syftspace_types
from policyhub.services.commands import ArchivePolicy, Command, CreatePolicy, JsonPatchPolicy, WriteOptions
from policyhub.services.policies import Preconditions
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix=f"{s.PREFIX}/policies", tags=["syftspace: policies"])
Body = Annotated[object, Depends(read_body)]
PolicyId = Annotated[str, Path(description="the policy's UUID", json_schema_extra={"format": "uuid"})]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", description="optional PolicyHub extension: the ETag last seen (412 if stale)")
]
IMMUTABLE = ("policy_type", "endpoint_id")


@router.post(
    "/",
    status_code=201,
    response_model=s.SyftSpacePolicyResponse,
    responses=s.WRITE_RESPONSES,
    openapi_extra=body_schema({"application/json": s.SyftSpaceCreatePolicyRequest}),
    summary="Create a policy on an endpoint",
)
def create_policy(c: ContainerDep, actor: CurrentActor, org: TenantOrg, body: Body) -> Response:
    req = parse_wire(s.SyftSpaceCreatePolicyRequest, body)
    plugin = require_type(req.policy_type)
    if req.wallet_id is not None:  # Syft Space's answer for a type that is not wallet-bound
        raise InvalidInput(f"wallet_id is not applicable for {req.policy_type} policies.")
    endpoint_id = str(req.endpoint_id)
    doc = {
        "name": core_name(endpoint_id, req.name),
        "spec": req.configuration,
        "attributes": {VENDOR_KEY: vendor_attributes(None, req.name)},
    }

    def guard(uow: UnitOfWork) -> Command:
        endpoint = find_endpoint(c, uow, actor, endpoint_id)
        return CreatePolicy(doc, plugin.name, endpoint.path)

    options = WriteOptions(guard=guard, errors=lambda: vendor_errors(req.policy_type, req.name, endpoint_id))
    result = c.commands.execute_sync(actor, org, CreatePolicy(doc, plugin.name), options)
    return _policy_json(result.policy, status_code=201)


@router.get("/", response_model=list[s.SyftSpacePolicyListItem], responses=s.ERROR_RESPONSES, summary="List policies")
def list_policies(
    c: ContainerDep,
    actor: CurrentActor,
    org: TenantOrg,
    endpoint_id: Annotated[str | None, Query(description="only this endpoint's policies (UUID)")] = None,
    policy_type: Annotated[str | None, Query(description="only this policy type, e.g. rate_limit")] = None,
) -> Response:
    """All the tenant's Syft Space policies, oldest first (Syft Space takes no filters; these two are extras)."""
    types = [require_type(policy_type).name] if policy_type is not None else [t.name for t in syftspace_types()]
    wanted = parse_uuid(endpoint_id, "query", "endpoint_id") if endpoint_id is not None else None
    with c.db.read() as uow:
        scope_path = None
        if wanted is not None:
            try:
                scope_path = c.scopes.get(uow, actor, wanted).path
            except NotFound:
                return JSONResponse([])
        found = [p for t in types for p in _all(c, uow, actor, PolicyFilter(type=t, scope_path=scope_path))]
    if wanted is not None:
        found = [p for p in found if p.scope_id == wanted]  # the filter above includes child scopes
    found.sort(key=lambda p: (utc(p.created_at), p.id))
    return JSONResponse([list_item(p) for p in found])


@router.get(
    "/{policy_id}", response_model=s.SyftSpacePolicyResponse, responses=s.ERROR_RESPONSES, summary="Get a policy"
)
def get_policy(c: ContainerDep, actor: CurrentActor, org: TenantOrg, policy_id: PolicyId) -> Response:
    pid = parse_uuid(policy_id, "path", "policy_id")
    with c.db.read() as uow:
        return _policy_json(load(c, uow, actor, pid))


@router.patch(
    "/{policy_id}",
    response_model=s.SyftSpacePolicyResponse,
    responses=s.WRITE_RESPONSES,
    openapi_extra=body_schema({"application/json": s.SyftSpaceUpdatePolicyRequest}),
    summary="Update a policy's name or configuration (configuration is shallow-merged)",
)
def update_policy(
    c: ContainerDep, actor: CurrentActor, org: TenantOrg, policy_id: PolicyId, body: Body, if_match: IfMatch = None
) -> Response:
    pid = parse_uuid(policy_id, "path", "policy_id")
    raw = dict(body) if isinstance(body, dict) else body
    fixed = {key: raw.pop(key) for key in IMMUTABLE if key in raw} if isinstance(raw, dict) else {}
    req = parse_wire(s.SyftSpaceUpdatePolicyRequest, raw)

    loaded: list[Policy] = []

    def guard(uow: UnitOfWork) -> Command:
        current = load(c, uow, actor, pid)
        loaded.append(current)
        check_immutable(current, fixed)
        # Even an empty update goes through the service, so its permission check applies.
        return JsonPatchPolicy(current.id, update_operations(current, name=req.name, configuration=req.configuration))

    def errors() -> AbstractContextManager[None]:
        current = loaded[-1]
        return vendor_errors(vendor_type(current), req.name or "", current.scope_id)

    options = WriteOptions(preconditions=Preconditions(if_match=if_match), guard=guard, errors=errors)
    return _policy_json(c.commands.execute_sync(actor, org, JsonPatchPolicy(pid, []), options).policy)


@router.delete(
    "/{policy_id}", response_model=s.SyftSpaceMessageResponse, responses=s.WRITE_RESPONSES, summary="Delete a policy"
)
def delete_policy(
    c: ContainerDep, actor: CurrentActor, org: TenantOrg, policy_id: PolicyId, if_match: IfMatch = None
) -> Response:
    pid = parse_uuid(policy_id, "path", "policy_id")

    options = WriteOptions(
        preconditions=Preconditions(if_match=if_match),
        guard=lambda uow: ArchivePolicy(load(c, uow, actor, pid).id),
    )
    c.commands.execute_sync(actor, org, ArchivePolicy(pid), options)
    return JSONResponse({"message": f"Successfully deleted policy '{pid}'"})


# -- helpers -------------------------------------------------------------------------------------------
def _policy_json(policy: Policy, status_code: int = 200) -> JSONResponse:
    """A ``PolicyResponse``, with the core ETag (extra; send it back as If-Match for conditional writes)."""
    return JSONResponse(policy_response(policy), status_code=status_code, headers={"ETag": etag(policy)})


def require_type(policy_type: str) -> SyftSpaceType:
    """The plugin for a Syft Space ``policy_type``; unknown -> 400 ``Policy type '<x>' not found``."""
    try:
        return require_syftspace_type(policy_type)
    except InvalidInput as exc:
        raise InvalidInput(exc.errors[0].message if exc.errors else exc.detail) from None


def load(c: Container, uow: UnitOfWork, actor: Actor, policy_id: str) -> Policy:
    """A live Syft Space policy by id; anything else (absent, archived, another org, another type) is 404."""
    try:
        policy = c.policies.get(uow, actor, policy_id, include_archived=False)
    except NotFound:
        policy = None
    if policy is None or policy.id != policy_id or not is_syftspace(policy):
        raise NotFound(f"Policy '{policy_id}' not found")
    return policy


def find_endpoint(c: Container, uow: UnitOfWork, actor: Actor, endpoint_id: str) -> Scope:
    """The endpoint (a scope of kind ``endpoint``) with this id; else 404 ``Endpoint '<id>' not found``."""
    try:
        scope = c.scopes.get(uow, actor, endpoint_id)
    except NotFound:
        scope = None
    if scope is None or scope.id != endpoint_id or scope.kind != ENDPOINT_KIND:
        raise NotFound(f"Endpoint '{endpoint_id}' not found")
    return scope


def policies_at(c: Container, uow: UnitOfWork, actor: Actor, endpoint: Scope) -> list[Policy]:
    """The live Syft Space policies attached to exactly this endpoint, oldest first."""
    found = [
        p
        for t in syftspace_types()
        for p in _all(c, uow, actor, PolicyFilter(type=t.name, scope_path=endpoint.path))
        if p.scope_id == endpoint.id
    ]
    return sorted(found, key=lambda p: (utc(p.created_at), p.id))


def check_immutable(current: Policy, given: dict[str, Any]) -> None:
    """``policy_type`` and ``endpoint_id`` may be repeated with their stored values, never changed (400)."""
    if "policy_type" in given and given["policy_type"] != vendor_type(current):
        raise InvalidInput(
            f"policy_type cannot be changed (it is '{vendor_type(current)}'); create a new policy of the other type"
        )
    if "endpoint_id" in given and _canonical_uuid(given["endpoint_id"]) != current.scope_id:
        raise InvalidInput(
            f"endpoint_id cannot be changed (it is '{current.scope_id}'); create the policy on the other endpoint"
        )


def _canonical_uuid(value: Any) -> str | None:
    try:
        return parse_uuid(value, "body", "endpoint_id") if isinstance(value, str) else None
    except InvalidInput:
        return None


@contextmanager
def vendor_errors(policy_type: str, name: str, endpoint_id: str | None) -> Iterator[None]:
    """Word the core's spec and name errors as Syft Space does (400 ``Invalid ... config: ...``, 409)."""
    try:
        yield
    except InvalidInput as exc:
        raise config_error(exc, policy_type) from None
    except Conflict as exc:
        if not any(e.field == "name" for e in exc.errors):
            raise
        where = f"endpoint '{endpoint_id}'" if endpoint_id else "this endpoint"
        raise Conflict(f"A policy named '{name}' already exists on {where}", exc.errors) from None


def _all(c: Container, uow: UnitOfWork, actor: Actor, flt: PolicyFilter) -> list[Policy]:
    """Every policy matching ``flt``, page by page (Syft Space's list is not paginated)."""
    size = c.settings.max_page_size
    found: list[Policy] = []
    while True:
        page = c.policies.list(uow, actor, flt, size)
        found += page
        if len(page) < size:
            return found
        flt = replace(flt, after=(page[-1].name, page[-1].id))
