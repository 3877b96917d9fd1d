"""``/v1/orgs/{org}/decisions``: ask for a decision (one or a batch), and read the decision log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from policyhub.domain.bounded_json import json_bytes
from policyhub.engine.engine import DecisionRequest
from policyhub.errors import DomainError
from policyhub.http.deps import ContainerDep, CurrentActor, OrgDep, caller, header, json_body, parse_model
from policyhub.http.json_body import parse_json
from policyhub.http.media import check_json_media, require_json
from policyhub.http.openapi import body_schema
from policyhub.http.problems import problem_body, status_of
from policyhub.http.routing import HotRoute, read_body
from policyhub.http.v1 import decision_docs
from policyhub.http.v1.render import FastJSON, decode_token, encode_token
from policyhub.http.v1.schemas import Strict
from policyhub.policy_types.registry import default_points
from policyhub.services.decisions import MAX_BATCH, logged_json
from policyhub.storage.repositories.decisions import DecisionFilter

router = APIRouter(prefix="/v1/orgs/{org}", tags=["decisions"])
MAX_POLICIES = 1000


class DecisionIn(Strict):
    point: str = Field(description="the enforcement point: http_request, environment, lifecycle_gate, ai_content")
    scope: str | None = Field(default=None, description="scope path or id; omitted: the org level only")
    input: dict[str, Any] = Field(description="what is asked about; its shape depends on the point")
    policies: list[str] | None = Field(
        default=None, max_length=MAX_POLICIES, description="evaluate only these policies"
    )
    explain: bool = Field(default=False, description="also list the policies that did not apply")

    def request(self) -> DecisionRequest:
        policies = tuple(self.policies) if self.policies is not None else None
        return DecisionRequest(self.point, self.input, self.scope, policies, self.explain)


class BatchIn(Strict):
    requests: list[DecisionIn] = Field(min_length=1, max_length=MAX_BATCH)


_FIELDS = frozenset(DecisionIn.model_fields)

#: The bodies as the OpenAPI document shows them: ``input`` per point (documentation only, see decision_docs).
_DOCUMENTED, _DOCUMENTED_BATCH = decision_docs.build(
    {name: (f.annotation, f) for name, f in DecisionIn.model_fields.items() if name not in ("point", "input")}
)
_EXAMPLES = decision_docs.example_requests(default_points())


def decision_request(body: object) -> DecisionRequest:
    """The request in a decision body. A body whose fields all have their exact JSON types (nearly every
    one) is read directly; anything else goes through ``DecisionIn``, which accepts or names each field
    in error exactly as it always has."""
    quick = _quick_request(body)
    return quick if quick is not None else parse_model(DecisionIn, body).request()


def batch_requests(body: object) -> list[DecisionRequest]:
    """The requests in a batch body (see :func:`decision_request`; ``BatchIn`` for anything else)."""
    if type(body) is dict and body.keys() == {"requests"}:
        items = body["requests"]
        if type(items) is list and 1 <= len(items) <= MAX_BATCH:
            quick = [_quick_request(item) for item in items]
            if None not in quick:
                return quick  # type: ignore[return-value]  # no None in it
    return [item.request() for item in parse_model(BatchIn, body).requests]


def _quick_request(body: object) -> DecisionRequest | None:
    """The request when ``DecisionIn`` would take every field as it is, else None (let it judge)."""
    if type(body) is not dict or "point" not in body or "input" not in body or not body.keys() <= _FIELDS:
        return None
    point, data, scope = body["point"], body["input"], body.get("scope")
    policies, explain = body.get("policies"), body.get("explain", False)
    if type(point) is not str or type(data) is not dict or type(explain) is not bool:
        return None
    if scope is not None and type(scope) is not str:
        return None
    if policies is not None:
        if type(policies) is not list or len(policies) > MAX_POLICIES or any(type(p) is not str for p in policies):
            return None
        policies = tuple(policies)
    return DecisionRequest(point, data, scope, policies, explain)


class PolicyResultOut(BaseModel):
    policy_id: str
    name: str
    type: str
    version: int
    revision: int
    scope: str | None
    enforcement: str
    effect: Literal["allow", "warn", "deny", "audit", "not_applicable"]
    status: Literal["pass", "violation", "not_applicable"]
    reasons: list[str]
    error: bool = False
    details: dict[str, Any] = Field(default_factory=dict)


class DecisionOut(BaseModel):
    id: str
    decision: Literal["allow", "warn", "deny"]
    point: str
    scope: str | None
    results: list[PolicyResultOut]
    obligations: list[dict[str, Any]]
    policy_state: int = Field(description="the org's policy state (audit sequence) the decision was made at")
    input_hash: str


class BatchOut(BaseModel):
    decisions: list[dict[str, Any]] = Field(description="one decision or one problem per request, in order")


class LoggedOut(BaseModel):
    id: str
    at: datetime
    source: str
    point: str
    scope: str | None
    decision: str
    input_hash: str
    input: Any
    results: list[dict[str, Any]]
    obligations: list[dict[str, Any]]
    principal_id: str | None
    policy_state: int


class LogPage(BaseModel):
    items: list[LoggedOut]
    next_page_token: str | None


@router.post(
    "/decisions",
    response_model=DecisionOut,
    summary="Evaluate the policies that apply and decide: allow, warn or deny",
    description="`input` depends on `point`: the request body is one of the shapes below, one per decision "
    "point (each point's input model is a named schema: `HttpRequestInput`, `EnvironmentInput`, "
    "`LifecycleGateInput`, `AiContentInput`). `GET /v1/policy-types` says which point evaluates each type. "
    "A `scope` must exist (`POST .../scopes`); omitted, only org-level policies apply.",
    openapi_extra=body_schema({"application/json": _DOCUMENTED}, examples=_EXAMPLES),
)
async def decide(request: Request, org: str) -> Response:
    c, actor = await caller(request.scope, org)
    require_json(request)
    result = await c.decisions.decide_async(actor, decision_request(await json_body(request)))
    return FastJSON(result.to_json())


@router.post(
    "/decisions/batch",
    response_model=BatchOut,
    summary="Many decisions in one call (gateways, CI)",
    openapi_extra=body_schema(
        {"application/json": _DOCUMENTED_BATCH},
        examples={
            "batch": {
                "summary": "one request per point",
                "value": {"requests": [e["value"] for e in _EXAMPLES.values()]},
            }
        },
    ),
)
async def decide_batch(request: Request, org: str) -> Response:
    c, actor = await caller(request.scope, org)
    require_json(request)
    answers = await c.decisions.decide_batch(actor, batch_requests(await json_body(request)))
    out: list[dict[str, Any]] = []
    for answer in answers:
        if isinstance(answer, DomainError):
            out.append({"error": problem_body(status_of(answer), answer)})
        elif isinstance(answer, Exception):  # pragma: no cover - decide_batch only returns domain errors
            raise answer
        else:
            out.append(answer.to_json())
    return FastJSON({"decisions": out})


@router.get(
    "/decisions",
    response_model=LogPage,
    summary="The decision log, newest first",
    description="A page holds at most `limit` decisions and at most POLICYHUB_DECISION_LOG_PAGE_BYTES of them "
    "(4 MiB), so it may hold fewer: follow `next_page_token` until it is null. Inputs and results larger than "
    'the log keeps are cut, each cut part replaced by `{"_truncated": true, "bytes": N, "sha256": ...}`.',
)
def decision_log(
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    policy: Annotated[str | None, Query(description="only decisions this policy (id or name) took part in")] = None,
    decision: Literal["allow", "warn", "deny"] | None = None,
    point: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    page_token: str | None = None,
) -> Response:
    after = None
    if page_token:
        at, last_id = decode_token(page_token, list) if page_token else (None, None)
        after = (datetime.fromisoformat(str(at)), str(last_id))
    with c.db.read() as uow:
        policy_id = c.policies.get(uow, actor, policy).id if policy else None
        flt = DecisionFilter(
            policy_id=policy_id, decision=decision, point=point, source=source, since=since, after=after
        )
        rows, nxt = c.decisions.log_page(uow, actor, flt, limit)
    token = encode_token([nxt[0].isoformat(), nxt[1]]) if nxt else None
    return FastJSON({"items": [logged_json(r) for r in rows], "next_page_token": token})


@router.get("/decisions/{decision_id}", response_model=LoggedOut, summary="One logged decision")
def logged_decision(c: ContainerDep, actor: CurrentActor, org: OrgDep, decision_id: str) -> Response:
    with c.db.read() as uow:
        return FastJSON(logged_json(c.decisions.logged(uow, actor, decision_id)))


def hot_routes() -> list[Route]:
    """The decision endpoints as plain Starlette routes, for the app to match before everything else.

    Enforcement points call these thousands of times a second. Served through FastAPI, routing and
    dependency solving cost about as much as the decision itself; these routes do the same work as the
    endpoint functions above (which stay for the OpenAPI document and never see traffic). The single
    decision is a bare ASGI app (no request/response objects beyond the auth check's ``Request``).
    Error handling, middleware and the body limit are the app's, as for every route.
    """

    async def batch_route(request: Request) -> Response:
        return await decide_batch(request, request.path_params["org"])

    return [
        HotRoute("/v1/orgs/{org}/decisions", HotDecide(), methods=["POST"]),
        HotRoute("/v1/orgs/{org}/decisions/batch", batch_route, methods=["POST"]),
    ]


class HotDecide:
    """``POST /v1/orgs/{org}/decisions`` as an ASGI app: what :func:`decide` does, at less cost per request.

    Errors are raised to the app's exception middleware, which answers them as the route wrapper would.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        c, actor = await caller(scope, scope["path_params"]["org"])
        check_json_media(header(scope, b"content-type"))  # stricter than json_body's check, which it replaces
        body = parse_json(await read_body(receive), max_depth=c.settings.max_json_depth)
        result = await c.decisions.decide_async(actor, decision_request(body))
        payload = json_bytes(result.to_json())  # as FastJSON renders
        headers = [(b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
