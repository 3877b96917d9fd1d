"""Writing an environment's signed bundle, and writing it again after a change by re-reading only what
changed.

Every agent of an environment fetches its bundle after every decision-relevant change (a 304 when nothing
it receives changed), so a build must not cost a read of the whole org. Each build keeps, per
environment, the canonical text of every item (``domain.bundles.item_text``); the next build reads the
org's events after the one it was built at:

- none decision-relevant (keys, principals): the same bundle, served as built;
- only policies and resources: each policy named by an event is read again (kept if it is live, enabled
  and in the environment's scopes, else dropped) and, if any resource changed, the resources are read
  again; the bundle text is composed from the kept texts (``domain.bundles.compose``), digested and
  signed: work in the number of changes, plus joining, hashing and signing the text;
- a scope or an environment changed, or more than ``MAX_TOUCHED`` events: a full build.

Either way the result is byte for byte what a full build at that head writes (a test holds the two
against each other). A build is stamped with the org's head read before anything else, so it may be newer
than its stamp, never older; the next build reads from the stamp again, so nothing is missed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from policyhub.domain.bundle_signing import SigningKey
from policyhub.domain.bundles import (
    compose,
    encode_policy,
    encode_resource,
    encode_scope,
    item_text,
    list_text,
)
from policyhub.domain.canonical import canonical_json, sha256_hex
from policyhub.domain.records import Policy, Resource
from policyhub.storage.repositories.rollout import NOT_DECISION_RELEVANT, Environment
from policyhub.storage.unit_of_work import UnitOfWork

#: Beyond this many events since the last build, a full build is cheaper than following them.
MAX_TOUCHED = 1000
#: Changes that move what an environment receives as a whole: a full build.
FULL_BUILD_KINDS = frozenset({"scope", "rollout_environment"})
NO_RESOURCE_KINDS = frozenset({"policy", *FULL_BUILD_KINDS})


@dataclass(frozen=True)
class SignedBundle:
    """The response body (``{"bundle", "key_id", "signature"}``), its ETag, and the org's head now."""

    body: bytes
    etag: str
    revision: int


@dataclass(frozen=True)
class _Build:
    head: int
    scopes: tuple[str, ...]  # the environment's scopes when built
    scope_ids: frozenset[str]  # of the scopes the bundle holds
    scopes_text: str
    resources_text: str
    policies: dict[str, str]  # policy id -> its item's canonical text
    signed: SignedBundle


def _resources_text(resources: Iterable[Resource]) -> str:
    return list_text(item_text(encode_resource(r)) for r in sorted(resources, key=lambda r: (r.kind, r.id)))


def _receives(policy: Policy | None, scope_ids: frozenset[str]) -> bool:
    return (
        policy is not None
        and policy.enabled
        and not policy.archived
        and (policy.scope_id is None or policy.scope_id in scope_ids)
    )


def included(path: str | None, listed: Iterable[str]) -> bool:
    """Whether a policy or scope at ``path`` reaches an environment of scopes ``listed``: the org level, a
    listed scope, one of its ancestors (whose policies apply below them) or of its descendants."""
    if path is None:
        return True
    return any(path == s or s.startswith(path + "/") or path.startswith(s + "/") for s in listed)


class BundleBuilds:
    """The last build of each environment (at most ``max_entries``, least recently used dropped)."""

    def __init__(self, signer: SigningKey, *, max_entries: int = 64) -> None:
        self.signer = signer
        self.max_entries = max_entries
        self._builds: OrderedDict[tuple[str, str], _Build] = OrderedDict()
        self._lock = threading.Lock()

    def signed(self, uow: UnitOfWork, org_id: str, env: Environment, head: int) -> SignedBundle:
        """The environment's bundle, current at ``head`` (the org's head, read before anything else)."""
        key = (org_id, env.name)
        with self._lock:
            last = self._builds.get(key)
            if last is not None:
                self._builds.move_to_end(key)
        build = self._next(uow, org_id, env, head, last)
        if build is not last:
            with self._lock:
                self._builds[key] = build
                while len(self._builds) > self.max_entries:
                    self._builds.popitem(last=False)
        return replace(build.signed, revision=head)

    def _next(self, uow: UnitOfWork, org_id: str, env: Environment, head: int, last: _Build | None) -> _Build:
        if last is None or tuple(env.scopes) != last.scopes or head < last.head:
            return self._full(uow, org_id, env, head)
        if head == last.head:
            return last
        touched = uow.rollout.touched(org_id, last.head, MAX_TOUCHED + 1)
        relevant = [(kind, object_id) for kind, object_id in touched if kind not in NOT_DECISION_RELEVANT]
        if len(touched) > MAX_TOUCHED or any(kind in FULL_BUILD_KINDS for kind, _ in relevant):
            return self._full(uow, org_id, env, head)
        if not relevant:  # keys, principals: nothing this bundle holds changed
            return replace(last, head=head)
        policies = dict(last.policies)
        for policy_id in {object_id for kind, object_id in relevant if kind == "policy"}:
            policy = uow.policies.get(org_id, policy_id)
            if policy is not None and _receives(policy, last.scope_ids):
                policies[policy_id] = item_text(encode_policy(policy))
            else:
                policies.pop(policy_id, None)
        resources_text = last.resources_text
        if any(kind not in NO_RESOURCE_KINDS for kind, _ in relevant):
            resources_text = _resources_text(uow.resources.all(org_id))
        return self._signed(org_id, env, head, last.scope_ids, last.scopes_text, resources_text, policies)

    def _full(self, uow: UnitOfWork, org_id: str, env: Environment, head: int) -> _Build:
        scopes = sorted((s for s in uow.scopes.list(org_id) if included(s.path, env.scopes)), key=lambda s: s.id)
        scope_ids = frozenset(s.id for s in scopes)
        policies = {p.id: item_text(encode_policy(p)) for p in uow.policies.live_enabled_at(org_id, scope_ids)}
        scopes_text = list_text(item_text(encode_scope(s)) for s in scopes)
        resources_text = _resources_text(uow.resources.all(org_id))
        return self._signed(org_id, env, head, scope_ids, scopes_text, resources_text, policies)

    def _signed(
        self,
        org_id: str,
        env: Environment,
        head: int,
        scope_ids: frozenset[str],
        scopes_text: str,
        resources_text: str,
        policies: dict[str, str],
    ) -> _Build:
        text, content = compose(
            org=org_id,
            environment=env.name,
            revision=head,
            scopes=scopes_text,
            policies=list_text(policies[k] for k in sorted(policies)),
            resources=resources_text,
        )
        signature = self.signer.sign_canonical(text)
        body = f'{{"bundle":{text},"key_id":{canonical_json(self.signer.key_id)},"signature":"{signature}"}}'
        signed = SignedBundle(body.encode("utf-8"), f'"{sha256_hex(content)}"', head)
        return _Build(head, tuple(env.scopes), scope_ids, scopes_text, resources_text, policies, signed)
