"""The judge inside decisions, through the real app and a fake chat server over real HTTP.

A blocking policy never allows because the judge failed (timeout, malformed answer, none configured):
its result is an error and the decision denies. A log or alert policy could not have blocked, so its
error result allows (``error: true``, with the reason).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policyhub.http.deps import Container
from tests.conftest import OrgClient, make_settings, new_org
from tests.engine.judge_server import FakeChatServer, fake_chat_server
from tests.own_app import own_client, own_container

RULE = "Do not discuss competitor pricing"


@pytest.fixture(scope="module")
def chat() -> Iterator[FakeChatServer]:
    with fake_chat_server() as server:
        yield server


@pytest.fixture(scope="module")
def judged_container(database_url: str, chat: FakeChatServer) -> Iterator[Container]:
    with own_container(make_settings(database_url, judge_url=chat.url, judge_model="m", judge_timeout_s=0.3)) as c:
        yield c


@pytest.fixture(scope="module")
def judged_client(judged_container: Container) -> Iterator[TestClient]:
    with own_client(judged_container) as client:
        yield client


@pytest.fixture
def judged_org(judged_client: TestClient, judged_container: Container, chat: FakeChatServer) -> OrgClient:
    chat.requests.clear()
    chat.answer()
    return new_org(judged_client, judged_container)


def flashback(org: OrgClient, name: str, content: str = RULE, action: int = 2, risk: str = "HIGH") -> str:
    spec = {"content": content, "riskType": risk, "actionType": action}
    r = org.post("policies", json={"name": name, "type": "flashback.ai", "spec": spec})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def decide(org: OrgClient, content: str) -> dict[str, Any]:
    r = org.post("decisions", json={"point": "ai_content", "input": {"content": content}})
    assert r.status_code == 200, r.text
    return dict(r.json())


def only(decision: dict[str, Any], policy_id: str) -> dict[str, Any]:
    return dict(next(r for r in decision["results"] if r["policy_id"] == policy_id))


def test_the_judge_blocks_what_it_finds_violating(judged_org: OrgClient, chat: FakeChatServer) -> None:
    pid = flashback(judged_org, "pricing")
    chat.answer(content={"violated": True, "explanation": "It compares our prices with AcmeCorp's."})
    decision = decide(judged_org, "Are we cheaper than AcmeCorp?")
    assert decision["decision"] == "deny"
    result = only(decision, pid)
    assert (result["status"], result["effect"]) == ("violation", "deny") and "error" not in result
    assert result["details"]["mode"] == "judge"
    assert result["details"]["judge"] == {"violated": True, "explanation": "It compares our prices with AcmeCorp's."}
    assert chat.requests[-1]["body"]["model"] == "m"
    judged_org.container.decisions.log.flush()
    r = judged_org.client.get("/policy/violations", headers=judged_org.headers())
    (violation,) = r.json()["violations"]
    assert violation["judge"]["violated"] is True and violation["blocked"] is True and violation["detectors"] == []


def test_content_the_judge_passes_is_allowed(judged_org: OrgClient, chat: FakeChatServer) -> None:
    pid = flashback(judged_org, "pricing")
    chat.answer(content={"violated": False, "explanation": "Unrelated to pricing."})
    decision = decide(judged_org, "Write a haiku about spring")
    assert decision["decision"] == "allow" and only(decision, pid)["status"] == "pass"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"content": "Yes."}, "not a JSON object"),
        ({"content": {"violated": "yes", "explanation": "x"}}, 'boolean "violated"'),
        ({"status": 503, "raw": b"{}"}, "HTTP 503"),
        ({"delay_s": 1.0}, "did not answer within 0.3s"),
    ],
)
def test_a_failing_judge_fails_closed_for_blocking_policies_only(
    judged_org: OrgClient, chat: FakeChatServer, answer: dict[str, Any], reason: str
) -> None:
    block = flashback(judged_org, "block-pricing", action=2)
    alert = flashback(judged_org, "alert-pricing", action=1)
    chat.answer(**answer)
    decision = decide(judged_org, "Are we cheaper than AcmeCorp?")
    assert decision["decision"] == "deny"
    blocked = only(decision, block)
    assert (blocked["effect"], blocked["error"]) == ("deny", True) and reason in blocked["reasons"][0]
    alerted = only(decision, alert)
    assert (alerted["effect"], alerted["error"]) == ("allow", True) and "fail-open" in alerted["reasons"][0]


def test_a_fail_closed_denial_is_listed_as_an_error_violation(judged_org: OrgClient, chat: FakeChatServer) -> None:
    block = flashback(judged_org, "block-pricing", action=2)
    chat.answer(status=500, raw=b"{}")
    decide(judged_org, "Are we cheaper than AcmeCorp?")
    judged_org.container.decisions.log.flush()
    r = judged_org.client.get("/policy/violations", headers=judged_org.headers())
    (violation,) = r.json()["violations"]
    assert violation["policyId"] == block and violation["error"] is True and violation["blocked"] is True
    assert "HTTP 500" in violation["explanation"]
    assert judged_org.client.get("/policy/alerts", headers=judged_org.headers()).json()["total"] == 1


def test_detectors_answer_first_and_the_judge_checks_the_rest(judged_org: OrgClient, chat: FakeChatServer) -> None:
    pid = flashback(judged_org, "cards-and-addresses", "Do not share credit cards or home addresses", 2)
    chat.answer(content={"violated": True, "explanation": "It contains a street address."})
    found = decide(judged_org, "card 4111 1111 1111 1111")
    assert only(found, pid)["details"]["matches"][0]["detector"] == "payment_card" and chat.requests == []
    judged = decide(judged_org, "ship it to 10 Downing Street")
    assert judged["decision"] == "deny" and only(judged, pid)["details"]["judge"]["violated"] is True
    assert len(chat.requests) == 1


def test_without_a_judge_a_judge_only_policy_is_an_error_not_a_pass(org: OrgClient) -> None:
    block = flashback(org, "block-pricing", action=2)
    log = flashback(org, "log-pricing", action=0)
    decision = decide(org, "Are we cheaper than AcmeCorp?")
    assert decision["decision"] == "deny"
    assert only(decision, block)["error"] is True and "no judge is configured" in only(decision, block)["reasons"][0]
    logged = only(decision, log)
    assert (logged["effect"], logged["error"]) == ("allow", True) and "no judge is configured" in logged["reasons"][0]
