"""Pure translations from the decision log to Flashback's violations and alerts.

A *violation* is one ``flashback.ai`` result with status ``violation`` in one logged ``ai_content``
decision (any actionType: 0 logs, 1 alerts, 2 blocks). An *alert* is a violation of a policy whose
actionType is 1 (alert) or 2 (block, "prevent the action and alert administrators"). The fields follow
Flashback's ``PolicyViolationDTO`` / ``PolicyAlertDTO`` (FlashbackClient ``src/api/types/ai/policy.ts``): a
violation's ``severity`` is the policy's riskType and ``block`` whether it denied the content. PolicyHub adds
what its log knows: ``riskType`` and ``blocked`` (the same two facts on alerts too, under the names PolicyHub
gave them first), ``actionType``, the matched ``detectors`` with masked ``matches``, the judge's verdict,
``decisionId`` (for ``/v1`` decisions)...

The ids are stable: a UUID derived from the decision id and the policy id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from policyhub.domain.records import Principal, Scope
from policyhub.http.compat.flashback.levels import REPO, WORKSPACE
from policyhub.http.compat.flashback.translate import TYPE_NAME, iso_ms
from policyhub.storage.repositories.decisions import LoggedDecision

POINT = "ai_content"
#: Effects a violated policy can have (the log's pre-filter).
VIOLATION_EFFECTS = ("deny", "warn", "audit")
ALERT_ACTIONS = frozenset({1, 2})
_NAMESPACE = uuid.UUID("6f7d3c1e-8a0b-4c55-9d7e-2b1f0a9c4e11")


@dataclass(frozen=True)
class Found:
    """One violated Flashback policy in one logged decision."""

    decision: LoggedDecision
    result: dict[str, Any]
    details: dict[str, Any]

    @property
    def input(self) -> dict[str, Any]:
        return self.decision.input if isinstance(self.decision.input, dict) else {}

    @property
    def action_type(self) -> int | None:
        value = self.details.get("actionType")
        return value if isinstance(value, int) else None

    @property
    def risk_type(self) -> str | None:
        value = self.details.get("riskType")
        return value if isinstance(value, str) else None

    @property
    def blocked(self) -> bool:
        return self.result.get("effect") == "deny"

    @property
    def is_alert(self) -> bool:
        return self.action_type in ALERT_ACTIONS


#: The policy's ``riskType``, ``actionType`` and ``policyName`` by policy id (for results without details).
PolicyFacts = Callable[[str], dict[str, Any]]


def found_in(decision: LoggedDecision, facts: PolicyFacts) -> list[Found]:
    """The Flashback violations of a logged decision. An evaluation error of a blocking policy (its
    fail-closed denial) is one too, flagged ``error``; the engine records no details for it, so its
    risk and action come from the policy (``facts``)."""
    if decision.point != POINT:
        return []
    out = []
    for r in decision.results:
        if r.get("type") != TYPE_NAME or r.get("status") != "violation":
            continue
        given = r.get("details")
        details: dict[str, Any] = given if isinstance(given, dict) else {}
        if "actionType" not in details:
            details = {**facts(str(r.get("policy_id"))), **details}
        out.append(Found(decision, r, details))
    return out


def violation_id(found: Found) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{found.decision.id}/{found.result.get('policy_id')}"))


@dataclass(frozen=True)
class Names:
    """What the DTOs show by name: scopes by path, principals by id."""

    scopes: Mapping[str, Scope]
    principals: Mapping[str, Principal]

    def levels(self, path: str | None) -> tuple[Scope | None, Scope | None]:
        """The (workspace, repo) a decision was asked at."""
        scope = self.scopes.get(path) if path else None
        if scope is None:
            return None, None
        if scope.kind == REPO:
            parent = self.scopes.get(path.rsplit("/", 1)[0]) if path and "/" in path else None
            return (parent if parent is not None and parent.kind == WORKSPACE else None), scope
        return (scope, None) if scope.kind == WORKSPACE else (None, None)


def dto(found: Found, names: Names, *, alert: bool) -> dict[str, Any]:
    """Flashback's ``PolicyViolationDTO`` (``explanation``) or ``PolicyAlertDTO`` (``message``), plus
    PolicyHub's additions."""
    decision, result, details, given = found.decision, found.result, found.details, found.input
    workspace, repo = names.levels(decision.scope_path)
    user_id = _text(given.get("user")) or decision.principal_id or ""
    principal = names.principals.get(decision.principal_id or "")
    user_name = _text(given.get("user_name")) or (
        principal.display_name if principal is not None and not given.get("user") else user_id
    )
    text = "; ".join(str(r) for r in result.get("reasons", ()))
    matches = details.get("matches")
    out: dict[str, Any] = {
        "id": violation_id(found),
        "policyId": result.get("policy_id"),
        "policyName": details.get("policyName") or result.get("name"),
        "timestamp": iso_ms(decision.at),
        ("message" if alert else "explanation"): text,
        "conversationId": _text(given.get("conversation_id")),
        "repoId": repo.id if repo else None,
        "repoName": repo.name if repo else None,
        "userId": user_id,
        "userName": user_name,
        "repoAiApiKeyId": _text(given.get("gateway_key_id")),
        "repoAiApiKeyName": _text(given.get("gateway_key_name")),
        # PolicyHub additions
        "workspaceId": workspace.id if workspace else None,
        "workspaceName": workspace.name if workspace else None,
        "riskType": found.risk_type,
        "actionType": found.action_type,
        "blocked": found.blocked,
        "direction": details.get("direction") or given.get("direction") or "prompt",
        "detectors": sorted({m["detector"] for m in matches if isinstance(m, dict) and "detector" in m})
        if isinstance(matches, list)
        else [],
        "matches": matches if isinstance(matches, list) else [],
        "llmType": _text(given.get("llm_type")),
        "llmModel": _text(given.get("llm_model")),
        "host": _text(given.get("host")),
        "decisionId": decision.id,
    }
    if not alert:  # PolicyViolationDTO's own names (PolicyAlertDTO has neither)
        out["severity"] = found.risk_type
        out["block"] = found.blocked
    if isinstance(details.get("judge"), dict):
        out["judge"] = details["judge"]
    if result.get("error"):
        out["error"] = True
    return out


@dataclass(frozen=True)
class Criteria:
    """The filters Flashback's clients send, applied to each violation (the log pre-filters on type,
    effect, policy and time)."""

    policy_id: str | None = None
    scope_path: str | None = None  # the workspace or repo filter, resolved; None: everywhere
    risk_types: frozenset[str] | None = None
    block: bool | None = None
    llm_types: frozenset[str] | None = None  # lower-cased
    llm_models: frozenset[str] | None = None
    hosts: frozenset[str] | None = None
    alerts: bool = False

    def keep(self, found: Found) -> bool:
        if self.alerts and not found.is_alert:
            return False
        if self.policy_id is not None and found.result.get("policy_id") != self.policy_id:
            return False
        path = found.decision.scope_path
        if self.scope_path is not None and not (
            path is not None and (path == self.scope_path or path.startswith(self.scope_path + "/"))
        ):
            return False
        if self.risk_types is not None and found.risk_type not in self.risk_types:
            return False
        if self.block is not None and found.blocked is not self.block:
            return False
        given = found.input
        if self.llm_types is not None and str(given.get("llm_type") or "").lower() not in self.llm_types:
            return False
        if self.llm_models is not None and given.get("llm_model") not in self.llm_models:
            return False
        return self.hosts is None or given.get("host") in self.hosts


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
