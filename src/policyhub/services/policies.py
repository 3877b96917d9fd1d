"""PolicyService: the update rules for policies (create, replace/upsert, patch, archive, rollback).

Every change of a policy's content or metadata is planned by :meth:`PolicyService._change`, which
turns a desired policy *document* into a validated draft and decides whether a new version is due (the
content changed), and written by :meth:`PolicyService._write`, which stores it with one audit event per
kind of change through the unit of work it was given. The caller owns the transaction: either
everything here commits, or nothing does.

PATCH and PUT of an existing policy can also be *prepared*: planned on a read, outside the org's write
lock, so that the lock is held only to write. The prepared write checks that the policy is still at the
revision it was planned on and raises :class:`StalePlan` when it is not; the caller then runs the
ordinary write, under the lock, from the start.

This module holds the use cases; the rest is one module per concern, each a base of the next:
``policy_reads`` (reads, and the lookups writes share), ``policy_store`` (the one persistence path and the
audit events it drafts), ``policy_planning`` (the target, the draft, the change; planned outside the lock
where it can be), and ``policy_rules`` (the document's rules as pure functions). Faces do not call the write
methods here directly: they run commands (``services.commands``).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from policyhub.domain import names
from policyhub.domain.canonical import content_hash, now
from policyhub.domain.policy_document import etag
from policyhub.domain.records import Actor, EventType, Org, Policy, Role, Version
from policyhub.errors import Conflict, FieldError, InvalidInput, NotFound
from policyhub.policy_types.registry import PolicyTypeRegistry
from policyhub.services import audit, preconditions
from policyhub.services.authz import covers, require_role
from policyhub.services.patching import PatchBudget
from policyhub.services.policy_planning import PolicyPlanning
from policyhub.services.policy_rules import (
    defaults,
    drafted_fields,
    optional_text_field,
    reject_server_owned,
    restorable,
    text_field,
)
from policyhub.services.policy_store import Preconditions, PreparedWrite, WriteResult
from policyhub.services.validation_context import UowValidationContext
from policyhub.storage.unit_of_work import UnitOfWork

__all__ = ["PolicyService", "Preconditions", "PreparedWrite", "WriteResult"]


class PolicyService(PolicyPlanning):
    """Policy use cases. Stateless apart from the type registry; safe to share between threads."""

    def __init__(self, registry: PolicyTypeRegistry, patch_budget: PatchBudget | None = None) -> None:
        self.registry = registry
        #: Bounds every patch (operations, bytes added, the patched document: the body limit).
        self.patch_budget = patch_budget or PatchBudget()

    def create(
        self,
        uow: UnitOfWork,
        actor: Actor,
        org: Org,
        body: dict[str, Any],
        *,
        type_name: str,
        scope: str | None,
        comment: str = "",
    ) -> WriteResult:
        """Create a policy; a live policy with the same name is a 409."""
        audit.lock_org(uow, org.id)
        name = names.policy_name(text_field(body.get("name"), "name"))
        if uow.policies.by_name(org.id, name) is not None:
            raise Conflict(f"a policy named {name!r} already exists", [FieldError("name", "already exists")])
        return self._create(uow, actor, org, body, type_name=type_name, scope=scope, comment=comment)

    def put(
        self,
        uow: UnitOfWork,
        actor: Actor,
        org: Org,
        ref: str,
        body: dict[str, Any],
        pre: Preconditions,
    ) -> WriteResult:
        """Full replace of the policy ``ref`` (id or name), or create it under that name (upsert).

        Omitted optional fields reset to their defaults; ``type`` and ``scope`` may be omitted on
        replace (they cannot change anyway).
        """
        audit.lock_org(uow, org.id)
        current, body, comment = self._put_target(uow, actor, org, ref, body, pre)
        if current is None:
            name = body.setdefault("name", ref)
            if name != ref:
                raise InvalidInput.field("name", f"must equal the name in the path ({ref!r}) when creating")
            self._refuse_archived_echo(uow, actor, org, ref, body)
            type_name = text_field(body.pop("type", None), "type", required=True)
            scope = optional_text_field(body.pop("scope", None), "scope")
            reject_server_owned(body, None)
            return self._create(uow, actor, org, body, type_name=type_name, scope=scope, comment=comment)
        return self._write(uow, self._replacement(uow, actor, org, current, body, comment))

    def prepare_put(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, body: dict[str, Any], pre: Preconditions
    ) -> PreparedWrite | None:
        """:meth:`put` of an existing policy, planned on ``uow`` (a read); None when it must run under the
        lock from the start (it creates, renames, or its validation read other rows of the org)."""
        current, body, comment = self._put_target(uow, actor, org, ref, body, pre)
        if current is None:
            return None
        return self._prepared(self._replacement(uow, actor, org, current, body, comment))

    def merge_patch(
        self,
        uow: UnitOfWork,
        actor: Actor,
        org: Org,
        ref: str,
        patch: Any,
        pre: Preconditions,
        comment: str = "",
    ) -> WriteResult:
        """RFC 7396 merge patch of the policy document."""
        audit.lock_org(uow, org.id)
        return self._write(uow, self._merge_patched(uow, actor, org, ref, patch, pre, comment))

    def prepare_merge_patch(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, patch: Any, pre: Preconditions, comment: str = ""
    ) -> PreparedWrite | None:
        """:meth:`merge_patch` planned on ``uow`` (a read); see :meth:`prepare_put`."""
        return self._prepared(self._merge_patched(uow, actor, org, ref, patch, pre, comment))

    def json_patch(
        self,
        uow: UnitOfWork,
        actor: Actor,
        org: Org,
        ref: str,
        ops: Any,
        pre: Preconditions,
        comment: str = "",
    ) -> WriteResult:
        """RFC 6902 JSON Patch of the policy document; a failed ``test`` writes nothing (409)."""
        audit.lock_org(uow, org.id)
        return self._write(uow, self._json_patched(uow, actor, org, ref, ops, pre, comment))

    def prepare_json_patch(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, ops: Any, pre: Preconditions, comment: str = ""
    ) -> PreparedWrite | None:
        """:meth:`json_patch` planned on ``uow`` (a read); see :meth:`prepare_put`."""
        return self._prepared(self._json_patched(uow, actor, org, ref, ops, pre, comment))

    def archive(self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, pre: Preconditions) -> WriteResult:
        """Archive (soft-delete) a live policy; its history stays readable."""
        audit.lock_org(uow, org.id)
        current = self._current_for_write(uow, actor, org, ref, pre, "be archived again")
        return self._set_archived(uow, actor, current, archived=True)

    def unarchive(self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, pre: Preconditions) -> WriteResult:
        """Bring an archived policy back; its name must be free among live policies."""
        audit.lock_org(uow, org.id)
        current = self._find(uow, org.id, ref, include_archived=True, prefer_archived=True)
        if current is None or not covers(actor, current.scope_path):
            raise NotFound(f"policy {ref!r} not found")
        require_role(actor, Role.EDITOR, current.scope_path)
        preconditions.check(etag(current), if_match=pre.if_match, require_if_match=org.require_if_match)
        if not current.archived:
            raise Conflict(f"policy {current.name!r} is not archived")
        if uow.policies.by_name(org.id, current.name) is not None:
            raise Conflict(
                f"a live policy named {current.name!r} exists; rename or archive it first",
                [FieldError("name", "already exists")],
            )
        return self._set_archived(uow, actor, current, archived=False)

    def rollback(
        self,
        uow: UnitOfWork,
        actor: Actor,
        org: Org,
        ref: str,
        number: int,
        pre: Preconditions,
        comment: str = "",
    ) -> WriteResult:
        """Make version ``number``'s content current again, as a new version (event ``rollback``).

        The old content is validated as a write of it would be now (what it refers to may be gone: 409
        naming it), and the policy's reference index follows it, as after any write.
        """
        audit.lock_org(uow, org.id)
        current = self._current_for_write(uow, actor, org, ref, pre, "be rolled back")
        old = uow.policies.version(org.id, current.id, number)
        if old is None:
            raise NotFound(f"policy {ref!r} has no version {number}")
        if content_hash(current.spec, current.source) == old.content_hash:
            raise Conflict(f"version {number} is already the current content (version {current.version})")
        comment = names.check_text("comment", comment, max_len=4096, allow_newlines=True)
        plugin = self.registry.get(current.type)
        references = restorable(plugin, current, old, UowValidationContext(uow, org.id))
        at = now()
        updated = replace(
            current,
            spec=old.spec,
            source=old.source,
            version=current.version + 1,
            revision=current.revision + 1,
            updated_at=at,
            updated_by=actor.principal_id,
        )
        version = Version(
            policy_id=current.id,
            version=updated.version,
            spec=old.spec,
            source=old.source,
            content_hash=old.content_hash,
            comment=comment or f"rollback to version {number}",
            created_at=at,
            created_by=actor.principal_id,
        )
        data = {"version": updated.version, "restored_version": number, "content_hash": old.content_hash}
        self._persist(uow, actor, current, updated, version, [(EventType.ROLLBACK, data)])
        if plugin.references(current.spec) != references:
            uow.policies.set_references(org.id, current.id, references)
        return self._result(current, updated, created=False, new_version=True, events=[EventType.ROLLBACK])

    def _create(
        self,
        uow: UnitOfWork,
        actor: Actor,
        org: Org,
        body: dict[str, Any],
        *,
        type_name: str,
        scope: str | None,
        comment: str,
    ) -> WriteResult:
        reject_server_owned(body, None)
        scope_id, scope_path = self._resolve_scope(uow, org.id, scope)
        require_role(actor, Role.EDITOR, scope_path)
        plugin = self.registry.get(type_name)
        ctx = UowValidationContext(uow, org.id)
        draft = self._draft(ctx, plugin, {**defaults(), **body}, previous=None, comment=comment)
        at = now()
        policy = Policy(
            id=str(uuid.uuid4()),
            org_id=org.id,
            scope_id=scope_id,
            scope_path=scope_path,
            type=type_name,
            revision=1,
            version=1,
            created_at=at,
            created_by=actor.principal_id,
            updated_at=at,
            updated_by=actor.principal_id,
            archived=False,
            **drafted_fields(draft),
        )
        digest = content_hash(policy.spec, policy.source)
        version = Version(
            policy_id=policy.id,
            version=1,
            spec=policy.spec,
            source=policy.source,
            content_hash=digest,
            comment=comment,
            created_at=at,
            created_by=actor.principal_id,
        )
        data = {"name": policy.name, "type": type_name, "scope": scope_path, "version": 1, "content_hash": digest}
        self._persist(uow, actor, None, policy, version, [(EventType.CREATION, data)])
        if draft.normalized.references:
            uow.policies.set_references(org.id, policy.id, draft.normalized.references)
        return WriteResult(policy, created=True, changed=True, new_version=True, events=[EventType.CREATION])
