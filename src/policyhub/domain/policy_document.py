"""The public JSON document of a policy: what GET returns and what PUT/PATCH edit."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policyhub.domain.canonical import iso
from policyhub.domain.records import Policy

#: Fields the server owns: a write may repeat them only with their stored value.
SERVER_OWNED = (
    "id",
    "type",
    "scope",
    "revision",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "archived",
    "archived_at",
)
#: How a client changes a server-owned field instead (used in the 400 message).
HOW_INSTEAD = {
    "id": "the id is assigned at creation",
    "type": "the type is fixed at creation; create a new policy of the other type",
    "scope": "the scope is fixed at creation; create the policy in the other scope and archive this one",
    "revision": "the revision is assigned by the server; use If-Match for preconditions",
    "version": "versions are created by changing spec; use POST .../rollback to restore an old one",
    "archived": "use DELETE to archive and POST .../unarchive to restore",
    "archived_at": "use DELETE to archive and POST .../unarchive to restore",
}


class PolicyFields(BaseModel):
    """The writable fields of a policy, strictly typed; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=4096)
    spec: dict[str, Any] | None = None
    source: str | None = None
    enforcement: Literal["enforce", "warn", "audit"] = "enforce"
    enabled: bool = True
    labels: dict[str, str] = Field(default_factory=dict)
    attributes: dict[str, Any] = Field(default_factory=dict)


WRITABLE = tuple(PolicyFields.model_fields)


def scope_ref(value: object) -> object:
    """The canonical form of a scope reference: no surrounding slashes; ``""`` and ``"/"`` mean the org."""
    if isinstance(value, str):
        value = value.strip("/")
        return value or None
    return value


def etag(policy: Policy) -> str:
    """A strong entity tag, unique across policies (so a recreated name never matches an old tag)."""
    return f'"{policy.id}.{policy.revision}"'


def to_document(policy: Policy) -> dict[str, Any]:
    """The policy as clients see it. Keys are in a stable order."""
    return {
        "id": policy.id,
        "name": policy.name,
        "description": policy.description,
        "type": policy.type,
        "scope": policy.scope_path,
        "spec": policy.spec,
        "source": policy.source,
        "enforcement": policy.enforcement.value,
        "enabled": policy.enabled,
        "labels": policy.labels,
        "attributes": policy.attributes,
        "revision": policy.revision,
        "version": policy.version,
        "created_at": iso(policy.created_at),
        "created_by": policy.created_by,
        "updated_at": iso(policy.updated_at),
        "updated_by": policy.updated_by,
        "archived": policy.archived,
        "archived_at": iso(policy.archived_at) if policy.archived_at else None,
    }
