"""Rollout: environments (the scopes whose policies each receives), their signed bundles, what each agent
reports having applied, and the decisions agents ship.

- An environment's writes take the org's write lock and append an audit event (kind
  ``rollout_environment``) in the same transaction, like every decision-relevant change, so they are in
  the change feed and move the org's revision.
- A bundle (``domain.bundles``) holds the org-level policies and those of the environment's scopes, their
  ancestors and their subtrees (live and enabled: what the engine compiles), those scopes, and every
  resource of the org; its ``revision`` is the org's chain head when it was built, its ETag the digest of
  its content without the revision (two revisions that changed nothing for it share the ETag). It is
  written again from what changed since the last build (``services.bundle_builds``).
- The desired revision of an environment is the sequence number of the org's last decision-relevant
  event (keys and principals are not); an agent is in sync when it reports that revision or a later one.
- What agents report (their status, their decisions) is ``services.agent_reports``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from policyhub.domain import names
from policyhub.domain.canonical import iso, now
from policyhub.domain.records import Actor, Role
from policyhub.errors import FieldError, InvalidInput, NotFound, Unavailable
from policyhub.services import audit
from policyhub.services.authz import require_role, require_rollout_reader
from policyhub.services.bundle_builds import BundleBuilds, SignedBundle
from policyhub.services.bundle_keys import MISSING, BundleKeys
from policyhub.storage.repositories.rollout import AgentReport, Environment
from policyhub.storage.unit_of_work import UnitOfWork

KIND = "rollout_environment"
MAX_SCOPES = 100


def environment_name(value: Any, field: str = "environment") -> str:
    if not isinstance(value, str) or not value or len(value) > 64 or not names.KEY_PATTERN.fullmatch(value):
        raise InvalidInput.field(
            field, "must be 1-64 letters, digits, '-', '_', '.', '~', starting with a letter or digit"
        )
    return value


class RolloutService:
    def __init__(self, keys: BundleKeys | None, *, live_s: float, keys_problem: str = MISSING) -> None:
        self.keys = keys
        #: Why bundles cannot be signed, when ``keys`` is None (the 503's text).
        self.keys_problem = keys_problem
        self.live_s = live_s
        self._builds = BundleBuilds(keys.signer) if keys is not None else None

    # -- environments ---------------------------------------------------------------------------------

    def put_environment(self, uow: UnitOfWork, actor: Actor, name: str, scopes: Any) -> tuple[Environment, bool]:
        """Create or replace an environment (editor of the whole org); returns it and whether it is new.
        Nothing changed: no event."""
        require_role(actor, Role.EDITOR, None)
        name = environment_name(name)
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise InvalidInput.field("scopes", "must be an array of scope paths")
        if len(scopes) > MAX_SCOPES:
            raise InvalidInput.field("scopes", f"at most {MAX_SCOPES} scopes")
        audit.lock_org(uow, actor.org_id)
        paths: list[str] = []
        for i, given in enumerate(scopes):
            found = uow.scopes.by_path(actor.org_id, given.strip("/"))
            if found is None:
                raise InvalidInput(
                    f"no scope {given!r} in this organization", [FieldError(f"scopes[{i}]", "no such scope")]
                )
            if found.path not in paths:
                paths.append(found.path)
        current = uow.rollout.environment(actor.org_id, name)
        at = now()
        if current is None:
            env = Environment(
                str(uuid.uuid4()), actor.org_id, name, paths, at, actor.principal_id, at, actor.principal_id
            )
            uow.rollout.insert_environment(env)
            event = "environment_created"
        elif current.scopes == paths:
            return current, False
        else:
            env = replace(current, scopes=paths, updated_at=at, updated_by=actor.principal_id)
            uow.rollout.update_environment(env)
            event = "environment_updated"
        data = {"name": name, "scopes": paths}
        audit.record(uow, actor, object_kind=KIND, object_id=env.id, type=event, data=data)
        return env, current is None

    def get_environment(self, uow: UnitOfWork, actor: Actor, name: str) -> Environment:
        require_role(actor, Role.VIEWER, None)
        return self._environment(uow, actor, name)

    def _environment(self, uow: UnitOfWork, actor: Actor, name: str) -> Environment:
        found = uow.rollout.environment(actor.org_id, name)
        if found is None:
            raise NotFound(f"environment {name!r} not found")
        return found

    def list_environments(self, uow: UnitOfWork, actor: Actor) -> list[Environment]:
        require_role(actor, Role.VIEWER, None)
        return uow.rollout.environments(actor.org_id)

    def delete_environment(self, uow: UnitOfWork, actor: Actor, name: str) -> Environment:
        require_role(actor, Role.EDITOR, None)
        audit.lock_org(uow, actor.org_id)
        env = self._environment(uow, actor, name)
        uow.rollout.delete_environment(actor.org_id, env.id)
        audit.record(uow, actor, object_kind=KIND, object_id=env.id, type="environment_deleted", data={"name": name})
        return env

    # -- bundles --------------------------------------------------------------------------------------

    def published_keys(self) -> list[dict[str, str]]:
        return [k.published() for k in self.keys.published] if self.keys else []

    def bundle(self, uow: UnitOfWork, actor: Actor, name: str) -> SignedBundle:
        """The environment's signed bundle; ``revision`` is the org's head now (the bundle's own revision is
        the head it was built at: a change it does not hold, a key's creation, builds nothing new)."""
        known = uow.rollout.environment(actor.org_id, name)
        # a key bound to a scope is refused an unknown environment as it is the whole org's (as for status
        # reports), so a 404 never tells it which names exist
        require_rollout_reader(actor, known.scopes if known is not None else None)
        env = known or self._environment(uow, actor, name)
        if self._builds is None:
            raise Unavailable(self.keys_problem)
        head, _ = uow.orgs.chain_head(actor.org_id)  # read first: the rest can only be newer
        return self._builds.signed(uow, actor.org_id, env, head)

    def written_revision(self, uow: UnitOfWork, actor: Actor) -> tuple[int, datetime]:
        """In a write's transaction, after its changes: the org's revision that includes them, and when it
        was written (its last event's time), which a deployment waits for agents to reach."""
        seq, _ = uow.orgs.chain_head(actor.org_id)
        return seq, uow.rollout.event_at(actor.org_id, seq) or now()

    # -- status ---------------------------------------------------------------------------------------

    def status(self, uow: UnitOfWork, actor: Actor, name: str) -> dict[str, Any]:
        """Desired revision, and per agent of the environment what it applied and how far behind it is."""
        require_role(actor, Role.VIEWER, None)
        env = self._environment(uow, actor, name)
        last = uow.rollout.last_change(actor.org_id)
        desired, committed_at = last if last is not None else (0, None)
        at = now()
        agents = [self._agent_status(a, desired, committed_at, at) for a in uow.rollout.agents(actor.org_id, env.name)]
        return {
            "environment": env.name,
            "scopes": env.scopes,
            "desired": {"revision": desired, "committed_at": iso(committed_at) if committed_at else None},
            "agents": agents,
            "summary": {
                "agents": len(agents),
                "live": sum(a["live"] for a in agents),
                "in_sync": sum(a["in_sync"] for a in agents),
            },
        }

    def _agent_status(
        self, agent: AgentReport, desired: int, committed_at: datetime | None, at: datetime
    ) -> dict[str, Any]:
        in_sync = agent.revision >= desired
        lag = 0.0 if in_sync or committed_at is None else max(0.0, (at - committed_at).total_seconds())
        return {
            "name": agent.name,
            "revision": agent.revision,
            "applied_at": iso(agent.revision_at),
            "in_sync": in_sync,
            "lag_s": round(lag, 3),
            "last_seen": iso(agent.last_seen),
            "live": (at - agent.last_seen).total_seconds() <= self.live_s,
            "last_error": agent.last_error,
            "address": agent.address,
            "stale_s": agent.stale_s,
            "counts": agent.counts,
        }
