"""``/policy/violations`` and ``/policy/alerts`` (and the per-policy forms): Flashback's view of the
decision log.

Every ``ai_content`` decision in which a ``flashback.ai`` policy was violated is in the log (the log keeps
every non-allow decision and every ``audit`` result); these routes read it through
:class:`~policyhub.services.decisions.DecisionService` (tenant filter, scope-bound keys, viewer role),
newest first, and page it Flashback's way (``skip``/``take``, ``take`` at most 100, with ``total``).
A workspace or repository the key cannot see gives an empty answer, as Flashback documents; another
org's policy, or an ``orgId`` naming another org, is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from policyhub.domain.ids import is_canonical_uuid
from policyhub.domain.records import Actor, Scope
from policyhub.errors import InvalidInput, NotFound
from policyhub.http.compat.flashback import findings_wire, wire
from policyhub.http.compat.flashback.findings import (
    POINT,
    VIOLATION_EFFECTS,
    Criteria,
    Found,
    Names,
    PolicyFacts,
    dto,
    found_in,
)
from policyhub.http.compat.flashback.levels import REPO, WORKSPACE
from policyhub.http.compat.flashback.translate import TYPE_NAME, flashback_name
from policyhub.http.deps import Container, ContainerDep, CurrentActor, key_org
from policyhub.services import keys
from policyhub.storage.repositories.decisions import DecisionFilter
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/policy", tags=["flashback"], responses=wire.ERROR_RESPONSES)

MAX_TAKE = 100
PAGE = 500  # decisions read per log page
MAX_SCAN = 20_000  # decisions read per request at most (beyond: ``truncated``, ``total`` is a floor)
RISK_TYPES = ("LOW", "MEDIUM", "HIGH")
_LAST_ID = "~"  # sorts after every id: a keyset position that keeps everything at the ``to`` instant

Csv = Annotated[str | None, Query(description="comma-separated values")]


@dataclass(frozen=True)
class FindingsQuery:
    org_id: str | None
    workspace_id: str | None
    repo_id: str | None
    policy_id: str | None
    since: datetime | None
    until: datetime | None
    skip: int
    take: int
    risk_types: frozenset[str] | None
    block: bool | None
    llm_types: frozenset[str] | None
    llm_models: frozenset[str] | None
    hosts: frozenset[str] | None


def findings_query(
    orgId: Annotated[str | None, Query(description="The key's org (id or slug); any other org is a 404")] = None,
    workspaceId: Annotated[str | None, Query(description="only content sent in this workspace")] = None,
    repoId: Annotated[str | None, Query(description="only content sent in this repository")] = None,
    policy: Annotated[str | None, Query(alias="policyId", description="only this policy's")] = None,
    since: Annotated[datetime | None, Query(alias="from", description="ISO 8601, inclusive")] = None,
    until: Annotated[datetime | None, Query(alias="to", description="ISO 8601, inclusive")] = None,
    skip: Annotated[int, Query(ge=0, description="records to skip")] = 0,
    take: Annotated[int, Query(ge=1, description="records to return (at most 100)")] = 50,
    severity: Csv = None,
    riskType: Annotated[str | None, Query(description="alias of severity: LOW, MEDIUM, HIGH (comma-separated)")] = None,
    block: Annotated[bool | None, Query(description="true: only blocked content; false: only what passed")] = None,
    llmType: Csv = None,
    llmModel: Csv = None,
    host: Csv = None,
) -> FindingsQuery:
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and since > until:
        raise InvalidInput.field("from", "must not be after 'to'")
    risks = _csv(",".join(v for v in (severity, riskType) if v), upper=True)
    if risks is not None and not risks <= set(RISK_TYPES):
        field = "severity" if severity else "riskType"
        raise InvalidInput.field(field, f"each value must be one of {', '.join(RISK_TYPES)}")
    llm_types = _csv(llmType)
    return FindingsQuery(
        org_id=orgId,
        workspace_id=workspaceId or None,
        repo_id=repoId or None,
        policy_id=policy or None,
        since=since,
        until=until,
        skip=skip,
        take=min(take, MAX_TAKE),
        risk_types=risks,
        block=block,
        llm_types=frozenset(v.lower() for v in llm_types) if llm_types is not None else None,
        llm_models=_csv(llmModel),
        hosts=_csv(host),
    )


Findings = Annotated[FindingsQuery, Depends(findings_query)]
PolicyId = Annotated[str, Path(description="Unique identifier of the policy (UUID)")]


@router.get("/violations", response_model=findings_wire.FlashbackViolationsEnvelope, summary="Get Policy Violations")
def list_violations(request: Request, c: ContainerDep, actor: CurrentActor, q: Findings) -> Response:
    return _answer(request, c, actor, q, alerts=False)


@router.get("/alerts", response_model=findings_wire.FlashbackAlertsEnvelope, summary="Get Policy Alerts")
def list_alerts(request: Request, c: ContainerDep, actor: CurrentActor, q: Findings) -> Response:
    return _answer(request, c, actor, q, alerts=True)


@router.get(
    "/{policyId}/violations",
    response_model=findings_wire.FlashbackViolationsEnvelope,
    summary="Get Policy Violations by Policy ID",
)
def policy_violations(
    request: Request, c: ContainerDep, actor: CurrentActor, policyId: PolicyId, q: Findings
) -> Response:
    return _answer(request, c, actor, q, alerts=False, policy_ref=policyId)


@router.get(
    "/{policyId}/alerts", response_model=findings_wire.FlashbackAlertsEnvelope, summary="Get Policy Alerts by Policy ID"
)
def policy_alerts(request: Request, c: ContainerDep, actor: CurrentActor, policyId: PolicyId, q: Findings) -> Response:
    return _answer(request, c, actor, q, alerts=True, policy_ref=policyId)


# -- helpers -----------------------------------------------------------------------------------------
def _answer(
    request: Request,
    c: Container,
    actor: Actor,
    q: FindingsQuery,
    *,
    alerts: bool,
    policy_ref: str | None = None,
) -> Response:
    org = key_org(request, q.org_id)
    key = "alerts" if alerts else "violations"
    with c.db.read() as uow:
        policy_id = _policy(c, uow, actor, policy_ref) if policy_ref is not None else q.policy_id
        scopes = {s.path: s for s in c.scopes.list(uow, actor)}
        level = _level({s.id: s for s in scopes.values()}, q.workspace_id, q.repo_id)
        if level is None or (policy_id is not None and not is_canonical_uuid(policy_id)):
            return JSONResponse({"success": True, key: [], "total": 0, "skip": q.skip, "take": q.take})
        criteria = Criteria(
            policy_id=policy_id,
            scope_path=level or None,
            risk_types=q.risk_types,
            block=q.block,
            llm_types=q.llm_types,
            llm_models=q.llm_models,
            hosts=q.hosts,
            alerts=alerts,
        )
        flt = DecisionFilter(
            policy_id=policy_id,
            policy_type=TYPE_NAME,
            effects=VIOLATION_EFFECTS,
            point=POINT,
            since=q.since,
            after=(q.until, _LAST_ID) if q.until is not None else None,
        )
        found, truncated = _scan(c, uow, actor, flt, criteria, _Facts(c, uow, actor))
        page = found[q.skip : q.skip + q.take]
        ids = {f.decision.principal_id for f in page if f.decision.principal_id}
        names = Names(scopes, keys.principal_names(uow, org.id, ids))
        items = [dto(f, names, alert=alerts) for f in page]
    body: dict[str, Any] = {"success": True, key: items, "total": len(found), "skip": q.skip, "take": q.take}
    if truncated:
        body["truncated"] = True
    return JSONResponse(body)


def _scan(
    c: Container, uow: UnitOfWork, actor: Actor, flt: DecisionFilter, criteria: Criteria, facts: PolicyFacts
) -> tuple[list[Found], bool]:
    """Every matching violation, newest first, reading the log page by page (at most :data:`MAX_SCAN`)."""
    out: list[Found] = []
    read = 0
    while True:
        rows, after = c.decisions.log_page(uow, actor, flt, PAGE)
        for decision in rows:
            out.extend(f for f in found_in(decision, facts) if criteria.keep(f))
        read += PAGE
        if after is None:
            return out, False
        if read >= MAX_SCAN:
            return out, True
        flt = replace(flt, after=after)


class _Facts:
    """A policy's current risk, action and name, read once per policy per request (archived included)."""

    def __init__(self, c: Container, uow: UnitOfWork, actor: Actor) -> None:
        self._c, self._uow, self._actor = c, uow, actor
        self._known: dict[str, dict[str, Any]] = {}

    def __call__(self, policy_id: str) -> dict[str, Any]:
        if policy_id not in self._known:
            try:
                policy = self._c.policies.get(self._uow, self._actor, policy_id, include_archived=True)
            except NotFound:
                self._known[policy_id] = {}
            else:
                spec = policy.spec
                facts = {"riskType": spec.get("riskType"), "actionType": spec.get("actionType")}
                self._known[policy_id] = {**facts, "policyName": flashback_name(policy)}
        return self._known[policy_id]


