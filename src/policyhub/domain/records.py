"""Plain records passed between layers. Repositories build them from rows; faces render them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"
    #: An agent at an enforcement point: reads bundles and the change feed, reports status and decisions,
    #: and nothing else (``services.authz.refuse_agent``); below every other role.
    AGENT = "agent"

    @property
    def rank(self) -> int:
        return {"agent": 0, "viewer": 1, "editor": 2, "admin": 3}[self.value]


class Enforcement(StrEnum):
    ENFORCE = "enforce"
    WARN = "warn"
    AUDIT = "audit"


class EventType(StrEnum):
    CREATION = "creation"
    METADATA_UPDATE = "metadata_update"
    NEW_VERSION = "new_version"
    RENAMING = "renaming"
    ARCHIVING = "archiving"
    UNARCHIVING = "unarchiving"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Org:
    id: str
    slug: str
    name: str
    settings: dict[str, Any]
    created_at: datetime

    @property
    def require_if_match(self) -> bool:
        return bool(self.settings.get("require_if_match", False))


@dataclass(frozen=True)
class Scope:
    id: str
    org_id: str
    parent_id: str | None
    kind: str
    key: str
    name: str
    path: str
    attributes: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Resource:
    """A vendor-owned object that is not a policy (JFrog rule or template, Kosli or Apinizer environment, ...)."""

    id: str
    org_id: str
    kind: str
    key: str
    data: dict[str, Any]
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class Principal:
    id: str
    org_id: str
    kind: str
    display_name: str
    email: str | None
    created_at: datetime
    disabled: bool = False


@dataclass(frozen=True)
class ApiKey:
    id: str
    org_id: str
    principal_id: str
    name: str
    prefix: str
    role: Role
    scope_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class Actor:
    """Who is acting: an authenticated key's principal, its role and where the role applies."""

    org_id: str
    principal_id: str
    name: str
    role: Role
    scope_path: str | None = None  # None: the whole org
    key_id: str | None = None
    email: str | None = None


@dataclass
class Policy:
    """A policy. Its fields are declared in ``domain/policy_fields.py`` (how each is stored, shown and set),
    which checks this class against the declaration when it is imported."""

    id: str
    org_id: str
    scope_id: str | None
    scope_path: str | None
    name: str
    description: str
    type: str
    spec: dict[str, Any]
    source: str | None
    enforcement: Enforcement
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
    archived_at: datetime | None = None


@dataclass(frozen=True)
class Version:
    policy_id: str
    version: int
    spec: dict[str, Any]
    source: str | None
    content_hash: str
    comment: str
    created_at: datetime
    created_by: str
    created_by_name: str = ""


@dataclass(frozen=True)
class Event:
    org_id: str
    seq: int
    object_kind: str
    object_id: str
    type: str
    actor_id: str
    actor_name: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
    #: The audit key that MACs this event (``domain.audit_keys``), and the MAC; empty on events written
    #: before the deployment had a key.
    key_id: str = ""
    mac: str = ""
