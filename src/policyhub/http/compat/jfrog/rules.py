"""``/unifiedpolicy/api/v1/rules``: a template plus parameter values; resources of kind ``jfrog.rule``.

Rule ids are server-assigned UUIDs. A rule naming a missing template is a 409 (as JFrog answers
for a policy naming a missing rule); deleting a rule a live policy uses is a 409 (ResourceService).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from policyhub.domain.records import Actor
from policyhub.http.compat.jfrog import lookups
from policyhub.http.compat.jfrog.errors import conflict_as
from policyhub.http.compat.jfrog.listing import RESOURCE_SORT_KEYS, first_item, page_of
from policyhub.http.compat.jfrog.requests import ERRORS, NOT_FOUND, PREFIX, JsonRequest, conflict, json_response
from policyhub.http.compat.jfrog.schemas import JFrogRuleIn, JFrogRuleList, JFrogRuleOut
from policyhub.http.compat.jfrog.translate import check_body_id, rule_out
from policyhub.http.deps import Container, ContainerDep, CurrentActor, JsonBody, key_org, require_json_object
from policyhub.http.openapi import body_schema
from policyhub.policy_types.jfrog import RULE_KIND, validate_rule
from policyhub.services.commands import OrgWrite
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix=f"{PREFIX}/rules", tags=["jfrog: rules"])

RuleId = Annotated[str, Path(alias="ruleId", description="rule identifier")]
Many = Annotated[list[str] | None, Query()]
BODY = body_schema({"application/json": JFrogRuleIn})
STILL_USED = "rule is still referenced by one or more active policies"


def _render(uow: UnitOfWork, actor: Actor, rule: Resource, template: Resource | None) -> dict[str, Any]:
    people = lookups.principal_names(uow, actor.org_id, {rule.created_by, rule.updated_by})
    return rule_out(rule, people, template)


def _validated(c: Container, uow: UnitOfWork, actor: Actor, body: dict[str, Any]) -> tuple[dict[str, Any], Resource]:
    """The rule's normalised fields and its template (whose parameters the values must fit)."""
    data = validate_rule(body)
    template = lookups.referenced_template(c, uow, actor, data["template_id"])
    return validate_rule(body, template.data), template


@router.post(
    "",
    status_code=201,
    response_model=JFrogRuleOut,
    summary="Create a rule",
    openapi_extra=BODY,
    responses={**ERRORS, **conflict("a rule with this name exists, or the template does not exist")},
)
def create_rule(request: Request, c: ContainerDep, actor: CurrentActor, _json: JsonRequest, body: JsonBody) -> Response:
    org = key_org(request, None)
    doc = require_json_object(body)
    check_body_id(doc, None)

    def work(w: OrgWrite) -> dict[str, Any]:
        lookups.may_write(actor)
        data, template = _validated(c, w.uow, actor, doc)
        rule = c.resources.create(w.uow, actor, RULE_KIND, data["name"], data)
        return _render(w.uow, actor, rule, template)

    out = c.commands.in_org_sync(actor, org, work)
    return json_response(out, 201, {"Location": f"{request.url.path.rstrip('/')}/{out['id']}"})


@router.get("", response_model=JFrogRuleList, summary="List rules", responses=ERRORS)
def list_rules(
    c: ContainerDep,
    actor: CurrentActor,
    id: Many = None,
    name: Many = None,
    template_id: Many = None,
    scanner_types: Many = None,
    template_data_source: str | None = None,
    template_category: str | None = None,
    expand: Literal["template"] | None = None,
    offset: Annotated[int | None, Query(ge=0)] = None,
    page: Annotated[int | None, Query(ge=0, description="alias of offset")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    sort_by: Literal["name", "created_at", "updated_at"] = "created_at",
    sort_order: Literal["asc", "desc"] = "asc",
) -> Response:
    start = first_item(offset, page)
    with c.db.read() as uow:
        templates = lookups.templates_by_id(c, uow, actor)

        def keep(rule: Resource) -> bool:
            tpl = templates.get(str(rule.data.get("template_id")))
            tpl_data = tpl.data if tpl else {}
            return (
                (not id or rule.id in id)
                and (not name or rule.key in name)
                and (not template_id or rule.data.get("template_id") in template_id)
                and (not scanner_types or bool(set(scanner_types) & set(tpl_data.get("scanners", []))))
                and (template_data_source is None or tpl_data.get("data_source_type") == template_data_source)
                and (template_category is None or tpl_data.get("category") == template_category)
            )

        found = [r for r in c.resources.list(uow, actor, RULE_KIND) if keep(r)]
        found.sort(key=RESOURCE_SORT_KEYS[sort_by], reverse=sort_order == "desc")
        shown = found[start : start + limit]
        people = lookups.principal_names(uow, actor.org_id, {u for r in shown for u in (r.created_by, r.updated_by)})

    def render(rule: Resource) -> dict[str, Any]:
        template = templates.get(str(rule.data.get("template_id")))
        return rule_out(rule, people, template, expand=expand == "template")

    return json_response(page_of(found, start, limit, render))


@router.get("/{ruleId}", response_model=JFrogRuleOut, summary="Get a rule", responses={**ERRORS, **NOT_FOUND})
def get_rule(c: ContainerDep, actor: CurrentActor, rule_id: RuleId) -> Response:
    with c.db.read() as uow:
        rule = lookups.get_rule(c, uow, actor, rule_id)
        template = lookups.templates_by_id(c, uow, actor).get(str(rule.data.get("template_id")))
        return json_response(_render(uow, actor, rule, template))


@router.put(
    "/{ruleId}",
    response_model=JFrogRuleOut,
    summary="Replace a rule (send the complete desired state)",
    openapi_extra=BODY,
    responses={**ERRORS, **NOT_FOUND, **conflict("the new name is taken, or the template does not exist")},
)
def put_rule(
    request: Request, c: ContainerDep, actor: CurrentActor, _json: JsonRequest, rule_id: RuleId, body: JsonBody
) -> Response:
    org = key_org(request, None)
    doc = require_json_object(body)
    check_body_id(doc, rule_id)

    def work(w: OrgWrite) -> dict[str, Any]:
        lookups.may_write(actor)
        uow = w.uow
        current = lookups.get_rule(c, uow, actor, rule_id)
        data, template = _validated(c, uow, actor, doc)
        rule = c.resources.update(uow, actor, RULE_KIND, current.id, data, key=data["name"])
        return _render(uow, actor, rule, template)

    return json_response(c.commands.in_org_sync(actor, org, work))


@router.delete(
    "/{ruleId}",
    status_code=204,
    response_class=Response,
    summary="Delete a rule",
    responses={**ERRORS, **NOT_FOUND, **conflict(STILL_USED)},
)
def delete_rule(c: ContainerDep, actor: CurrentActor, rule_id: RuleId) -> Response:
    def work(uow: UnitOfWork) -> None:
        current = lookups.get_rule(c, uow, actor, rule_id)
        with conflict_as(STILL_USED):
            c.resources.delete(uow, actor, RULE_KIND, current.id)

    c.db.transact(work)
    return Response(status_code=204)
