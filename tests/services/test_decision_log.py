"""Which decisions the log keeps, and how much of their input."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyhub.domain.bounded_json import TRUNCATED, is_marker, json_size
from policyhub.evaluation.inputs.http_request import LOG_FIELDS
from policyhub.evaluation.outcome import Decision, DecisionResult
from policyhub.services.decision_log import DEFAULT_REDACT, REDACTED, DecisionLog, LogPolicy, bounded_results, redact
from policyhub.storage.db import Database

PATTERN = re.compile("|".join(re.escape(k) for k in DEFAULT_REDACT), re.IGNORECASE)


def result(decision: Decision) -> DecisionResult:
    return DecisionResult(decision, "http_request", None, [], [], 0, id="x", input_hash="h")


@pytest.fixture
def db(sqlite_url: str) -> Database:
    return Database(sqlite_url)


def test_sampling_keeps_every_warn_and_deny(db: Database) -> None:
    log = DecisionLog(db, LogPolicy(sample_allow=0.0))
    assert not log.wanted(result(Decision.ALLOW))
    assert log.wanted(result(Decision.WARN)) and log.wanted(result(Decision.DENY))
    assert log.wanted(result(Decision.ALLOW), force=True)


def test_a_disabled_log_keeps_only_forced_records(db: Database) -> None:
    log = DecisionLog(db, LogPolicy(enabled=False))
    assert not log.wanted(result(Decision.DENY))
    assert log.wanted(result(Decision.DENY), force=True)


def test_sampling_keeps_about_the_share_asked(db: Database) -> None:
    log = DecisionLog(db, LogPolicy(sample_allow=0.25))
    kept = sum(log.wanted(result(Decision.ALLOW)) for _ in range(4000))
    assert 800 < kept < 1200


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("none", None),
        ("full", {"headers": {"Authorization": "Bearer t"}}),
        ("redacted", {"headers": {"Authorization": REDACTED}}),
    ],
)
def test_input_modes(db: Database, mode: Any, expected: Any) -> None:
    log = DecisionLog(db, LogPolicy(input_mode=mode))
    from policyhub.domain.canonical import now

    entry = log.entry(
        "org",
        result(Decision.ALLOW),
        {"headers": {"Authorization": "Bearer t"}},
        source="v1",
        principal_id=None,
        at=now(),
    )
    assert entry.input == expected


def test_redaction_reaches_any_depth() -> None:
    value = {"a": [{"nested": {"client_secret": "x", "ok": 1}}], "Api_Key": "y", "x-api-key": "z", "tokens": 3}
    assert redact(value, PATTERN) == {
        "a": [{"nested": {"client_secret": REDACTED, "ok": 1}}],
        "Api_Key": REDACTED,
        "x-api-key": REDACTED,
        "tokens": REDACTED,
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=20,
)


@given(json_values)
def test_redaction_never_leaves_a_secret_keys_value(value: Any) -> None:
    def check(v: Any) -> None:
        if isinstance(v, dict):
            for k, inner in v.items():
                if PATTERN.search(str(k)):
                    assert inner == REDACTED
                else:
                    check(inner)
        elif isinstance(v, list):
            for inner in v:
                check(inner)

    out = redact(value, PATTERN)
    check(out)
    assert redact(out, PATTERN) == out  # idempotent


def test_the_http_request_allow_list_keeps_the_request_and_not_its_secrets() -> None:
    logged = LOG_FIELDS(
        {
            "method": "GET",
            "path": "/x?api_key=K",
            "headers": {"x-jwt-assertion": "J", "accept": "application/json"},
            "body": {"password": "P"},
            "phase": "request",
        }
    )
    assert logged == {
        "method": "GET",
        "path": f"/x?api_key={REDACTED}",
        "headers": {"x-jwt-assertion": REDACTED, "accept": "application/json"},
        "body": REDACTED,
        "phase": "request",
    }


def policy_result(i: int, details: int = 0, reasons: int = 1) -> dict[str, Any]:
    return {
        "policy_id": f"p{i}",
        "effect": "deny",
        "status": "violation",
        "reasons": [f"reason {j}" for j in range(reasons)],
        "details": {"rows": "d" * details} if details else {},
    }


def test_results_lose_their_largest_details_first() -> None:
    results = [policy_result(0, details=30_000), policy_result(1, details=100), policy_result(2)]
    cut = bounded_results(results, 16 * 1024)
    assert [r["policy_id"] for r in cut] == ["p0", "p1", "p2"]
    assert is_marker(cut[0]["details"]) and cut[1]["details"] == {"rows": "d" * 100}
    assert results[0]["details"] == {"rows": "d" * 30_000}  # the decision's own results are untouched


def test_results_over_budget_keep_the_first_ones_and_count_the_rest() -> None:
    results = [policy_result(i, reasons=200) for i in range(500)]
    cut = bounded_results(results, 16 * 1024)
    assert json_size(cut) <= 16 * 1024
    assert cut[0]["reasons"] == [*(f"reason {j}" for j in range(5)), "… [truncated: 195 more reason(s)]"]
    assert cut[-1][TRUNCATED] is True and cut[-1]["omitted"] == 500 - (len(cut) - 1)
    assert all(r["policy_id"] == f"p{i}" for i, r in enumerate(cut[:-1]))


def test_a_long_reason_kept_in_the_log_says_it_was_cut() -> None:
    results = [{**policy_result(i), "reasons": ["r" * 2000]} for i in range(20)]
    cut = bounded_results(results, 16 * 1024)
    reason = cut[0]["reasons"][0]
    assert len(reason.encode()) <= 500 and reason.startswith("rrr")
    assert reason.endswith("… [truncated: 2000 characters]")


def test_each_point_keeps_its_own_fields_in_redacted_mode(db: Database) -> None:
    from policyhub.domain.canonical import now
    from policyhub.policy_types.registry import default_points

    log = DecisionLog(db, LogPolicy(input_mode="redacted"), points=default_points())
    conversation = "c0nv3rsAt10nXq9Lk3Tz8WmR1pN"  # random-looking, but an id Flashback shows as sent

    def kept(point: str, raw: Any) -> Any:
        res = DecisionResult(Decision.DENY, point, None, [], [], 0, id="x", input_hash="h")
        return log.entry("org", res, raw, source="v1", principal_id=None, at=now()).input

    assert kept("ai_content", {"content": "hi", "conversation_id": conversation, "user": "Bearer abc"}) == {
        "content": "hi",
        "conversation_id": conversation,
        "user": f"Bearer {REDACTED}",
    }
    gate = {"stage": "qa", "gate": "entry", "application": {"key": "app"}, "evidence": {"password": "p", "ok": 1}}
    assert kept("lifecycle_gate", gate) == {**gate, "evidence": {"password": REDACTED, "ok": 1}}
    fingerprint = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    env = {"environment": "prod", "artifacts": [{"fingerprint": fingerprint}], "extra": "x"}
    assert kept("environment", env) == {**env, "extra": REDACTED}
    assert kept("http_request", {"method": "GET", "body": "password=p"}) == {"method": "GET", "body": REDACTED}
