"""Syft Space evaluators (rate_limit, access, accounting), against Syft Space's own rules."""

from __future__ import annotations

import random
import time

import pytest

from policyhub.domain.records import Enforcement
from policyhub.evaluation.limits import DeadlineExceeded
from policyhub.evaluation.outcome import Status
from policyhub.policy_types.syftspace.evaluate import CompiledAccess, specificity
from tests.engine.http_request_support import T0, Harness, make_policy


def rate_limit(harness: Harness, **config: object) -> object:
    return harness.add(make_policy("syftspace.rate_limit", dict(config)))


def access(harness: Harness, enforcement: Enforcement = Enforcement.ENFORCE, **config: object) -> CompiledAccess:
    compiled = harness.add(make_policy("syftspace.access", dict(config), enforcement=enforcement))
    assert isinstance(compiled, CompiledAccess)
    return compiled


# -- rate_limit ---------------------------------------------------------------------------------------
def test_per_user_limits_count_each_user_separately() -> None:
    h = Harness()
    policy = h.add(make_policy("syftspace.rate_limit", {"limit": "2/m"}))
    statuses = [h.run(policy, T0 + i, user="a@x.org").status for i in range(3)]
    assert statuses == [Status.PASS, Status.PASS, Status.VIOLATION]
    assert h.run(policy, T0 + 3, user="B@x.org").status is Status.PASS
    assert h.run(policy, T0 + 3, user="A@X.ORG").status is Status.VIOLATION  # emails compare case-insensitively


def test_global_scope_shares_one_counter() -> None:
    h = Harness()
    policy = h.add(make_policy("syftspace.rate_limit", {"limit": "2/h", "scope": "global"}))
    assert [h.run(policy, T0, user=u).status for u in ("a@x", "b@x", "c@x")] == [
        Status.PASS,
        Status.PASS,
        Status.VIOLATION,
    ]


def test_applied_to_globs_select_the_users() -> None:
    h = Harness()
    policy = h.add(make_policy("syftspace.rate_limit", {"limit": "1/s", "applied_to": ["*@Partner.com", "bob@x"]}))
    assert h.run(policy, user="eve@partner.COM").status is Status.PASS
    assert h.run(policy, user="eve@partner.com").status is Status.VIOLATION
    assert h.run(policy, user="bob@x").status is Status.PASS
    assert h.run(policy, user="alice@x").status is Status.NOT_APPLICABLE
    assert h.run(policy).status is Status.NOT_APPLICABLE  # no user: "" matches no pattern here


def test_violation_reason_obligation_and_details_follow_syft_space() -> None:
    h = Harness()
    policy = h.add(make_policy("syftspace.rate_limit", {"limit": "1/m"}))
    ok = h.run(policy, T0 + 10, user="a@x")
    assert ok.obligations == [
        {"type": "rate_limit", "limit": 1, "remaining": 0, "reset_after_s": 61.0, "retry_after_s": 0.0, "window_s": 60}
    ]
    refused = h.run(policy, T0 + 20, user="a@x")
    assert refused.reasons == [
        "Rate limit exceeded: 1 requests per 1 minute(s). Requests in window: 1. Try again in 51s."
    ]
    assert refused.details == {"limit": "1/m", "scope": "per_user", "remaining": 0, "reset_seconds": 51}
    assert refused.obligations[0]["retry_after_s"] == 51.0  # its 1 s bucket leaves at T0 + 71


def test_the_window_slides() -> None:
    h = Harness()
    policy = h.add(make_policy("syftspace.rate_limit", {"limit": "2/m"}))
    assert h.run(policy, T0 + 59.5, user="a").status is Status.PASS
    assert h.run(policy, T0 + 59.9, user="a").status is Status.PASS
    assert h.run(policy, T0 + 60.1, user="a").status is Status.VIOLATION  # a fixed window would reset here
    assert h.run(policy, T0 + 121, user="a").status is Status.PASS


def test_rate_limits_run_most_restrictive_first_and_only_in_the_request_phase() -> None:
    h = Harness()
    loose = h.add(make_policy("syftspace.rate_limit", {"limit": "500/s"}))
    tight = h.add(make_policy("syftspace.rate_limit", {"limit": "5/h"}))
    grant = access(h, allowed_users=["*"])
    assert sorted([loose, tight, grant], key=lambda c: c.order()) == [grant, tight, loose]
    assert not loose.applies(h.evaluation(phase="response"))


