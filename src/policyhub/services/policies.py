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
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, cast

import jsonpatch
from pydantic import ValidationError

from policyhub.domain import names
from policyhub.domain.canonical import content_hash, now, same_json
from policyhub.domain.policy_document import (
    HOW_INSTEAD,
    SERVER_OWNED,
    WRITABLE,
    PolicyFields,
    etag,
    scope_ref,
    to_document,
)
from policyhub.domain.records import Actor, Enforcement, Event, EventType, Org, Policy, Role, Version
from policyhub.errors import Conflict, FieldError, InvalidInput, NotFound
from policyhub.policy_types.base import NormalizedSpec, PolicyType, spec_errors
from policyhub.policy_types.registry import PolicyTypeRegistry
from policyhub.services import audit, preconditions
from policyhub.services.authz import covers, require_role
from policyhub.services.patching import PatchBudget, check_document_size, json_patch, merge_patch
from policyhub.services.validation_context import UowValidationContext
from policyhub.storage.repositories.events import EventFilter
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.unit_of_work import StalePlan, UnitOfWork

#: A write planned outside the lock: run it in the write transaction (it raises :class:`StalePlan`).
PreparedWrite = Callable[[UnitOfWork], "WriteResult"]


@dataclass(frozen=True)
class Preconditions:
    """The conditional headers of a write (raw header values)."""

    if_match: str | None = None
    if_none_match: str | None = None


@dataclass
class WriteResult:
    policy: Policy
    created: bool
    changed: bool
    new_version: bool
    events: list[str] = field(default_factory=list)
    before: Policy | None = None

    @property
    def diff(self) -> list[dict[str, Any]]:
        """JSON Patch from the previous document to the new one (computed only when asked: dry runs)."""
        old = to_document(self.before) if self.before is not None else {}
        return list(jsonpatch.make_patch(old, to_document(self.policy)).patch)

    @property
    def etag(self) -> str:
        return etag(self.policy)


@dataclass
class _Draft:
    fields: PolicyFields
    normalized: NormalizedSpec
    comment: str


@dataclass(frozen=True, slots=True)
class _Change:
    """A planned change of an existing policy: ``updated`` is None when nothing changes."""

    actor: Actor
    org: Org
    plugin: PolicyType
    current: Policy
    updated: Policy | None
    draft: _Draft
    new_hash: str
    metadata: dict[str, dict[str, Any]]
    #: The plan read other rows of the org (a document schema, a referenced resource), which only the
    #: org's write lock keeps still: such a plan is not prepared outside it.
    read_org_state: bool


