"""Incremental snapshots: the held snapshot plus the org's changes since its seq, never a re-read of the org.

Every change to decision-relevant state appends an event to the org's chain in its transaction, so the
events after the held snapshot's ``seq`` name every object that changed: each changed policy is re-read
and recompiled (the compiled cache is keyed by revision, so a policy whose revision did not move is not
recompiled), each changed resource is re-read along with the policies that refer to it, and each new
scope is added. The new snapshot shares every index bucket and per-(scope, point) list the change does
not touch (:meth:`OrgSnapshot.evolve`), so its cost follows the change, not the org's size.

It gives up (None: the caller reads the org in full) when:

- more than ``max_events`` events landed since ``held.seq`` (one pass over the org is cheaper then);
- the chain went back (``seq < held.seq``: a restored database);
- a scope was deleted or moved (the scope tree changed under placed policies: rare, read in full).
"""

from __future__ import annotations

from collections.abc import Sequence

from policyhub.domain.records import Scope
from policyhub.engine.snapshot import Compile, reference_stamp
from policyhub.evaluation.snapshot import Entry, OrgSnapshot
from policyhub.storage.repositories.feed import ChangeFeedRepository, Touch
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork

#: Object kinds whose events change nothing a decision reads (keys, principals, org settings, document
#: schemas, which only validate writes). Any other kind than a policy or a scope is a resource kind.
NOT_DECISION_STATE = frozenset({"org", "api_key", "principal", "document_schema", "rollout_environment"})


def apply_delta(
    uow: UnitOfWork,
    held: OrgSnapshot,
    seq: int,
    touched: Sequence[Touch],
    compile_policy: Compile,
    *,
    max_events: int,
) -> OrgSnapshot | None:
    """The snapshot at ``seq`` made from ``held`` and ``touched``, what the events after ``held.seq`` up to
    ``seq`` changed (read with ``seq``: ``ChangeFeedRepository.since``); None: read the org in full (see
    the module docstring). The objects are read after ``seq``, so the result may already hold later
    changes too: it is never older than its stamp, and the next check applies those again."""
    if seq < held.seq or len(touched) > max_events:
        return None
    org_id = held.org_id
    feed = ChangeFeedRepository(uow.conn)
    policy_ids: set[str] = set()
    scope_ids: set[str] = set()
    resource_keys: set[tuple[str, str]] = set()
    for touch in touched:
        if touch.object_kind == "policy":
            policy_ids.add(touch.object_id)
        elif touch.object_kind == "scope":
            scope_ids.add(touch.object_id)
        elif touch.object_kind not in NOT_DECISION_STATE:
            resource_keys.add((touch.object_kind, touch.object_id))
    scopes: dict[str, Scope | None] = {}
    for scope_id in scope_ids:
        scope = uow.scopes.get(org_id, scope_id)
        old = held.scope(scope_id)
        if scope is None or (old is not None and old.path != scope.path):
            return None
        scopes[scope_id] = scope
    resources: dict[tuple[str, str], Resource | None] = {}
    for kind, resource_id in resource_keys:
        resources[(kind, resource_id)] = uow.resources.get(org_id, kind, resource_id)
        policy_ids.update(feed.referencing(org_id, kind, resource_id))
    evolved = held.evolve(seq, scopes=scopes, resources=resources)
    references = feed.references_of(org_id, policy_ids)
    changes: dict[str, Entry | None] = {}
    for policy_id in policy_ids:
        policy = uow.policies.get(org_id, policy_id)
        if policy is None or policy.archived or not policy.enabled:
            changes[policy_id] = None
            continue
        changes[policy_id] = compile_policy(policy, evolved, reference_stamp(evolved, references.get(policy_id, ())))
    return evolved.with_entries(changes)
