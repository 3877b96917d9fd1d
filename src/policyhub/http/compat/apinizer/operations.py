"""Add, update and delete a policy of an API proxy: each one unit of work over the core services, under
the org's write lock from the start (``CommandRunner.in_org_sync``).

The policy itself is written first (create / full replace / archive, with the service's validation,
versioning, audit and permission checks); then every other policy of the affected lists whose order
changed is renumbered with a merge patch of ``attributes.apinizer.order`` (one recorded
``metadata_update`` each), so orders stay dense 1..n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from policyhub.domain.policy_document import etag
from policyhub.domain.records import Actor, Org, Policy, Role, Scope
from policyhub.http.compat.apinizer import deploy, errors, naming, placement, proxies, translate
from policyhub.http.compat.apinizer.placement import Slot
from policyhub.http.compat.apinizer.schemas import OperationMetadata
from policyhub.http.deps import Container
from policyhub.policy_types.apinizer import APINIZER_PREFIX, split_apinizer_policy
from policyhub.services.authz import require_role
from policyhub.services.commands import ArchivePolicy, Command, CreatePolicy, MergePatchPolicy, ReplacePolicy
from policyhub.services.policies import Preconditions, WriteResult
from policyhub.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Target:
    """The policy an operation addresses: project, proxy and the policy name from the path."""

    project: str
    proxy: str
    policy: str


@dataclass(frozen=True)
class Call:
    """One authenticated Apinizer call: who, in which org, with which conditional headers."""

    c: Container
    actor: Actor
    org: Org
    pre: Preconditions


def _open(r: Call, uow: UnitOfWork, t: Target) -> proxies.ProxyView:
    """Read the proxy and check the role (under the org's lock, which the transaction took first: the lists
    are read before writing)."""
    view = proxies.load(r.c, uow, r.actor, t.project, t.proxy)
    require_role(r.actor, Role.EDITOR, view.proxy.path)
    return view


def _slot(proxy: Scope, meta: OperationMetadata) -> Slot:
    slot = placement.requested_slot(meta)
    if slot.scope == "ENDPOINT" and not translate.has_endpoint(proxy, slot):
        raise errors.endpoint_missing(slot.endpoint or "", slot.method or "", proxy.key)
    return slot


def _split(policy: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    with errors.policy_fields():
        return split_apinizer_policy(policy)


def add(r: Call, uow: UnitOfWork, t: Target, meta: OperationMetadata, policy: dict[str, Any]) -> dict[str, Any]:
    """Add Policy: a new policy in the named list at ``order`` (null or >= the new list size: appended)."""
    view = _open(r, uow, t)
    core_name = naming.new_core_name(t.project, t.proxy, t.policy)
    if view.find(core_name) is not None:
        raise errors.policy_exists(t.policy)
    slot = _slot(view.proxy, meta)
    envs = deploy.target_environments(r.c, uow, r.actor, meta)
    type_name, spec = _split(policy)
    others: list[Policy | None] = [*placement.ordered(view.policies, slot)]
    placed = placement.insert_at(others, None, meta.order)
    position = placed.index(None) + 1
    attrs = placement.attributes(t.policy, t.project, t.proxy, slot, position)
    with errors.policy_fields():
        body = translate.core_body(core_name, spec, attrs)
        created = _run(r, uow, CreatePolicy(body, type_name, view.proxy.path))
    _renumber(r, uow, [created.policy if p is None else p for p in placed], skip=created.policy.id)
    return deploy.status(r.c, uow, r.actor, meta, view.proxy, envs)


def update(r: Call, uow: UnitOfWork, t: Target, meta: OperationMetadata, policy: dict[str, Any]) -> dict[str, Any]:
    """Update Policy: full replace of the fields; may move the policy to another list or position."""
    view = _open(r, uow, t)
    current = view.find(naming.core_name(t.project, t.proxy, t.policy))
    if current is None:
        raise errors.policy_missing(t.policy)
    type_name, spec = _split(policy)
    if type_name != current.type:
        raise errors.type_changed(current.type.removeprefix(APINIZER_PREFIX), type_name.removeprefix(APINIZER_PREFIX))
    slot, old_slot = _slot(view.proxy, meta), placement.slot_of(current)
    envs = deploy.target_environments(r.c, uow, r.actor, meta)
    listed = placement.ordered(view.policies, slot)
    others = [p for p in listed if p.id != current.id]
    keep = slot == old_slot and meta.order is None  # null order: the policy keeps its position
    placed = listed if keep else placement.insert_at(others, current, meta.order)
    position = next(i for i, p in enumerate(placed, start=1) if p.id == current.id)
    attrs = placement.attributes(placement.apinizer_name(current), t.project, t.proxy, slot, position)
    with errors.policy_fields():
        _run(r, uow, ReplacePolicy(current.id, translate.core_body(current.name, spec, attrs, current)), r.pre)
    _renumber(r, uow, placed, skip=current.id)
    if old_slot != slot:
        _renumber(r, uow, [p for p in placement.ordered(view.policies, old_slot) if p.id != current.id])
    return deploy.status(r.c, uow, r.actor, meta, view.proxy, envs)


def delete(r: Call, uow: UnitOfWork, t: Target, meta: OperationMetadata) -> dict[str, Any]:
    """Delete Policy: archive it (history stays in the core) and close the gap in its list.

    The policy must be in the list the operation names; in another list it "does not exist".
    """
    view = _open(r, uow, t)
    current = view.find(naming.core_name(t.project, t.proxy, t.policy))
    slot = _slot(view.proxy, meta)
    if current is None or placement.slot_of(current) != slot:
        raise errors.policy_missing(t.policy)
    envs = deploy.target_environments(r.c, uow, r.actor, meta)
    _run(r, uow, ArchivePolicy(current.id), r.pre)
    _renumber(r, uow, [p for p in placement.ordered(view.policies, slot) if p.id != current.id])
    return deploy.status(r.c, uow, r.actor, meta, view.proxy, envs)


def _renumber(r: Call, uow: UnitOfWork, ordered: Sequence[Policy], skip: str | None = None) -> None:
    """Give the policies of one list the orders 1..n; each change is a core merge patch."""
    for position, policy in enumerate(ordered, start=1):
        if policy.id == skip or placement.order_of(policy) == position:
            continue
        patch = {"attributes": {"apinizer": {"order": position}}}
        _run(r, uow, MergePatchPolicy(policy.id, patch), Preconditions(if_match=etag(policy)))


def _run(r: Call, uow: UnitOfWork, command: Command, pre: Preconditions | None = None) -> WriteResult:
    """One command of the operation, in its transaction."""
    return r.c.commands.run(uow, r.actor, r.org, command, pre or Preconditions())
