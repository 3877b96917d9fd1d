"""Working out a write: the policy it targets (found, visible, writable, its preconditions met), the desired
document validated into a draft, and the change it makes, which can be planned outside the lock."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from pydantic import ValidationError

from policyhub.domain import names
from policyhub.domain.canonical import content_hash, now, same_json
from policyhub.domain.ids import is_canonical_uuid
from policyhub.domain.policy_document import SERVER_OWNED, WrittenFields, etag, to_document, written_fields
from policyhub.domain.policy_fields import CHECKED
from policyhub.domain.records import Actor, Org, Policy, Role
from policyhub.errors import Conflict, InvalidInput, NotFound
from policyhub.policy_types.base import NormalizedSpec, PolicyType, spec_errors
from policyhub.policy_types.registry import PolicyTypeRegistry
from policyhub.services import preconditions
from policyhub.services.authz import covers, require_role
from policyhub.services.patching import PatchBudget, check_document_size, json_patch, merge_patch
from policyhub.services.policy_rules import (
    Draft,
    check_immutable_spec,
    content_hash_changes,
    defaults,
    drafted_fields,
    json_text,
    metadata_changes,
    reject_server_owned,
    removals_as_null,
    text_field,
)
from policyhub.services.policy_store import Change, PolicyPersistence, Preconditions, PreparedWrite
from policyhub.services.validation_context import UowValidationContext
from policyhub.storage.unit_of_work import UnitOfWork


class PolicyPlanning(PolicyPersistence):
    """Planning of policy writes (writes nothing)."""

    registry: PolicyTypeRegistry
    #: Bounds every patch (operations, bytes added, the patched document: the body limit).
    patch_budget: PatchBudget

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
        if isinstance(echoed, str) and is_canonical_uuid(echoed):
            found = uow.policies.get(org.id, echoed)
            if found is not None and found.archived and found.name == ref:
                self._refuse_archived(uow, actor, org, echoed, "be replaced")

    def _put_target(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, body: dict[str, Any], pre: Preconditions
    ) -> tuple[Policy | None, dict[str, Any], str]:
        """The live policy a PUT replaces (None: it creates), its body without ``comment``, the comment."""
        body = dict(body)
        comment = text_field(body.pop("comment", ""), "comment")
        current = self._find(uow, org.id, ref, include_archived=False)
        if current is not None and not covers(actor, current.scope_path):
            raise NotFound(f"policy {ref!r} not found")
        if current is None and is_canonical_uuid(ref):
            self._refuse_archived(uow, actor, org, ref, "be replaced")
        if current is not None and ref != current.id and isinstance(body.get("name"), str) and body["name"] != ref:
            raise InvalidInput.field(
                "name",
                f"differs from the policy named in the path ({ref!r}); PUT never renames: to rename it, PATCH "
                f'/v1/orgs/{org.slug}/policies/{ref} with the merge patch {{"name": {json_text(body["name"])}}}',
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
    ) -> Change:
        body.setdefault("name", current.name)
        document = {**defaults(), **body}
        document.setdefault("type", current.type)
        document.setdefault("scope", current.scope_path)
        return self._change(uow, actor, org, current, document, comment=comment)

    def _merge_patched(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, patch: Any, pre: Preconditions, comment: str
    ) -> Change:
        if not isinstance(patch, dict):
            raise InvalidInput.field("body", "a merge patch must be a JSON object")
        current = self._current_for_write(uow, actor, org, ref, pre, "be patched")
        stored = to_document(current)
        document = removals_as_null(stored, merge_patch(stored, patch))
        check_document_size(document, self.patch_budget)
        return self._change(uow, actor, org, current, document, comment=comment, stored=stored)

    def _json_patched(
        self, uow: UnitOfWork, actor: Actor, org: Org, ref: str, ops: Any, pre: Preconditions, comment: str
    ) -> Change:
        current = self._current_for_write(uow, actor, org, ref, pre, "be patched")
        stored = to_document(current)
        document = json_patch(stored, ops, self.patch_budget)
        if not isinstance(document, dict):
            raise InvalidInput.field("body", "the patched document must remain a JSON object")
        document = removals_as_null(stored, document)
        return self._change(uow, actor, org, current, document, comment=comment, stored=stored)

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
    ) -> Change:
        """Validate the desired document against ``current`` and work out what changes (writes nothing).

        ``stored``: ``current`` as a document, when the caller already has it (patches start from it).
        """
        require_role(actor, Role.EDITOR, current.scope_path)
        reject_server_owned(document, stored if stored is not None else to_document(current))
        body = {k: v for k, v in document.items() if k not in SERVER_OWNED}
        plugin = self.registry.get(current.type)
        ctx = UowValidationContext(uow, org.id)
        draft = self._draft(ctx, plugin, body, previous=current, comment=comment)
        new_hash = content_hash(draft.normalized.spec, draft.normalized.source)
        content_changed = content_hash_changes(current, draft.normalized, new_hash)
        candidate = replace(current, **drafted_fields(draft))
        metadata = metadata_changes(current, candidate)
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
        return Change(actor, org, plugin, current, updated, draft, new_hash, metadata, ctx.consulted)

    def _prepared(self, change: Change) -> PreparedWrite | None:
        """``change`` as a write to run under the lock later, or None when only the locked path may make it."""
        renames = change.updated is not None and change.updated.name != change.current.name
        if change.read_org_state or renames:
            return None
        return partial(self._write, change=change, planned=True)

    def _draft(
        self,
        ctx: UowValidationContext,
        plugin: PolicyType,
        body: dict[str, Any],
        *,
        previous: Policy | None,
        comment: str,
    ) -> Draft:
        try:
            fields = written_fields(body)
        except ValidationError as exc:
            raise spec_errors(exc, prefix="") from None
        for name, check in CHECKED:  # the declared checks, in field order (the first bad field is reported)
            setattr(fields, name, check(getattr(fields, name)))
        comment = names.check_text("comment", comment, max_len=4096, allow_newlines=True)
        normalized = self._normalize(plugin, fields, previous, ctx)
        if previous is not None:
            check_immutable_spec(plugin, previous.spec, normalized.spec)
        return Draft(fields, normalized, comment)

    @staticmethod
    def _normalize(
        plugin: PolicyType,
        fields: WrittenFields,
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
