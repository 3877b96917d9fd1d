"""The in-process cases' policies and inputs (one per evaluator family)."""

from __future__ import annotations

from bench import flashback_content, jfrog_gate
from bench.decision_cases import Case
from bench.kosli_eval import ENVIRONMENT_INPUT, POLICY_YAML

THROTTLING = {
    "targetVariableForIdentity": {"type": "HEADER", "headerName": "X-API-Key"},
    "messageCountForInterval": 1_000_000_000,
    "throttlingInterval": "ONE_DAY",
}

CASES: list[Case] = [
    Case(
        "rate limit (syftspace.rate_limit, memory counters)",
        [{"name": "rl", "type": "syftspace.rate_limit", "scope": "bench", "spec": {"limit": "1000000000/h"}}],
        "http_request",
        lambda i: {"user": f"user{i % 16}@example.com"},
    ),
    Case(
        "condition (apinizer throttling behind a policyCondition that is false)",
        [
            {
                "name": "premium-only",
                "type": "apinizer.policy-api-based-throttling",
                "scope": "bench",
                "spec": {
                    **THROTTLING,
                    "policyCondition": {
                        "conditionRuleList": [
                            {
                                "conditionCriteria": "VALUE",
                                "firstVariable": {"name": "t", "type": "HEADER", "headerName": "X-User-Type"},
                                "variableDataType": "STRING",
                                "valueComparisonOperator": "EQ",
                                "secondValue": "PREMIUM",
                            }
                        ]
                    },
                },
            }
        ],
        "http_request",
        lambda i: {"headers": {"X-User-Type": "FREE", "X-API-Key": f"k{i % 16}"}},
    ),
    Case(
        "rate limit (apinizer throttling, fixed window, identity from a header)",
        [{"name": "throttle", "type": "apinizer.policy-api-based-throttling", "scope": "bench", "spec": THROTTLING}],
        "http_request",
        lambda i: {"headers": {"X-API-Key": f"k{i % 16}"}},
    ),
    Case(
        "IP allow list (apinizer white-ip, 3 CIDRs)",
        [
            {
                "name": "office",
                "type": "apinizer.policy-white-ip",
                "scope": "bench",
                "spec": {"ipList": ["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"]},
            }
        ],
        "http_request",
        lambda i: {"client_ip": f"10.0.{i % 200}.7"},
    ),
    Case(
        "kosli environment (5 artifacts; provenance, trail compliance, 3 attestations)",
        [{"name": "kosli-prod", "type": "kosli.environment", "scope": "bench", "source": POLICY_YAML}],
        "environment",
        lambda i: {"artifacts": ENVIRONMENT_INPUT["artifacts"]},
    ),
    jfrog_gate.CASE,
    flashback_content.CASE,
]
