"""A hub and two agents, all real processes on loopback (issue 13): a write reaches both agents and the
environment's status shows it applied; the agents and the hub agree on every decision of generated
inputs; an agent killed -9 under decision load loses no logged decision; with the hub killed the agents
keep deciding on their last state, and an agent restarted with the hub still down serves from disk.

The tests share one hub and two agents and run in file order (each leaves them running, the last one
kills the hub).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from bench import flashback_content, jfrog_gate
from reliability.agents import AgentProcess, agent_key, desired_revision, logged_ids, put_environment
from reliability.servers import ORG, ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("agent")]

ENV = "prod"
SCOPE = "bench"
AGENT_ENV = {"POLICYHUB_DECISION_LOG_SAMPLE_ALLOW": "1", "POLICYHUB_AGENT_POLL_WAIT_S": "5"}


@dataclass
class Rollout:
    hub: ServerProcess
    admin: httpx.Client
    agents: list[AgentProcess]


@pytest.fixture(scope="module")
def rollout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rollout]:
    tmp = tmp_path_factory.mktemp("rollout")
    hub = ServerProcess(f"sqlite:///{tmp / 'hub.db'}", log_path=tmp / "hub.log").start()
    admin = hub.client()
    agents: list[AgentProcess] = []
    try:
        assert admin.post("/scopes", json={"kind": "endpoint", "key": SCOPE}).status_code == 201
        with httpx.Client(base_url=hub.url) as jfrog:  # the JFrog face: a template, a rule, a gate policy
            jfrog_gate.setup((jfrog, "", {"Authorization": admin.headers["Authorization"]}))
        create(admin, flashback_content.CASE.policies[0])
        put_environment(admin, ENV, [SCOPE])
        token = agent_key(admin)
        for n in range(2):
            agent = AgentProcess(
                hub.url,
                ORG,
                ENV,
                token,
                tmp / f"agent{n}",
                name=f"agent{n}",
                log_path=tmp / f"agent{n}.log",
                extra_env=AGENT_ENV,
            )
            agents.append(agent)
        for agent in agents:
            agent.start(wait=None)
        for agent in agents:
            agent.wait_ready(30)
        yield Rollout(hub, admin, agents)
    finally:
        for agent in agents:
            agent.stop()
        hub.stop()
        admin.close()


def create(admin: httpx.Client, body: dict[str, Any]) -> None:
    r = admin.post("/policies", json=body)
    assert r.status_code == 201, r.text


def test_a_write_reaches_both_agents_and_the_status_shows_them_applied(rollout: Rollout) -> None:
    ask = {"point": "http_request", "scope": SCOPE, "input": {"client_ip": "172.16.0.9", "user": "a@example.org"}}
    for agent in rollout.agents:
        assert agent.decide(ask).json()["decision"] == "allow"
    create(
        rollout.admin,
        {
            "name": "office",
            "type": "apinizer.policy-white-ip",
            "scope": SCOPE,
            "spec": {"ipList": ["10.0.0.0/8", "192.168.1.0/24"]},
        },
    )
    desired = desired_revision(rollout.admin, ENV)
    for agent in rollout.agents:
        agent.wait_ready(10, desired)
        answer = agent.decide(ask).json()
        assert answer["decision"] == "deny" and answer["bundle_revision"] >= desired
        [office] = [r for r in answer["results"] if r["name"] == "office"]
        assert office["version"] == 1  # the policy version that decided
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = rollout.admin.get(f"/environments/{ENV}/status").json()
        if status["summary"]["in_sync"] == 2:
            break
        time.sleep(0.1)
    assert {a["name"] for a in status["agents"]} == {"agent0", "agent1"}
    for reported in status["agents"]:
        assert reported["in_sync"] and reported["revision"] >= desired and reported["live"], status
        assert reported["address"].startswith("127.0.0.1:") and reported["last_error"] is None, status


def generated_requests(seed: int, count: int) -> list[dict[str, Any]]:
    """Seeded inputs for the three points the bundle's policies decide (rate limits are not among them:
    each agent counts its own)."""
    rng = random.Random(seed)
    ips = ["10.1.2.3", "192.168.1.77", "192.168.2.1", "172.16.0.1", "2001:db8::1", "8.8.8.8"]
    users = ["a@example.org", "b@blocked.example", "c@warn.example", "d@example.com"]
    out: list[dict[str, Any]] = [  # one of each verdict first, whatever the seed
        {"point": "http_request", "scope": SCOPE, "input": {"client_ip": ips[0], "user": users[0]}},
        {"point": "http_request", "scope": SCOPE, "input": {"client_ip": ips[1], "user": users[2]}},
        {"point": "http_request", "scope": SCOPE, "input": {"client_ip": ips[0], "user": users[1]}},
    ]
    for i in range(count - len(out)):
        kind = rng.randrange(3)
        if kind == 0:
            data: dict[str, Any] = {"client_ip": rng.choice(ips), "user": rng.choice(users)}
            if rng.random() < 0.3:
                data["headers"] = {"X-Api-Key": f"k{rng.randrange(9)}"}
            out.append({"point": "http_request", "scope": SCOPE, "input": data})
        elif kind == 1:
            gate = jfrog_gate.gate_input(rng.randrange(1000))
            severities = ("critical", "high", "low")
            n = rng.randrange(6)
            gate["evidence"]["vulnerabilities"] = [
                {"id": f"v{j}", "severity": rng.choice(severities)} for j in range(n)
            ]
            out.append({"point": "lifecycle_gate", "scope": SCOPE, "input": gate})
        else:
            text = rng.choice([flashback_content.PROMPT, flashback_content.DIRTY])
            if rng.random() < 0.3:
                text += f" write to person{i}@example.org"
            out.append({"point": "ai_content", "scope": SCOPE, "input": {"content": text}})
    return out


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    return {"decision": answer["decision"], "results": answer["results"], "obligations": answer["obligations"]}


def test_the_hub_and_both_agents_agree_on_every_decision(rollout: Rollout) -> None:
    admin = rollout.admin
    create(
        admin,
        {
            "name": "blocked",
            "type": "syftspace.access",
            "scope": SCOPE,
            "spec": {"denied_users": ["*@blocked.example"]},
        },
    )
    create(
        admin,
        {
            "name": "warned",
            "type": "syftspace.access",
            "scope": SCOPE,
            "enforcement": "warn",
            "spec": {"denied_users": ["*@warn.example"]},
        },
    )
    desired = desired_revision(admin, ENV)
    for agent in rollout.agents:
        agent.wait_ready(10, desired)
    requests = generated_requests(seed=13, count=150)
    hub_answers = admin.post("/decisions/batch", json={"requests": requests})
    assert hub_answers.status_code == 200, hub_answers.text
    expected = [comparable(a) for a in hub_answers.json()["decisions"]]
    assert {e["decision"] for e in expected} >= {"allow", "deny"}  # the inputs reach both verdicts
    assert {r["point"] for r in requests} == {"http_request", "lifecycle_gate", "ai_content"}
    for agent in rollout.agents:
        with httpx.Client(timeout=10) as client:
            singles = [comparable(agent.decide(body, client).json()) for body in requests[:50]]
            batch = client.post(f"{agent.url}/v1/orgs/{ORG}/decisions/batch", json={"requests": requests})
        assert singles == expected[:50]
        assert [comparable(a) for a in batch.json()["decisions"]] == expected


def test_rate_limits_count_in_each_agent_by_default(rollout: Rollout) -> None:
    """Exact per agent: each agent counts the requests it sees (documented; --redis-url shares them)."""
    user = "metered@example.org"
    spec = {"limit": "3/h", "scope": "per_user", "applied_to": [user]}
    create(rollout.admin, {"name": "metered", "type": "syftspace.rate_limit", "scope": SCOPE, "spec": spec})
    desired = desired_revision(rollout.admin, ENV)
    ask = {"point": "http_request", "scope": SCOPE, "input": {"client_ip": "10.1.2.3", "user": user}}
    for agent in rollout.agents:
        agent.wait_ready(10, desired)
        assert [agent.decide(ask).json()["decision"] for _ in range(4)] == ["allow", "allow", "allow", "deny"]


def test_an_agent_killed_during_decision_load_loses_no_logged_decision(rollout: Rollout) -> None:
    agent = rollout.agents[0]
    requests = generated_requests(seed=7, count=64)
    answered: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=5) as client:
            i = 0
            while not stop.is_set():
                try:
                    r = agent.decide(requests[i % len(requests)], client)
                except httpx.HTTPError:
                    return  # the agent is gone: only answers fully received count
                if r.status_code == 200:
                    answered.append(r.json()["id"])
                i += 1

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    agent.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    assert len(answered) > 50
    agent.start(wait="ready")
    agent.wait_for(lambda: agent.status()["counts"]["spooled"] == 0, 20, "shipped")
    logged = logged_ids(rollout.admin, f"agent:{agent.name}")
    missing = set(answered) - logged
    assert not missing, f"{len(missing)} of {len(answered)} answered decisions are not in the hub's log"


def test_with_the_hub_killed_agents_keep_deciding_and_a_restarted_agent_serves_from_disk(rollout: Rollout) -> None:
    requests = generated_requests(seed=21, count=40)
    before = [[comparable(a.decide(body).json()) for body in requests] for a in rollout.agents]
    rollout.hub.kill9()
    for agent, expected in zip(rollout.agents, before, strict=True):
        agent.wait_for(lambda a=agent: a.status()["connected"] is False, 10, "disconnected")
        assert [comparable(agent.decide(body).json()) for body in requests] == expected
        status = agent.status()
        assert status["ready"] and status["last_error"] and status["stale_s"] is not None
    restarted = rollout.agents[1]
    restarted.stop()
    restarted.start(wait="listening")
    status = restarted.status()
    assert status["ready"] and status["revision"] == rollout.agents[0].status()["revision"]
    assert status["stale_s"] is not None and status["stale_s"] > 0
    assert [comparable(restarted.decide(body).json()) for body in requests] == before[1]
