"""An agent refuses what it cannot verify and keeps its last good state (real agent processes against a
small signing hub, :mod:`tests.agent.fake_hub`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from reliability.agents import AgentProcess

from policyhub.domain.bundle_signing import SigningKey
from tests.agent.fake_hub import FakeHub

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("agent")]

INSIDE = {"point": "http_request", "input": {"client_ip": "10.1.2.3"}}
OUTSIDE = {"point": "http_request", "input": {"client_ip": "192.168.1.1"}}


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    hub = FakeHub().start()
    yield hub
    hub.stop()


def agent_for(hub: FakeHub, tmp_path: Path, **kw: str) -> AgentProcess:
    return AgentProcess(
        hub.url,
        "acme",
        "prod",
        "phk_agent_token_for_the_fake_hub_0123456789",
        tmp_path / "state",
        log_path=tmp_path / "agent.log",
        extra_env={"POLICYHUB_AGENT_POLL_WAIT_S": "1"},
        **kw,
    )


def test_a_tampered_bundle_is_refused_reported_and_the_last_good_state_kept(hub: FakeHub, tmp_path: Path) -> None:
    agent = agent_for(hub, tmp_path).start(wait="ready")
    try:
        assert agent.status()["revision"] == 1
        assert agent.decide(INSIDE).json()["decision"] == "allow"
        denied = agent.decide(OUTSIDE).json()
        assert denied["decision"] == "deny" and denied["bundle_revision"] == 1
        assert denied["results"][0]["version"] == 1  # the policy version that decided
        other = agent.http.post(f"{agent.url}/v1/orgs/other/decisions", json=INSIDE)
        assert other.status_code == 404 and other.json()["detail"] == "org 'other' not found"
        bad = agent.http.post(f"{agent.url}/v1/orgs/acme/decisions", json={"point": "http_request"})
        assert bad.status_code == 400 and "input" in bad.text  # the hub's own parsing and problem+json

        hub.publish(["192.168.0.0/16"], tamper=True)  # the bundle now allows everyone; its signature does not
        agent.wait_for(lambda: agent.status()["counts"]["refused"] >= 1, 10, "refusing")
        status = agent.status()
        assert status["revision"] == 1 and "bundle refused" in status["last_error"]
        assert "signature does not verify" in status["last_error"]
        assert agent.decide(OUTSIDE).json()["decision"] == "deny"  # the last good state still decides
        agent.wait_for(lambda: any("bundle refused" in (s["last_error"] or "") for s in hub.statuses), 10, "reported")

        revision = hub.publish(["192.168.0.0/16"])  # a good bundle again: applied, the error cleared
        status = agent.wait_ready(10, revision)
        assert status["last_error"] is None
        assert agent.decide(OUTSIDE).json()["decision"] == "allow"
    finally:
        agent.stop()


def test_a_tampered_state_file_is_refused_at_start_up_and_nothing_is_allowed(hub: FakeHub, tmp_path: Path) -> None:
    agent = agent_for(hub, tmp_path).start(wait="ready")
    agent.stop()
    hub.stop()  # the hub is down: the agent has only its disk
    path = tmp_path / "state" / "bundle.json"
    stored = orjson.loads(path.read_bytes())
    stored["envelope"]["bundle"]["policies"][0]["spec"]["ipList"] = ["0.0.0.0/0"]
    path.write_bytes(orjson.dumps(stored))

    agent.start(wait="listening")
    try:
        status = agent.status()
        assert status["ready"] is False and status["revision"] is None
        assert "persisted bundle is refused" in status["last_error"]
        for body in (INSIDE, OUTSIDE):
            answer = agent.decide(body)
            assert answer.status_code == 503, answer.text  # never a decision made on nothing
            assert answer.json()["status"] == 503
        assert agent.get("/readyz").status_code == 503
    finally:
        agent.stop()


def test_a_bundle_signed_by_another_key_than_the_pinned_one_is_refused(hub: FakeHub, tmp_path: Path) -> None:
    """Also: with a local token set, the agent's routes but /healthz need it."""
    agent = agent_for(hub, tmp_path, public_key=SigningKey.generate().public.b64)
    token = "local-token-0123456789"
    agent.extra_env = {**agent.extra_env, "POLICYHUB_AGENT_LOCAL_TOKEN": token}
    agent.start(wait="listening")
    try:
        assert agent.get("/status").status_code == 401
        assert agent.decide(INSIDE).status_code == 401
        agent.http.headers["Authorization"] = f"Bearer {token}"
        agent.wait_for(lambda: agent.status()["counts"]["refused"] >= 1, 10, "refusing")
        status = agent.status()
        assert status["ready"] is False and "is not trusted" in status["last_error"]
        assert agent.decide(INSIDE).status_code == 503
        assert not (tmp_path / "state" / "bundle.json").exists()
    finally:
        agent.stop()


def test_an_older_bundle_is_refused_unless_the_feed_says_bootstrap_again(hub: FakeHub, tmp_path: Path) -> None:
    agent = agent_for(hub, tmp_path).start(wait="ready")
    try:
        hub.publish(["192.168.0.0/16"])
        agent.wait_ready(10, 2)
        old = hub.envelope
        hub.publish(["172.16.0.0/12"])
        agent.wait_ready(10, 3)
        hub.envelope, hub.revision = old, 4  # an old signed bundle (revision 2) replayed as if it were current
        agent.wait_for(lambda: "older than the applied" in (agent.status()["last_error"] or ""), 10, "refusing")
        assert agent.decide(OUTSIDE).json()["decision"] == "deny"  # 172.16/12 still, not the replayed 192.168/16

        hub.publish(["192.168.0.0/16"], revision=1)  # the hub restored from a backup: the feed answers 410
        agent.wait_for(lambda: agent.status()["counts"]["rebootstraps"] >= 1, 10, "bootstrapping again")
        agent.wait_for(lambda: agent.status()["bundle_revision"] == 1, 10, "at the restored revision")
        status = agent.status()
        assert status["last_error"] is None and status["revision"] == 1
        assert agent.decide(OUTSIDE).json()["decision"] == "allow"  # the restored content, compiled afresh
    finally:
        agent.stop()
