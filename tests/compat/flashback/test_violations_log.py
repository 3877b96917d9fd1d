"""The decision log keeps every Flashback violation (even log-only ones under sampling) and never the
secrets a prompt carried."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from policyhub.evaluation.outcome import Decision, DecisionResult, Effect, PolicyResult, Status
from policyhub.policy_types.registry import default_points
from policyhub.services.decision_log import DecisionLog, LogPolicy

CARD = "4111 1111 1111 1111"


def result(*effects: Effect, point: str = "ai_content") -> DecisionResult:
    results = [
        PolicyResult("p", "p", "flashback.ai", 1, 1, None, "enforce", e, Status.VIOLATION, [], error=False)
        for e in effects
    ]
    decision = Decision.DENY if Effect.DENY in effects else Decision.WARN if Effect.WARN in effects else Decision.ALLOW
    return DecisionResult(decision, point, None, results, [], 1, id="d-1", input_hash="h")


def log(**policy: Any) -> DecisionLog:
    return DecisionLog(None, LogPolicy(**policy), points=default_points())  # type: ignore[arg-type]


def test_an_audit_result_is_always_kept_even_when_allows_are_not_sampled() -> None:
    unsampled = log(sample_allow=0.0)
    assert unsampled.wanted(result(Effect.AUDIT))
    assert not unsampled.wanted(result(Effect.ALLOW))
    assert unsampled.wanted(result(Effect.WARN)) and unsampled.wanted(result(Effect.DENY))
    assert not log(enabled=False).wanted(result(Effect.AUDIT))  # a disabled log is disabled


@pytest.mark.parametrize("mode", ["redacted", "full"])
def test_logged_ai_content_is_masked_whatever_the_mode(mode: str) -> None:
    raw = {"content": f"card {CARD} for jane.roe@example.org", "user": "u-1"}
    entry = log(input_mode=mode).entry(
        "o", result(Effect.WARN), raw, source="v1", principal_id=None, at=datetime.now(UTC)
    )
    assert CARD not in str(entry.input) and "jane.roe@example.org" not in str(entry.input)
    assert entry.input["content"].startswith("card 41*") and entry.input["user"] == "u-1"
    assert raw["content"].startswith(f"card {CARD}")  # the caller's input is not changed


def test_no_input_is_kept_in_mode_none() -> None:
    entry = log(input_mode="none").entry(
        "o", result(Effect.WARN), {"content": CARD}, source="v1", principal_id=None, at=datetime.now(UTC)
    )
    assert entry.input is None


def test_other_points_inputs_are_unchanged() -> None:
    raw = {"method": "GET", "path": "/x", "body": {"note": CARD}}
    entry = log(input_mode="full").entry(
        "o", result(Effect.ALLOW, point="http_request"), raw, source="v1", principal_id=None, at=datetime.now(UTC)
    )
    assert entry.input == raw
