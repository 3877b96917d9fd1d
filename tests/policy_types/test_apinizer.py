"""apinizer.*: per-type fields and defaults, the shared condition structure, type helpers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policyhub.errors import InvalidInput
from policyhub.policy_types.apinizer import (
    APINIZER_PREFIX,
    apinizer_type_names,
    apinizer_types,
    join_apinizer_policy,
    require_apinizer_type,
    split_apinizer_policy,
)
from policyhub.policy_types.base import PolicyType

from .helpers import FakeContext, error_map

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


def test_required_types_are_registered() -> None:
    required = {
        "policy-api-based-throttling",
        "policy-api-based-quota",
        "policy-script",
        "policy-white-ip",
        "policy-black-ip",
        "policy-auth-basic",
        "policy-max-message-size",
    }
    assert required <= set(apinizer_type_names())
    assert set(TYPES) == {APINIZER_PREFIX + n for n in apinizer_type_names()}


def test_seed_policy_normalises_with_defaults(ctx: FakeContext) -> None:
    type_name, spec = split_apinizer_policy(copy.deepcopy(SEED_POLICY))
    assert type_name == "apinizer.policy-api-based-throttling"
    result = TYPES[type_name].normalize(spec, ctx).spec
    expected = {k: v for k, v in SEED_POLICY.items() if k != "type"}
    assert result == {**expected, "errorMessageList": []}
    assert join_apinizer_policy(type_name, result, name="throttling-policy") == {
        "type": "policy-api-based-throttling",
        "name": "throttling-policy",
        **result,
    }


def test_seed_minimal_throttling_fills_defaults(ctx: FakeContext) -> None:
    spec = {
        "description": "Updated throttling policy - increased limit",
        "active": True,
        "targetVariableForIdentity": {"type": "HEADER", "headerName": "X-API-Key"},
        "messageCountForInterval": 200,
        "throttlingInterval": "ONE_MINUTE",
        "intervalPeriodLength": 1,
        "intervalWindowType": "FIXED",
    }
    assert normalize("policy-api-based-throttling", spec, ctx) == {
        **spec,
        "errorMessageList": [],
        "cacheConnectionTimeoutInSeconds": 3,
        "cacheErrorHandlingType": "FAIL",
        "showRateLimitStatisticsInResponseHeader": False,
        "detailList": [],
    }


def test_seed_script_example_without_execution_type(ctx: FakeContext) -> None:
    spec = {
        "description": "Response logging",
        "active": True,
        "scriptLanguage": "GROOVY",
        "scriptBody": "log.info('Response: ' + response.statusCode)",
    }
    assert normalize("policy-script", spec, ctx) == {**spec, "errorMessageList": []}
    assert list(error_map(lambda: normalize("policy-script", {**spec, "executionType": "LATER"}, ctx))) == [
        "spec.executionType"
    ]


def test_quota(ctx: FakeContext) -> None:
    spec = {
        "targetVariableForIdentity": {"type": "CONTEXT_VALUES", "contextValue": "CLIENT_IP"},
        "messageCountForInterval": 10000,
        "quotaInterval": "ONE_MONTH",
        "cacheErrorHandlingType": "CONTINUE",
        "detailList": [{"targetValue": "^vip-.*", "regexExpression": True, "messageCountForInterval": 5, "quotaInterval": "ONE_DAY"}],
    }
    result = normalize("policy-api-based-quota", spec, ctx)
    assert result["detailList"] == [{**spec["detailList"][0], "intervalPeriodLength": 1}]
    bad = {**spec, "quotaInterval": "ONE_MINUTE", "cacheErrorHandlingType": "ALLOW"}
    assert set(error_map(lambda: normalize("policy-api-based-quota", bad, ctx))) == {
        "spec.quotaInterval",
        "spec.cacheErrorHandlingType",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"messageCountForInterval": 0}, {"spec.messageCountForInterval": "Input should be greater than or equal to 1"}),
        ({"messageCountForInterval": 2**31}, {"spec.messageCountForInterval": "Input should be less than or equal to 2147483647"}),
        ({"messageCountForInterval": "200"}, {"spec.messageCountForInterval": "Input should be a valid integer"}),
        ({"throttlingInterval": "ONE_WEEK"}, {"spec.throttlingInterval": "Input should be 'ONE_SECOND', 'ONE_MINUTE', 'ONE_HOUR' or 'ONE_DAY'"}),
        ({"intervalWindowType": "ROLLING"}, {"spec.intervalWindowType": "Input should be 'FIXED' or 'SLIDING'"}),
        ({"targetVariableForIdentity": {"type": "HEADER"}}, {"spec.targetVariableForIdentity.headerName": "required when type is HEADER"}),
        ({"targetVariableForIdentity": {"type": "COOKIE"}}, {"spec.targetVariableForIdentity.type": "Input should be 'HEADER', 'PARAMETER', 'BODY', 'CONTEXT_VALUES', 'CUSTOM' or 'SCRIPT'"}),
        ({"detailList": [{"targetValue": "(", "regexExpression": True, "messageCountForInterval": 1, "quotaInterval": "ONE_DAY"}]}, {"spec.detailList.0.targetValue": "invalid regular expression: missing ), unterminated subpattern at position 0"}),
        ({"detailList": [{"targetValue": "x", "messageCountForInterval": 1}]}, {"spec.detailList.0.quotaInterval": "field required"}),
        ({"name": "throttling-policy"}, {"spec.name": "unknown field"}),
        ({"type": "policy-api-based-throttling"}, {"spec.type": "unknown field"}),
        ({"rateLimit": 5}, {"spec.rateLimit": "unknown field"}),
        ({"active": "true"}, {"spec.active": "Input should be a valid boolean"}),
    ],
)
def test_throttling_errors(ctx: FakeContext, changes: dict[str, Any], expected: dict[str, str]) -> None:
    assert error_map(lambda: normalize("policy-api-based-throttling", throttling(**changes), ctx)) == expected


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
                    {"conditionCriteria": "NOT", "conditionRuleList": [value_rule(valueComparisonOperator="IS_EMPTY", secondValue=None)]},
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
            {f"{CONDITION_PATH}.0.valueComparisonOperator": "Input should be 'LT', 'LE', 'GT', 'GE', 'EQ', 'NE', "
             "'STARTS_WITH', 'ENDS_WITH', 'CONTAINS', 'NOT_CONTAINS', 'IS_EMPTY', 'IS_NOT_EMPTY', 'IS_EXISTS', "
             "'IS_NOT_EXISTS', 'IN' or 'NOT_IN'"},
        ),
        (
            [value_rule(variableDataType="NUMERIC", valueComparisonOperator="STARTS_WITH", secondValue="5")],
            {f"{CONDITION_PATH}.0.valueComparisonOperator": "STARTS_WITH works on STRING values only"},
        ),
        (
            [value_rule(variableDataType="NUMERIC", valueComparisonOperator="GT", secondValue="lots")],
            {f"{CONDITION_PATH}.0.secondValue": "must be a number for NUMERIC comparisons"},
        ),
        ([value_rule(secondValue=None)], {f"{CONDITION_PATH}.0.secondValue": "required when secondValueSource is VALUE"}),
        (
            [value_rule(secondValueSource="VARIABLE")],
            {f"{CONDITION_PATH}.0.secondVariable": "required when secondValueSource is VARIABLE"},
        ),
        ([value_rule(variableDataType="DATE")], {f"{CONDITION_PATH}.0.dateFormat": "required when variableDataType is DATE"}),
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
            {f"{CONDITION_PATH}.0.conditionRuleList.1.conditionCriteria": "Input should be 'VALUE', 'NOT', 'AND' or 'OR'"},
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


SEED_WHITE_IP = ["192.168.1.0/24", "10.0.0.0/8", "203.0.113.100", "2001:db8::/32"]


@pytest.mark.parametrize("type_name", ["policy-white-ip", "policy-black-ip"])
def test_ip_lists(ctx: FakeContext, type_name: str) -> None:
    spec = {"description": "Allow only trusted IP addresses", "active": True, "targetVariableForIP": None, "ipList": SEED_WHITE_IP}
    assert normalize(type_name, spec, ctx) == {
        "description": "Allow only trusted IP addresses",
        "active": True,
        "errorMessageList": [],
        "ipList": SEED_WHITE_IP,
    }
    spec = {"targetVariableForIP": {"type": "CONTEXT", "contextValue": "CLIENT_IP"}, "ipList": ["2001:DB8:0::1", "10.0.0.0/32"]}
    result = normalize(type_name, spec, ctx)
    assert result["targetVariableForIP"] == {"type": "CONTEXT_VALUES", "contextValue": "CLIENT_IP"}
    assert result["ipList"] == ["2001:db8::1", "10.0.0.0/32"]


@pytest.mark.parametrize(
    ("ip_list", "expected"),
    [
        ([], {"spec.ipList": "List should have at least 1 item after validation, not 0"}),
        (["10.0.0.1/24"], {"spec.ipList.0": "'10.0.0.1/24' has host bits set; did you mean 10.0.0.0/24?"}),
        (["10.0.0.1", "300.1.1.1"], {"spec.ipList.1": "'300.1.1.1' is not an IP address or CIDR range"}),
        (["10.0.0.0/33"], {"spec.ipList.0": "'10.0.0.0/33' is not an IP address or CIDR range"}),
        (["192.168.1.*"], {"spec.ipList.0": "'192.168.1.*' is not an IP address or CIDR range"}),
        ([1234], {"spec.ipList.0": "Input should be a valid string"}),
    ],
)
def test_ip_list_errors(ctx: FakeContext, ip_list: list[Any], expected: dict[str, str]) -> None:
    assert error_map(lambda: normalize("policy-white-ip", {"ipList": ip_list}, ctx)) == expected


def test_basic_auth(ctx: FakeContext) -> None:
    spec = {"usernameVar": {"type": "HEADER", "headerName": "Authorization"}}
    assert normalize("policy-auth-basic", spec, ctx) == {
        "active": True,
        "errorMessageList": [],
        "clearAuth": False,
        "addUserToHeader": False,
        "usernameVar": {"type": "HEADER", "headerName": "Authorization"},
    }
    assert error_map(lambda: normalize("policy-auth-basic", {**spec, "addUserToHeader": True}, ctx)) == {
        "spec.userHeaderName": "required when addUserToHeader is true"
    }
    assert error_map(lambda: normalize("policy-auth-basic", {}, ctx)) == {"spec.usernameVar": "field required"}


def test_message_size(ctx: FakeContext) -> None:
    assert normalize("policy-max-message-size", {"maxMessageSize": 2**40}, ctx)["maxMessageSize"] == 2**40
    for bad in (0, 2**63, -1, 1.5, True, None):
        assert list(error_map(lambda bad=bad: normalize("policy-max-message-size", {"maxMessageSize": bad}, ctx))) == [
            "spec.maxMessageSize"
        ]


@pytest.mark.parametrize(
    ("type_name", "spec", "field"),
    [
        ("policy-auth-jwt", {"jwtSignatureAlgorithm": "HS256", "tokenNeverExpires": False, "tokenExpiresInUnit": "DAYS"}, "spec.tokenExpiresInAmount"),
        ("policy-auth-clear-text", {"usernameVar": {"type": "HEADER", "headerName": "u"}}, "spec.passwordVar"),
        ("policy-saml-validation", {"keyStoreName": "ks", "clearSaml": True}, "spec.clearSamlPath"),
        ("policy-json-transformation", {}, "spec.joltValue"),
        ("policy-xml-schema-validation", {}, "spec.schemaDefinitionList"),
        ("policy-time-restriction", {"restrictionList": [{"dayType": "WEEK", "wholeDay": True}]}, "spec.restrictionList.0.enumWeekDayList"),
        ("policy-ws-security-username", {"username": "u", "password": "p", "passwordType": "Plain"}, "spec.passwordType"),
    ],
)
def test_more_types_validate(ctx: FakeContext, type_name: str, spec: dict[str, Any], field: str) -> None:
    assert list(error_map(lambda: normalize(type_name, spec, ctx))) == [field]


def test_time_restriction_defaults(ctx: FakeContext) -> None:
    spec = {"restrictionList": [{"dayType": "WEEK", "enumWeekDayList": ["MONDAY"], "wholeDay": True}]}
    result = normalize("policy-time-restriction", spec, ctx)
    assert (result["actionType"], result["zoneId"]) == ("RESTRICT", "+03:00")


def test_require_apinizer_type() -> None:
    assert require_apinizer_type("policy-script") == "apinizer.policy-script"
    with pytest.raises(InvalidInput) as info:
        require_apinizer_type("policy-teleport")
    (error,) = info.value.errors
    assert error.field == "policy.type"
    assert error.message.startswith("unsupported policy type 'policy-teleport'; supported: policy-api-based-quota, ")
    assert "policy-white-ip" in error.message
    with pytest.raises(InvalidInput) as info:
        split_apinizer_policy({"description": "no type"})
    assert [(e.field, e.message) for e in info.value.errors] == [("policy.type", "field required")]


def test_split_drops_ignored_name() -> None:
    assert split_apinizer_policy({"type": "policy-script", "name": "x", "scriptBody": "1"}) == (
        "apinizer.policy-script",
        {"scriptBody": "1"},
    )


def test_every_type_has_a_schema() -> None:
    for policy_type in TYPES.values():
        schema = policy_type.json_schema()
        assert schema["additionalProperties"] is False
        assert "active" in schema["properties"]
