"""``deploy: true``: the write commits, then the answer waits until each live agent of every target
environment reports the write's revision; one detail per agent (simulated agents post status reports;
tests/agent runs real agent processes). An unknown environment is a 400 before anything is written."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import OrgClient, make_settings, new_org
from tests.own_app import own_client, own_container
from tests.support.simulated_agent import SimulatedAgent, follow

from .helpers import THROTTLING, Apinizer, setup_org


def deploy_meta(*envs: str) -> dict[str, Any]:
    return {"deploy": True, "deployTargetEnvironmentNameList": list(envs)}


def details(body: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    return sorted(
        (d["envName"], d["podName"], d["podIp"], d["success"]) for d in body["deploymentResult"]["detailList"]
    )


def test_deploy_defaults_to_true(api: Apinizer) -> None:
    r = api.call(
        "POST",
        "policies/p/",
        {"operationMetadata": {"targetScope": "ALL", "targetPipeline": "REQUEST"}, "policy": THROTTLING},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "SUCCESS",
        "deploymentResult": {
            "success": True,
            "responseTime": r.json()["deploymentResult"]["responseTime"],
            "detailList": [],
        },
    }


def test_deploy_waits_for_every_live_agent_of_each_target(api: Apinizer, org: OrgClient) -> None:
    agents = [*follow(org, "production", "gw-1", "gw-2"), *follow(org, "test", "gw-3")]
    try:
        r = api.add("p", **deploy_meta("production", "test", "production"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "SUCCESS" and body["deploymentResult"]["success"] is True
        assert details(body) == sorted(
            [
                ("production", "gw-1", agents[0].address, True),
                ("production", "gw-2", agents[1].address, True),
                ("test", "gw-3", agents[2].address, True),
            ]
        )
        total = body["deploymentResult"]["responseTime"]
        assert all(0 <= d["responseTime"] <= total < 5000 for d in body["deploymentResult"]["detailList"])
        # the hub's own view agrees: every agent has the write's revision
        status = org.get("environments/production/status").json()
        assert status["summary"] == {"agents": 2, "live": 2, "in_sync": 2}
    finally:
        for agent in agents:
            agent.stop()


def test_an_environment_without_a_live_agent_fails_without_waiting(api: Apinizer) -> None:
    started = time.perf_counter()
    r = api.add("p", **deploy_meta("production"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "SUCCESS", "the write committed; only its deployment failed"
    assert body["deploymentResult"]["success"] is False
    assert details(body) == [("production", "", "", False)]
    assert time.perf_counter() - started < 5, "nothing to wait for"
    assert api.core("p")["version"] == 1


@pytest.fixture
def quick(database_url: str) -> Iterator[Apinizer]:
    """An app whose deployments wait 0.6 s at most and whose agents count as live for 1 s."""
    with (
        own_container(make_settings(database_url, deploy_wait_s=0.6, agent_live_s=1.0)) as container,
        own_client(container) as client,
    ):
        yield setup_org(new_org(client, container))


def test_an_agent_that_does_not_apply_in_time_fails_and_the_others_succeed(quick: Apinizer) -> None:
    org = quick.org
    (following,) = follow(org, "production", "gw-ok")
    stuck = SimulatedAgent(org, "production", "gw-stuck", token=org.key("agent"), frozen=True).start()
    try:
        started = time.perf_counter()
        r = quick.add("p", **deploy_meta("production"))
        waited = time.perf_counter() - started
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "SUCCESS" and body["deploymentResult"]["success"] is False
        assert details(body) == [
            ("production", "gw-ok", following.address, True),
            ("production", "gw-stuck", stuck.address, False),
        ]
        assert 0.6 <= waited < 5, "waited for the stuck agent until the deadline, not longer"
        by_pod = {d["podName"]: d["responseTime"] for d in body["deploymentResult"]["detailList"]}
        assert by_pod["gw-stuck"] >= 600 > by_pod["gw-ok"]
    finally:
        following.stop()
        stuck.stop()


def test_an_agent_no_longer_live_is_not_waited_for(quick: Apinizer) -> None:
    org = quick.org
    (gone,) = follow(org, "production", "gw-gone")
    gone.stop()
    time.sleep(1.1)  # its last report is now older than agent_live_s
    r = quick.add("p", **deploy_meta("production"))
    assert details(r.json()) == [("production", "", "", False)]
    status = org.get("environments/production/status").json()
    assert [(a["name"], a["live"]) for a in status["agents"]] == [("gw-gone", False)]


def test_deploy_false_has_no_result_and_ignores_the_list(api: Apinizer) -> None:
    r = api.add("p", deploy=False, deployTargetEnvironmentNameList=["staging"])
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "SUCCESS"}


def test_unknown_environment_is_rejected_before_anything_is_written(api: Apinizer) -> None:
    assert api.add("p").status_code == 200
    r = api.update("p", {**THROTTLING, "messageCountForInterval": 7}, order=1, **deploy_meta("production", "staging"))
    assert r.status_code == 400
    assert r.json()["error_description"] == "Environment (name: staging) was not found!"
    assert api.core("p")["version"] == 1
    assert api.events("p") == ["creation"]
    r = api.add("q", **deploy_meta("staging"))
    assert r.status_code == 400
    assert api.names() == ["p"]


def test_update_and_delete_deploy(api: Apinizer, org: OrgClient) -> None:
    assert api.add("p").status_code == 200
    agents = [*follow(org, "test", "t-1"), *follow(org, "production", "p-1")]
    try:
        r = api.update("p", **deploy_meta("test"))
        assert r.status_code == 200, r.text
        assert details(r.json()) == [("test", "t-1", agents[0].address, True)]
        r = api.delete("p", **deploy_meta("production"))
        assert r.status_code == 200, r.text
        assert details(r.json()) == [("production", "p-1", agents[1].address, True)]
    finally:
        for agent in agents:
            agent.stop()


def test_environments_of_another_org_are_unknown(api: Apinizer, other_org: OrgClient) -> None:
    assert other_org.post("/apiops/environments/", json={"name": "staging"}).status_code == 200
    r = api.add("p", **deploy_meta("staging"))
    assert r.status_code == 400


def test_waiting_deployments_hold_no_thread(database_url: str) -> None:
    """Four deployments wait for a stuck agent on a server of two worker threads; meanwhile a request that
    needs a worker thread is answered at once (it would wait for the deadline if the waits held threads)."""
    settings = make_settings(database_url, deploy_wait_s=2.0, agent_live_s=10.0, threads=2)
    with own_container(settings) as container, own_client(container) as client:
        api = setup_org(new_org(client, container))
        org = api.org
        stuck = SimulatedAgent(org, "production", "gw-stuck", token=org.key("agent"), frozen=True)
        assert org.put("environments/production", json={"scopes": []}).status_code == 201
        stuck.start()
        results: dict[int, Any] = {}

        def deploy(i: int) -> None:
            results[i] = api.add(f"p{i}", **deploy_meta("production"))

        writers = [threading.Thread(target=deploy, args=(i,)) for i in range(4)]
        started = time.perf_counter()
        for w in writers:
            w.start()
        time.sleep(0.5)  # the writes have committed and wait
        asked = time.perf_counter()
        status = org.get("environments/production/status")  # a sync route: it needs a worker thread
        answered = time.perf_counter() - asked
        for w in writers:
            w.join()
        stuck.stop()
        assert status.status_code == 200 and answered < 1.0, answered
        assert time.perf_counter() - started >= 2.0
        assert [results[i].json()["deploymentResult"]["success"] for i in range(4)] == [False] * 4
