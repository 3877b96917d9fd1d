"""Shapes of the /v1 API (for validation of small bodies and for the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# A policy's models are built from the declaration of its fields (``domain/policy_fields.py``).
from policyhub.http.v1.policy_models import PolicyCreate as PolicyCreate
from policyhub.http.v1.policy_models import PolicyList as PolicyList
from policyhub.http.v1.policy_models import PolicyOut as PolicyOut
from policyhub.http.v1.policy_models import PolicyReplace as PolicyReplace


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MergePatch(BaseModel):
    """An RFC 7396 merge patch of the policy document (null removes a member). Server-owned members (`id`,
    `type`, `scope`, `version`, ...) may be repeated unchanged but neither changed nor removed (400 naming
    the member and what to do instead); `{"name": "new"}` renames the policy."""

    model_config = ConfigDict(extra="allow")


class JsonPatchOperation(BaseModel):
    op: Literal["add", "remove", "replace", "move", "copy", "test"]
    path: str
    value: Any = None
    from_: str | None = Field(default=None, alias="from")


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
    version: int = Field(ge=1, description="the version whose content becomes current again")
    comment: str = Field(default="", description='comment for the new version (default: "rollback to version N")')


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
    principal_id: str = Field(description="who the key is for: the id of a principal (POST .../principals creates one)")
    role: Literal["viewer", "editor", "admin", "agent"]
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
    decision_point: str | None = Field(
        description="the decision point whose requests evaluate policies of this type (POST .../decisions with "
        "this `point`); null: stored and versioned only, never evaluated"
    )
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


# -- OpenAPI examples of the bodies a newcomer would otherwise guess (each is sent to the real app by
# tests/http/v1/test_openapi_examples.py, in this order: principal, key, scopes, schema, policy, rollback).
def _example(summary: str, value: Any) -> dict[str, Any]:
    return {"summary": summary, "value": value}


PRINCIPAL_EXAMPLES = {
    "service_account": _example(
        "a CI job's identity (keys are issued to a principal)", {"kind": "service_account", "display_name": "ci-bot"}
    ),
    "user": _example("a person", {"kind": "user", "display_name": "Ann Lee", "email": "ann@example.com"}),
}
KEY_EXAMPLES = {
    "editor_at_scope": _example(
        "an editor key for everything under payments; principal_id is the id POST .../principals answered",
        {"principal_id": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", "role": "editor", "scope": "payments", "name": "ci"},
    ),
}
SCOPE_EXAMPLES = {
    "top_level": _example("a scope at the top of the org's tree", {"kind": "workspace", "key": "payments"}),
    "nested": _example(
        "a scope inside another: parent is the parent's path (its path becomes payments/api)",
        {"kind": "application", "key": "api", "name": "Payments API", "parent": "payments"},
    ),
}
DOCUMENT_SCHEMA_EXAMPLES = {
    "replica_limits": _example(
        'the JSON Schema itself is the body (not {"schema": ...}); document policies name it in spec["$schema"]',
        {
            "type": "object",
            "properties": {"$schema": {"type": "string"}, "max": {"type": "integer", "minimum": 1, "maximum": 50}},
            "required": ["max"],
            "additionalProperties": False,
        },
    ),
}
POLICY_EXAMPLES = {
    "document_at_scope": _example(
        "a document policy at a scope, checked against the org's document schema replica-limits",
        {
            "name": "max-replicas",
            "type": "document",
            "scope": "payments",
            "spec": {"$schema": "replica-limits", "max": 3},
            "comment": "first limits",
        },
    ),
}
ROLLBACK_EXAMPLES = {
    "to_version_1": _example(
        "make version 1's content current again (as a new version)", {"version": 1, "comment": "back to v1"}
    ),
}