class PolicyService:
    """Policy use cases. Stateless apart from the type registry; safe to share between threads."""

    def __init__(self, registry: PolicyTypeRegistry, patch_budget: PatchBudget | None = None) -> None:
        self.registry = registry
        #: Bounds every patch (operations, bytes added, the patched document: the body limit).
        self.patch_budget = patch_budget or PatchBudget()

    @staticmethod
    def lock(uow: UnitOfWork, org: Org) -> None:
        """Take the org's write lock now (a face that checks something before writing needs it first)."""
        audit.lock_org(uow, org.id)

    # -- reads -----------------------------------------------------------------------------------
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

    # -- writes ----------------------------------------------------------------------------------
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
        name = names.policy_name(_str(body.get("name"), "name"))
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
            type_name = _str(body.pop("type", None), "type", required=True)
            scope = _opt_str(body.pop("scope", None), "scope")
            _reject_server_owned(body, None)
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

    def _put_target(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, body: dict[str, Any], pre: Preconditions
    ) -> tuple[Policy | None, dict[str, Any], str]:
        """The live policy a PUT replaces (None: it creates), its body without ``comment``, the comment."""
        body = dict(body)
        comment = _str(body.pop("comment", ""), "comment")
        current = self._find(uow, org.id, ref, include_archived=False)
        if current is not None and not covers(actor, current.scope_path):
            raise NotFound(f"policy {ref!r} not found")
        if current is None and _looks_like_uuid(ref):
            self._refuse_archived(uow, actor, org, ref, "be replaced")
        if current is not None and ref != current.id and isinstance(body.get("name"), str) and body["name"] != ref:
            raise InvalidInput.field(
                "name",
                f"differs from the policy named in the path ({ref!r}); PUT never renames: to rename it, PATCH "
                f'/v1/orgs/{org.slug}/policies/{ref} with the merge patch {{"name": {_json(body["name"])}}}',
            )
        preconditions.check(
            etag(current) if current else None,
            if_match=pre.if_match,
            if_none_match=pre.if_none_match,
            require_if_match=org.require_if_match,
        )
        return current, body, comment

    def _replacement(
        self, uow: UnitOfWork, actor: Actor, org: Org, current: Policy, body: dict[str, Any], comment: str
    ) -> _Change:
        body.setdefault("name", current.name)
        document = {**_defaults(), **body}
        document.setdefault("type", current.type)
        document.setdefault("scope", current.scope_path)
        return self._change(uow, actor, org, current, document, comment=comment)

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

    def _merge_patched(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, patch: Any, pre: Preconditions, comment: str
    ) -> _Change:
        if not isinstance(patch, dict):
            raise InvalidInput.field("body", "a merge patch must be a JSON object")
        current = self._current_for_write(uow, actor, org, ref, pre, "be patched")
        stored = to_document(current)
        document = _removals_as_null(stored, merge_patch(stored, patch))
        check_document_size(document, self.patch_budget)
        return self._change(uow, actor, org, current, document, comment=comment, stored=stored)

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

    def _json_patched(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, ops: Any, pre: Preconditions, comment: str
    ) -> _Change:
        current = self._current_for_write(uow, actor, org, ref, pre, "be patched")
        stored = to_document(current)
        document = json_patch(stored, ops, self.patch_budget)
        if not isinstance(document, dict):
            raise InvalidInput.field("body", "the patched document must remain a JSON object")
        document = _removals_as_null(stored, document)
        return self._change(uow, actor, org, current, document, comment=comment, stored=stored)

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

    def _set_archived(self, uow: UnitOfWork, actor: Actor, current: Policy, *, archived: bool) -> WriteResult:
        """Archive or restore ``current`` (checked by the caller): one change with one event, no version."""
        at = now()
        updated = replace(
            current,
            archived=archived,
            archived_at=at if archived else None,
            revision=current.revision + 1,
            updated_at=at,
            updated_by=actor.principal_id,
        )
        kind = EventType.ARCHIVING if archived else EventType.UNARCHIVING
        self._persist(
            uow, actor, current, updated, None, [(kind, {"name": current.name, "revision": updated.revision})]
        )
        return self._result(current, updated, created=False, new_version=False, events=[kind])

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
        references = _restorable(plugin, current, old, UowValidationContext(uow, org.id))
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

    # -- the write path --------------------------------------------------------------------------
    def _current_for_write(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, pre: Preconditions, verb: str = "be changed"
    ) -> Policy:
        """The live policy ``ref`` that the actor may write and the preconditions allow writing."""
        current = self._find(uow, org.id, ref, include_archived=False)
        if current is None:
            self._refuse_archived(uow, actor, org, ref, verb)
        if current is None or not covers(actor, current.scope_path):
            raise NotFound(f"policy {ref!r} not found")
        require_role(actor, Role.EDITOR, current.scope_path)
        preconditions.check(etag(current), if_match=pre.if_match, require_if_match=org.require_if_match)
        return current

    def _refuse_archived(self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, verb: str) -> None:
        """409 when ``ref`` is an archived policy the actor can see: a write to it must say so, and how to
        restore it, rather than claim it does not exist (GET shows it). Returns when there is none."""
        archived = self._find(uow, org.id, ref, include_archived=True)
        if archived is None or not archived.archived or not covers(actor, archived.scope_path):
            return
        require_role(actor, Role.EDITOR, archived.scope_path)
        raise Conflict(
            f"policy {archived.name!r} is archived, so it cannot {verb}; restore it first with "
            f"POST /v1/orgs/{org.slug}/policies/{ref}/unarchive"
        )

    def _refuse_archived_echo(self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, body: dict[str, Any]) -> None:
        """An upsert that would create ``ref`` while echoing the ``id`` of an archived policy (a document read
        with GET and sent back) means to write that policy: 409 saying it is archived, not a new policy.

        Without that ``id``, a PUT to the name of an archived policy creates a new one: archiving frees the
        name (``POST`` may reuse it too), so a client that deleted a policy can create it again."""
        echoed = body.get("id")
        if isinstance(echoed, str) and _looks_like_uuid(echoed):
            found = uow.policies.get(org.id, echoed)
            if found is not None and found.archived and found.name == ref:
                self._refuse_archived(uow, actor, org, echoed, "be replaced")

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
        _reject_server_owned(body, None)
        scope_id, scope_path = self._resolve_scope(uow, org.id, scope)
        require_role(actor, Role.EDITOR, scope_path)
        plugin = self.registry.get(type_name)
        ctx = UowValidationContext(uow, org.id)
        draft = self._draft(ctx, plugin, {**_defaults(), **body}, previous=None, comment=comment)
        at = now()
        policy = Policy(
            id=str(uuid.uuid4()),
            org_id=org.id,
            scope_id=scope_id,
            scope_path=scope_path,
            name=draft.fields.name,
            description=draft.fields.description,
            type=type_name,
            spec=draft.normalized.spec,
            source=draft.normalized.source,
            enforcement=Enforcement(draft.fields.enforcement),
            enabled=draft.fields.enabled,
            labels=draft.fields.labels,
            attributes=draft.fields.attributes,
            revision=1,
            version=1,
            created_at=at,
            created_by=actor.principal_id,
            updated_at=at,
            updated_by=actor.principal_id,
            archived=False,
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

    def _change(
        self,
        uow: UnitOfWork,
        actor: Actor,
        org: Org,
        current: Policy,
        document: dict[str, Any],
        *,
        comment: str,
        stored: dict[str, Any] | None = None,
    ) -> _Change:
        """Validate the desired document against ``current`` and work out what changes (writes nothing).

        ``stored``: ``current`` as a document, when the caller already has it (patches start from it).
        """
        require_role(actor, Role.EDITOR, current.scope_path)
        _reject_server_owned(document, stored if stored is not None else to_document(current))
        body = {k: v for k, v in document.items() if k not in SERVER_OWNED}
        plugin = self.registry.get(current.type)
        ctx = UowValidationContext(uow, org.id)
        draft = self._draft(ctx, plugin, body, previous=current, comment=comment)
        f = draft.fields
        new_hash = content_hash(draft.normalized.spec, draft.normalized.source)
        content_changed = _content_changed(current, draft.normalized, new_hash)
        candidate = replace(
            current,
            name=f.name,
            description=f.description,
            spec=draft.normalized.spec,
            source=draft.normalized.source,
            enforcement=Enforcement(f.enforcement),
            enabled=f.enabled,
            labels=f.labels,
            attributes=f.attributes,
        )
        metadata = _metadata_changes(current, candidate)
        updated: Policy | None = None
        if content_changed or metadata or candidate.name != current.name:
            at = now()
            updated = replace(
                candidate,
                revision=current.revision + 1,
                updated_at=at,
                updated_by=actor.principal_id,
                version=current.version + (1 if content_changed else 0),
            )
            if not content_changed:  # identical content: keep the stored spec/source bytes exactly
                updated = replace(updated, spec=current.spec, source=current.source)
        return _Change(actor, org, plugin, current, updated, draft, new_hash, metadata, ctx.consulted)

    def _prepared(self, change: _Change) -> PreparedWrite | None:
        """``change`` as a write to run under the lock later, or None when only the locked path may make it."""
        renames = change.updated is not None and change.updated.name != change.current.name
        if change.read_org_state or renames:
            return None
        return partial(self._write, change=change, planned=True)

    def _write(self, uow: UnitOfWork, change: _Change, *, planned: bool = False) -> WriteResult:
        """Store a planned change: the policy row (compare-and-set on its revision), the new version if
        the content changed, and one event per kind of change.

        ``planned``: the change was planned outside the lock, which this takes now; a policy that moved
        since raises :class:`StalePlan` before anything is written.
        """
        actor, org, current, updated = change.actor, change.org, change.current, change.updated
        if updated is None:
            return WriteResult(current, created=False, changed=False, new_version=False)
        if planned:
            audit.lock_org(uow, org.id)
        if updated.name != current.name and uow.policies.by_name(org.id, updated.name) is not None:
            raise Conflict(f"a policy named {updated.name!r} already exists", [FieldError("name", "already exists")])
        entries: list[tuple[str, dict[str, Any]]] = []
        if updated.name != current.name:
            entries.append((EventType.RENAMING, {"before": current.name, "after": updated.name}))
        if change.metadata:
            entries.append((EventType.METADATA_UPDATE, {"changes": change.metadata}))
        content_changed = updated.version != current.version
        draft, version = change.draft, None
        if content_changed:
            version = Version(
                policy_id=current.id,
                version=updated.version,
                spec=updated.spec,
                source=updated.source,
                content_hash=change.new_hash,
                comment=draft.comment,
                created_at=updated.updated_at,
                created_by=actor.principal_id,
            )
            entries.append(
                (
                    EventType.NEW_VERSION,
                    {
                        "version": updated.version,
                        "previous_version": current.version,
                        "content_hash": change.new_hash,
                        "comment": draft.comment,
                    },
                )
            )
        if not self._persist(uow, actor, current, updated, version, entries, check=not planned):
            raise StalePlan(f"policy {current.id} moved past revision {current.revision}")
        if content_changed:
            previous_refs = change.plugin.references(current.spec)
            if previous_refs is None or previous_refs != draft.normalized.references:
                uow.policies.set_references(org.id, current.id, draft.normalized.references)
        events = [type for type, _ in entries]
        return self._result(current, updated, created=False, new_version=content_changed, events=events)

    def _draft(
        self,
        ctx: UowValidationContext,
        plugin: PolicyType,
        body: dict[str, Any],
        *,
        previous: Policy | None,
        comment: str,
    ) -> _Draft:
        try:
            fields = PolicyFields.model_validate(body)
        except ValidationError as exc:
            raise spec_errors(exc, prefix="") from None
        fields.name = names.policy_name(fields.name)
        fields.description = names.check_text("description", fields.description, max_len=4096, allow_newlines=True)
        fields.labels = names.labels(fields.labels)
        comment = names.check_text("comment", comment, max_len=4096, allow_newlines=True)
        normalized = self._normalize(plugin, fields, previous, ctx)
        if previous is not None:
            _check_immutable_spec(plugin, previous.spec, normalized.spec)
        return _Draft(fields, normalized, comment)

    @staticmethod
    def _normalize(
        plugin: PolicyType,
        fields: PolicyFields,
        previous: Policy | None,
        ctx: UowValidationContext,
    ) -> NormalizedSpec:
        """Source text wins when it is new; otherwise the spec is validated (and any source dropped)."""
        source_changed = fields.source is not None and (previous is None or fields.source != previous.source)
        if source_changed:
            spec_changed = fields.spec is not None and (previous is None or not same_json(fields.spec, previous.spec))
            if spec_changed:
                raise InvalidInput.field("source", "give either spec or source, not both")
            return plugin.parse_source(fields.source or "", ctx)
        if fields.spec is None:
            if previous is not None and fields.source is not None and fields.source == previous.source:
                return NormalizedSpec(previous.spec, previous.source, plugin.normalize(previous.spec, ctx).references)
            raise InvalidInput.field("spec", "field required")
        if previous is not None and same_json(fields.spec, previous.spec) and fields.source == previous.source:
            normalized = plugin.normalize(fields.spec, ctx)
            return NormalizedSpec(previous.spec, previous.source, normalized.references)
        return plugin.normalize(fields.spec, ctx)

    @staticmethod
    def _persist(
        uow: UnitOfWork,
        actor: Actor,
        current: Policy | None,
        updated: Policy,
        version: Version | None,
        entries: builtins.list[tuple[str, dict[str, Any]]],
        *,
        check: bool = True,
    ) -> bool:
        """The one way a policy change is stored, whatever the command: the row (inserted when ``current`` is
        None, else compare-and-set on its revision), the new version if any, one audit event per entry and
        the org's chain head, in one statement on PostgreSQL (``repositories/changes.py``).

        False, with nothing written, when the policy moved since ``current`` was read and ``check`` is off
        (a planned write: the caller starts again); with ``check``, that is a 409.
        """
        drafted = audit.drafts(uow, actor, object_kind="policy", object_id=updated.id, entries=entries)
        if not uow.changes.write(updated, current.revision if current else None, version, drafted):
            if check:
                raise Conflict("the policy changed while this write was in progress; retry")
            return False
        audit.advance(uow, drafted)
        return True

    @staticmethod
    def _result(
        current: Policy, updated: Policy, *, created: bool, new_version: bool, events: builtins.list[str]
    ) -> WriteResult:
        return WriteResult(
            updated, created=created, changed=True, new_version=new_version, events=events, before=current
        )

    # -- lookups ---------------------------------------------------------------------------------
    @staticmethod
    def _find(
        uow: UnitOfWork,
        org_id: str,
        ref: str,
        *,
        include_archived: bool,
        prefer_archived: bool = False,
    ) -> Policy | None:
        if _looks_like_uuid(ref):
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


# -- helpers -----------------------------------------------------------------------------------------
def _defaults() -> dict[str, Any]:
    """The optional fields' defaults (fresh objects for the mutable ones): what an omitted field resets to."""
    return {name: factory() if factory else default for name, default, factory in _DEFAULTS}


_DEFAULTS: list[tuple[str, Any, Callable[[], Any] | None]] = [
    (name, info.default, cast("Callable[[], Any] | None", info.default_factory))  # no factory takes arguments
    for name, info in PolicyFields.model_fields.items()
    if name != "name"
]


def _reject_server_owned(document: dict[str, Any], stored: dict[str, Any] | None) -> None:
    """Server-owned fields may be echoed back unchanged; any other value is a 400 saying what to do."""
    errors = []
    for key in SERVER_OWNED:
        if key not in document:
            continue
        value = scope_ref(document[key]) if key == "scope" else document[key]
        if stored is None or value != stored[key]:
            how = HOW_INSTEAD.get(key, "it is set by the server")
            errors.append(FieldError(key, f"cannot be set or changed: {how}"))
    unknown = sorted(set(document) - set(SERVER_OWNED) - set(WRITABLE))
    errors += [FieldError(key, "unknown field") for key in unknown]
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)


