"""Permission rules: a key's role applies at its scope and everywhere below it."""

from __future__ import annotations

from collections.abc import Sequence

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


AGENT_ONLY = (
    "an agent key may only read bundles, bundle keys and the change feed, and report status and decisions"
)


def refuse_agent(actor: Actor) -> None:
    """Raise :class:`Forbidden` for an ``agent`` key: every operation but the rollout ones refuses it.

    The faces call this once per request, where the key is authenticated (``http.deps``), unless the
    route is one of the few an agent may use (bundles, the change feed, status and decision reports).
    """
    if actor.role is Role.AGENT:
        raise Forbidden(AGENT_ONLY)


def require_rollout_reader(actor: Actor, scope_paths: Sequence[str] | None = None) -> None:
    """Who may read what an enforcement point receives: an agent key or a viewer (or higher), whose scope
    covers every one of ``scope_paths`` (an environment's scopes); None or none listed: the whole org (the
    change feed, an environment that receives only org-level policies)."""
    if actor.role is not Role.AGENT:
        require_role(actor, Role.VIEWER, None if not scope_paths else actor.scope_path)
    paths: Sequence[str | None] = scope_paths or [None]
    for path in paths:
        if not covers(actor, path):
            where = path or "the organization"
            raise Forbidden(f"the key's role applies to scope {actor.scope_path!r}, not to {where!r}")


def require_agent(actor: Actor) -> None:
    """Only an ``agent`` key reports an agent's status and ships its decisions."""
    if actor.role is not Role.AGENT:
        raise Forbidden(f"this operation needs an agent key; the key has {actor.role.value}")
