"""Helpers for the ``http_request`` evaluator tests: policy records, evaluations, the Redis fixture."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from policyhub.domain.records import Enforcement, Policy
from policyhub.engine.ratelimit.memory import MemoryRateLimiter
from policyhub.evaluation.compiled import CompiledPolicy, Evaluation, RateLimiter
from policyhub.evaluation.inputs.http_request import HTTP_REQUEST
from policyhub.evaluation.outcome import Outcome
from policyhub.evaluation.snapshot import Entry, OrgSnapshot
from policyhub.policy_types.registry import default_registry
from tests.support.records import policy_record

REDIS_URL = os.environ.get("POLICYHUB_TEST_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ORG_ID = "00000000-0000-4000-8000-000000000001"
REGISTRY = default_registry()
T0 = 1_798_848_000.0  # an injected "now": 2027-01-02T00:00:00Z, a multiple of every window (1 s ... 30 days)


def make_policy(
    type_name: str,
    spec: dict[str, Any],
    *,
    name: str | None = None,
    enforcement: Enforcement = Enforcement.ENFORCE,
    attributes: dict[str, Any] | None = None,
    org_id: str = ORG_ID,
    scope_id: str | None = None,
) -> Policy:
    """A stored policy as the snapshot holds it: the spec normalised by the type, as a write would."""
    policy_type = REGISTRY.get(type_name)
    normalized = policy_type.normalize(spec, _NoContext()).spec
    return policy_record(
        type_name,
        normalized,
        id=str(uuid.uuid4()),
        org_id=org_id,
        scope_id=scope_id,
        name=name or f"p-{uuid.uuid4().hex[:8]}",
        enforcement=enforcement,
        attributes=attributes or {},
    )


def compile_policy(policy: Policy, snapshot: OrgSnapshot | None = None) -> CompiledPolicy:
    policy_type = REGISTRY.get(policy.type)
    return policy_type.compile(policy, snapshot or OrgSnapshot(policy.org_id, 1, [], []))


class Harness:
    """Compiled policies in one snapshot, evaluated as the engine would (minus the combining)."""

    def __init__(self, limiter: RateLimiter | None = None) -> None:
        self.snapshot = OrgSnapshot(ORG_ID, 1, [], [])
        self.limiter = limiter or MemoryRateLimiter()

    def add(self, policy: Policy) -> CompiledPolicy:
        compiled = compile_policy(policy, self.snapshot)
        self.snapshot.add(Entry(policy, compiled, "http_request"))
        return compiled

    def evaluation(self, now: float = T0, scope: str | None = None, **request: Any) -> Evaluation:
        return Evaluation(
            point="http_request",
            scope=scope,
            input=HTTP_REQUEST.parse(request),
            now=now,
            snapshot=self.snapshot,
            limiter=self.limiter,
        )

    def run(self, compiled: CompiledPolicy, now: float = T0, **request: Any) -> Outcome:
        """``applies`` then ``evaluate``; a policy that does not apply is not_applicable."""
        evaluation = self.evaluation(now, **request)
        if not compiled.applies(evaluation):
            return Outcome.not_applicable("does not apply")
        return compiled.evaluate(evaluation)


class _NoContext:
    org_id = ORG_ID

    def document_schema(self, name: str) -> dict[str, Any] | None:
        return None

    def reference_exists(self, kind: str, ref_id: str) -> bool:
        return False


def redis_base_url() -> str:
    """POLICYHUB_TEST_REDIS_URL, checked: a skip with the reason locally, a failure in CI."""
    problem = None
    if not REDIS_URL:
        problem = "Redis tests need POLICYHUB_TEST_REDIS_URL (CI sets it, e.g. redis://127.0.0.1:6379/15)"
    else:
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            problem = f"Redis at POLICYHUB_TEST_REDIS_URL ({REDIS_URL}) is unreachable: {exc}"
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true but {problem}")
        pytest.skip(problem)
    assert REDIS_URL
    return REDIS_URL


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis with a key prefix of its own (``key_prefix`` in the URL); its keys are deleted after."""
    import redis

    base = redis_base_url()
    prefix = f"policyhub-test:{uuid.uuid4().hex}:"
    yield base + ("&" if "?" in base else "?") + f"key_prefix={prefix}"
    client = redis.Redis.from_url(base)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