def _policy(c: Container, uow: UnitOfWork, actor: Actor, ref: str) -> str:
    """The id of a Flashback policy the key can see (archived ones keep their history); else 404."""
    if not is_canonical_uuid(ref):
        raise NotFound("Policy not found")
    try:
        policy = c.policies.get(uow, actor, ref, include_archived=True)
    except NotFound:
        raise NotFound("Policy not found") from None
    if policy.id != ref or policy.type != TYPE_NAME:
        raise NotFound("Policy not found")
    return policy.id


def _level(by_id: dict[str, Scope], workspace_id: str | None, repo_id: str | None) -> str | None:
    """The scope path the workspace/repo filters name ("" for none), or None when the key cannot see
    such a workspace or repository (the answer is then empty, not an error)."""
    workspace = by_id.get(workspace_id) if workspace_id else None
    repo = by_id.get(repo_id) if repo_id else None
    if (workspace_id and (workspace is None or workspace.kind != WORKSPACE)) or (
        repo_id and (repo is None or repo.kind != REPO)
    ):
        return None
    if repo is not None:
        return repo.path if workspace is None or repo.parent_id == workspace.id else None
    return workspace.path if workspace is not None else ""


def _csv(value: str | None, *, upper: bool = False) -> frozenset[str] | None:
    if not value:
        return None
    items = frozenset(v.strip().upper() if upper else v.strip() for v in value.split(",") if v.strip())
    return items or None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
