"""Shapes of the /v1 API (for validation of small bodies and for the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicyCreate(Strict):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9\-_.~]*$")
    type: str = Field(description="a policy type from GET /v1/policy-types")
    scope: str | None = Field(default=None, description="scope path such as 'payments/api'; null: org level")
    description: str = ""
    spec: dict[str, Any] | None = Field(default=None, description="type-specific content (or give source)")
    source: str | None = Field(default=None, description="source text (e.g. YAML) for types that have one")
    enforcement: Literal["enforce", "warn", "audit"] = "enforce"
    enabled: bool = True
    labels: dict[str, str] = Field(default_factory=dict)
    attributes: dict[str, Any] = Field(default_factory=dict)
    comment: str = Field(default="", description="comment recorded on the first version")


class PolicyReplace(Strict):
    """Full replacement: omitted optional fields reset to their defaults."""

    name: str | None = None
    type: str | None = Field(default=None, description="required when the PUT creates the policy")
    scope: str | None = None
    description: str = ""
    spec: dict[str, Any] | None = None
    source: str | None = None
    enforcement: Literal["enforce", "warn", "audit"] = "enforce"
    enabled: bool = True
    labels: dict[str, str] = Field(default_factory=dict)
    attributes: dict[str, Any] = Field(default_factory=dict)
    comment: str = ""


class MergePatch(BaseModel):
    """An RFC 7396 merge patch of the policy document (null removes a member)."""

    model_config = ConfigDict(extra="allow")


class JsonPatchOperation(BaseModel):
    op: Literal["add", "remove", "replace", "move", "copy", "test"]
    path: str
    value: Any = None
    from_: str | None = Field(default=None, alias="from")


class PolicyOut(BaseModel):
    id: str
    name: str
    description: str
    type: str
    scope: str | None
    spec: dict[str, Any]
    source: str | None
    enforcement: Literal["enforce", "warn", "audit"]
    enabled: bool
    labels: dict[str, str]
    attributes: dict[str, Any]
    revision: int
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    archived: bool
    archived_at: datetime | None


class PolicyList(BaseModel):
    items: list[PolicyOut]
    next_page_token: str | None


class VersionOut(BaseModel):
    version: int
    comment: str
    content_hash: str
    created_at: datetime
    created_by: str
    created_by_name: str
    spec: dict[str, Any]
    source: str | None


class DiffOut(BaseModel):
    policy_id: str
    from_version: int
    to_version: int
    json_patch: list[dict[str, Any]]
    unified: str


class RollbackIn(Strict):
    version: int = Field(ge=1)
    comment: str = ""


class EventOut(BaseModel):
    seq: int
    type: str
    object_kind: str
    object_id: str
    actor_id: str
    actor_name: str
    at: datetime
    data: dict[str, Any]
    hash: str
    prev_hash: str


class EventList(BaseModel):
    items: list[EventOut]
    next_page_token: str | None


class ScopeIn(Strict):
    kind: str
    key: str
    name: str | None = None
    parent: str | None = Field(default=None, description="parent scope path; null for the org level")
    attributes: dict[str, Any] = Field(default_factory=dict)


class ScopeOut(BaseModel):
    id: str
    kind: str
    key: str
    name: str
    path: str
    parent_id: str | None
    attributes: dict[str, Any]
    created_at: datetime


class PrincipalIn(Strict):
    kind: Literal["user", "service_account"] = "user"
    display_name: str
    email: str | None = None


class PrincipalOut(BaseModel):
    id: str
    kind: str
    display_name: str
    email: str | None
    created_at: datetime


class KeyIn(Strict):
    principal_id: str
    role: Literal["viewer", "editor", "admin"]
    scope: str | None = None
    name: str = ""
    expires_at: datetime | None = None


class KeyOut(BaseModel):
    id: str
    principal_id: str
    name: str
    prefix: str
    role: str
    scope: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyOut):
    token: str = Field(description="the secret; shown only in this response")


class OrgOut(BaseModel):
    id: str
    slug: str
    name: str
    settings: dict[str, Any]
    created_at: datetime


class OrgSettingsIn(Strict):
    require_if_match: bool | None = None


class PolicyTypeOut(BaseModel):
    name: str
    title: str
    description: str
    immutable_fields: list[str]
    source_media_type: str | None
    spec_schema: dict[str, Any]


class AuditReport(BaseModel):
    ok: bool
    events_checked: int
    versions_checked: int
    broken_at_seq: int | None
    reason: str
    #: Events 1..N carry no MAC: written before the audit key was configured (null: every event is keyed).
    unkeyed_through: int | None
    note: str
