"""Storing a policy change and drafting its audit events: the results of a write, the planned change of an
existing policy, and the one persistence path every command takes (``PolicyChangeRepository.write``)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import jsonpatch

from policyhub.domain.canonical import now
from policyhub.domain.policy_document import etag, to_document
from policyhub.domain.records import Actor, EventType, Org, Policy, Version
from policyhub.errors import Conflict, FieldError
from policyhub.policy_types.base import PolicyType
from policyhub.services import audit
from policyhub.services.policy_reads import PolicyReads
from policyhub.services.policy_rules import Draft
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


@dataclass(frozen=True, slots=True)
class Change:
    """A planned change of an existing policy: ``updated`` is None when nothing changes."""

    actor: Actor
    org: Org
    plugin: PolicyType
    current: Policy
    updated: Policy | None
    draft: Draft
    new_hash: str
    metadata: dict[str, dict[str, Any]]
    #: The plan read other rows of the org (a document schema, a referenced resource), which only the
    #: org's write lock keeps still: such a plan is not prepared outside it.
    read_org_state: bool


class PolicyPersistence(PolicyReads):
    """How a planned change becomes rows: one change statement with its events."""

    def _write(self, uow: UnitOfWork, change: Change, *, planned: bool = False) -> WriteResult:
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
