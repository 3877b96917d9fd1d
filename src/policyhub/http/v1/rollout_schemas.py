"""The rollout routes' shapes, for the OpenAPI document (the services check every field and name it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RolloutEnvironmentIn(BaseModel):
    scopes: list[str] = Field(
        default_factory=list,
        description="scope paths whose policies the environment receives, with their ancestors' and subtrees' "
        "(org-level policies always)",
    )


class RolloutEnvironmentOut(BaseModel):
    name: str
    scopes: list[str]
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


class RolloutEnvironmentList(BaseModel):
    environments: list[RolloutEnvironmentOut]


class DesiredRevision(BaseModel):
    revision: int = Field(description="sequence number of the org's last decision-relevant change")
    committed_at: str | None


class AgentState(BaseModel):
    name: str
    revision: int = Field(description="the revision the agent last reported applied")
    applied_at: str = Field(description="when it first reported that revision")
    in_sync: bool
    lag_s: float = Field(description="0 in sync; else the time since the desired revision committed")
    last_seen: str
    live: bool = Field(description="reported within POLICYHUB_AGENT_LIVE_S")
    last_error: str | None
    address: str | None
    stale_s: float | None
    counts: dict[str, Any]


class RolloutSummary(BaseModel):
    agents: int
    live: int
    in_sync: int


class RolloutStatusOut(BaseModel):
    environment: str
    scopes: list[str]
    desired: DesiredRevision
    agents: list[AgentState]
    summary: RolloutSummary


class SignedBundleOut(BaseModel):
    bundle: dict[str, Any] = Field(
        description='{"format": 1, "org", "environment", "revision", "scopes", "policies", "resources"}'
    )
    key_id: str
    signature: str = Field(description="base64 Ed25519 signature of the canonical JSON of `bundle`")


class BundleKey(BaseModel):
    key_id: str
    algorithm: str = "Ed25519"
    public_key: str = Field(description="base64 of the raw 32-byte public key")


class BundleKeyList(BaseModel):
    keys: list[BundleKey]


class AgentStatusIn(BaseModel):
    environment: str
    revision: int = Field(ge=0, description="the org revision the agent's state is current at")
    address: str | None = Field(None, description="host:port where the agent answers")
    last_error: str | None = None
    counts: dict[str, Any] = Field(default_factory=dict)
    stale_s: float | None = Field(None, description="seconds since the agent last knew its state current")


class AgentDecisionsIn(BaseModel):
    decisions: list[dict[str, Any]] = Field(
        description="decision log entries (id, at, point, scope, decision, input_hash, input, results, "
        "obligations, policies, bundle_revision), at most 1000"
    )


class AgentDecisionsOut(BaseModel):
    accepted: int
    duplicates: int
