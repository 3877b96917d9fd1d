"""Tenant-written Apinizer patterns run in linear time (RE2), through the real app (issue 11).

Python's backtracking engine took 15 s for one decision whose throttling ``detailList`` pattern was
``(a+)+$`` and whose identity header was 27 ``a`` and a ``!``; path templates with adjacent ``{name}``
placeholders backtrack the same way. Each test asks the question that stalled the server, asserts the
verdict and a generous time bound, and checks that ordinary patterns keep working.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from policyhub.policy_types.apinizer.evaluate import MAX_MATCHED_IDENTITY_CHARS
from tests.conftest import OrgClient

from .helpers import PROJECT, THROTTLING, Apinizer

EVIL = "(a+)+$"
NEAR_MISS = "a" * 27 + "!"  # the header: no full match, so backtracking tries every split of the a's
LONGER_MISS = "a" * 32 + "!"  # 32 times the work of the (about a minute here with Python's engine)
FAST_S = 2.0  # these questions took 3 s to hours before


def throttling(detail_list: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {**copy.deepcopy(THROTTLING), "detailList": detail_list, **fields}


def override(target: str, count: int = 1, regex: bool = True) -> dict[str, Any]:
    return {
        "targetValue": target,
        "regexExpression": regex,
        "messageCountForInterval": count,
        "quotaInterval": "ONE_MINUTE",
    }


def decide(org: OrgClient, scope: str, **request: Any) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    r = org.post("decisions", json={"point": "http_request", "scope": scope, "input": request})
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    return dict(r.json()), elapsed


def verdict(decision: dict[str, Any]) -> tuple[str, Any]:
    (result,) = decision["results"]
    return result["effect"], result["details"].get("override")


def test_a_backtracking_detail_pattern_answers_fast_with_the_right_verdict(api: Apinizer) -> None:
    assert api.add("throttling-policy", throttling([override(EVIL)])).status_code == 200, "written"
    scope = api.core("throttling-policy")["scope"]

    for near_miss in (NEAR_MISS, LONGER_MISS):
        decision, elapsed = decide(api.org, scope, headers={"X-API-Key": near_miss})
        assert elapsed < FAST_S
        assert verdict(decision) == ("allow", False)  # no full match: the policy's own limit (100) counts

    matching = "a" * 28  # a full match: the override's limit of 1
    assert verdict(decide(api.org, scope, headers={"X-API-Key": matching})[0]) == ("allow", True)
    assert verdict(decide(api.org, scope, headers={"X-API-Key": matching})[0]) == ("deny", True)


def test_ordinary_detail_patterns_still_match_whole_identities(api: Apinizer) -> None:
    details = [override("partner-[0-9]+"), override("(?i)gold-.*", 5), override("VIP", 3, regex=False)]
    assert api.add("throttling-policy", throttling(details)).status_code == 200
    scope = api.core("throttling-policy")["scope"]
    answers = {
        key: verdict(decide(api.org, scope, headers={"X-API-Key": key})[0])
        for key in ("partner-7", "partner-7x", "GOLD-1", "VIP", "vip")
    }
    assert answers == {
        "partner-7": ("allow", True),
        "partner-7x": ("allow", False),  # Java's matches(): the whole identity, not a part of it
        "GOLD-1": ("allow", True),
        "VIP": ("allow", True),
        "vip": ("allow", False),
    }


def test_a_pattern_re2_cannot_run_is_a_400_naming_the_field_on_every_face(api: Apinizer) -> None:
    for pattern in (r"(a)\1", "(?=a)a", "(?<!x)a"):  # a backreference, lookarounds: only backtracking runs them
        r = api.add("throttling-policy", throttling([override("ok"), override(pattern)]))
        assert r.status_code == 400, r.text
        fields = [e["field"] for e in r.json()["validation_errors"]]
        assert any(f.endswith("detailList.1.targetValue") for f in fields), r.json()
    assert api.names() == []  # nothing was written

    spec = throttling([override(r"(a)\1")])
    del spec["type"]
    r = api.org.post("policies", json={"name": "t", "type": "apinizer.policy-api-based-throttling", "spec": spec})
    assert r.status_code == 400, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "invalid escape sequence" in errors["spec.detailList.0.targetValue"]


def test_adjacent_path_placeholders_answer_fast(api: Apinizer, org: OrgClient) -> None:
    """``{a}{b}...`` in a paramPath or an endpoint is ``[^/]+[^/]+...``: polynomial backtracking in Python."""
    template = "/x/" + "".join(f"{{{name}}}" for name in "abcdefghijkl")
    identity = {"type": "PARAMETER", "paramType": "PATH", "paramName": "a", "paramPath": template}
    assert api.add("throttling-policy", throttling([], targetVariableForIdentity=identity)).status_code == 200
    proxy = {"name": "Evil", "endpointList": [{"endpoint": template, "httpMethod": "GET"}]}
    assert org.post(f"/apiops/projects/{PROJECT}/apiProxies/", json=proxy).status_code == 200
    placed = {
        "operationMetadata": {
            "targetScope": "ENDPOINT",
            "targetEndpoint": template,
            "targetEndpointHTTPMethod": "GET",
            "targetPipeline": "REQUEST",
            "deploy": False,
        },
        "policy": throttling([]),
    }
    r = org.post(f"/apiops/projects/{PROJECT}/apiProxies/Evil/policies/on-endpoint/", json=placed)
    assert r.status_code == 200, r.text

    near_miss = "/x/" + "a" * 40 + "/b"  # the segment fits, the path does not end there
    for scope in (api.core("throttling-policy")["scope"], org.get(f"scopes/{PROJECT}/Evil").json()["path"]):
        decision, elapsed = decide(org, scope, method="GET", path=near_miss)
        assert elapsed < FAST_S
        assert decision["decision"] == "allow"

    evil_scope = org.get(f"scopes/{PROJECT}/Evil").json()["path"]
    on_endpoint = decide(org, evil_scope, method="GET", path="/x/" + "a" * 12)[0]
    assert [r["name"] for r in on_endpoint["results"]][-1].endswith("on-endpoint")  # the endpoint still matches


def test_an_identity_too_long_to_match_denies_with_the_reason_even_when_failing_open(api: Apinizer) -> None:
    """``cacheErrorHandlingType: ALLOW`` lets requests through when the counter store fails, not when a
    pattern cannot be matched: an identity over the matching budget denies, saying why."""
    policy = throttling([override("partner-[0-9]+")], cacheErrorHandlingType="ALLOW")
    assert api.add("throttling-policy", policy).status_code == 200
    scope = api.core("throttling-policy")["scope"]
    decision, _ = decide(api.org, scope, headers={"X-API-Key": "a" * (MAX_MATCHED_IDENTITY_CHARS + 1)})
    assert decision["decision"] == "deny"
    assert decision["results"][0]["reasons"][0].startswith("evaluation error: the identity cannot be matched")
    longest = decide(api.org, scope, headers={"X-API-Key": "a" * MAX_MATCHED_IDENTITY_CHARS})[0]
    assert verdict(longest) == ("allow", False)
    assert verdict(decide(api.org, scope, headers={"X-API-Key": "partner-1"})[0]) == ("allow", True)


def test_a_detail_list_of_costly_patterns_is_refused_fast(api: Apinizer) -> None:
    """One pattern over Unicode classes compiles to ~350,000 RE2 instructions (~100 ms); a detailList holds
    1,000 of them (minutes of CPU to validate). The patterns of a policy share a compile budget: the first
    entry over it is a 400 naming it, after a few compiles."""
    costly = [override(rf"(?i)^[\pL\pN ._-]{{1,255}}{index}$") for index in range(1000)]
    started = time.perf_counter()
    r = api.add("throttling-policy", throttling(costly))
    assert time.perf_counter() - started < 5
    assert r.status_code == 400, r.text
    (error,) = r.json()["validation_errors"]
    assert error["field"].endswith("detailList.2.targetValue")
    assert "together compile to more than" in error["message"]
    assert api.add("throttling-policy", throttling(costly[:2])).status_code == 200  # two fit


def test_a_param_path_with_too_many_placeholders_is_a_400_naming_it(api: Apinizer) -> None:
    """Reading a placeholder costs the path's length times the template's placeholders (341 fit in a
    1,024-character paramPath: half a second per read of an 8 KiB path); 32 are allowed."""

    def identity(count: int) -> dict[str, Any]:
        template = "/x/" + "".join(f"{{p{index}}}" for index in range(count))
        return {"type": "PARAMETER", "paramType": "PATH", "paramName": "p0", "paramPath": template}

    r = api.add("throttling-policy", throttling([], targetVariableForIdentity=identity(33)))
    assert r.status_code == 400, r.text
    fields = [e["field"] for e in r.json()["validation_errors"]]
    assert any(f.endswith("targetVariableForIdentity.paramPath") for f in fields), r.json()
    assert api.add("throttling-policy", throttling([], targetVariableForIdentity=identity(32))).status_code == 200
    scope = api.core("throttling-policy")["scope"]
    decision, elapsed = decide(api.org, scope, path="/x/" + "a" * 8000)
    assert elapsed < FAST_S
    assert decision["decision"] == "allow"
