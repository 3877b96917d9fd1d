"""``POST /policy/recommend``: policies to add at an org, workspace or repository, in Flashback's shape.

FlashbackClient's ``recommendPolicies`` sends ``{level: 0|1|2, uuid?, prompt}`` (0 = organization, 1 =
workspace, 2 = repository; ``uuid`` names it) and reads ``{level, uuid, tokens_in, tokens_out,
recommended_policies: [{content, riskType, alertType}]}`` with lower-case ``riskType`` (low/medium/high)
and ``alertType`` (log/alert/block). Flashback asks a model; PolicyHub answers deterministically, by one
rule (:func:`recommend`), from the org's own policy set and the words of the prompt:

1. **The org's policies that do not yet apply there**: each live Flashback policy attached elsewhere (a
   sibling workspace or repository; at level 0, any workspace or repository), most severe first, unless
   its content is already attached where it would apply (the org, the workspace above a repository, or
   the target itself) or everything its detectors find is already found there.
2. **What the prompt names that nothing there covers**: each sensitive term of the prompt (the same
   vocabulary that compiles policies, :mod:`policyhub.policy_types.flashback.vocabulary`) whose detectors
   no applying or recommended policy has, as ``Do not share any <term> in prompts or responses.``: high
   risk and ``block`` for secrets, payment and bank data and national ids, else medium and ``alert``.
   A term no detector covers (postal addresses, names...) is recommended only when a judge is
   configured, since nothing else could enforce it.
3. **A baseline**, when the prompt names nothing and nothing else was found: secrets (high, block) and
   personal data (medium, alert), each unless already covered.

At most :data:`MAX_RECOMMENDATIONS`. No model is asked, so ``tokens_in`` and ``tokens_out`` are 0. Each
recommendation also carries PolicyHub's ``source`` (org, prompt, baseline), ``detectors`` and, for
``org``, the ``policyId`` it copies. Nothing is written: create a recommendation with ``POST /policy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from policyhub.domain.canonical import utc
from policyhub.domain.ids import is_canonical_uuid
from policyhub.domain.records import Actor, Policy, Scope
from policyhub.errors import InvalidInput, NotFound
from policyhub.http.compat.flashback import wire
from policyhub.http.compat.flashback.levels import REPO, WORKSPACE
from policyhub.http.compat.flashback.translate import TYPE_NAME
from policyhub.http.deps import Container, ContainerDep, CurrentActor, JsonBody, key_org, parse_model
from policyhub.http.deps import require_json_object as json_object
from policyhub.http.openapi import body_schema
from policyhub.policy_types.flashback.detectors import ALL_SECRETS
from policyhub.policy_types.flashback.vocabulary import Selection, select
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/policy", tags=["flashback"], responses=wire.ERROR_RESPONSES)

MAX_RECOMMENDATIONS = 10
PAGE = 500
#: Level number -> the scope kind it names (None: the org).
LEVEL_KINDS: dict[int, str | None] = {0: None, 1: WORKSPACE, 2: REPO}
ALERT_TYPES = {0: "log", 1: "alert", 2: "block"}
RISK_ORDER = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}
#: Detectors whose findings are recommended as high risk and blocking.
HIGH_RISK = frozenset({*ALL_SECRETS, "payment_card", "iban", "us_ssn", "uk_nino", "ca_sin"})
BASELINE = (
    ("Do not share secrets such as API keys, passwords, tokens or private keys.", "high", "block"),
    ("Do not share personal data such as email addresses, phone numbers or national IDs.", "medium", "alert"),
)


class FlashbackPolicyRecommendationRequest(BaseModel):
    """FlashbackClient's ``PolicyRecommendationRequest`` (``src/api/types/ai/policy.ts``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    level: Literal[0, 1, 2] = Field(description="0 = organization, 1 = workspace, 2 = repository")
    uuid: StrictStr | None = Field(
        default=None, max_length=200, description="the org (id or slug), workspace or repository; level 0 may omit it"
    )
    prompt: StrictStr = Field(max_length=10_000, description="context, objectives, what the company handles")


class FlashbackPolicyRecommendation(BaseModel):
    content: str
    riskType: Literal["low", "medium", "high"]
    alertType: Literal["log", "alert", "block"]
    source: Literal["org", "prompt", "baseline"] = Field(description="PolicyHub: which rule recommended it")
    detectors: list[str] = Field(description="PolicyHub: the detectors the content activates")
    policyId: str | None = Field(default=None, description="PolicyHub: the org policy it copies (source org)")


class FlashbackPolicyRecommendationResponse(BaseModel):
    level: Literal[0, 1, 2]
    uuid: str = Field(description="as sent; at level 0 without one, the org's id")
    tokens_in: int = Field(description="0: no model is asked")
    tokens_out: int = Field(description="0: no model is asked")
    recommended_policies: list[FlashbackPolicyRecommendation]


