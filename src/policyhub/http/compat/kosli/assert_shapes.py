"""Wire shapes of Kosli's assert endpoint and the pure translation of a decision into them.

The response follows Kosli's ``AssertArtifactResponse`` (OpenAPI ``GET /asserts/{org}/fingerprint/
{fingerprint}``): ``fingerprint``, ``flow``, ``trail``, ``compliant``, ``compliance_status``,
``html_url``, ``flows``, ``scope`` (``environment`` | ``policy``), ``environment``,
``policy_evaluations[]`` (``policy_name``, ``policy_version``, ``status`` COMPLIANT | NON-COMPLIANT,
``rule_evaluations[]``) and ``allow_listing``. Where Kosli's documents disagree, the CLI wins:
``flows`` is a list (the CLI decodes ``[]assertedFlow``; the OpenAPI document says one object).

PolicyHub extensions, ignored by Kosli clients: ``decision`` and ``decision_id`` (the decision-log
record, which ``html_url`` points at), and per policy ``effect`` and ``reasons``. ``compliant`` is
false only when the decision denies: a violated policy in ``warn`` or ``audit`` enforcement shows as
NON-COMPLIANT with its effect, but does not fail the gate.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policyhub.evaluation.inputs.environment import EnvironmentTrail
from policyhub.evaluation.outcome import Decision, DecisionResult, PolicyResult, Status


class KosliAssertEvidence(BaseModel):
    """``POST`` body (PolicyHub extension): what Kosli would know about the artifact from its trails."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(default=None, max_length=1024, description="the artifact's name (artifact.name)")
    trails: list[EnvironmentTrail] = Field(default_factory=list, max_length=100, description="none: no provenance")


class KosliRuleResolution(BaseModel):
    type: Literal[
        "missing_attestation",
        "non_compliant_attestation",
        "non_compliant_in_trail",
        "no_provenance",
        "missing_provenance",
        "legacy_flow",
        "rule_satisfied",
        "rule_not_applicable",
    ]
    context: dict[str, Any] | None = Field(description="flow_name, trail_name, artifact_status, for_control")


class KosliPolicyRuleDefinition(BaseModel):
    type: Literal["provenance", "trail-compliance", "attestation"]
    definition: dict[str, Any]


class KosliRuleEvaluation(BaseModel):
    rule: KosliPolicyRuleDefinition
    satisfied: bool | None
    ignored: bool = False
    resolutions: list[KosliRuleResolution] = Field(default_factory=list)


class KosliPolicyEvaluation(BaseModel):
    policy_name: str
    policy_version: int
    status: Literal["COMPLIANT", "NON-COMPLIANT"]
    rule_evaluations: list[KosliRuleEvaluation] = Field(default_factory=list)
    effect: str = Field(description="PolicyHub: allow, warn, deny or audit (the policy's enforcement applied)")
    reasons: list[str] = Field(description="PolicyHub: why, in words")


class KosliAttestationStatus(BaseModel):
    attestation_name: str
    attestation_type: str | None
    status: str | None
    is_compliant: bool | None
    unexpected: bool


class KosliComplianceStatus(BaseModel):
    artifact_fingerprint: str
    status: str
    is_compliant: bool
    attestations_statuses: list[KosliAttestationStatus]
    evaluated_at: float


class KosliAssertFlow(BaseModel):
    flow: str
    trail: str
    compliant: bool
    compliance_status: KosliComplianceStatus | None
    html_url: str


class KosliAssertArtifactResponse(BaseModel):
    fingerprint: str
    flow: str
    trail: str
    compliant: bool = Field(description="false when the decision denies")
    compliance_status: KosliComplianceStatus | None
    html_url: str = Field(description="PolicyHub: the decision-log record of this assertion")
    flows: list[KosliAssertFlow]
    scope: Literal["environment", "policy"]
    environment: str | None
    policy_evaluations: list[KosliPolicyEvaluation]
    allow_listing: dict[str, Any] | None = None
    decision: Literal["allow", "warn", "deny"] = Field(description="PolicyHub: the combined decision")
    decision_id: str = Field(description="PolicyHub: GET /v1/orgs/{org}/decisions/{decision_id}")


def trail_status(compliant: bool | None) -> str:
    return "INCOMPLETE" if compliant is None else ("COMPLIANT" if compliant else "NON-COMPLIANT")


def compliance_status(fingerprint: str, trail: EnvironmentTrail, at: float) -> dict[str, Any]:
    """Kosli's ``ArtifactComplianceResultResponse`` of one trail, from the evidence the caller sent."""
    return {
        "artifact_fingerprint": fingerprint,
        "status": trail_status(trail.compliant),
        "is_compliant": bool(trail.compliant),
        "attestations_statuses": [
            {
                "attestation_name": a.name,
                "attestation_type": a.type,
                "status": "COMPLETE",
                "is_compliant": a.compliant,
                "unexpected": False,
            }
            for a in trail.attestations
        ],
        "evaluated_at": at,
    }


def policy_evaluation(result: PolicyResult) -> dict[str, Any]:
    """One policy's part: the rule evaluations of the (only) artifact asserted."""
    artifacts = result.details.get("artifacts") or [{}]
    return {
        "policy_name": result.name,
        "policy_version": result.version,
        "status": "COMPLIANT" if result.status is Status.PASS else "NON-COMPLIANT",
        "rule_evaluations": artifacts[0].get("rule_evaluations", []),
        "effect": result.effect.value,
        "reasons": result.reasons,
    }


def assert_response(
    result: DecisionResult,
    *,
    fingerprint: str,
    trails: list[EnvironmentTrail],
    environment: str | None,
    html_url: str,
) -> dict[str, Any]:
    """The decision as Kosli's ``AssertArtifactResponse`` (scope ``environment`` when one was named)."""
    at = time.time()
    first = trails[0] if trails else None
    return {
        "fingerprint": fingerprint,
        "flow": first.flow.name if first else "",
        "trail": (first.name or "") if first else "",
        "compliant": result.decision is not Decision.DENY,
        "compliance_status": compliance_status(fingerprint, first, at) if first else None,
        "html_url": html_url,
        "flows": [
            {
                "flow": t.flow.name,
                "trail": t.name or "",
                "compliant": bool(t.compliant),
                "compliance_status": compliance_status(fingerprint, t, at),
                "html_url": html_url,
            }
            for t in trails
        ],
        "scope": "environment" if environment is not None else "policy",
        "environment": environment,
        "policy_evaluations": [policy_evaluation(r) for r in result.results],
        "allow_listing": None,
        "decision": result.decision.value,
        "decision_id": result.id,
    }
