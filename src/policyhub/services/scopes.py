"""Scopes: create, read and delete the org's scope tree."""

from __future__ import annotations

import re
import uuid
from typing import Any

from policyhub.domain import names
from policyhub.domain.canonical import now
from policyhub.domain.ids import is_canonical_uuid
from policyhub.domain.records import Actor, Role, Scope
from policyhub.errors import Conflict, FieldError, InvalidInput, NotFound
from policyhub.services import audit
from policyhub.services.authz import covers, require_role
from policyhub.storage.unit_of_work import UnitOfWork

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_DEPTH = 8


class ScopeService:
    def create(
        self,
        uow: UnitOfWork,
        actor: Actor,
        *,
        kind: str,
        key: str,
        name: str | None = None,
        parent: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Scope:
        """Create a scope under ``parent`` (a path; None for the org level). Keys are unique among siblings."""
        audit.lock_org(uow, actor.org_id)
        if not KIND_PATTERN.fullmatch(kind):
            raise InvalidInput.field("kind", "must be 1-32 lower-case letters, digits or '_', starting with a letter")
        key = names.scope_key(key)
        parent_scope = None
        if parent not in (None, "", "/"):
            parent_scope = uow.scopes.by_path(actor.org_id, (parent or "").strip("/"))
            if parent_scope is None or not covers(actor, parent_scope.path):
                raise InvalidInput.field("parent", f"no scope {parent!r} in this organization")
        require_role(actor, Role.ADMIN, parent_scope.path if parent_scope else None)
        path = f"{parent_scope.path}/{key}" if parent_scope else key
        if path.count("/") >= MAX_DEPTH:
            raise InvalidInput.field("parent", f"scopes nest at most {MAX_DEPTH} levels deep")
        if uow.scopes.by_path(actor.org_id, path) is not None:
            raise Conflict(f"scope {path!r} already exists", [FieldError("key", "already exists under this parent")])
        scope = Scope(
            id=str(uuid.uuid4()),
            org_id=actor.org_id,
            parent_id=parent_scope.id if parent_scope else None,
            kind=kind,
            key=key,
            name=names.check_text("name", name or key, max_len=200),
            path=path,
            attributes=attributes or {},
            created_at=now(),
        )
        uow.scopes.insert(scope)
        audit.record(
            uow, actor, object_kind="scope", object_id=scope.id, type="scope_created", data={"path": path, "kind": kind}
        )
        return scope

    def get(self, uow: UnitOfWork, actor: Actor, ref: str) -> Scope:
        """A scope by id or path; 404 outside the actor's view."""
        scope = uow.scopes.get(actor.org_id, ref) if is_canonical_uuid(ref) else None
        scope = scope or uow.scopes.by_path(actor.org_id, ref.strip("/"))
        if scope is None or not (covers(actor, scope.path) or _is_ancestor(scope.path, actor.scope_path)):
            raise NotFound(f"scope {ref!r} not found")
        return scope

    def list(self, uow: UnitOfWork, actor: Actor, *, under: str | None = None, kind: str | None = None) -> list[Scope]:
        scopes = uow.scopes.list(actor.org_id, under=under.strip("/") if under else None, kind=kind)
        return [s for s in scopes if covers(actor, s.path)]

    def delete(self, uow: UnitOfWork, actor: Actor, ref: str) -> Scope:
        """Delete an empty scope: no child scopes and no policies (live or archived history)."""
        audit.lock_org(uow, actor.org_id)
        scope = self.get(uow, actor, ref)
        require_role(actor, Role.ADMIN, scope.path)
        if uow.scopes.children_count(actor.org_id, scope.id):
            raise Conflict(f"scope {scope.path!r} has child scopes; delete them first")
        live = uow.scopes.live_policy_count(actor.org_id, scope.id)
        if live:
            raise Conflict(f"scope {scope.path!r} holds {live} live policies; archive or move them first")
        if uow.scopes.any_policy_count(actor.org_id, scope.id):
            raise Conflict(f"scope {scope.path!r} holds the history of archived policies and cannot be deleted")
        uow.scopes.delete(actor.org_id, scope.id)
        audit.record(
            uow, actor, object_kind="scope", object_id=scope.id, type="scope_deleted", data={"path": scope.path}
        )
        return scope


def _is_ancestor(path: str, of: str | None) -> bool:
    return of is not None and of.startswith(path + "/")
