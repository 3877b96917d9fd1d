"""Vendor-owned objects that are not policies (JFrog rules and templates, Kosli and Apinizer
environments, ...): created, changed and deleted with an audit event each, under the org's write lock,
and never deleted while a live policy refers to them."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import replace
from typing import Any

from policyhub.domain.canonical import now
from policyhub.domain.records import Actor, Role
from policyhub.errors import Conflict, FieldError, NotFound
from policyhub.services import audit
from policyhub.services.authz import require_role
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork


class ResourceService:
    """CRUD for ``resources`` rows of one ``kind`` at a time; keys are unique per (org, kind)."""

    def create(
        self,
        uow: UnitOfWork,
        actor: Actor,
        kind: str,
        key: str,
        data: dict[str, Any],
        *,
        resource_id: str | None = None,
    ) -> Resource:
        """Create an object; an existing key of the same kind is a 409 naming ``key_field``."""
        require_role(actor, Role.EDITOR, None)
        audit.lock_org(uow, actor.org_id)
        if uow.resources.by_key(actor.org_id, kind, key) is not None:
            raise Conflict(f"{kind} {key!r} already exists", [FieldError("key", "already exists")])
        at = now()
        resource = Resource(
            id=resource_id or str(uuid.uuid4()),
            org_id=actor.org_id,
            kind=kind,
            key=key,
            data=data,
            created_at=at,
            created_by=actor.principal_id,
            updated_at=at,
            updated_by=actor.principal_id,
        )
        uow.resources.insert(resource)
        audit.record(uow, actor, object_kind=kind, object_id=resource.id, type="created", data={"key": key})
        return resource

    def update(
        self,
        uow: UnitOfWork,
        actor: Actor,
        kind: str,
        resource_id: str,
        data: dict[str, Any],
        *,
        key: str | None = None,
    ) -> Resource:
        """Replace an object's data (and optionally its key); no change, no event."""
        require_role(actor, Role.EDITOR, None)
        audit.lock_org(uow, actor.org_id)
        current = self.get(uow, actor, kind, resource_id)
        new_key = key if key is not None else current.key
        if new_key != current.key and uow.resources.by_key(actor.org_id, kind, new_key) is not None:
            raise Conflict(f"{kind} {new_key!r} already exists", [FieldError("key", "already exists")])
        if data == current.data and new_key == current.key:
            return current
        updated = replace(current, key=new_key, data=data, updated_at=now(), updated_by=actor.principal_id)
        uow.resources.update(updated)
        changed = sorted(k for k in set(data) | set(current.data) if data.get(k) != current.data.get(k))
        audit.record(
            uow,
            actor,
            object_kind=kind,
            object_id=resource_id,
            type="updated",
            data={"key": new_key, "changed": changed},
        )
        return updated

    def delete(self, uow: UnitOfWork, actor: Actor, kind: str, resource_id: str) -> Resource:
        """Delete an object; while live policies refer to it, a 409 naming them."""
        require_role(actor, Role.EDITOR, None)
        audit.lock_org(uow, actor.org_id)
        current = self.get(uow, actor, kind, resource_id)
        users = uow.policies.referencing(actor.org_id, kind, resource_id)
        if users:
            raise Conflict(f"{kind} {current.key!r} is used by policies: {', '.join(users[:10])}")
        uow.resources.delete(actor.org_id, kind, resource_id)
        audit.record(uow, actor, object_kind=kind, object_id=resource_id, type="deleted", data={"key": current.key})
        return current

    def get(self, uow: UnitOfWork, actor: Actor, kind: str, resource_id: str) -> Resource:
        found = uow.resources.get(actor.org_id, kind, resource_id)
        if found is None:
            raise NotFound(f"{kind} {resource_id!r} not found")
        return found

    def by_key(self, uow: UnitOfWork, actor: Actor, kind: str, key: str) -> Resource:
        found = uow.resources.by_key(actor.org_id, kind, key)
        if found is None:
            raise NotFound(f"{kind} {key!r} not found")
        return found

    def list(self, uow: UnitOfWork, actor: Actor, kind: str) -> builtins.list[Resource]:
        return uow.resources.list(actor.org_id, kind)

    def referencing_policies(self, uow: UnitOfWork, actor: Actor, kind: str, resource_id: str) -> builtins.list[str]:
        """Names of live policies that refer to the object."""
        return uow.policies.referencing(actor.org_id, kind, resource_id)
