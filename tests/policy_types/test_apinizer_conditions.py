"""apinizer.*: the shared policyCondition structure (VALUE / AND / OR / NOT rules)."""

from __future__ import annotations

from typing import Any

import pytest

from .apinizer_data import CONDITION_PATH, normalize, throttling
from .helpers import FakeContext, error_map


def value_rule(**fields: Any) -> dict[str, Any]:
    rule = {
        "conditionCriteria": "VALUE",
        "firstVariable": {"type": "PARAMETER", "paramType": "QUERY", "paramName": "tier"},
        "variableDataType": "STRING",
        "valueComparisonOperator": "EQ",
        "secondValue": "gold",
    }
    rule.update(fields)
    return {k: v for k, v in rule.items() if v is not None}


def with_condition(*rules: dict[str, Any]) -> dict[str, Any]:
    return throttling(policyCondition={"conditionRuleList": list(rules)})


def test_nested_condition_normalises(ctx: FakeContext) -> None:
    condition = {
        "conditionRuleList": [
            {
                "conditionCriteria": "OR",
                "conditionRuleList": [
                    value_rule(),
                    {
                        "conditionCriteria": "NOT",
                        "conditionRuleList": [value_rule(valueComparisonOperator="IS_EMPTY", secondValue=None)],
                    },
                    value_rule(variableDataType="NUMBER", valueComparisonOperator="GE", secondValue=10),
                    value_rule(secondValue=None, secondVariable={"type": "HEADER", "headerName": "X-Tier"}),
                ],
            }
        ]
    }
    result = normalize("policy-api-based-throttling", throttling(policyCondition=condition), ctx)
    rules = result["policyCondition"]["conditionRuleList"][0]["conditionRuleList"]
    assert rules[0]["secondValueSource"] == "VALUE"  # filled in for binary operators
    assert "secondValueSource" not in rules[1]["conditionRuleList"][0]  # unary operator
    assert rules[2]["variableDataType"] == "NUMERIC" and rules[2]["secondValue"] == "10"
    assert rules[3]["secondValueSource"] == "VARIABLE"


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            [{"conditionCriteria": "NOT", "conditionRuleList": [value_rule(), value_rule()]}],
            {f"{CONDITION_PATH}.0.conditionRuleList": "NOT takes exactly one nested rule"},
        ),
        (
            [{"conditionCriteria": "AND"}],
            {f"{CONDITION_PATH}.0.conditionRuleList": "AND needs at least one rule"},
        ),
        (
            [value_rule(firstVariable=None, valueComparisonOperator=None)],
            {
                f"{CONDITION_PATH}.0.firstVariable": "required for VALUE rules",
                f"{CONDITION_PATH}.0.valueComparisonOperator": "required for VALUE rules",
            },
        ),
        (
            [value_rule(valueComparisonOperator="MATCHES")],
            {
                f"{CONDITION_PATH}.0.valueComparisonOperator": "Input should be 'LT', 'LE', 'GT', 'GE', 'EQ', 'NE', "
                "'STARTS_WITH', 'ENDS_WITH', 'CONTAINS', 'NOT_CONTAINS', 'IS_EMPTY', 'IS_NOT_EMPTY', 'IS_EXISTS', "
                "'IS_NOT_EXISTS', 'IN' or 'NOT_IN'"
            },
        ),
        (
            [value_rule(variableDataType="NUMERIC", valueComparisonOperator="STARTS_WITH", secondValue="5")],
            {f"{CONDITION_PATH}.0.valueComparisonOperator": "STARTS_WITH works on STRING values only"},
        ),
        (
            [value_rule(variableDataType="NUMERIC", valueComparisonOperator="GT", secondValue="lots")],
            {f"{CONDITION_PATH}.0.secondValue": "must be a number for NUMERIC comparisons"},
        ),
        (
            [value_rule(secondValue=None)],
            {f"{CONDITION_PATH}.0.secondValue": "required when secondValueSource is VALUE"},
        ),
        (
            [value_rule(secondValueSource="VARIABLE")],
            {f"{CONDITION_PATH}.0.secondVariable": "required when secondValueSource is VARIABLE"},
        ),
        (
            [value_rule(variableDataType="DATE")],
            {f"{CONDITION_PATH}.0.dateFormat": "required when variableDataType is DATE"},
        ),
        (
            [value_rule(conditionRuleList=[value_rule()])],
            {f"{CONDITION_PATH}.0.conditionRuleList": "only AND, OR and NOT rules nest rules"},
        ),
        (
            [value_rule(firstVariable={"type": "BODY", "messageContentType": "JSON"})],
            {f"{CONDITION_PATH}.0.firstVariable.jsonPathValue": "required when messageContentType is JSON"},
        ),
        (
            [{"conditionCriteria": "OR", "conditionRuleList": [value_rule(), {"conditionCriteria": "XOR"}]}],
            {
                f"{CONDITION_PATH}.0.conditionRuleList.1.conditionCriteria": (
                    "Input should be 'VALUE', 'NOT', 'AND' or 'OR'"
                )
            },
        ),
        ([value_rule(junk=1)], {f"{CONDITION_PATH}.0.junk": "unknown field"}),
        ([value_rule(secondValue=True)], {f"{CONDITION_PATH}.0.secondValue": "Input should be a valid string"}),
    ],
)
def test_condition_errors(ctx: FakeContext, rules: list[dict[str, Any]], expected: dict[str, str]) -> None:
    assert error_map(lambda: normalize("policy-api-based-throttling", with_condition(*rules), ctx)) == expected


def test_condition_depth_is_capped(ctx: FakeContext) -> None:
    rule: dict[str, Any] = value_rule()
    for _ in range(12):
        rule = {"conditionCriteria": "NOT", "conditionRuleList": [rule]}
    path = ".".join([CONDITION_PATH, "0", *["conditionRuleList", "0"] * 10])
    assert error_map(lambda: normalize("policy-api-based-throttling", with_condition(rule), ctx)) == {
        path: "conditions may nest at most 10 levels"
    }
