"""Flashback AI policies at the ``ai_content`` decision point, and Flashback's violations and alerts.

The world (``conftest.py``) has three "Do not share PII." policies (MEDIUM, alert) at the org, the
``prod`` workspace and its ``api`` repo, and one in another org.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from policyhub.policy_types.flashback.detectors import ALL_PII

from .conftest import World

CARD = "4111 1111 1111 1111"
AWS_KEY = "AKIAZ7XQ3LMN4PQR5STU"
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"[:36]
PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5\n-----END EC PRIVATE KEY-----"
VIOLATION_KEYS = {
    "id",
    "policyId",
    "policyName",
    "timestamp",
    "explanation",
    "conversationId",
    "repoId",
    "repoName",
    "userId",
    "userName",
    "repoAiApiKeyId",
    "repoAiApiKeyName",
    "workspaceId",
    "workspaceName",
    "riskType",
    "actionType",
    "blocked",
    "severity",  # FlashbackClient's PolicyViolationDTO (src/api/types/ai/policy.ts)
    "block",
    "direction",
    "detectors",
    "matches",
    "llmType",
    "llmModel",
    "host",
    "decisionId",
}


def decide(world: World, content: str, scope: str | None = None, token: str | None = None, **given: Any) -> Any:
    body = {"point": "ai_content", "scope": scope, "input": {"content": content, **given}}
    r = world.org.post("decisions", json=body, token=token)
    assert r.status_code == 200, r.text
    return r.json()


def flush(world: World) -> None:
    world.org.container.decisions.log.flush()


def get(world: World, path: str, as_: str = "admin", **params: Any) -> Any:
    query = f"?{urlencode(params)}" if params else ""
    return world.call("GET", f"{path}{query}", as_=as_)


def ok(world: World, path: str, as_: str = "admin", **params: Any) -> dict[str, Any]:
    r = get(world, path, as_, **params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def flashback_policy(world: World, name: str, content: str, action: int, risk: str, **level: str) -> str:
    return str(world.create(name=name, content=content, actionType=action, riskType=risk, **level)["id"])


# -- evaluation ------------------------------------------------------------------------------------------
def test_org_workspace_and_repo_policies_apply_together(world: World) -> None:
    at_repo = decide(world, "mail me: jane.roe@example.org", "prod/api")
    assert [r["policy_id"] for r in at_repo["results"]] == [
        world.ids["org_policy"],
        world.ids["policy"],
        world.ids["repo_policy"],
    ]
    assert at_repo["decision"] == "warn"  # actionType 1 alerts: the content passes, flagged
    for result in at_repo["results"]:
        assert (result["status"], result["effect"]) == ("violation", "warn")
        assert result["details"]["detectors"] == list(ALL_PII)
        assert result["details"]["matches"][0]["detector"] == "email"
    assert [r["policy_id"] for r in decide(world, "hello", "prod")["results"]] == [
        world.ids["org_policy"],
        world.ids["policy"],
    ]
    elsewhere = decide(world, "hello", "dev/web")
    assert [r["policy_id"] for r in elsewhere["results"]] == [world.ids["org_policy"]]
    assert elsewhere["decision"] == "allow" and elsewhere["results"][0]["effect"] == "allow"


def test_action_types_log_alert_and_block(world: World) -> None:
    ws = {"workspaceId": world.ids["dev_ws"]}
    logged = flashback_policy(world, "Log AWS keys", "Log any AWS keys", 0, "LOW", **ws)
    alerted = flashback_policy(world, "Alert on GitHub tokens", "Alert on GitHub tokens", 1, "MEDIUM", **ws)
    blocked = flashback_policy(world, "Block private keys", "Never send private keys", 2, "HIGH", **ws)

    def effect_of(decision: dict[str, Any], policy_id: str) -> str:
        return str(next(r["effect"] for r in decision["results"] if r["policy_id"] == policy_id))

    first = decide(world, f"deploy with {AWS_KEY}", "dev/web")
    assert first["decision"] == "allow" and effect_of(first, logged) == "audit"
    second = decide(world, f"token {GITHUB}", "dev/web")
    assert second["decision"] == "warn" and effect_of(second, alerted) == "warn"
    third = decide(world, f"key:\n{PEM}", "dev/web")
    assert third["decision"] == "deny" and effect_of(third, blocked) == "deny"
    assert effect_of(third, logged) == "allow"


def test_disabled_and_archived_policies_are_ignored(world: World) -> None:
    assert world.call("DELETE", f"/policy/{world.ids['repo_policy']}").status_code == 200
    assert world.org.patch(f"policies/{world.ids['policy']}", merge={"enabled": False}).status_code == 200
    decision = decide(world, "jane.roe@example.org", "prod/api")
    assert [r["policy_id"] for r in decision["results"]] == [world.ids["org_policy"]]


def test_the_decision_log_keeps_the_content_masked(world: World) -> None:
    decision = decide(world, f"card {CARD}, key {AWS_KEY}", "prod/api", user="jane@corp.example")
    flush(world)
    r = world.org.get(f"decisions/{decision['id']}")
    assert r.status_code == 200, r.text
    assert CARD not in r.text and AWS_KEY not in r.text and CARD.replace(" ", "") not in r.text
    assert r.json()["input"]["content"].startswith("card 41*")
    assert decision["input_hash"] == r.json()["input_hash"]


# -- violations and alerts -----------------------------------------------------------------------------
def test_violations_have_flashbacks_shape_and_never_echo_the_secret(world: World) -> None:
    decision = decide(
        world,
        f"my card is {CARD}",
        "prod/api",
        direction="response",
        conversation_id="conv-1",
        user="u-42",
        user_name="Jane Roe",
        gateway_key_id="key-1",
        gateway_key_name="ci key",
        llm_type="OPENAI",
        llm_model="gpt-4o",
        host="gw-1",
    )
    flush(world)
    body = ok(world, "/policy/violations")
    assert set(body) == {"success", "violations", "total", "skip", "take"}
    assert (body["success"], body["total"], body["skip"], body["take"]) == (True, 3, 0, 50)
    assert CARD not in str(body)
    by_policy = {v["policyId"]: v for v in body["violations"]}
    assert set(by_policy) == {world.ids["org_policy"], world.ids["policy"], world.ids["repo_policy"]}
    v = by_policy[world.ids["repo_policy"]]
    assert set(v) == VIOLATION_KEYS
    assert v["policyName"] == "Repo Policy" and v["riskType"] == "MEDIUM" and v["actionType"] == 1
    assert (v["repoId"], v["repoName"]) == (world.ids["repo"], "API Repo")
    assert (v["workspaceId"], v["workspaceName"]) == (world.ids["ws"], "Production Workspace")
    assert (v["conversationId"], v["userId"], v["userName"]) == ("conv-1", "u-42", "Jane Roe")
    assert (v["repoAiApiKeyId"], v["repoAiApiKeyName"]) == ("key-1", "ci key")
    assert (v["llmType"], v["llmModel"], v["host"], v["direction"]) == ("OPENAI", "gpt-4o", "gw-1", "response")
    assert v["blocked"] is False and v["detectors"] == ["payment_card"] and v["decisionId"] == decision["id"]
    assert (v["severity"], v["block"]) == ("MEDIUM", False)  # what FlashbackClient's DTO reads
    (match,) = v["matches"]
    assert (match["start"], match["end"], match["masked"], match["kind"]) == (11, 30, "41***************11", "visa")
    assert v["explanation"].startswith("1 finding(s) in the response: payment_card (visa) at 11-30")
    assert v["timestamp"].endswith("Z") and len(v["timestamp"]) == 24
    again = ok(world, "/policy/violations")
    assert [x["id"] for x in again["violations"]] == [x["id"] for x in body["violations"]]  # ids are stable
    assert len({x["id"] for x in body["violations"]}) == 3


def test_the_asking_key_stands_in_for_an_unnamed_user(world: World) -> None:
    decide(world, "jane.roe@example.org", None, token=world.tokens["editor"])
    flush(world)
    (v,) = ok(world, "/policy/violations")["violations"]
    assert v["userName"] == "Jane Smith" and v["userId"] and v["repoId"] is None and v["workspaceId"] is None


def test_alerts_are_violations_of_alert_and_block_policies(world: World) -> None:
    ws = {"workspaceId": world.ids["dev_ws"]}
    logged = flashback_policy(world, "Log AWS keys", "Log any AWS keys", 0, "LOW", **ws)
    blocked = flashback_policy(world, "Block private keys", "Never send private keys", 2, "HIGH", **ws)
    decide(world, f"{AWS_KEY} and\n{PEM}", "dev/web")
    flush(world)
    violations = ok(world, "/policy/violations")["violations"]
    assert {v["policyId"] for v in violations} == {logged, blocked}
    alerts = ok(world, "/policy/alerts")
    assert set(alerts) == {"success", "alerts", "total", "skip", "take"}
    (alert,) = alerts["alerts"]
    assert alert["policyId"] == blocked and alert["blocked"] is True and alert["riskType"] == "HIGH"
    assert "message" in alert and "explanation" not in alert
    assert "severity" not in alert and "block" not in alert  # PolicyAlertDTO has neither
    by_policy = {v["policyId"]: v for v in violations}
    assert (by_policy[blocked]["severity"], by_policy[blocked]["block"]) == ("HIGH", True)
    assert (by_policy[logged]["severity"], by_policy[logged]["block"]) == ("LOW", False)
    assert alert["message"].startswith("1 finding(s) in the prompt: private_key")
    assert ok(world, f"/policy/{logged}/alerts")["total"] == 0
    assert ok(world, f"/policy/{blocked}/alerts")["total"] == 1


def test_an_audit_only_violation_is_recorded(world: World) -> None:
    logged = flashback_policy(world, "Log AWS keys", "Log any AWS keys", 0, "LOW")
    decision = decide(world, f"key {AWS_KEY}")
    assert decision["decision"] == "allow"
    flush(world)
    (v,) = ok(world, "/policy/violations", policyId=logged)["violations"]
    assert v["decisionId"] == decision["id"] and v["actionType"] == 0 and v["blocked"] is False


def test_filters(world: World) -> None:
    high = flashback_policy(
        world, "Block cards", "Block credit card numbers", 2, "HIGH", workspaceId=world.ids["dev_ws"]
    )
    decide(world, "jane.roe@example.org", "prod/api")  # 3 MEDIUM alerts
    decide(world, f"card {CARD}", "dev/web")  # the org policy (MEDIUM) and the HIGH block policy
    flush(world)
    assert ok(world, "/policy/violations")["total"] == 5
    assert {v["policyId"] for v in ok(world, "/policy/violations", severity="HIGH")["violations"]} == {high}
    assert ok(world, "/policy/violations", riskType="medium,low")["total"] == 4
    assert ok(world, "/policy/violations", block="true")["total"] == 1
    assert ok(world, "/policy/violations", block="false")["total"] == 4
    assert ok(world, "/policy/violations", workspaceId=world.ids["ws"])["total"] == 3
    assert ok(world, "/policy/violations", workspaceId=world.ids["ws"], repoId=world.ids["repo"])["total"] == 3
    assert ok(world, "/policy/violations", repoId=world.ids["dev_repo"])["total"] == 2
    assert ok(world, "/policy/violations", workspaceId=world.ids["ws"], repoId=world.ids["dev_repo"])["total"] == 0
    assert ok(world, "/policy/violations", workspaceId=world.ids["missing"])["total"] == 0
    assert ok(world, "/policy/violations", policyId=world.ids["org_policy"])["total"] == 2
    assert ok(world, "/policy/violations", policyId="not-a-uuid")["total"] == 0
    assert ok(world, f"/policy/{high}/violations")["total"] == 1
    assert (
        ok(world, "/policy/violations", **{"from": "2000-01-01T00:00:00Z", "to": "2000-12-31T00:00:00Z"})["total"] == 0
    )
    assert (
        ok(world, "/policy/violations", **{"from": "2000-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z"})["total"] == 5
    )


def test_pages(world: World) -> None:
    for n in range(4):
        decide(world, f"user{n}@example.org", "prod")  # 2 violations each (org and workspace policies)
    flush(world)
    everything = ok(world, "/policy/violations")["violations"]
    assert len(everything) == 8
    stamps = [v["timestamp"] for v in everything]
    assert stamps == sorted(stamps, reverse=True)
    page = ok(world, "/policy/violations", skip=3, take=2)
    assert (page["total"], page["skip"], page["take"]) == (8, 3, 2)
    assert [v["id"] for v in page["violations"]] == [v["id"] for v in everything[3:5]]
    assert ok(world, "/policy/violations", take=500)["take"] == 100


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"severity": "CRITICAL"}, "severity"),
        ({"take": "0"}, "take"),
        ({"skip": "-1"}, "skip"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2024-02-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}, "from"),
        ({"block": "maybe"}, "block"),
    ],
)
def test_bad_filters_are_400_naming_the_field(world: World, params: dict[str, str], field: str) -> None:
    r = get(world, "/policy/violations", **params)
    assert r.status_code == 400, r.text
    assert r.json()["success"] is False and field in r.json()["message"]


def test_keys_see_only_their_org_and_scope(world: World) -> None:
    decide(world, "jane.roe@example.org", "prod/api")
    decide(world, "jane.roe@example.org", "dev/web")
    flush(world)
    assert ok(world, "/policy/violations", as_="other")["total"] == 0
    assert ok(world, "/policy/alerts", as_="other")["total"] == 0
    for path in (f"/policy/{world.ids['policy']}/violations", f"/policy/{world.ids['policy']}/alerts"):
        r = get(world, path, as_="other")
        assert r.status_code == 404 and r.json() == {"success": False, "message": "Policy not found"}
    assert get(world, f"/policy/{world.ids['missing']}/violations").status_code == 404
    assert get(world, "/policy/violations", as_="none").status_code == 401
    scoped = ok(world, "/policy/violations", as_="dev_editor")
    assert scoped["total"] == 1 and scoped["violations"][0]["workspaceId"] == world.ids["dev_ws"]
    assert ok(world, "/policy/violations", as_="dev_editor", workspaceId=world.ids["ws"])["total"] == 0
    assert ok(world, "/policy/violations", as_="viewer")["total"] == 4


def test_an_archived_policy_keeps_its_violations(world: World) -> None:
    decide(world, "jane.roe@example.org", "prod/api")
    flush(world)
    assert world.call("DELETE", f"/policy/{world.ids['repo_policy']}").status_code == 200
    assert ok(world, f"/policy/{world.ids['repo_policy']}/violations")["total"] == 1
    assert get(world, f"/policy/{world.ids['repo_policy']}").status_code == 404  # the policy itself is gone


# -- validation ----------------------------------------------------------------------------------------
def test_validate_says_how_each_content_is_enforced(world: World) -> None:
    body = {
        "policies": [
            {"policy_uuid": "a", "content": "Block credit card numbers or API keys"},
            {"policy_uuid": "b", "content": "No credit cards or home addresses"},
            {"policy_uuid": "c", "content": "Do not discuss competitor pricing"},
        ]
    }
    r = world.call("POST", "/policy/validate", as_="viewer", body=body)
    assert r.status_code == 200, r.text
    a, b, c = r.json()["results"]
    assert (a["policy_uuid"], a["mode"], a["score"], a["severity"], a["issues"]) == ("a", "detectors", 100, "none", [])
    assert "payment_card" in a["detectors"] and "aws_access_key" in a["detectors"]
    assert (b["mode"], b["score"], b["uncovered"], b["issues"][0]["type"]) == (
        "detectors+judge",
        50,
        ["postal address"],
        "scope",
    )
    assert (c["mode"], c["score"], c["severity"], c["detectors"], c["judgeConfigured"]) == (
        "judge",
        0,
        "high",
        [],
        False,
    )
    assert c["issues"][0]["type"] == "actionability"
    bad = world.call("POST", "/policy/validate", body={"policies": [{"policy_uuid": "x"}]})
    assert bad.status_code == 400 and "content" in bad.json()["message"]