def _removals_as_null(stored: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """A patched document in which each server-owned member the patch removed (merge patch ``null``, JSON
    Patch ``remove``) reads as set to null, so that removing one is refused exactly as setting it to null
    is (``{"scope": null}`` is a 400 naming ``scope``, not silently ignored), and allowed where it was null.
    """
    removed = [key for key in SERVER_OWNED if key in stored and key not in document]
    return {**document, **dict.fromkeys(removed)} if removed else document


def _content_changed(current: Policy, new: NormalizedSpec, new_hash: str) -> bool:
    """Whether the content hash changes, hashing the current content only when cheaper tests cannot tell.

    Two source texts compare as text, two specs as canonical JSON (:func:`same_json`).
    """
    if new.source is not None and current.source is not None:
        return new.source != current.source
    if new.source is None and current.source is None:
        return not same_json(new.spec, current.spec)
    return new_hash != content_hash(current.spec, current.source)


def _metadata_changes(before: Policy, after: Policy) -> dict[str, dict[str, Any]]:
    changes = {}
    for name in ("description", "enforcement", "enabled", "labels", "attributes"):
        old, new = getattr(before, name), getattr(after, name)
        if not same_json(_plain(old), _plain(new)):
            changes[name] = {"before": _plain(old), "after": _plain(new)}
    return changes


def _restorable(
    plugin: PolicyType, current: Policy, old: Version, ctx: UowValidationContext
) -> tuple[tuple[str, str], ...]:
    """The references of ``old``'s content, which must pass the validation a write of it would pass now."""
    try:
        normalized = plugin.normalize(old.spec, ctx)
        _check_immutable_spec(plugin, current.spec, normalized.spec)
    except InvalidInput as exc:
        raise Conflict(f"version {old.version} can no longer be restored: {exc.detail}", exc.errors) from None
    return normalized.references


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enforcement) else value


def _check_immutable_spec(plugin: PolicyType, old: dict[str, Any], new: dict[str, Any]) -> None:
    for dotted in plugin.immutable_fields:
        if not same_json(_dig(old, dotted), _dig(new, dotted)):
            raise InvalidInput.field(f"spec.{dotted}", "cannot be changed after creation; create a new policy")


def _dig(doc: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _looks_like_uuid(ref: str) -> bool:
    if len(ref) != 36:
        return False
    try:
        uuid.UUID(ref)
    except ValueError:
        return False
    return True


def _str(value: Any, field_name: str, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise InvalidInput.field(field_name, "field required")
        return ""
    if not isinstance(value, str):
        raise InvalidInput.field(field_name, "must be a string")
    return value


def _json(value: Any) -> str:
    """A value as JSON text, for a message that shows a body to send."""
    return json.dumps(value, ensure_ascii=False)


def _opt_str(value: Any, field_name: str) -> str | None:
    return None if value is None else _str(value, field_name)
