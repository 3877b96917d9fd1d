"""apinizer.*: per-type fields and defaults, type helpers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policyhub.errors import InvalidInput
from policyhub.policy_types.apinizer import (
    APINIZER_PREFIX,
    apinizer_type_names,
    join_apinizer_policy,
    require_apinizer_type,
    split_apinizer_policy,
)

from .apinizer_data import SEED_POLICY, TYPES, normalize, throttling
from .helpers import FakeContext, error_map


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
        "detailList": [
            {
                "targetValue": "^vip-.*",
                "regexExpression": True,
                "messageCountForInterval": 5,
                "quotaInterval": "ONE_DAY",
            }
        ],
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
        (
            {"messageCountForInterval": 0},
            {"spec.messageCountForInterval": "Input should be greater than or equal to 1"},
        ),
        (
            {"messageCountForInterval": 2**31},
            {"spec.messageCountForInterval": "Input should be less than or equal to 2147483647"},
        ),
        ({"messageCountForInterval": "200"}, {"spec.messageCountForInterval": "Input should be a valid integer"}),
        (
            {"throttlingInterval": "ONE_WEEK"},
            {"spec.throttlingInterval": "Input should be 'ONE_SECOND', 'ONE_MINUTE', 'ONE_HOUR' or 'ONE_DAY'"},
        ),
        ({"intervalWindowType": "ROLLING"}, {"spec.intervalWindowType": "Input should be 'FIXED' or 'SLIDING'"}),
        (
            {"targetVariableForIdentity": {"type": "HEADER"}},
            {"spec.targetVariableForIdentity.headerName": "required when type is HEADER"},
        ),
        (
            {"targetVariableForIdentity": {"type": "COOKIE"}},
            {
                "spec.targetVariableForIdentity.type": (
                    "Input should be 'HEADER', 'PARAMETER', 'BODY', 'CONTEXT_VALUES', 'CUSTOM' or 'SCRIPT'"
                )
            },
        ),
        (
            {
                "detailList": [
                    {
                        "targetValue": "(",
                        "regexExpression": True,
                        "messageCountForInterval": 1,
                        "quotaInterval": "ONE_DAY",
                    }
                ]
            },
            {
                "spec.detailList.0.targetValue": (
                    "invalid regular expression (linear-time RE2 syntax): missing ): ("
                )
            },
        ),
        (
            {"detailList": [{"targetValue": "x", "messageCountForInterval": 1}]},
            {"spec.detailList.0.quotaInterval": "field required"},
        ),
        ({"name": "throttling-policy"}, {"spec.name": "unknown field"}),
        ({"type": "policy-api-based-throttling"}, {"spec.type": "unknown field"}),
        ({"rateLimit": 5}, {"spec.rateLimit": "unknown field"}),
        ({"active": "true"}, {"spec.active": "Input should be a valid boolean"}),
    ],
)
def test_throttling_errors(ctx: FakeContext, changes: dict[str, Any], expected: dict[str, str]) -> None:
    assert error_map(lambda: normalize("policy-api-based-throttling", throttling(**changes), ctx)) == expected


SEED_WHITE_IP = ["192.168.1.0/24", "10.0.0.0/8", "203.0.113.100", "2001:db8::/32"]


@pytest.mark.parametrize("type_name", ["policy-white-ip", "policy-black-ip"])
def test_ip_lists(ctx: FakeContext, type_name: str) -> None:
    spec = {
        "description": "Allow only trusted IP addresses",
        "active": True,
        "targetVariableForIP": None,
        "ipList": SEED_WHITE_IP,
    }
    assert normalize(type_name, spec, ctx) == {
        "description": "Allow only trusted IP addresses",
        "active": True,
        "errorMessageList": [],
        "ipList": SEED_WHITE_IP,
    }
    spec = {
        "targetVariableForIP": {"type": "CONTEXT", "contextValue": "CLIENT_IP"},
        "ipList": ["2001:DB8:0::1", "10.0.0.0/32"],
    }
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
        (
            "policy-auth-jwt",
            {"jwtSignatureAlgorithm": "HS256", "tokenNeverExpires": False, "tokenExpiresInUnit": "DAYS"},
            "spec.tokenExpiresInAmount",
        ),
        ("policy-auth-clear-text", {"usernameVar": {"type": "HEADER", "headerName": "u"}}, "spec.passwordVar"),
        ("policy-saml-validation", {"keyStoreName": "ks", "clearSaml": True}, "spec.clearSamlPath"),
        ("policy-json-transformation", {}, "spec.joltValue"),
        ("policy-xml-schema-validation", {}, "spec.schemaDefinitionList"),
        (
            "policy-time-restriction",
            {"restrictionList": [{"dayType": "WEEK", "wholeDay": True}]},
            "spec.restrictionList.0.enumWeekDayList",
        ),
        (
            "policy-ws-security-username",
            {"username": "u", "password": "p", "passwordType": "Plain"},
            "spec.passwordType",
        ),
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
    assert error.message.startswith("unsupported policy type 'policy-teleport'; supported: policy-api-authentication, ")
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
