"""The reads the JFrog face needs, all through the core services (plus principals' display names)."""

from __future__ import annotations

from collections.abc import Iterable

from policyhub.domain.ids import is_canonical_uuid
from policyhub.domain.records import Actor, Policy, Role
from policyhub.errors import Conflict, FieldError, NotFound
from policyhub.http.compat.jfrog.translate import TEMPLATE_KIND, TYPE_NAME, jfrog_name
from policyhub.http.deps import Container
from policyhub.policy_types.jfrog import RULE_KIND
from policyhub.services import keys
from policyhub.services.authz import require_role
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork

_BATCH = 500


def may_write(actor: Actor, scope_path: str | None = None) -> None:
    """The core's rule for writes (the services check it again): asked first, so a read-only key
    gets its 403 before any 409 from the checks this face adds (names, references)."""
    require_role(actor, Role.EDITOR, scope_path)


def principal_names(uow: UnitOfWork, org_id: str, ids: Iterable[str]) -> dict[str, str]:
    """Principal id -> display name (JFrog's ``*_by`` fields carry a user name, not an id)."""
    found = keys.principal_names(uow, org_id, ids)
    return {pid: p.display_name for pid, p in found.items()}


def load_policy(c: Container, uow: UnitOfWork, actor: Actor, policy_id: str) -> Policy:
    """A live lifecycle policy by id. Anything else (a name, another type, archived, another org) is 404."""
    if is_canonical_uuid(policy_id):
        try:
            policy = c.policies.get(uow, actor, policy_id, include_archived=False)
        except NotFound:
            policy = None
        if policy is not None and policy.id == policy_id and policy.type == TYPE_NAME:
            return policy
    raise NotFound("Policy not found")


def lifecycle_policies(c: Container, uow: UnitOfWork, actor: Actor) -> list[Policy]:
    """Every live lifecycle policy the actor may see."""
    found: list[Policy] = []
    after: tuple[str, str] | None = None
    while True:
        batch = c.policies.list(uow, actor, PolicyFilter(type=TYPE_NAME, after=after), _BATCH)
        found += batch
        if len(batch) < _BATCH:
            return found
        after = (batch[-1].name, batch[-1].id)


def ensure_unique_name(c: Container, uow: UnitOfWork, actor: Actor, name: str, policy_id: str | None) -> None:
    """JFrog policy names are unique (409). Call with the org's write lock held."""
    for policy in lifecycle_policies(c, uow, actor):
        if policy.id != policy_id and jfrog_name(policy) == name:
            message = f"a policy named {name!r} already exists"
            raise Conflict(message, [FieldError("name", "already exists")])


def get_rule(c: Container, uow: UnitOfWork, actor: Actor, rule_id: str) -> Resource:
    try:
        return c.resources.get(uow, actor, RULE_KIND, rule_id)
    except NotFound:
        raise NotFound("Rule not found") from None


def get_template(c: Container, uow: UnitOfWork, actor: Actor, template_id: str) -> Resource:
    try:
        return c.resources.get(uow, actor, TEMPLATE_KIND, template_id)
    except NotFound:
        raise NotFound("Template not found") from None


def referenced_template(c: Container, uow: UnitOfWork, actor: Actor, template_id: str) -> Resource:
    """The template a rule names; a missing one is a 409, as JFrog answers for invalid references."""
    try:
        return c.resources.get(uow, actor, TEMPLATE_KIND, template_id)
    except NotFound:
        message = f"template {template_id!r} does not exist"
        raise Conflict(message, [FieldError("template_id", message)]) from None


def templates_by_id(c: Container, uow: UnitOfWork, actor: Actor) -> dict[str, Resource]:
    return {t.id: t for t in c.resources.list(uow, actor, TEMPLATE_KIND)}


def rules_using(c: Container, uow: UnitOfWork, actor: Actor, template_id: str) -> list[Resource]:
    return [r for r in c.resources.list(uow, actor, RULE_KIND) if r.data.get("template_id") == template_id]
