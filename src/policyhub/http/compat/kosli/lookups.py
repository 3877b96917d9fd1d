"""Reads the Kosli routes share, inside the caller's unit of work: policies and environments by name
(404 in Kosli's words), attachments, and the full ``PolicyResponse`` of a policy.

Every read goes through the core services, so permissions and tenant isolation are theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from policyhub.domain.records import Actor, Policy
from policyhub.errors import InvalidInput, NotFound
from policyhub.http.compat.kosli import envs, schemas
from policyhub.http.compat.kosli.translate import ENV_KIND, TYPE_NAME, policy_response
from policyhub.http.deps import Container
from policyhub.services import keys
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork

PAGE = 500


def policy_missing(name: str, org_slug: str) -> NotFound:
    return NotFound(f"Policy '{name}' does not exist in organization '{org_slug}'")


def env_missing(name: str, org_slug: str) -> NotFound:
    return NotFound(f"Environment '{name}' does not exist in organization '{org_slug}'")


@dataclass
class Reads:
    """The reads of one request: the container, its unit of work, the actor and the org's slug."""

    c: Container
    uow: UnitOfWork
    actor: Actor
    org_slug: str

    # -- policies --------------------------------------------------------------------------------
    def policy(self, name: str, *, include_archived: bool = True) -> Policy:
        """The Kosli policy called ``name`` (live first, else the latest archived one); else 404."""
        try:
            found = self.c.policies.get(self.uow, self.actor, name, include_archived=include_archived)
        except NotFound:
            raise policy_missing(name, self.org_slug) from None
        if found.type != TYPE_NAME or found.name != name:
            raise policy_missing(name, self.org_slug)
        return found

    def live_policy_or_none(self, name: str) -> Policy | None:
        """The live policy called ``name`` of any type (a PUT must not overwrite another type)."""
        try:
            found = self.c.policies.get(self.uow, self.actor, name, include_archived=False)
        except NotFound:
            return None
        return found if found.name == name else None

    def policies(self) -> list[Policy]:
        """Every live Kosli policy the actor can see, by name."""
        out: list[Policy] = []
        after: tuple[str, str] | None = None
        while True:
            flt = PolicyFilter(type=TYPE_NAME, archived=False, after=after)
            page = self.c.policies.list(self.uow, self.actor, flt, PAGE)
            out.extend(page)
            if len(page) < PAGE:
                return out
            after = (page[-1].name, page[-1].id)

    def policy_ids(self, names: list[str], field: str = "policy_names") -> list[str]:
        """The ids of the live Kosli policies ``names`` (deduplicated, in order); an unknown one is a 404."""
        if any(not isinstance(n, str) or not n for n in names):
            raise InvalidInput.field(field, "policy names must be non-empty strings")
        ids: list[str] = []
        for name in dict.fromkeys(names):
            policy = self.policy(name, include_archived=False)
            ids.append(policy.id)
        return ids

    def live_names(self, ids: set[str]) -> dict[str, str]:
        """Names of the live Kosli policies among ``ids``."""
        names: dict[str, str] = {}
        for policy_id in sorted(ids):
            try:
                found = self.c.policies.get(self.uow, self.actor, policy_id)
            except NotFound:
                continue
            if not found.archived and found.type == TYPE_NAME:
                names[policy_id] = found.name
        return names

    def response(self, policy: Policy, environments: list[Resource] | None = None) -> schemas.KosliPolicyResponse:
        """The full ``PolicyResponse``: versions, events, consuming environments."""
        _, versions = self.c.policies.versions(self.uow, self.actor, policy.id)
        events = self.c.policies.events(self.uow, self.actor, policy.id)
        attached = environments if environments is not None else self.environments()
        consuming = [env.key for env in attached if policy.id in envs.policy_ids(env)]
        return policy_response(
            policy,
            versions,
            events,
            names=self.principal_names({policy.created_by}),
            consuming_envs=consuming,
            render_source=self.c.registry.get(TYPE_NAME).render_source,
        )

    # -- environments ----------------------------------------------------------------------------
    def environment(self, name: str) -> Resource:
        try:
            return self.c.resources.by_key(self.uow, self.actor, ENV_KIND, name)
        except NotFound:
            raise env_missing(name, self.org_slug) from None

    def live_environment(self, name: str) -> Resource:
        """The environment called ``name`` unless it is archived; else 404 (an assert must not gate
        on an archived environment's policies)."""
        found = self.environment(name)
        if envs.is_archived(found):
            raise env_missing(name, self.org_slug)
        return found

    def environment_or_none(self, name: str) -> Resource | None:
        try:
            return self.c.resources.by_key(self.uow, self.actor, ENV_KIND, name)
        except NotFound:
            return None

    def environments(self, *, archived: bool = False) -> list[Resource]:
        """The live environments (``archived=True``: the archived ones instead)."""
        return [r for r in self.c.resources.list(self.uow, self.actor, ENV_KIND) if envs.is_archived(r) == archived]

    def env_responses(self, resources: list[Resource]) -> list[schemas.KosliEnvironmentResponse]:
        ids = {i for r in resources for i in envs.policy_ids(r)}
        live = self.live_names(ids)
        creators = self.principal_names({r.created_by for r in resources})
        return [envs.env_response(r, live, creators.get(r.created_by, r.created_by), self.org_slug) for r in resources]

    # -- principals ------------------------------------------------------------------------------
    def principal_names(self, ids: set[str]) -> dict[str, str]:
        found = keys.principal_names(self.uow, self.actor.org_id, ids)
        return {pid: p.display_name for pid, p in found.items()}
