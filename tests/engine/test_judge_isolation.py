"""The judge inside decisions is bounded (issue 11): one decision's calls run at once, within its deadline,
at most a few per org, on the judge's own threads: 40 judged decisions of one org once held every thread
of the request pool and another org's plain GET waited 17 s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policyhub.http.deps import Container
from tests.conftest import OrgClient, make_settings, new_org
from tests.engine.judge_server import FakeChatServer, fake_chat_server
from tests.own_app import own_client, own_container

RULES = ("Do not discuss competitor pricing", "Do not give legal advice", "Do not mention internal project names")
SLOW_S = 1.0


@pytest.fixture(scope="module")
def chat() -> Iterator[FakeChatServer]:
    with fake_chat_server() as server:
        yield server


@pytest.fixture(scope="module")
def judged(database_url: str, chat: FakeChatServer) -> Iterator[tuple[TestClient, Container]]:
    settings = make_settings(
        database_url,
        judge_url=chat.url,
        judge_model="m",
        judge_timeout_s=5.0,
        decision_deadline_s=2.5,
        judge_concurrency_per_org=3,
        threads=8,  # the request pool: a flood holding its threads would show at once
    )
    with own_container(settings) as c, own_client(c) as client:
        yield client, c


@pytest.fixture
def org(judged: tuple[TestClient, Container], chat: FakeChatServer) -> OrgClient:
    chat.requests.clear()
    chat.answer()
    return new_org(*judged)


def flashback(org: OrgClient, name: str, content: str, action: int = 2) -> None:
    spec = {"content": content, "riskType": "HIGH", "actionType": action}
    r = org.post("policies", json={"name": name, "type": "flashback.ai", "spec": spec})
    assert r.status_code == 201, r.text


def decide(org: OrgClient, content: str = "Are we cheaper than AcmeCorp?") -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    r = org.post("decisions", json={"point": "ai_content", "input": {"content": content}})
    assert r.status_code == 200, r.text
    return dict(r.json()), time.monotonic() - started


def test_the_judge_calls_of_one_decision_run_at_once(org: OrgClient, chat: FakeChatServer) -> None:
    for i, rule in enumerate(RULES):
        flashback(org, f"rule-{i}", rule)
    chat.answer(delay_s=SLOW_S, content={"violated": False, "explanation": "fine"})
    decision, took = decide(org)
    assert decision["decision"] == "allow" and len(chat.requests) == 3
    assert all(r["status"] == "pass" for r in decision["results"])
    assert took < 2 * SLOW_S  # 3 policies x 1 s: about 1 s, not 3 s


def test_a_judge_slower_than_the_deadline_denies_with_the_reason(org: OrgClient, chat: FakeChatServer) -> None:
    flashback(org, "block", RULES[0], action=2)
    flashback(org, "alert", RULES[1], action=1)  # fail-open for judge errors, but not for the deadline
    chat.answer(delay_s=4.0)
    decision, took = decide(org)
    assert decision["decision"] == "deny" and took < 2.5 + 1.0
    for result in decision["results"]:
        assert (result["effect"], result["error"]) == ("deny", True)
        assert "decision deadline exceeded" in result["reasons"][0]


def test_a_flood_of_judged_decisions_does_not_hold_another_orgs_requests(
    judged: tuple[TestClient, Container], chat: FakeChatServer
) -> None:
    client, container = judged
    hostile, other = new_org(client, container), new_org(client, container)
    flashback(hostile, "slow", RULES[0])
    assert other.post("policies", json={"name": "doc", "type": "document", "spec": {"n": 1}}).status_code == 201
    runner = container.decisions.engine.judging
    assert runner is not None
    counting = CountingJudge(runner.judge)
    runner.judge = counting
    chat.requests.clear()
    chat.answer(delay_s=3.0)
    started = threading.Event()
    answers: list[dict[str, Any]] = []

    def flood_one() -> None:
        started.set()
        answers.append(decide(hostile)[0])

    try:
        with ThreadPoolExecutor(40) as pool:
            for _ in range(40):
                pool.submit(flood_one)
            started.wait()
            time.sleep(0.5)  # the flood is in: the hostile org's judge lane is busy, the rest of it waits
            t0 = time.monotonic()
            listed = other.get("decisions")  # a plain GET served by the request pool
            read = other.get("policies/doc")
            plain, _ = decide(other, "hello")  # a decision without the judge
            took = time.monotonic() - t0
    finally:
        runner.judge = counting.inner
    assert listed.status_code == 200 and read.status_code == 200 and plain["decision"] == "allow"
    assert took < 1.5, f"the other org waited {took:.1f}s behind the flood"
    # The flood itself: at most 3 calls at once (the org's lane), each decision denied at its deadline.
    assert len(answers) == 40 and all(a["decision"] == "deny" for a in answers)
    assert counting.most == 3  # the org's lane: never more at once
    assert runner.lanes.waiting(hostile.org_id) == 0


class CountingJudge:
    """The configured judge, counting the calls in flight at once."""

    def __init__(self, judge: Any) -> None:
        self.inner = judge
        self.timeout_s = judge.timeout_s
        self.blocking = True
        self.lock = threading.Lock()
        self.now = self.most = self.calls = 0

    def judge(self, rule: str, content: str, *, timeout_s: float) -> Any:
        with self.lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
        try:
            return self.inner.judge(rule, content, timeout_s=timeout_s)
        finally:
            with self.lock:
                self.now -= 1
