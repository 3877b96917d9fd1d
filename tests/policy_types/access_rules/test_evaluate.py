"""``access_rules`` evaluated alone: patterns, each condition operator (JSON equality, missing values,
negation), deny-overrides and closed by default, rate limits, and what search may enumerate."""

from __future__ import annotations

from typing import Any

import pytest

from policyhub.engine.ratelimit.memory import MemoryRateLimiter
from policyhub.evaluation.compiled import Evaluation
from policyhub.evaluation.inputs.authzen import AUTHZEN
from policyhub.evaluation.outcome import Outcome, Status
from policyhub.evaluation.snapshot import OrgSnapshot
from policyhub.policy_types.access_rules.evaluate import CompiledAccessRules
from tests.engine.http_request_support import ORG_ID, T0, compile_policy, make_policy

SNAPSHOT = OrgSnapshot(ORG_ID, 1, [], [])


def rules(*items: dict[str, Any], **spec: Any) -> CompiledAccessRules:
    compiled = compile_policy(make_policy("access_rules", {"rules": list(items), **spec}))
    assert isinstance(compiled, CompiledAccessRules)
    return compiled


def ask(
    policy: CompiledAccessRules,
    subject: dict[str, Any] | None = None,
    resource: dict[str, Any] | None = None,
    action: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    limiter: MemoryRateLimiter | None = None,
    **more: Any,
) -> Outcome:
    request = {
        "subject": subject or {"type": "user", "id": "alice"},
        "resource": resource or {"type": "doc", "id": "d1"},
        "action": action or {"name": "read"},
        "context": context or {},
        **more,
    }
    evaluation = Evaluation(
        "authzen", None, AUTHZEN.parse(request), T0, SNAPSHOT, MemoryRateLimiter() if limiter is None else limiter
    )
    return policy.evaluate(evaluation)


def when(path: str, **test: Any) -> dict[str, Any]:
    return {"when": [{"path": path, **test}]}


def test_patterns_are_globs_or_lists_of_globs_and_absent_means_any() -> None:
    policy = rules({"subject": {"type": "user", "id": ["alice", "b*"]}, "resource": {"id": "d?"}})
    assert ask(policy).status is Status.PASS
    assert ask(policy, subject={"type": "user", "id": "bob"}).status is Status.PASS
    assert ask(policy, subject={"type": "service", "id": "alice"}).status is Status.VIOLATION
    assert ask(policy, resource={"type": "doc", "id": "d12"}).status is Status.VIOLATION


@pytest.mark.parametrize(
    ("test", "value", "holds"),
    [
        ({"equals": "admin"}, "admin", True),
        ({"equals": 1}, True, False),  # JSON: true is not 1
        ({"equals": True}, 1, False),
        ({"equals": 2}, 2.0, True),
        ({"equals": {"a": [1]}}, {"a": [1]}, True),
        ({"in": ["a", "b"]}, "b", True),
        ({"in": [1, 2]}, True, False),
        ({"contains": "eng"}, ["ops", "eng"], True),
        ({"contains": "eng"}, "engineering", True),
        ({"contains": 1}, [True], False),
        ({"glob": "*@example.com"}, "ann@example.com", True),
        ({"glob": "*@example.com"}, 7, False),
        ({"equals": "admin", "negate": True}, "user", True),
    ],
)
def test_condition_operators(test: dict[str, Any], value: Any, holds: bool) -> None:
    policy = rules(when("subject.properties.x", **test))
    outcome = ask(policy, subject={"type": "user", "id": "alice", "properties": {"x": value}})
    assert (outcome.status is Status.PASS) is holds


def test_a_missing_value_never_holds_and_its_negation_always_does() -> None:
    assert ask(rules(when("resource.properties.status", equals="archived"))).status is Status.VIOLATION
    negated = rules(when("resource.properties.status", equals="archived", negate=True))
    assert ask(negated).status is Status.PASS
    assert ask(rules(when("context.a.b.c", glob="*"))).status is Status.VIOLATION


