"""``http_request`` decisions through the real app, on SQLite and PostgreSQL: Syft Space and Apinizer
policies, enforcement modes, isolation of counters, pipeline order, and fail-closed counters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policyhub.http.deps import Container
from tests.compat.apinizer.helpers import SCRIPT, THROTTLING, Apinizer, setup_org
from tests.conftest import OrgClient, make_settings, new_org
from tests.own_app import own_client, own_container
from tests.support.server import free_port


def decide(org: OrgClient, scope: str | None = None, explain: bool = False, **request: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"point": "http_request", "input": request, "explain": explain}
    if scope is not None:
        body["scope"] = scope
    r = org.post("decisions", json=body)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def policy(org: OrgClient, name: str, type_name: str, spec: dict[str, Any], **fields: Any) -> dict[str, Any]:
    r = org.post("policies", json={"name": name, "type": type_name, "spec": spec, **fields})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def results(answer: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {r["name"]: (r["effect"], r["status"]) for r in answer["results"]}


# -- input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "field"),
    [({"phase": "later"}, "input.phase"), ({"verb": "GET"}, "input.verb"), ({"headers": {"a": 1}}, "input.headers.a")],
)
def test_bad_input_is_a_400_naming_the_field(org: OrgClient, given: dict[str, Any], field: str) -> None:
    r = org.post("decisions", json={"point": "http_request", "input": given})
    assert r.status_code == 400, r.text
    assert field in r.text


# -- Syft Space --------------------------------------------------------------------------------------
def test_syft_space_rate_limit_denies_with_its_obligation(org: OrgClient) -> None:
    created = policy(org, "rl", "syftspace.rate_limit", {"limit": "2/h"})
    first, second, third = (decide(org, user="Ann@x.org") for _ in range(3))
    assert [a["decision"] for a in (first, second, third)] == ["allow", "allow", "deny"]
    (obligation,) = third["obligations"]
    assert obligation["type"] == "rate_limit" and obligation["policy_id"] == created["id"]
    assert (obligation["limit"], obligation["remaining"], obligation["window_s"]) == (2, 0, 3600)
    assert obligation["retry_after_s"] > 3000
    assert third["results"][0]["reasons"][0].startswith("Rate limit exceeded: 2 requests per 1 hour(s).")
    assert decide(org, user="bob@x.org")["decision"] == "allow"


@pytest.mark.parametrize(("enforcement", "decision", "effect"), [("warn", "warn", "warn"), ("audit", "allow", "audit")])
def test_enforcement_modes_soften_a_rate_limit(org: OrgClient, enforcement: str, decision: str, effect: str) -> None:
    policy(org, "rl", "syftspace.rate_limit", {"limit": "1/h"}, enforcement=enforcement)
    assert decide(org, user="a@x")["decision"] == "allow"
    answer = decide(org, user="a@x")
    assert answer["decision"] == decision and results(answer) == {"rl": (effect, "violation")}


def test_disabled_and_archived_policies_take_no_part(org: OrgClient) -> None:
    policy(org, "off", "syftspace.access", {"denied_users": ["*"]}, enabled=False)
    policy(org, "gone", "syftspace.access", {"denied_users": ["*"]})
    assert decide(org, user="a@x")["decision"] == "deny"
    assert org.delete("policies/gone").status_code == 200
    answer = decide(org, user="a@x", explain=True)
    assert answer["decision"] == "allow" and answer["results"] == []


def test_access_policies_of_an_endpoint_grant_access_together(org: OrgClient) -> None:
    assert org.post("scopes", json={"kind": "endpoint", "key": "search"}).status_code == 201
    policy(org, "staff", "syftspace.access", {"allowed_users": ["*@company.com"]}, scope="search")
    policy(
        org,
        "partners",
        "syftspace.access",
        {"allowed_users": ["*@partner.org"], "denied_users": ["x@partner.org"]},
        scope="search",
    )
    assert decide(org, "search", user="p@partner.org")["decision"] == "allow"
    assert decide(org, "search", user="e@company.com")["decision"] == "allow"
    denied = decide(org, "search", user="x@partner.org")
    assert denied["decision"] == "deny"
    assert results(denied) == {"staff": ("deny", "violation"), "partners": ("deny", "violation")}
    assert decide(org, user="anyone@else")["decision"] == "allow"  # the org level has no access policy


def test_a_user_refused_access_uses_up_no_shared_rate_limit(org: OrgClient) -> None:
    policy(org, "global", "syftspace.rate_limit", {"limit": "2/h", "scope": "global"})
    policy(org, "acl", "syftspace.access", {"denied_users": ["spammer@*"]})
    for _ in range(5):
        assert decide(org, user="spammer@x")["decision"] == "deny"
    assert [decide(org, user="a@x")["decision"] for _ in range(3)] == ["allow", "allow", "deny"]


def test_accounting_obligation(org: OrgClient) -> None:
    policy(org, "price", "syftspace.accounting", {"price": 1.5})
    answer = decide(org, user="a@x")
    assert answer["decision"] == "allow"
    assert [(o["type"], o["price"]) for o in answer["obligations"]] == [("charge", 1.5)]


# -- counters: isolation and changes -------------------------------------------------------------------
def test_orgs_never_share_counters(org: OrgClient, other_org: OrgClient) -> None:
    for o in (org, other_org):
        policy(o, "same-name", "syftspace.rate_limit", {"limit": "1/h", "scope": "global"})
    assert decide(org)["decision"] == "allow" and decide(org)["decision"] == "deny"
    assert decide(other_org)["decision"] == "allow"


def test_changing_a_limit_keeps_its_count_and_touches_no_other_policy(org: OrgClient) -> None:
    policy(org, "a", "syftspace.rate_limit", {"limit": "2/h", "scope": "global"})
    policy(org, "b", "syftspace.rate_limit", {"limit": "3/h", "scope": "global"})
    assert [decide(org)["decision"] for _ in range(3)] == ["allow", "allow", "deny"]
    r = org.patch("policies/a", merge={"spec": {"limit": "4/h"}})
    assert r.status_code == 200, r.text
    answer = decide(org)
    assert answer["decision"] == "allow"
    by_name = {o["policy"]: o["remaining"] for o in answer["obligations"]}
    assert by_name == {"a": 1, "b": 0}  # a: 3 of 4 counted; b: 3 of 3, as before the change
    assert decide(org)["decision"] == "deny"


# -- Apinizer --------------------------------------------------------------------------------------------
WHITE_ALL = {"type": "policy-white-ip", "ipList": ["10.0.0.0/8"]}
THROTTLE_DAY = {**THROTTLING, "messageCountForInterval": 2, "throttlingInterval": "ONE_DAY"}
SCOPE = "MyProject/MyAPI"


def test_apinizer_results_follow_the_pipeline_order(org: OrgClient) -> None:
    api = setup_org(org)
    _ok(api.add("throttle", THROTTLE_DAY, order=1))
    _ok(api.add("ips", WHITE_ALL, order=1))  # inserted before the throttle
    _ok(api.add("users-only", WHITE_ALL, scope="ENDPOINT", targetEndpoint="/api/users", targetEndpointHTTPMethod="GET"))
    _ok(api.add("logging", SCRIPT, order=1))  # a script: no part in decisions
    _ok(api.add("on-response", WHITE_ALL, pipeline="RESPONSE"))
    request = {"method": "GET", "path": "/MyAPI/api/users", "client_ip": "10.1.1.1", "headers": {"x-api-key": "k"}}
    answer = decide(org, SCOPE, explain=True, **request)
    assert answer["decision"] == "allow"
    assert [r["name"].rsplit(".", 1)[-1] for r in answer["results"]] == ["ips", "throttle", "users-only", "on-response"]
    assert answer["results"][-1]["status"] == "not_applicable"  # the response pipeline's
    other = decide(
        org, SCOPE, method="POST", path="/MyAPI/api/orders", client_ip="10.1.1.1", headers={"X-Api-Key": "k"}
    )
    assert [r["name"].rsplit(".", 1)[-1] for r in other["results"]] == ["ips", "throttle"]
    third = decide(org, SCOPE, **request)
    assert third["decision"] == "deny" and third["results"][1]["reasons"][0].startswith("Throttling limit exceeded")
    _ok(api.update("throttle", {**THROTTLE_DAY, "messageCountForInterval": 10}, order=1))  # moved first
    again = decide(org, SCOPE, **request)
    assert again["decision"] == "allow" and again["results"][0]["name"].endswith(".throttle")
    assert decide(org, SCOPE, **{**request, "client_ip": "192.0.2.1"})["decision"] == "deny"


def test_apinizer_condition_gates_the_policy(org: OrgClient) -> None:
    api = setup_org(org)
    condition = {
        "conditionRuleList": [
            {
                "conditionCriteria": "VALUE",
                "firstVariable": {"name": "t", "type": "HEADER", "headerName": "X-User-Type"},
                "variableDataType": "STRING",
                "valueComparisonOperator": "EQ",
                "secondValue": "FREE",
            }
        ]
    }
    _ok(api.add("free-tier", {**THROTTLE_DAY, "messageCountForInterval": 1, "policyCondition": condition}))
    premium = {"headers": {"x-user-type": "PREMIUM", "x-api-key": "k"}}
    assert [decide(org, SCOPE, **premium)["decision"] for _ in range(3)] == ["allow"] * 3
    free = {"headers": {"X-USER-TYPE": "FREE", "x-api-key": "k"}}
    assert [decide(org, SCOPE, **free)["decision"] for _ in range(2)] == ["allow", "deny"]


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.text


# -- a down counter store ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def down(database_url: str) -> Iterator[tuple[TestClient, Container]]:
    """The app with its counters in a Redis that is not there (a closed port)."""
    settings = make_settings(database_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with own_container(settings) as container, own_client(container) as client:
        yield client, container


def test_an_unreachable_counter_store_denies_with_the_reason(down: tuple[TestClient, Container]) -> None:
    org = new_org(*down)
    policy(org, "rl", "syftspace.rate_limit", {"limit": "100/s"})
    policy(org, "acl", "syftspace.access", {"allowed_users": ["*"]})
    started = time.monotonic()
    answer = decide(org, user="a@x")
    assert time.monotonic() - started < 2.0
    assert answer["decision"] == "deny"
    (failed,) = [r for r in answer["results"] if r["name"] == "rl"]
    assert failed["error"] is True and "rate-limit counters unavailable" in failed["reasons"][0]
    assert results(answer)["acl"] == ("allow", "pass")  # policies without counters still decide


@pytest.mark.parametrize(("handling", "decision"), [("FAIL", "deny"), ("ALLOW", "allow")])
def test_apinizer_cache_error_handling_when_the_store_is_down(
    down: tuple[TestClient, Container], handling: str, decision: str
) -> None:
    api = setup_org(new_org(*down))
    _ok(api.add("throttle", {**THROTTLE_DAY, "cacheErrorHandlingType": handling, "cacheConnectionTimeoutInSeconds": 1}))
    answer = decide(api.org, SCOPE, headers={"x-api-key": "k"})
    assert answer["decision"] == decision
    (result,) = answer["results"]
    assert result["error"] is True and "rate-limit counters unavailable" in result["reasons"][0]
    if handling == "ALLOW":
        assert "fail-open" in result["reasons"][0]


def test_apinizer_results_without_counters_are_unaffected(down: tuple[TestClient, Container]) -> None:
    api: Apinizer = setup_org(new_org(*down))
    _ok(api.add("ips", WHITE_ALL))
    assert decide(api.org, SCOPE, client_ip="10.9.9.9")["decision"] == "allow"
    assert decide(api.org, SCOPE, client_ip="11.0.0.1")["decision"] == "deny"
