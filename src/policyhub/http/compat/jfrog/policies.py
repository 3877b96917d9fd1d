"""``/unifiedpolicy/api/v1/policies``: lifecycle policies as core policies of type ``jfrog.lifecycle``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from policyhub.domain.policy_document import etag
from policyhub.domain.records import Actor, Policy
from policyhub.http.compat.jfrog import lookups
from policyhub.http.compat.jfrog.errors import rule_references_as_conflicts
from policyhub.http.compat.jfrog.listing import POLICY_SORT_KEYS, PolicyQuery, first_item, label_filter, page_of
from policyhub.http.compat.jfrog.requests import ERRORS, NOT_FOUND, PREFIX, JsonRequest, conflict, json_response
from policyhub.http.compat.jfrog.schemas import JFrogPolicyIn, JFrogPolicyList, JFrogPolicyOut
from policyhub.http.compat.jfrog.translate import TYPE_NAME, parse_policy, policy_document, policy_out, rule_summary
from policyhub.http.deps import Container, ContainerDep, CurrentActor, JsonBody, key_org
from policyhub.http.openapi import body_schema
from policyhub.policy_types.jfrog import RULE_KIND
from policyhub.services.commands import ArchivePolicy, CreatePolicy, OrgWrite, ReplacePolicy, WriteOptions
from policyhub.services.policies import Preconditions
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix=f"{PREFIX}/policies", tags=["jfrog: policies"])

IfMatch = Annotated[str | None, Header(alias="If-Match", description="optional: the ETag of a previous response")]
Many = Annotated[list[str] | None, Query()]
PolicyId = Annotated[str, Path(alias="policyId", description="policy identifier")]
BODY = body_schema({"application/json": JFrogPolicyIn})


def _render(uow: UnitOfWork, actor: Actor, policy: Policy) -> dict[str, Any]:
    people = lookups.principal_names(uow, actor.org_id, {policy.created_by, policy.updated_by})
    return policy_out(policy, people)


def _rule_summaries(c: Container, uow: UnitOfWork, actor: Actor) -> dict[str, dict[str, Any]]:
    """Rule id -> the rule with its template, for ``expand=rules``."""
    templates = lookups.templates_by_id(c, uow, actor)
    return {
        r.id: rule_summary(r, templates.get(str(r.data.get("template_id"))))
        for r in c.resources.list(uow, actor, RULE_KIND)
    }


def _headers(policy: Policy) -> dict[str, str]:
    return {"ETag": etag(policy)}


@router.post(
    "",
    status_code=201,
    response_model=JFrogPolicyOut,
    summary="Create a lifecycle policy",
    openapi_extra=BODY,
    responses={**ERRORS, **conflict("a policy with this name exists, or a rule id does not exist")},
)
def create_policy(
    request: Request, c: ContainerDep, actor: CurrentActor, _json: JsonRequest, body: JsonBody
) -> Response:
    org = key_org(request, None)

    def work(w: OrgWrite) -> tuple[Policy, dict[str, Any]]:
        lookups.may_write(actor)
        wire = parse_policy(body, None)
        lookups.ensure_unique_name(c, w.uow, actor, wire.name, None)
        with rule_references_as_conflicts():
            result = w.run(CreatePolicy(policy_document(wire, None), TYPE_NAME))
        return result.policy, _render(w.uow, actor, result.policy)

    policy, out = c.commands.in_org_sync(actor, org, work)
    headers = {**_headers(policy), "Location": f"{request.url.path.rstrip('/')}/{policy.id}"}
    return json_response(out, 201, headers)


@router.get(
    "",
    response_model=JFrogPolicyList,
    summary="List lifecycle policies",
    responses=ERRORS,
)
def list_policies(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    enabled: bool | None = None,
    mode: Literal["block", "warning"] | None = None,
    action_type: str | None = None,
    scope_type: Literal["project", "application"] | None = None,
    project_key: str | None = None,
    stage_key: Many = None,
    stage_gate: Annotated[list[Literal["entry", "exit", "release"]] | None, Query()] = None,
    application_key: Many = None,
    application_labels: Annotated[
        str | None,
        Query(description='exact label matches: a JSON object ({"env":"prod"}) or application_labels[env]=prod'),
    ] = None,
    id: Many = None,
    name: Many = None,
    expand: Literal["rules"] | None = None,
    hierarchical: Annotated[bool | None, Query(description="accepted; there are no parent scopes here")] = None,
    offset: Annotated[int | None, Query(ge=0)] = None,
    page: Annotated[int | None, Query(ge=0, description="alias of offset")] = None,
    limit: Annotated[int, Query(ge=1, le=250)] = 100,
    sort_by: Literal["name", "created_at", "updated_at", "enabled", "mode", "action", "resource"] = "created_at",
    sort_order: Literal["asc", "desc"] = "asc",
) -> Response:
    del application_labels, hierarchical  # documented here; labels are parsed from both spellings below
    query = PolicyQuery(
        ids=frozenset(id or ()),
        names=frozenset(name or ()),
        enabled=enabled,
        mode=mode,
        action_type=action_type,
        scope_type=scope_type,
        project_key=project_key,
        stage_keys=frozenset(stage_key or ()),
        stage_gates=frozenset(stage_gate or ()),
        application_keys=frozenset(application_key or ()),
        application_labels=label_filter(request.query_params),
    )
    start = first_item(offset, page)
    with c.db.read() as uow:
        found = [p for p in lookups.lifecycle_policies(c, uow, actor) if query.matches(p)]
        found.sort(key=POLICY_SORT_KEYS[sort_by], reverse=sort_order == "desc")
        shown = found[start : start + limit]
        people = lookups.principal_names(uow, actor.org_id, {u for p in shown for u in (p.created_by, p.updated_by)})
        rules = _rule_summaries(c, uow, actor) if expand == "rules" else None
    return json_response(page_of(found, start, limit, lambda p: policy_out(p, people, rules)))


@router.get(
    "/{policyId}",
    response_model=JFrogPolicyOut,
    summary="Get a lifecycle policy",
    responses={**ERRORS, **NOT_FOUND},
)
def get_policy(
    c: ContainerDep, actor: CurrentActor, policy_id: PolicyId, expand: Literal["rules"] | None = None
) -> Response:
    with c.db.read() as uow:
        policy = lookups.load_policy(c, uow, actor, policy_id)
        people = lookups.principal_names(uow, actor.org_id, {policy.created_by, policy.updated_by})
        rules = _rule_summaries(c, uow, actor) if expand == "rules" else None
    return json_response(policy_out(policy, people, rules), headers=_headers(policy))


@router.put(
    "/{policyId}",
    response_model=JFrogPolicyOut,
    summary="Replace a lifecycle policy (send the complete desired state)",
    openapi_extra=BODY,
    responses={**ERRORS, **NOT_FOUND, **conflict("the new name is taken, or a rule id does not exist")},
)
def put_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    policy_id: PolicyId,
    _json: JsonRequest,
    body: JsonBody,
    if_match: IfMatch = None,
) -> Response:
    org = key_org(request, None)

    def work(w: OrgWrite) -> tuple[Policy, dict[str, Any]]:
        uow = w.uow
        current = lookups.load_policy(c, uow, actor, policy_id)
        lookups.may_write(actor, current.scope_path)
        wire = parse_policy(body, current.id)
        lookups.ensure_unique_name(c, uow, actor, wire.name, current.id)
        document = policy_document(wire, current)
        with rule_references_as_conflicts():
            result = w.run(ReplacePolicy(current.id, document), Preconditions(if_match=if_match))
        return result.policy, _render(uow, actor, result.policy)

    policy, out = c.commands.in_org_sync(actor, org, work)
    return json_response(out, headers=_headers(policy))


@router.delete(
    "/{policyId}",
    status_code=204,
    response_class=Response,
    summary="Delete a lifecycle policy (archived: its versions and events stay readable in /v1)",
    responses={**ERRORS, **NOT_FOUND},
)
def delete_policy(
    request: Request, c: ContainerDep, actor: CurrentActor, policy_id: PolicyId, if_match: IfMatch = None
) -> Response:
    org = key_org(request, None)

    options = WriteOptions(
        preconditions=Preconditions(if_match=if_match),
        guard=lambda uow: ArchivePolicy(lookups.load_policy(c, uow, actor, policy_id).id),
    )
    c.commands.execute_sync(actor, org, ArchivePolicy(policy_id), options)
    return Response(status_code=204)