def test_equals_path_compares_two_attributes() -> None:
    policy = rules(when("resource.properties.owner", equals_path="subject.id"))
    assert ask(policy, resource={"type": "doc", "id": "d", "properties": {"owner": "alice"}}).status is Status.PASS
    assert ask(policy, resource={"type": "doc", "id": "d", "properties": {"owner": "bob"}}).status is Status.VIOLATION
    missing = rules(when("resource.properties.owner", equals_path="subject.properties.nothing"))
    assert ask(missing, resource={"type": "doc", "id": "d", "properties": {"owner": "x"}}).status is Status.VIOLATION


def test_detects_scans_every_string_under_the_path_and_never_reports_it() -> None:
    policy = rules({"effect": "deny", **when("context.args", detects=["secrets"])}, {"id": "rest"})
    assert ask(policy, context={"args": {"q": "weather in Paris"}}).status is Status.PASS
    leaked = ask(policy, context={"args": {"nested": [{"k": "token ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"}]}})
    assert leaked.status is Status.VIOLATION and "ghp_" not in " ".join(leaked.reasons)
    only_email = rules({"effect": "deny", **when("context.args", detects=["email"])}, {"id": "rest"})
    assert ask(only_email, context={"args": "key AKIAZ7QK3M5N2P4R6T8V"}).status is Status.PASS


def test_deny_overrides_and_nothing_matching_denies() -> None:
    policy = rules(
        {"id": "all-read"}, {"id": "no-d9", "effect": "deny", "resource": {"id": "d9"}, "reason": "d9 is sealed"}
    )
    assert ask(policy).status is Status.PASS
    sealed = ask(policy, resource={"type": "doc", "id": "d9"})
    assert sealed.status is Status.VIOLATION and sealed.reasons == ["d9 is sealed"]
    closed = ask(rules({"action": {"name": "write"}}))
    assert closed.status is Status.VIOLATION and closed.reasons == ["no rule allows this request"]


def test_rate_limits_count_per_key_and_not_in_search() -> None:
    limiter = MemoryRateLimiter()
    policy = rules({"id": "reads", "rate_limit": {"limit": 2, "window_s": 60}})
    for _ in range(2):
        assert ask(policy, limiter=limiter).status is Status.PASS
    over = ask(policy, limiter=limiter)
    assert over.status is Status.VIOLATION and over.obligations[0]["type"] == "rate_limit"
    assert ask(policy, subject={"type": "user", "id": "bob"}, limiter=limiter).status is Status.PASS
    assert ask(policy, limiter=limiter, mode="search").status is Status.PASS


def test_rate_limit_counters_are_the_orgs() -> None:
    """Counted under the policy's org (its per-org counter budget), not in a bucket every org shares."""
    limiter = MemoryRateLimiter()
    policy = rules({"id": "reads", "rate_limit": {"limit": 5, "window_s": 60, "per": "context.who"}})
    ask(policy, limiter=limiter, context={"who": "x" * 1000})
    ask(policy, limiter=limiter, context={"who": "y"})
    assert limiter.keys_of(ORG_ID) == 2 and len(limiter) == 2
    assert all(len(key) < 200 + 100 for key in limiter._orgs[ORG_ID])  # a long identity is hashed


def test_known_entities_are_the_directory_and_the_literal_ids() -> None:
    policy = rules(
        {"subject": {"type": "user", "id": ["alice", "team-*"]}, "action": {"name": ["read", "wr*"]}},
        entities={
            "subjects": [{"type": "user", "id": "bob", "properties": {"role": "admin"}}, {"type": "bot", "id": "b"}]
        },
    )
    assert policy.known_entities("subject", "user") == [
        {"type": "user", "id": "bob", "properties": {"role": "admin"}},
        {"type": "user", "id": "alice", "properties": {}},
    ]
    assert policy.known_entities("subject", "robot") == []
    assert [a["name"] for a in policy.known_entities("action", None)] == ["read"]
