"""Flashback AI Policy wire models: what its clients send and receive (``src/api/types/ai/policy.ts``).

Request models reject unknown fields and are strictly typed (``"2"`` is not an ``actionType``); the
enum ranges themselves are enforced once, by the ``flashback.ai`` policy type. Response models
describe the JSON the routes render (they document ``/openapi.json``; the hot path builds dicts).
Class names carry a ``Flashback`` prefix because OpenAPI component names are global across dialects.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

RiskType = Literal["LOW", "MEDIUM", "HIGH"]
_ACTION: dict[str, Any] = {"enum": [0, 1, 2]}
_ACTION_DOC = "Action on violation: 0 = log, 1 = alert, 2 = block"

#: The fields a PUT may change (the seed's "Updatable Fields").
UPDATABLE = ("name", "content", "riskType", "actionType")
#: The fields that fix a policy's level; echoing them unchanged is allowed, changing them is a 400.
SCOPE_FIELDS = ("orgId", "workspaceId", "repoId")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FlashbackCreatePolicyRequest(_Strict):
    """``POST /policy``: the level is org (no ids), workspace (``workspaceId``) or repo (both ids)."""

    name: StrictStr = Field(description="Human-readable name (free text)")
    content: StrictStr = Field(description="Policy rules and description (natural language)")
    riskType: RiskType = Field(description="Risk classification level")
    actionType: StrictInt = Field(description=_ACTION_DOC, json_schema_extra=_ACTION)
    orgId: StrictStr | None = Field(default=None, description="The key's org (id or slug); defaults to it")
    workspaceId: StrictStr | None = Field(default=None, description="Workspace id, for a workspace or repo policy")
    repoId: StrictStr | None = Field(default=None, description="Repository id (in the workspace), for a repo policy")


class FlashbackUpdatePolicyRequest(_Strict):
    """``PUT /policy/{policyId}``: all fields optional, at least one required; the scope is immutable."""

    name: StrictStr | None = Field(default=None, description="Human-readable name (free text)")
    content: StrictStr | None = Field(default=None, description="Policy rules and description (natural language)")
    riskType: RiskType | None = Field(default=None, description="Risk classification level")
    actionType: StrictInt | None = Field(default=None, description=_ACTION_DOC, json_schema_extra=_ACTION)


class FlashbackUserRef(BaseModel):
    id: str
    name: str = Field(description="First name (the principal's display name up to the first space)")
    lastName: str = Field(description="Last name (the rest of the display name; empty if none)")
    email: str = Field(description="Email (empty if the principal has none)")


class FlashbackNamedRef(BaseModel):
    id: str
    name: str


class FlashbackPolicyDTO(BaseModel):
    id: str = Field(description="Policy UUID")
    orgId: str
    name: str
    content: str
    riskType: RiskType
    actionType: int = Field(json_schema_extra=_ACTION)
    createdBy: FlashbackUserRef
    createdAt: str = Field(description="ISO 8601, milliseconds, UTC (Z)")
    lastUpdatedBy: FlashbackUserRef
    lastUpdatedAt: str = Field(description="ISO 8601, milliseconds, UTC (Z)")
    workspaceId: str | None = Field(description="Workspace id (null for org-level)")
    repoId: str | None = Field(description="Repository id (null for workspace/org-level)")
    workspace: FlashbackNamedRef | None = None
    repo: FlashbackNamedRef | None = None


class FlashbackPolicyEnvelope(BaseModel):
    success: bool = True
    policy: FlashbackPolicyDTO


class FlashbackPolicyListEnvelope(BaseModel):
    success: bool = True
    policies: list[FlashbackPolicyDTO]


class FlashbackActionResponse(BaseModel):
    success: bool = True
    message: str | None = None


class FlashbackErrorResponse(BaseModel):
    success: Literal[False] = False
    message: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": FlashbackErrorResponse, "description": "Validation error"},
    401: {"model": FlashbackErrorResponse, "description": "Missing or invalid API key"},
    403: {"model": FlashbackErrorResponse, "description": "Insufficient permissions"},
    404: {"model": FlashbackErrorResponse, "description": "Policy (or org) not found"},
    500: {"model": FlashbackErrorResponse, "description": "Internal error"},
}