@router.post(
    "/recommend",
    response_model=FlashbackPolicyRecommendationResponse,
    summary="Recommend AI Policies for an org, workspace or repository",
    openapi_extra=body_schema({"application/json": FlashbackPolicyRecommendationRequest}),
)
def recommend_policies(request: Request, c: ContainerDep, actor: CurrentActor, body: JsonBody) -> Response:
    req = parse_model(FlashbackPolicyRecommendationRequest, json_object(body))
    kind = LEVEL_KINDS[req.level]
    if kind is None:
        org = key_org(request, req.uuid)
        echo = req.uuid if req.uuid is not None else org.id
    elif req.uuid is None:
        raise InvalidInput.field("uuid", f"required at level {req.level} (the {kind}'s id)")
    else:
        echo = req.uuid
    judge = c.decisions.engine.judge is not None
    with c.db.read() as uow:
        target = _target(c, uow, actor, kind, req.uuid) if kind is not None else None
        applying, elsewhere = _split(_all_policies(c, uow, actor), target)
    found = recommend(applying, elsewhere, select(req.prompt), judge=judge)
    return JSONResponse(
        {"level": req.level, "uuid": echo, "tokens_in": 0, "tokens_out": 0, "recommended_policies": found}
    )


def recommend(
    applying: Sequence[Policy], elsewhere: Sequence[Policy], prompt: Selection, *, judge: bool
) -> list[dict[str, Any]]:
    """The recommendations for a target where ``applying`` apply, given the org's ``elsewhere`` (pure)."""
    covered: set[str] = set()
    contents: set[str] = set()
    for policy in applying:
        covered.update(select(_content(policy)).detectors)
        contents.add(_normalised(_content(policy)))
    out: list[dict[str, Any]] = []
    for policy in sorted(elsewhere, key=_severity):
        content = _content(policy)
        detectors = select(content).detectors
        if _normalised(content) in contents or (detectors and set(detectors) <= covered):
            continue
        contents.add(_normalised(content))
        covered.update(detectors)
        risk, action = _risk_action(policy)
        out.append(_item(content, risk.lower(), ALERT_TYPES.get(action, "log"), "org", detectors, policy.id))
    judged: set[str] = set()
    for found, label, detectors in prompt.terms:
        if detectors and set(detectors) <= covered:
            continue
        if not detectors and (not judge or label in judged):
            continue
        judged.add(label)
        content = _prompt_content(found, label, detectors)
        covered.update(detectors)
        high = bool(set(detectors) & HIGH_RISK)
        out.append(_item(content, "high" if high else "medium", "block" if high else "alert", "prompt", detectors))
    if not out and not prompt.terms:
        for content, risk, alert in BASELINE:
            detectors = select(content).detectors
            if not set(detectors) <= covered:
                covered.update(detectors)
                out.append(_item(content, risk, alert, "baseline", detectors))
    return out[:MAX_RECOMMENDATIONS]


def _prompt_content(found: str, label: str, detectors: tuple[str, ...]) -> str:
    """``Do not share any <label> ...``, or the prompt's own words when the label would not select the same
    detectors (the content must compile to what it recommends)."""
    content = f"Do not share any {label} in prompts or responses."
    if set(detectors) <= set(select(content).detectors):
        return content
    return f"Do not share any {found} in prompts or responses."


def _item(
    content: str, risk: str, alert: str, source: str, detectors: Sequence[str], policy_id: str | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "content": content,
        "riskType": risk,
        "alertType": alert,
        "source": source,
        "detectors": list(detectors),
    }
    if policy_id is not None:
        item["policyId"] = policy_id
    return item


def _content(policy: Policy) -> str:
    content = policy.spec.get("content")
    return content if isinstance(content, str) else ""


def _risk_action(policy: Policy) -> tuple[str, int]:
    risk, action = policy.spec.get("riskType"), policy.spec.get("actionType")
    return (risk if risk in RISK_ORDER else "LOW"), (action if isinstance(action, int) else 0)


def _severity(policy: Policy) -> tuple[int, int, Any, str]:
    risk, action = _risk_action(policy)
    return RISK_ORDER[risk], -action, utc(policy.created_at), policy.id


def _normalised(content: str) -> str:
    return " ".join(content.lower().split())


def _target(c: Container, uow: UnitOfWork, actor: Actor, kind: str, ref: str | None) -> Scope:
    """The workspace or repository ``ref`` names; anything else (unknown, another org's, another kind) is 404."""
    scope = None
    if ref is not None and is_canonical_uuid(ref):
        try:
            scope = c.scopes.get(uow, actor, ref)
        except NotFound:
            scope = None
    if scope is None or scope.id != ref or scope.kind != kind:
        raise NotFound(f"{kind.capitalize()} not found")
    return scope


def _all_policies(c: Container, uow: UnitOfWork, actor: Actor) -> list[Policy]:
    """Every live Flashback policy the actor can see."""
    found: list[Policy] = []
    after: tuple[str, str] | None = None
    while True:
        page = c.policies.list(uow, actor, PolicyFilter(type=TYPE_NAME, archived=False, after=after), PAGE)
        found += page
        if len(page) < PAGE:
            return found
        after = (page[-1].name, page[-1].id)


def _split(policies: list[Policy], target: Scope | None) -> tuple[list[Policy], list[Policy]]:
    """(the policies that apply at ``target``: the org's, its ancestors' and its own; all the others)."""
    paths: set[str | None] = {None}
    if target is not None:
        parts = target.path.split("/")
        paths |= {"/".join(parts[: i + 1]) for i in range(len(parts))}
    applying = [p for p in policies if p.scope_path in paths]
    return applying, [p for p in policies if p.scope_path not in paths]
