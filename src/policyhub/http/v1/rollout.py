"""Rollout routes: environments and their status, signed bundles, bundle keys, and what agents report.

An ``agent`` key may use the bundle, status-report and decision-report routes (``RolloutActor``) and
nothing else; the environment routes are for people and pipelines (viewer to read, editor to write).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import Response

from policyhub.domain.canonical import iso
from policyhub.domain.records import Org
from policyhub.errors import InvalidInput
from policyhub.http.deps import (
    ContainerDep,
    CurrentActor,
    JsonBody,
    OrgDep,
    RolloutActor,
    key_org,
    require_json_object,
)
from policyhub.http.media import require_json
from policyhub.http.openapi import body_schema
from policyhub.http.v1 import rollout_schemas as S
from policyhub.http.v1.render import FastJSON
from policyhub.services import agent_reports
from policyhub.services.preconditions import parse_tags
from policyhub.storage.repositories.rollout import Environment

router = APIRouter(tags=["rollout"])

ORG = "/v1/orgs/{org}"
EnvName = Annotated[str, Path(max_length=64)]
AgentName = Annotated[str, Path(max_length=64)]


async def rollout_org(request: Request, actor: RolloutActor, org: Annotated[str, Path()]) -> Org:
    """The org in the path, for routes an agent key may call (any other org is a 404)."""
    return key_org(request, org)


RolloutOrg = Annotated[Org, Depends(rollout_org)]


def environment_out(env: Environment) -> dict[str, Any]:
    return {
        "name": env.name,
        "scopes": env.scopes,
        "created_at": iso(env.created_at),
        "created_by": env.created_by,
        "updated_at": iso(env.updated_at),
        "updated_by": env.updated_by,
    }


@router.put(
    ORG + "/environments/{env}",
    response_model=S.RolloutEnvironmentOut,
    responses={201: {"description": "created", "model": S.RolloutEnvironmentOut}},
    openapi_extra=body_schema({"application/json": S.RolloutEnvironmentIn}),
    summary="Create or replace a rollout environment (editor)",
    description='Body `{"scopes": ["payments", ...]}`: the environment\'s agents receive the org-level policies '
    "and those of these scopes, their ancestors and their subtrees. 201 when created, 200 when replaced.",
)
def put_environment(
    request: Request, c: ContainerDep, actor: CurrentActor, org: OrgDep, env: EnvName, body: JsonBody
) -> Response:
    require_json(request)
    data = require_json_object(body)
    unknown = sorted(set(data) - {"scopes"})
    if unknown:
        raise InvalidInput.field(unknown[0], "unknown field")
    scopes = data.get("scopes", [])
    found, created = c.db.transact(lambda uow: c.rollout.put_environment(uow, actor, env, scopes))
    return FastJSON(environment_out(found), status_code=201 if created else 200)


@router.get(ORG + "/environments", response_model=S.RolloutEnvironmentList, summary="List rollout environments")
def list_environments(c: ContainerDep, actor: CurrentActor, org: OrgDep) -> Response:
    with c.db.read() as uow:
        found = c.rollout.list_environments(uow, actor)
    return FastJSON({"environments": [environment_out(e) for e in found]})


@router.get(ORG + "/environments/{env}", response_model=S.RolloutEnvironmentOut, summary="Get a rollout environment")
def get_environment(c: ContainerDep, actor: CurrentActor, org: OrgDep, env: EnvName) -> Response:
    with c.db.read() as uow:
        return FastJSON(environment_out(c.rollout.get_environment(uow, actor, env)))


@router.delete(ORG + "/environments/{env}", status_code=204, summary="Delete a rollout environment (editor)")
def delete_environment(c: ContainerDep, actor: CurrentActor, org: OrgDep, env: EnvName) -> Response:
    c.db.transact(lambda uow: c.rollout.delete_environment(uow, actor, env))
    return Response(status_code=204)


@router.get(
    ORG + "/environments/{env}/status",
    response_model=S.RolloutStatusOut,
    summary="What each agent of the environment has applied",
    description="`desired`: the org's last decision-relevant change (revision and commit time). Per agent: the "
    "revision it applied and when, `in_sync`, `lag_s` (time since the desired revision committed, 0 in sync), "
    "`last_seen`, `live` (reported within POLICYHUB_AGENT_LIVE_S), `last_error`, `address`, `stale_s`, `counts`.",
)
def environment_status(c: ContainerDep, actor: CurrentActor, org: OrgDep, env: EnvName) -> Response:
    with c.db.read() as uow:
        return FastJSON(c.rollout.status(uow, actor, env))


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = parse_tags(if_none_match, "If-None-Match")
    return tags is None or any(tag == etag for _, tag in tags)  # weak comparison (RFC 9110 13.1.2)


@router.get(
    ORG + "/bundles/{env}",
    response_model=S.SignedBundleOut,
    responses={
        304: {"description": "If-None-Match names the current ETag"},
        503: {"description": "no bundle-signing key is configured"},
    },
    summary="The environment's signed bundle (agent or viewer key)",
    description='`{"bundle": {...}, "signature": <base64 Ed25519 over the canonical JSON of bundle>, "key_id"}`. '
    "Strong ETag (the content's digest, revision aside); 304 on If-None-Match. Every answer carries "
    "`PolicyHub-Revision`: the org's head sequence number.",
)
def get_bundle(
    c: ContainerDep,
    actor: RolloutActor,
    org: RolloutOrg,
    env: EnvName,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    with c.db.read() as uow:
        signed = c.rollout.bundle(uow, actor, env)
    headers = {"ETag": signed.etag, "PolicyHub-Revision": str(signed.revision), "Cache-Control": "no-cache"}
    if _matches(if_none_match, signed.etag):
        return Response(status_code=304, headers=headers)
    return Response(signed.body, media_type="application/json", headers=headers)


@router.get(
    "/v1/bundle-keys", response_model=S.BundleKeyList, summary="The public keys that verify bundles (no authentication)"
)
async def bundle_keys(c: ContainerDep) -> Response:
    return FastJSON({"keys": c.rollout.published_keys()})


@router.post(
    ORG + "/agents/{agent}/status",
    status_code=204,
    openapi_extra=body_schema({"application/json": S.AgentStatusIn}),
    summary="An agent reports what it applied (agent key)",
    description='`{"environment", "revision", "address": "host:port", "last_error": str|null, "counts": {...}, '
    '"stale_s": float|null}`.',
)
def report_status(
    request: Request, c: ContainerDep, actor: RolloutActor, org: RolloutOrg, agent: AgentName, body: JsonBody
) -> Response:
    require_json(request)
    c.db.transact(lambda uow: agent_reports.report(uow, actor, agent, body), tracked=False)
    return Response(status_code=204)


@router.post(
    ORG + "/agents/{agent}/decisions",
    response_model=S.AgentDecisionsOut,
    openapi_extra=body_schema({"application/json": S.AgentDecisionsIn}),
    summary="An agent ships decision log entries (agent key), each stored once by its id",
    description='`{"decisions": [{"id", "at", "point", "scope", "decision", "input_hash", "input", "results", '
    '"obligations", "policies", "bundle_revision"}, ...]}` (at most 1000) -> `{"accepted", "duplicates"}`; '
    "logged with source `agent:<agent>`.",
)
def ship_decisions(
    request: Request, c: ContainerDep, actor: RolloutActor, org: RolloutOrg, agent: AgentName, body: JsonBody
) -> Response:
    require_json(request)
    accepted, duplicates = c.db.transact(
        lambda uow: agent_reports.ship_decisions(uow, actor, agent, body), tracked=False
    )
    return FastJSON({"accepted": accepted, "duplicates": duplicates})


@router.delete(
    ORG + "/agents/{agent}",
    status_code=204,
    summary="Forget a decommissioned agent (editor); it reappears in the status if it reports again",
)
def forget_agent(c: ContainerDep, actor: CurrentActor, org: OrgDep, agent: AgentName) -> Response:
    c.db.transact(lambda uow: agent_reports.forget(uow, actor, agent), tracked=False)
    return Response(status_code=204)
