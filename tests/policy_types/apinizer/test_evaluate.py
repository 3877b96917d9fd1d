"""Apinizer throttling, quota and IP-list evaluators; placement, pipeline order and gates."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from policyhub.evaluation.compiled import CompiledPolicy, RateState
from policyhub.evaluation.limits import DeadlineExceeded
from policyhub.evaluation.outcome import Status
from policyhub.policy_types.apinizer.evaluate import (
    MAX_MATCHED_IDENTITY_CHARS,
    CompiledIpList,
    CompiledRateLimit,
    client_address,
)
from policyhub.policy_types.registry import default_registry
from tests.engine.http_request_support import T0, Harness, make_policy

THROTTLING = "apinizer.policy-api-based-throttling"
QUOTA = "apinizer.policy-api-based-quota"


def throttling(**fields: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "targetVariableForIdentity": {"type": "HEADER", "headerName": "X-API-Key"},
        "messageCountForInterval": 2,
        "throttlingInterval": "ONE_MINUTE",
    }
    spec.update(fields)
    return spec


def add(h: Harness, type_name: str, spec: dict[str, Any], **kw: Any) -> CompiledPolicy:
    return h.add(make_policy(type_name, spec, **kw))


def statuses(h: Harness, policy: CompiledPolicy, n: int, now: float = T0, **request: Any) -> list[Status]:
    return [h.run(policy, now, **request).status for _ in range(n)]


PASS, VIOLATION, NA = Status.PASS, Status.VIOLATION, Status.NOT_APPLICABLE


# -- identity ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variable", "request_a", "request_b"),
    [
        (
            {"type": "HEADER", "headerName": "x-api-KEY"},
            {"headers": {"X-Api-Key": "a"}},
            {"headers": {"x-api-key": "b"}},
        ),
        ({"type": "PARAMETER", "paramName": "key"}, {"query": {"key": "a"}}, {"query": {"key": ["b", "a"]}}),
        (
            {"type": "PARAMETER", "paramType": "PATH", "paramName": "id", "paramPath": "/users/{id}"},
            {"path": "/api/users/1"},
            {"path": "/api/users/2/"},
        ),
        ({"type": "PARAMETER", "paramType": "FORM", "paramName": "k"}, {"body": "k=a&x=1"}, {"body": {"k": "b"}}),
        (
            {"type": "BODY", "messageContentType": "JSON", "jsonPathValue": "$.client.ids[0]"},
            {"body": {"client": {"ids": ["a"]}}},
            {"body": '{"client": {"ids": ["b", "a"]}}'},
        ),
        (
            {"type": "BODY", "messageContentType": "XML", "xpathValue": "/req/client/@id"},
            {"body": "<req><client id='a'/></req>"},
            {"body": "<req><client id='b'/></req>"},
        ),
        ({"type": "CONTEXT_VALUES", "contextValue": "CLIENT_IP"}, {"client_ip": "10.0.0.1"}, {"client_ip": "10.0.0.2"}),
        ({"type": "CONTEXT_VALUES", "contextValue": "USER_NAME"}, {"user": "alice"}, {"user": "bob"}),
        (
            {"type": "CONTEXT_VALUES", "contextValue": "TENANT"},
            {"context": {"TENANT": "a"}},
            {"context": {"TENANT": 7}},
        ),
        ({"type": "CUSTOM", "name": "userAndPhone"}, {"variables": {"userAndPhone": "a"}}, {"variables": {}}),
        (
            {"type": "SCRIPT", "name": "sv", "scriptLanguage": "GROOVY", "scriptBody": "x"},
            {"variables": {"sv": "a"}},
            {"variables": {"sv": "b"}},
        ),
    ],
)
def test_each_variable_type_identifies_the_caller(
    variable: dict[str, Any], request_a: dict[str, Any], request_b: dict[str, Any]
) -> None:
    h = Harness()
    policy = add(h, THROTTLING, throttling(targetVariableForIdentity=variable, messageCountForInterval=1))
    assert statuses(h, policy, 2, **request_a) == [PASS, VIOLATION]
    assert h.run(policy, **request_b).status is PASS  # another identity, another counter


def test_requests_without_the_identity_share_one_counter() -> None:
    h = Harness()
    policy = add(h, THROTTLING, throttling())
    assert statuses(h, policy, 3) == [PASS, PASS, VIOLATION]
    assert statuses(h, policy, 1, headers={"X-API-Key": ""}) == [VIOLATION]  # empty is no identity either


# -- overrides ------------------------------------------------------------------------------------------
def test_detail_list_overrides_by_exact_value_and_by_full_regex_match() -> None:
    h = Harness()
    spec = throttling(
        detailList=[
            {"targetValue": "VIP", "messageCountForInterval": 4, "quotaInterval": "ONE_MINUTE"},
            {
                "targetValue": "partner-[0-9]+",
                "regexExpression": True,
                "messageCountForInterval": 3,
                "quotaInterval": "ONE_HOUR",
            },
            {"targetValue": "partner-1", "messageCountForInterval": 10, "quotaInterval": "ONE_MINUTE"},  # too late
        ]
    )
    policy = add(h, THROTTLING, spec)
    assert statuses(h, policy, 5, headers={"x-api-key": "VIP"}) == [PASS] * 4 + [VIOLATION]
    assert statuses(h, policy, 4, headers={"x-api-key": "partner-1"}) == [PASS] * 3 + [VIOLATION]
    assert statuses(h, policy, 3, headers={"x-api-key": "partner-1x"}) == [PASS, PASS, VIOLATION]  # no full match
    assert statuses(h, policy, 3, headers={"x-api-key": "vip"}) == [PASS, PASS, VIOLATION]  # exact is exact
    refused = h.run(policy, headers={"x-api-key": "partner-1"})
    assert refused.details == {"limit": 3, "period": "1 hour", "override": True}
    assert refused.obligations[0]["window_s"] == 3600


def test_an_exact_entry_listed_first_wins_over_a_later_regex() -> None:
    h = Harness()
    spec = throttling(
        detailList=[
            {"targetValue": "gold", "messageCountForInterval": 1, "quotaInterval": "ONE_MINUTE"},
            {"targetValue": ".*", "regexExpression": True, "messageCountForInterval": 5, "quotaInterval": "ONE_MINUTE"},
        ]
    )
    policy = add(h, THROTTLING, spec)
    assert isinstance(policy, CompiledRateLimit)
    assert policy.limit_for("gold").count == 1 and policy.limit_for("silver").count == 5


# -- windows, quota, obligations ----------------------------------------------------------------------
def test_fixed_and_sliding_windows_and_interval_lengths() -> None:
    h = Harness()
    fixed = add(h, THROTTLING, throttling(intervalPeriodLength=2))  # 2 per 2 minutes
    assert [h.run(fixed, T0 + t).status for t in (1, 50, 119.999, 120)] == [PASS, PASS, VIOLATION, PASS]
    sliding = add(h, THROTTLING, throttling(intervalWindowType="SLIDING"))
    assert [h.run(sliding, T0 + t).status for t in (59, 59.5, 60.5, 120.5)] == [PASS, PASS, VIOLATION, PASS]


def quota(**fields: Any) -> dict[str, Any]:
    spec = throttling(**{"throttlingInterval": "ONE_DAY", **fields})
    spec["quotaInterval"] = spec.pop("throttlingInterval")
    return spec


def test_quota_months_are_30_days() -> None:
    h = Harness()
    monthly = add(h, QUOTA, quota(messageCountForInterval=1, throttlingInterval="ONE_MONTH"))
    assert h.run(monthly, T0).status is PASS
    refused = h.run(monthly, T0 + 29 * 86_400)
    assert refused.status is VIOLATION and refused.reasons[0].startswith("Quota limit exceeded: 1 messages per 1 month")
    assert h.run(monthly, T0 + 30 * 86_400).status is PASS


def test_statistics_headers_only_when_asked() -> None:
    h = Harness()
    quiet = add(h, THROTTLING, throttling())
    assert [o["type"] for o in h.run(quiet, T0 + 30).obligations] == ["rate_limit"]
    loud = add(h, THROTTLING, throttling(showRateLimitStatisticsInResponseHeader=True, messageCountForInterval=1))
    assert h.run(loud, T0 + 30).obligations[1] == {
        "type": "headers",
        "headers": {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30"},
    }
    refused = h.run(loud, T0 + 40)
    assert refused.obligations[0] == {
        "type": "rate_limit",
        "limit": 1,
        "remaining": 0,
        "reset_after_s": 20.0,
        "retry_after_s": 20.0,
        "window_s": 60,
    }
    assert refused.obligations[1]["headers"]["Retry-After"] == "20"


class _Recorder:
    blocking = False

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def hit(self, key: str, limit: int, window_s: float, **kw: Any) -> RateState:
        self.calls.append({"key": key, "limit": limit, "window_s": window_s, **kw})
        return RateState(True, limit, limit - 1, 1.0, 0.0)


def test_counter_keys_name_org_policy_rule_and_identity_and_pass_the_timeout() -> None:
    recorder = _Recorder()
    h = Harness(recorder)
    policy = make_policy(THROTTLING, throttling(cacheConnectionTimeoutInSeconds=2))
    compiled = h.add(policy)
    h.run(compiled, headers={"x-api-key": "k:1"})
    (call,) = recorder.calls
    assert call["key"] == f"{policy.org_id}:{policy.id}:-:k:1"
    assert (call["limit"], call["window_s"], call["sliding"], call["timeout_s"]) == (2, 60, False, 2.0)


@pytest.mark.parametrize(("setting", "fail_open"), [("FAIL", False), ("ALLOW", True)])
def test_cache_error_handling_sets_fail_open(setting: str, fail_open: bool) -> None:
    assert add(Harness(), THROTTLING, throttling(cacheErrorHandlingType=setting)).fail_open is fail_open
    handling = "CONTINUE" if fail_open else "FAIL"
    assert add(Harness(), QUOTA, quota(cacheErrorHandlingType=handling)).fail_open is fail_open


# -- IP lists -------------------------------------------------------------------------------------------
IPS = ["10.1.0.0/16", "192.168.1.7", "2001:db8::/32", "::1", "0.0.0.0/8"]


@pytest.mark.parametrize(
    ("client", "listed"),
    [
        ("10.1.255.9", True),
        ("10.2.0.1", False),
        ("192.168.1.7", True),
        ("192.168.1.8", False),
        ("2001:db8:ffff::1", True),
        ("2001:db9::1", False),
        ("::1", True),
        ("::ffff:10.1.2.3", True),  # IPv4-mapped IPv6
        ("0.4.5.6", True),
        ("[2001:db8::5]:443", True),
        ("10.1.0.1:8080", True),
    ],
)
def test_ip_lists_with_ipv4_and_ipv6_ranges(client: str, listed: bool) -> None:
    h = Harness()
    white = add(h, "apinizer.policy-white-ip", {"ipList": IPS})
    black = add(h, "apinizer.policy-black-ip", {"ipList": IPS})
    assert isinstance(white, CompiledIpList)
    assert h.run(white, client_ip=client).status is (PASS if listed else VIOLATION)
    assert h.run(black, client_ip=client).status is (VIOLATION if listed else PASS)


def test_ip_from_a_variable_takes_the_first_forwarded_address() -> None:
    h = Harness()
    spec = {"ipList": ["203.0.113.0/24"], "targetVariableForIP": {"type": "HEADER", "headerName": "X-Forwarded-For"}}
    black = add(h, "apinizer.policy-black-ip", spec)
    assert h.run(black, client_ip="10.0.0.1", headers={"x-forwarded-for": "203.0.113.9, 10.0.0.1"}).status is VIOLATION
    assert h.run(black, client_ip="203.0.113.9", headers={"x-forwarded-for": "10.9.9.9"}).status is PASS


@pytest.mark.parametrize("client", [None, "", "not-an-ip", "999.1.1.1"])
def test_a_missing_or_invalid_client_ip_is_refused_by_both_lists(client: str | None) -> None:
    h = Harness()
    for kind in ("apinizer.policy-white-ip", "apinizer.policy-black-ip"):
        outcome = h.run(add(h, kind, {"ipList": ["10.0.0.0/8"]}), client_ip=client)
        assert outcome.status is VIOLATION and "cannot be checked" in outcome.reasons[0]
    assert client_address("fe80::1%eth0") is not None


# -- placement, pipelines, gates ---------------------------------------------------------------------
def placed(scope: str = "ALL", pipeline: str = "REQUEST", order: int = 1, **extra: Any) -> dict[str, Any]:
    return {"apinizer": {"targetScope": scope, "targetPipeline": pipeline, "order": order, **extra}}


def test_pipeline_order_is_proxy_list_then_endpoint_list_each_by_order() -> None:
    h = Harness()
    spec = {"ipList": ["0.0.0.0/0"]}
    endpoint = {"targetEndpoint": "/users", "targetEndpointHTTPMethod": "GET"}
    e1 = add(h, "apinizer.policy-white-ip", spec, attributes=placed("ENDPOINT", order=1, **endpoint))
    a2 = add(h, "apinizer.policy-white-ip", spec, attributes=placed(order=2))
    a1 = add(h, "apinizer.policy-white-ip", spec, attributes=placed(order=1))
    loose = add(h, "apinizer.policy-white-ip", spec)  # written through /v1: no placement
    syft = add(h, "syftspace.access", {"allowed_users": ["*"]})
    assert sorted([loose, e1, a2, a1, syft], key=lambda c: c.order()) == [syft, a1, a2, loose, e1]


@pytest.mark.parametrize(
    ("method", "path", "applies"),
    [
        ("GET", "/users/42", True),
        ("get", "/users/42/", True),
        ("GET", "/shop/users/42", True),  # with the proxy's relativePath (not known here: any prefix is not)
        ("POST", "/users/42", False),
        ("GET", "/users/42/orders", False),
        ("GET", "/users", False),
    ],
)
def test_endpoint_placed_policies_apply_to_their_endpoint_only(method: str, path: str, applies: bool) -> None:
    from policyhub.domain.records import Scope
    from policyhub.evaluation.snapshot import OrgSnapshot

    h = Harness()
    proxy = Scope(
        "proxy-1",
        h.snapshot.org_id,
        None,
        "api_proxy",
        "shop",
        "shop",
        "p/shop",
        {"apinizer": {"relativePath": "/shop"}},
        None,
    )  # type: ignore[arg-type]
    h.snapshot = OrgSnapshot(h.snapshot.org_id, 1, [proxy], [])
    attrs = placed("ENDPOINT", targetEndpoint="/users/{id}", targetEndpointHTTPMethod="GET")
    policy = add(h, "apinizer.policy-white-ip", {"ipList": ["0.0.0.0/0"]}, attributes=attrs, scope_id="proxy-1")
    assert policy.applies(h.evaluation(method=method, path=path)) is applies
    any_method = add(
        h,
        "apinizer.policy-white-ip",
        {"ipList": ["0.0.0.0/0"]},
        attributes={**attrs, "apinizer": {**attrs["apinizer"], "targetEndpointHTTPMethod": "ALL"}},
    )
    assert any_method.applies(h.evaluation(method="DELETE", path="/users/1"))


def test_policies_take_part_only_in_their_pipeline() -> None:
    h = Harness()
    response = add(h, THROTTLING, throttling(), attributes=placed(pipeline="RESPONSE"))
    request = add(h, THROTTLING, throttling(), attributes=placed(pipeline="REQUEST"))
    assert not response.applies(h.evaluation(phase="request")) and response.applies(h.evaluation(phase="response"))
    assert request.applies(h.evaluation()) and not request.applies(h.evaluation(phase="error"))


def test_inactive_policies_and_false_conditions_do_not_apply_and_do_not_count() -> None:
    h = Harness()
    inactive = add(h, THROTTLING, throttling(active=False))
    assert not inactive.applies(h.evaluation())
    condition = {
        "conditionRuleList": [
            {
                "conditionCriteria": "VALUE",
                "firstVariable": {"name": "t", "type": "HEADER", "headerName": "X-User-Type"},
                "variableDataType": "STRING",
                "valueComparisonOperator": "EQ",
                "secondValue": "PREMIUM",
            }
        ]
    }
    gated = add(h, THROTTLING, throttling(policyCondition=condition, messageCountForInterval=1))
    assert statuses(h, gated, 3, headers={"x-user-type": "FREE"}) == [NA] * 3  # never counted...
    assert statuses(h, gated, 2, headers={"x-user-type": "PREMIUM"}) == [PASS, VIOLATION]  # ...so 1 is left
    assert h.run(gated, headers={"x-user-type": "PREMIUM"}).reasons[0].startswith("Throttling limit exceeded")


def test_message_transformations_take_no_part_in_decisions() -> None:
    registry = default_registry()
    deciding = {t.name for t in registry if t.decision_point == "http_request" and t.name.startswith("apinizer.")}
    assert deciding == {
        "apinizer.policy-api-based-throttling",
        "apinizer.policy-api-based-quota",
        "apinizer.policy-white-ip",
        "apinizer.policy-black-ip",
    }
    for name in ("apinizer.policy-json-transformation", "apinizer.policy-xml-transformation", "apinizer.policy-script"):
        assert registry.get(name).decision_point is None


def test_detail_patterns_stop_at_the_decision_deadline() -> None:
    """1,000 patterns RE2's DFA cannot cache, against the longest identity matched (8 KiB): about 10 s of
    matching; the decision's deadline is checked before each pattern, so it stops soon after."""
    h = Harness()
    never = "(?:a|b)*a(?:a|b){150}c(?:a|b){150}a(?:a|b)*"  # no c in the identity, found out in both directions
    details = [_override(never)] * 1000
    policy = add(h, THROTTLING, throttling(detailList=details))
    identity = "".join(random.Random(1).choices("ab", k=MAX_MATCHED_IDENTITY_CHARS))
    evaluation = h.evaluation(T0, headers={"x-api-key": identity})
    evaluation.deadline = time.monotonic() + 0.2
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        policy.evaluate(evaluation)
    assert time.monotonic() - started < 2


def _override(target: str) -> dict[str, Any]:
    return {"targetValue": target, "regexExpression": True, "messageCountForInterval": 1, "quotaInterval": "ONE_MINUTE"}
