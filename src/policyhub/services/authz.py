"""Permission rules: a key's role applies at its scope and everywhere below it."""

from __future__ import annotations

from policyhub.domain.records import Actor, Role
from policyhub.errors import Forbidden


def covers(actor: Actor, scope_path: str | None) -> bool:
    """Whether the actor's scope is ``scope_path`` or one of its ancestors (None is the org)."""
    if actor.scope_path is None:
        return True
    if scope_path is None:
        return False
    return scope_path == actor.scope_path or scope_path.startswith(actor.scope_path + "/")


def require_role(actor: Actor, role: Role, scope_path: str | None = None) -> None:
    """Raise :class:`Forbidden` unless the actor holds ``role`` (or higher) at ``scope_path``."""
    if actor.role.rank < role.rank:
        raise Forbidden(f"this operation needs the {role.value} role; the key has {actor.role.value}")
    if not covers(actor, scope_path):
        where = scope_path or "the organization"
        raise Forbidden(f"the key's role applies to scope {actor.scope_path!r}, not to {where!r}")


def require_org_admin(actor: Actor) -> None:
    require_role(actor, Role.ADMIN, None)
