"""The in-process cases' policies and inputs (one per evaluator family)."""

from __future__ import annotations

from bench.decision_cases import Case

CASES: list[Case] = [
    Case(
        "rate limit (syftspace.rate_limit, memory counters)",
        [{"name": "rl", "type": "syftspace.rate_limit", "scope": "bench", "spec": {"limit": "1000000000/h"}}],
        "http_request",
        lambda i: {"user": f"user{i % 16}@example.com"},
    ),
]
