"""Which decisions the log keeps, and how much of their input."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyhub.engine.outcome import Decision, DecisionResult
from policyhub.services.decision_log import DEFAULT_REDACT, REDACTED, DecisionLog, LogPolicy, redact
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
