"""Reading policies as an actor may see them, and the lookups the writes share (by id or name, scopes)."""

from __future__ import annotations

import builtins
from dataclasses import replace

from policyhub.domain.ids import is_canonical_uuid
from policyhub.domain.policy_document import scope_ref
from policyhub.domain.records import Actor, Event, Org, Policy, Version
from policyhub.errors import InvalidInput, NotFound
from policyhub.services import audit
from policyhub.services.authz import covers
from policyhub.storage.repositories.events import EventFilter
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.unit_of_work import UnitOfWork


class PolicyReads:
    """Policy reads; the base of :class:`~policyhub.services.policies.PolicyService`."""

    @staticmethod
    def lock(uow: UnitOfWork, org: Org) -> None:
        """Take the org's write lock now (a face that checks something before writing needs it first)."""
        audit.lock_org(uow, org.id)

    def get(self, uow: UnitOfWork, actor: Actor, ref: str, *, include_archived: bool = True) -> Policy:
        """A policy by id, or by the name of a live one; 404 when absent or outside the actor's view."""
        policy = self._find(uow, actor.org_id, ref, include_archived=include_archived)
        if policy is None or not covers(actor, policy.scope_path):
            raise NotFound(f"policy {ref!r} not found")
        return policy

    def list(self, uow: UnitOfWork, actor: Actor, flt: PolicyFilter, limit: int) -> list[Policy]:
        if actor.scope_path is not None:
            flt = replace(flt, scope_paths_visible=(actor.scope_path,))
        return uow.policies.list(actor.org_id, flt, limit)

    def versions(
        self, uow: UnitOfWork, actor: Actor, ref: str, *, after: int = 0, limit: int | None = None
    ) -> tuple[Policy, builtins.list[Version]]:
        """A policy's versions, oldest first (a page: those after version ``after``, at most ``limit``)."""
        policy = self.get(uow, actor, ref)
        return policy, uow.policies.versions(actor.org_id, policy.id, after=after, limit=limit)

    def version(self, uow: UnitOfWork, actor: Actor, ref: str, number: int) -> tuple[Policy, Version]:
        policy = self.get(uow, actor, ref)
        found = uow.policies.version(actor.org_id, policy.id, number)
        if found is None:
            raise NotFound(f"policy {ref!r} has no version {number}")
        return policy, found

    def events(self, uow: UnitOfWork, actor: Actor, ref: str) -> builtins.list[Event]:
        """A policy's audit events, oldest first (404 outside the actor's view)."""
        policy = self.get(uow, actor, ref)
        return uow.events.for_object(actor.org_id, policy.id)

    def event_page(self, uow: UnitOfWork, actor: Actor, ref: str, flt: EventFilter, limit: int) -> builtins.list[Event]:
        """A filtered page of one policy's events (404 outside the actor's view)."""
        policy = self.get(uow, actor, ref)
        return uow.events.list(actor.org_id, replace(flt, object_id=policy.id), limit)

    def name_holder(self, uow: UnitOfWork, org: Org, name: str) -> Policy | None:
        """The live policy holding ``name``, if any (call after :meth:`lock` when about to write)."""
        return uow.policies.by_name(org.id, name)

    @staticmethod
    def _find(
        uow: UnitOfWork,
        org_id: str,
        ref: str,
        *,
        include_archived: bool,
        prefer_archived: bool = False,
    ) -> Policy | None:
        if is_canonical_uuid(ref):
            found = uow.policies.get(org_id, ref)
            if found is not None and (include_archived or not found.archived):
                return found
        live = uow.policies.by_name(org_id, ref)
        if live is not None and not prefer_archived:
            return live
        if include_archived:
            archived = uow.policies.latest_archived_by_name(org_id, ref)
            return archived or live
        return live

    @staticmethod
    def _resolve_scope(uow: UnitOfWork, org_id: str, scope: str | None) -> tuple[str | None, str | None]:
        path = scope_ref(scope)
        if path is None:
            return None, None
        if not isinstance(path, str):
            raise InvalidInput.field("scope", "must be a scope path")
        found = uow.scopes.by_path(org_id, path)
        if found is None:
            raise InvalidInput.field("scope", f"no scope {path!r} in this organization")
        return found.id, found.path
