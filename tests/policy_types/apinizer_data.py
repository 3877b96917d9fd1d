"""Shared Apinizer test data: the seed's policy body and helpers to normalise specs."""

from __future__ import annotations

import copy
from typing import Any

from policyhub.policy_types.apinizer import APINIZER_PREFIX, apinizer_types, split_apinizer_policy
from policyhub.policy_types.base import PolicyType

from .helpers import FakeContext

TYPES: dict[str, PolicyType] = {t.name: t for t in apinizer_types()}
CONDITION_PATH = "spec.policyCondition.conditionRuleList"

# The seed's full JSON body example ("policy" object).
SEED_POLICY: dict[str, Any] = {
    "type": "policy-api-based-throttling",
    "description": "Updated API throttling policy - 200 requests per minute",
    "active": True,
    "targetVariableForIdentity": {"type": "HEADER", "headerName": "X-API-Key"},
    "messageCountForInterval": 200,
    "throttlingInterval": "ONE_MINUTE",
    "intervalPeriodLength": 1,
    "intervalWindowType": "FIXED",
    "cacheConnectionTimeoutInSeconds": 5,
    "cacheErrorHandlingType": "FAIL",
    "showRateLimitStatisticsInResponseHeader": True,
    "detailList": [
        {
            "targetValue": "VIP",
            "regexExpression": False,
            "messageCountForInterval": 2000,
            "intervalPeriodLength": 1,
            "quotaInterval": "ONE_MINUTE",
        }
    ],
    "policyCondition": {
        "conditionRuleList": [
            {
                "conditionCriteria": "VALUE",
                "firstVariable": {"name": "userTypeHeader", "type": "HEADER", "headerName": "X-User-Type"},
                "variableDataType": "STRING",
                "valueComparisonOperator": "EQ",
                "secondValueSource": "VALUE",
                "secondValue": "PREMIUM",
            }
        ]
    },
}


def normalize(type_name: str, spec: dict[str, Any], ctx: FakeContext) -> dict[str, Any]:
    return TYPES[APINIZER_PREFIX + type_name].normalize(spec, ctx).spec


def throttling(**changes: Any) -> dict[str, Any]:
    _, spec = split_apinizer_policy(copy.deepcopy(SEED_POLICY))
    spec.update(changes)
    return spec
