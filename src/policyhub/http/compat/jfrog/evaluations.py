"""``/unifiedpolicy/api/v1/evaluations``: evaluate a stage gate, and read an evaluation by id.

An evaluation is a ``lifecycle_gate`` decision made by the core engine and kept in the decision log
(``source = "jfrog"``); see :mod:`.evaluation_wire` for the shapes. Any lifecycle-gate decision in the
log, whichever face asked for it, reads as an evaluation; another org's id, or a decision at another
point, is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from policyhub.domain.records import Actor
from policyhub.engine.engine import DecisionRequest
from policyhub.errors import InvalidInput, NotFound
from policyhub.http.compat.jfrog import lookups
from policyhub.http.compat.jfrog.evaluation_wire import (
    POINT,
    SOURCE,
    JFrogEvaluationIn,
    JFrogEvaluationOut,
    evaluation_out,
    gate_input,
    wire_errors,
)
from policyhub.http.compat.jfrog.requests import ERRORS, NOT_FOUND, PREFIX, JsonRequest, json_response
from policyhub.http.deps import Container, ContainerDep, CurrentActor, JsonBody, parse_model, require_json_object
from policyhub.http.openapi import body_schema
from policyhub.storage.repositories.decisions import LoggedDecision
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix=f"{PREFIX}/evaluations", tags=["jfrog: evaluations"])

EvaluationId = Annotated[str, Path(alias="evaluationId", description="evaluation identifier")]
BODY = body_schema({"application/json": JFrogEvaluationIn})


@router.post(
    "",
    status_code=201,
    response_model=JFrogEvaluationOut,
    summary="Evaluate the lifecycle policies of a stage gate for an application version",
    openapi_extra=BODY,
    responses=ERRORS,
)
def create_evaluation(
    request: Request, c: ContainerDep, actor: CurrentActor, _json: JsonRequest, body: JsonBody
) -> Response:
    wire = parse_model(JFrogEvaluationIn, require_json_object(body))
    try:
        result = c.decisions.decide(actor, DecisionRequest(POINT, gate_input(wire)), source=SOURCE, record=True)
    except InvalidInput as exc:
        raise wire_errors(exc) from None
    with c.db.read() as uow:
        out = _render(c, uow, actor, c.decisions.logged(uow, actor, result.id))
    return json_response(out, 201, {"Location": f"{request.url.path.rstrip('/')}/{result.id}"})


@router.get(
    "/{evaluationId}",
    response_model=JFrogEvaluationOut,
    summary="Get an evaluation",
    responses={**ERRORS, **NOT_FOUND},
)
def get_evaluation(c: ContainerDep, actor: CurrentActor, evaluation_id: EvaluationId) -> Response:
    with c.db.read() as uow:
        try:
            logged = c.decisions.logged(uow, actor, evaluation_id)
        except NotFound:
            logged = None
        if logged is None or logged.point != POINT:
            raise NotFound("Evaluation not found")
        return json_response(_render(c, uow, actor, logged))


def _render(c: Container, uow: UnitOfWork, actor: Actor, logged: LoggedDecision) -> dict[str, Any]:
    user = None
    if logged.principal_id:
        user = lookups.principal_names(uow, actor.org_id, {logged.principal_id}).get(logged.principal_id)
    specs: dict[str, dict[str, Any]] = {}
    for result in logged.results:
        if result.get("details") or result.get("effect") == "not_applicable":
            continue
        try:  # an evaluation error carries no details: the deciding version says which rule it was
            _, version = c.policies.version(uow, actor, str(result["policy_id"]), int(result["version"]))
        except (NotFound, KeyError, ValueError):
            continue
        specs[version.policy_id] = version.spec
    return evaluation_out(logged, user, specs)
