"""Wire models of Flashback's violations, alerts and policy validation (``src/api/types/ai/policy.ts``).

Response models document ``/openapi.json`` (the routes build dicts); fields after ``repoAiApiKeyName``
are PolicyHub additions. ``POST /policy/validate`` takes Flashback's ``PolicyValidationRequest``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from policyhub.http.compat.flashback.wire import RiskType


class FlashbackMatch(BaseModel):
    detector: str = Field(description="the detector that found it (payment_card, aws_access_key...)")
    kind: str | None = Field(default=None, description="e.g. the card network or the IBAN country")
    start: int = Field(description="offset of the first character (Unicode code points)")
    end: int = Field(description="offset after the last character")
    masked: str = Field(description="the value, masked (never returned in full)")
    excerpt: str = Field(description="the value with some context, everything sensitive masked")


class _Finding(BaseModel):
    id: str = Field(description="stable id (derived from the decision and the policy)")
    policyId: str
    policyName: str = Field(description="the policy's Flashback name when the decision was made")
    timestamp: str = Field(description="ISO 8601, milliseconds, UTC (Z)")
    conversationId: str | None
    repoId: str | None = Field(description="the repository the content was sent in (null: workspace or org)")
    repoName: str | None
    userId: str = Field(description="the end user the gateway named, else the key's principal")
    userName: str
    repoAiApiKeyId: str | None = Field(description="the gateway key the gateway named (input gateway_key_id)")
    repoAiApiKeyName: str | None
    workspaceId: str | None = Field(description="PolicyHub: the workspace the content was sent in")
    workspaceName: str | None
    riskType: RiskType | None = Field(description="PolicyHub: the policy's risk type (a violation's severity)")
    actionType: int | None = Field(description="PolicyHub: 0 log, 1 alert, 2 block")
    blocked: bool = Field(description="PolicyHub: whether this policy denied the content (a violation's block)")
    direction: Literal["prompt", "response"]
    detectors: list[str] = Field(description="PolicyHub: the detectors that matched")
    matches: list[FlashbackMatch]
    llmType: str | None
    llmModel: str | None
    host: str | None
    decisionId: str = Field(description="PolicyHub: the decision (GET /v1/orgs/{org}/decisions/{id})")
    judge: dict[str, Any] | None = Field(default=None, description="PolicyHub: the judge's verdict, if asked")
    error: bool = Field(default=False, description="PolicyHub: the policy could not be evaluated (fail-closed)")


class FlashbackPolicyViolation(_Finding):
    explanation: str
    severity: RiskType | None = Field(description="the violated policy's riskType (FlashbackClient reads this)")
    block: bool = Field(description="whether this policy blocked the content (FlashbackClient reads this)")


class FlashbackPolicyAlert(_Finding):
    message: str


class FlashbackViolationsEnvelope(BaseModel):
    success: bool = True
    violations: list[FlashbackPolicyViolation]
    total: int
    skip: int
    take: int
    truncated: bool = Field(default=False, description="PolicyHub: the scan stopped at its cap; total is a floor")


class FlashbackAlertsEnvelope(BaseModel):
    success: bool = True
    alerts: list[FlashbackPolicyAlert]
    total: int
    skip: int
    take: int
    truncated: bool = False


# -- POST /policy/validate ---------------------------------------------------------------------------
class FlashbackPolicyToValidate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    policy_uuid: StrictStr = Field(max_length=200, description="echoed back (any id the caller uses)")
    content: StrictStr = Field(min_length=1, max_length=10_000, description="the policy's natural-language rule")


class FlashbackPolicyValidationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    policies: list[FlashbackPolicyToValidate] = Field(min_length=1, max_length=100)


class FlashbackIssue(BaseModel):
    type: str
    description: str
    suggestion: str


class FlashbackPolicyValidationResult(BaseModel):
    policy_uuid: str
    score: int = Field(description="0-100: how much of the policy PolicyHub enforces (see advice)")
    advice: str
    issues: list[FlashbackIssue]
    severity: Literal["none", "low", "medium", "high"]
    mode: Literal["detectors", "detectors+judge", "judge"] = Field(description="PolicyHub: how it is evaluated")
    detectors: list[str] = Field(description="PolicyHub: the detectors the content activates")
    terms: list[dict[str, Any]] = Field(description="PolicyHub: the terms found and the detectors they select")
    uncovered: list[str] = Field(description="PolicyHub: sensitive data named that no detector finds")
    judgeConfigured: bool


class FlashbackPolicyValidationResponse(BaseModel):
    results: list[FlashbackPolicyValidationResult]