# -- access -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "score"),
    # Syft Space's docstring gives 17 for "admin-*@company.com"; its code (followed here) computes 18 - 2.
    [("*", 0), ("*@company.com", 10), ("admin-*@company.com", 16), ("admin@company.com", 117), ("a?c@x", 105)],
)
def test_pattern_specificity_is_syft_spaces(pattern: str, score: int) -> None:
    assert specificity(pattern) == score


@pytest.mark.parametrize(
    ("allowed", "denied", "user", "expected", "why"),
    [
        ([], [], "anyone@x", True, "Open access (no whitelist configured)"),
        (["*@company.com"], [], "eve@other.com", False, "User does not match any allowed pattern"),
        ([], ["*@competitor.com"], "spy@competitor.com", False, "User matches denied pattern '*@competitor.com'"),
        ([], ["*@competitor.com"], "ok@x", True, "Open access (no whitelist configured)"),
        # both match: the more specific pattern wins ...
        (["ceo@competitor.com"], ["*@competitor.com"], "ceo@competitor.com", True, "allowed pattern 'ceo@"),
        (["*@company.com"], ["bad@company.com"], "bad@company.com", False, "denied pattern 'bad@company.com'"),
        (["*@company.com"], ["bad@company.com"], "good@company.com", True, "allowed pattern '*@company.com'"),
        # ... and deny wins a tie
        (["*@x.com"], ["*@x.com"], "a@x.com", False, "denied pattern '*@x.com'"),
        (["*"], ["*"], "a@x.com", False, "denied pattern '*'"),
        # the best match of each list is compared, not the first written
        (["*", "vip@x.com"], ["*@x.com"], "vip@x.com", True, "allowed pattern 'vip@x.com'"),
        (["Admin-*@X.com"], [], "admin-1@x.com", True, "allowed pattern 'Admin-*@X.com'"),
    ],
)
def test_access_specificity_rules(allowed: list[str], denied: list[str], user: str, expected: bool, why: str) -> None:
    h = Harness()
    policy = access(h, allowed_users=allowed, denied_users=denied)
    allowed_now, reason = policy.check(user.lower())
    assert allowed_now is expected and why in reason
    outcome = h.run(policy, user=user)
    assert outcome.status is (Status.PASS if expected else Status.VIOLATION)
    if not expected:
        assert outcome.reasons == [f"Access denied: {reason}"]


def test_any_enforced_access_policy_grants_access() -> None:
    h = Harness()
    strict = access(h, allowed_users=["*@company.com"])
    partners = access(h, allowed_users=["*@partner.org"])
    assert h.run(strict, user="p@partner.org").status is Status.PASS  # partners' policy grants it
    assert "access policy" in h.run(strict, user="p@partner.org").reasons[0]
    assert h.run(partners, user="e@company.com").status is Status.PASS
    assert h.run(strict, user="x@else.net").status is Status.VIOLATION
    assert h.run(partners, user="x@else.net").status is Status.VIOLATION


def test_a_policy_in_audit_mode_grants_nothing_to_the_others() -> None:
    h = Harness()
    strict = access(h, allowed_users=["*@company.com"])
    access(h, Enforcement.AUDIT, allowed_users=["*"])
    assert h.run(strict, user="x@else.net").status is Status.VIOLATION


# -- accounting ---------------------------------------------------------------------------------------
def test_accounting_charges_the_users_it_applies_to() -> None:
    h = Harness()
    paid = h.add(make_policy("syftspace.accounting", {"price": 0.25, "applied_to": ["*@customer.com"]}))
    outcome = h.run(paid, user="a@customer.com")
    assert outcome.status is Status.PASS
    assert outcome.obligations == [{"type": "charge", "price": 0.25, "pricing_mode": "per_call"}]
    assert h.run(paid, user="a@staff.com").status is Status.NOT_APPLICABLE
    free = h.add(make_policy("syftspace.accounting", {"price": 0}))
    assert h.run(free, user="a@x").obligations == [] and h.run(free, user="a@x").status is Status.PASS


def test_glob_lists_stop_at_the_decision_deadline() -> None:
    """900 globs RE2's DFA cannot cache (``*a`` then 150 ``?``: about as many as the policy's compile
    budget holds) against a 306-character address: most of a second of matching; the lists check the
    decision's deadline as they go, so the access policy stops soon after it (and the engine denies)."""
    h = Harness()
    policy = access(h, denied_users=[f"*a{'?' * 150}b*{index}" for index in range(900)])
    user = "".join(random.Random(1).choices("ab", k=300)) + "@x.org"
    evaluation = h.evaluation(T0, user=user)
    evaluation.deadline = time.monotonic() + 0.05
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        policy.evaluate(evaluation)
    assert time.monotonic() - started < 2
