"""``/unifiedpolicy/api/v1/templates``: Rego plus declared parameters; resources of kind ``jfrog.template``.

A template a rule uses cannot be deleted (409), nor changed so that a rule's values no longer fit
its parameters (409): rules must stay valid against their template.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from policyhub.domain.records import Actor
from policyhub.errors import Conflict, FieldError
from policyhub.http.compat.jfrog import lookups
from policyhub.http.compat.jfrog.listing import RESOURCE_SORT_KEYS, first_item, page_of
from policyhub.http.compat.jfrog.requests import ERRORS, NOT_FOUND, PREFIX, JsonRequest, conflict, json_response
from policyhub.http.compat.jfrog.schemas import JFrogTemplateIn, JFrogTemplateList, JFrogTemplateOut
from policyhub.http.compat.jfrog.translate import TEMPLATE_KIND, check_body_id, template_out
from policyhub.http.deps import ContainerDep, CurrentActor, JsonBody, key_org, require_json_object
from policyhub.http.openapi import body_schema
from policyhub.policy_types.jfrog import check_rule_parameters, validate_template
from policyhub.services.commands import OrgWrite
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix=f"{PREFIX}/templates", tags=["jfrog: templates"])

TemplateId = Annotated[str, Path(alias="templateId", description="template identifier")]
Many = Annotated[list[str] | None, Query()]
BODY = body_schema({"application/json": JFrogTemplateIn})
STILL_USED = "template is still referenced by one or more rules"


def _render(uow: UnitOfWork, actor: Actor, template: Resource) -> dict[str, Any]:
    people = lookups.principal_names(uow, actor.org_id, {template.created_by, template.updated_by})
    return template_out(template, people)


def _check_rules_still_fit(rules: list[Resource], parameters: list[dict[str, Any]]) -> None:
    for rule in rules:
        problems = check_rule_parameters(rule.data.get("parameters", []), parameters)
        if problems:
            message = f"rule {rule.key!r} uses this template and its values would no longer fit: {problems[0].message}"
            raise Conflict(message, [FieldError("parameters", message)])


@router.post(
    "",
    status_code=201,
    response_model=JFrogTemplateOut,
    summary="Create a template",
    openapi_extra=BODY,
    responses={**ERRORS, **conflict("a template with this name exists")},
)
def create_template(
    request: Request, c: ContainerDep, actor: CurrentActor, _json: JsonRequest, body: JsonBody
) -> Response:
    doc = require_json_object(body)
    check_body_id(doc, None)
    lookups.may_write(actor)
    data = validate_template(doc, tenant=actor.org_id)  # the Rego parse (bounded) holds no transaction

    def work(uow: UnitOfWork) -> dict[str, Any]:
        lookups.may_write(actor)
        return _render(uow, actor, c.resources.create(uow, actor, TEMPLATE_KIND, data["name"], data))

    out = c.db.transact(work)
    return json_response(out, 201, {"Location": f"{request.url.path.rstrip('/')}/{out['id']}"})


@router.get("", response_model=JFrogTemplateList, summary="List templates", responses=ERRORS)
def list_templates(
    c: ContainerDep,
    actor: CurrentActor,
    id: Many = None,
    name: Many = None,
    category: str | None = None,
    data_source_type: str | None = None,
    scanner_types: Many = None,
    offset: Annotated[int | None, Query(ge=0)] = None,
    page: Annotated[int | None, Query(ge=0, description="alias of offset")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    sort_by: Literal["name", "created_at", "updated_at"] = "created_at",
    sort_order: Literal["asc", "desc"] = "asc",
) -> Response:
    start = first_item(offset, page)

    def keep(t: Resource) -> bool:
        return (
            (not id or t.id in id)
            and (not name or t.key in name)
            and (category is None or t.data.get("category") == category)
            and (data_source_type is None or t.data.get("data_source_type") == data_source_type)
            and (not scanner_types or bool(set(scanner_types) & set(t.data.get("scanners", []))))
        )

    with c.db.read() as uow:
        found = [t for t in c.resources.list(uow, actor, TEMPLATE_KIND) if keep(t)]
        found.sort(key=RESOURCE_SORT_KEYS[sort_by], reverse=sort_order == "desc")
        shown = found[start : start + limit]
        people = lookups.principal_names(uow, actor.org_id, {u for t in shown for u in (t.created_by, t.updated_by)})
    return json_response(page_of(found, start, limit, lambda t: template_out(t, people)))


@router.get(
    "/{templateId}", response_model=JFrogTemplateOut, summary="Get a template", responses={**ERRORS, **NOT_FOUND}
)
def get_template(c: ContainerDep, actor: CurrentActor, template_id: TemplateId) -> Response:
    with c.db.read() as uow:
        return json_response(_render(uow, actor, lookups.get_template(c, uow, actor, template_id)))


@router.put(
    "/{templateId}",
    response_model=JFrogTemplateOut,
    summary="Replace a template (send the complete desired state)",
    openapi_extra=BODY,
    responses={**ERRORS, **NOT_FOUND, **conflict("the new name is taken, or a rule's values would no longer fit")},
)
def put_template(
    request: Request, c: ContainerDep, actor: CurrentActor, _json: JsonRequest, template_id: TemplateId, body: JsonBody
) -> Response:
    org = key_org(request, None)
    doc = require_json_object(body)
    check_body_id(doc, template_id)
    lookups.may_write(actor)
    data = validate_template(doc, tenant=actor.org_id)  # the Rego parse (bounded) holds no transaction

    def work(w: OrgWrite) -> dict[str, Any]:
        lookups.may_write(actor)
        uow = w.uow
        current = lookups.get_template(c, uow, actor, template_id)
        _check_rules_still_fit(lookups.rules_using(c, uow, actor, current.id), data.get("parameters", []))
        template = c.resources.update(uow, actor, TEMPLATE_KIND, current.id, data, key=data["name"])
        return _render(uow, actor, template)

    return json_response(c.commands.in_org_sync(actor, org, work))


@router.delete(
    "/{templateId}",
    status_code=204,
    response_class=Response,
    summary="Delete a template",
    responses={**ERRORS, **NOT_FOUND, **conflict(STILL_USED)},
)
def delete_template(request: Request, c: ContainerDep, actor: CurrentActor, template_id: TemplateId) -> Response:
    org = key_org(request, None)

    def work(w: OrgWrite) -> None:
        lookups.may_write(actor)
        uow = w.uow
        current = lookups.get_template(c, uow, actor, template_id)
        users = lookups.rules_using(c, uow, actor, current.id)
        if users:
            names = ", ".join(repr(r.key) for r in users[:10])
            raise Conflict(f"{STILL_USED}: {names}")
        c.resources.delete(uow, actor, TEMPLATE_KIND, current.id)

    c.commands.in_org_sync(actor, org, work)
    return Response(status_code=204)
