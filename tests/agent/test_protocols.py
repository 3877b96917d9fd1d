"""The enforcement protocols on a real agent process (issues 13 and 14): AuthZEN, Envoy HTTP ext_authz,
nginx auth_request and Envoy's gRPC Check answered by the agent as the hub answers them, still with the
hub down, and those decisions in the hub's log with their protocol (``agent:<name>/<protocol>``) once
the hub is back.

The tests share one hub and one agent and run in file order (the second kills the hub and restarts it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from envoy.service.auth.v3 import external_auth_pb2_grpc
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc
from google.rpc import code_pb2
from reliability.agents import AgentProcess, agent_key, put_environment
from reliability.servers import ORG, ServerProcess, free_port

from tests.protocols.grpc_support import check_request, rate_limit_request

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("agent-protocols")]

ENV = "edge"
SCOPE = "edge"
RULES = {
    "rules": [{"subject": {"type": "user"}, "action": {"name": "read"}}],
    "entities": {"actions": [{"name": "read"}, {"name": "write"}]},  # for AuthZEN's action search
}
READ = {"subject": {"type": "user", "id": "ann"}, "action": {"name": "read"}, "resource": {"type": "doc", "id": "1"}}
WRITE = {**READ, "action": {"name": "write"}}
BLOCKED = {"x-forwarded-for": "192.0.2.7"}
PASSING = {"x-forwarded-for": "203.0.113.9"}
LOG_ALL = {"POLICYHUB_DECISION_LOG_SAMPLE_ALLOW": "1"}


@dataclass
class Setup:
    hub: ServerProcess
    admin: httpx.Client
    agent: AgentProcess
    grpc_port: int


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    tmp = tmp_path_factory.mktemp("agent-protocols")
    hub = ServerProcess(f"sqlite:///{tmp / 'hub.db'}", log_path=tmp / "hub.log", extra_env=LOG_ALL).start()
    admin = hub.client()
    agent: AgentProcess | None = None
    try:
        assert admin.post("/scopes", json={"kind": "endpoint", "key": SCOPE}).status_code == 201
        for name, kind, spec in (
            ("readers", "access_rules", RULES),
            ("blocked", "apinizer.policy-black-ip", {"ipList": ["192.0.2.0/24"]}),
        ):
            r = admin.post("/policies", json={"name": name, "type": kind, "scope": SCOPE, "spec": spec})
            assert r.status_code == 201, r.text
        put_environment(admin, ENV, [SCOPE])
        grpc_port = free_port()
        agent = AgentProcess(
            hub.url,
            ORG,
            ENV,
            agent_key(admin),
            tmp / "agent",
            name="edge-1",
            log_path=tmp / "agent.log",
            extra_env={**LOG_ALL, "POLICYHUB_AGENT_GRPC_PORT": str(grpc_port)},
        )
        agent.start(wait="ready", timeout_s=30)
        yield Setup(hub, admin, agent, grpc_port)
    finally:
        if agent is not None:
            agent.stop()
        hub.stop()
        admin.close()


def evaluation(base: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{base}/orgs/{ORG}/scopes/{SCOPE}/access/v1/evaluation", json=body, headers=headers)


def ext_authz(base: str, face: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{base}/{face}/orgs/{ORG}/scopes/{SCOPE}/-/api/orders?page=2", headers=headers)


def answers(base: str, key: dict[str, str]) -> dict[str, Any]:
    """What matters in each protocol's answer (decision ids differ, by design)."""
    out: dict[str, Any] = {}
    for name, body in (("read", READ), ("write", WRITE)):
        r = evaluation(base, body, {"Authorization": key["authorization"]} if key else None)
        assert r.status_code == 200, r.text
        context = {k: v for k, v in r.json().get("context", {}).items() if k != "decision_id"}
        out[f"authzen {name}"] = (r.json()["decision"], context)
    for face in ("ext_authz", "auth_request"):
        for name, headers in (("blocked", BLOCKED), ("passing", PASSING)):
            sent = {**headers, **({"x-policyhub-key": key["token"]} if key else {})}
            r = ext_authz(base, face, sent)
            body = {k: v for k, v in r.json().items() if k != "decision_id"} if r.content else None
            out[f"{face} {name}"] = (r.status_code, r.headers.get("x-policyhub-status"), body)
    return out


def grpc_check(port: int, source_ip: str) -> Any:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = external_auth_pb2_grpc.AuthorizationStub(channel)
        request = check_request(path="/api/orders", source_ip=source_ip, context_extensions={"policyhub_scope": SCOPE})
        return stub.Check(request, timeout=10)


HUB_ANSWERS: dict[str, Any] = {}


def test_the_agent_answers_each_protocol_as_the_hub_and_still_with_the_hub_down(setup: Setup) -> None:
    token = setup.admin.headers["Authorization"].removeprefix("Bearer ")
    hub = answers(setup.hub.url, {"authorization": f"Bearer {token}", "token": token})
    assert hub["authzen read"][0] is True and hub["authzen write"][0] is False
    assert hub["ext_authz blocked"][0] == 403 and hub["ext_authz passing"][0] == 200
    assert hub["auth_request blocked"][:2] == (403, "403") and hub["auth_request passing"][0] == 200
    assert answers(setup.agent.url, {}) == hub  # no key: a loopback agent without a local token
    meta = httpx.get(f"{setup.agent.url}/.well-known/authzen-configuration/orgs/{ORG}/scopes/{SCOPE}").json()
    assert meta["policy_decision_point"] == f"{setup.agent.url}/orgs/{ORG}/scopes/{SCOPE}"
    assert meta["access_evaluation_endpoint"] == f"{setup.agent.url}/orgs/{ORG}/scopes/{SCOPE}/access/v1/evaluation"
    other = httpx.post(f"{setup.agent.url}/orgs/other/access/v1/evaluation", json=READ)
    assert other.status_code == 404 and other.headers["content-type"].startswith("text/plain")  # AuthZEN's errors

    # the hub's own protocol decisions are in its log, with their plain sources, before it is killed
    wait_logged(setup.admin, {"authzen": 2, "envoy_http": 2, "nginx": 2})
    setup.hub.kill9()
    assert answers(setup.agent.url, {}) == hub
    denied = grpc_check(setup.grpc_port, "192.0.2.5")
    assert denied.status.code == code_pb2.PERMISSION_DENIED and denied.denied_response.status.code == 403
    assert grpc_check(setup.grpc_port, "203.0.113.9").status.code == code_pb2.OK
    with grpc.insecure_channel(f"127.0.0.1:{setup.grpc_port}") as channel:
        rls = rls_pb2_grpc.RateLimitServiceStub(channel)
        over = rls.ShouldRateLimit(rate_limit_request(f"{ORG}/{SCOPE}", [("remote_address", "192.0.2.5")]), timeout=10)
        assert over.overall_code == rls_pb2.RateLimitResponse.OVER_LIMIT  # the IP deny list, through Envoy's RLS
    HUB_ANSWERS.update(hub)


def logged(admin: httpx.Client, source: str) -> list[dict[str, Any]]:
    r = admin.get("/decisions", params={"source": source, "limit": 100})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def wait_logged(admin: httpx.Client, expected: dict[str, int], timeout_s: float = 20) -> dict[str, list[Any]]:
    """The hub's log per source, once it holds at least ``expected`` decisions of each (bounded wait)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = {source: logged(admin, source) for source in expected}
        if all(len(found[s]) >= n for s, n in expected.items()) or time.monotonic() > deadline:
            assert {s: len(items) for s, items in found.items()} == expected
            return found
        time.sleep(0.2)


def test_the_agents_protocol_decisions_reach_the_hubs_log_with_their_protocol(setup: Setup) -> None:
    assert HUB_ANSWERS, "runs after the test that took the hub down"
    setup.hub.start()
    name = setup.agent.name
    expected = {  # per protocol: the agent's decisions of the first test (with the hub up, then down)
        f"agent:{name}/authzen": 4,
        f"agent:{name}/envoy_http": 4,
        f"agent:{name}/nginx": 4,
        f"agent:{name}/envoy_grpc": 2,
        f"agent:{name}/envoy_ratelimit": 1,
    }
    found = wait_logged(setup.admin, expected)
    authzen = found[f"agent:{name}/authzen"]
    assert {d["point"] for d in authzen} == {"authzen"} and {d["scope"] for d in authzen} == {SCOPE}
    envoy = found[f"agent:{name}/envoy_http"]
    assert {d["point"] for d in envoy} == {"http_request"}
    assert sorted(d["decision"] for d in envoy) == ["allow", "allow", "deny", "deny"]
    assert {d["decision"] for d in found[f"agent:{name}/envoy_grpc"]} == {"allow", "deny"}
    # the agent's native decisions keep their source; the hub's own protocol decisions theirs
    assert logged(setup.admin, f"agent:{name}") == []
    assert len(logged(setup.admin, "authzen")) == 2


def test_the_local_token_guards_every_protocol_and_an_agent_with_no_state_answers_503(
    setup: Setup, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("agent-token")
    token = "local-token-0123456789abcdef"
    guarded = AgentProcess(
        setup.hub.url,
        ORG,
        ENV,
        agent_key(setup.admin, "guarded"),
        tmp / "guarded",
        name="guarded",
        log_path=tmp / "guarded.log",
        extra_env={"POLICYHUB_AGENT_LOCAL_TOKEN": token},
    )
    empty = AgentProcess(  # its hub never answers: no bundle, ever
        f"http://127.0.0.1:{free_port()}", ORG, ENV, "phk_unused", tmp / "empty", log_path=tmp / "empty.log"
    )
    try:
        guarded.start(wait="listening")
        bearer = {"Authorization": f"Bearer {token}"}
        guarded.wait_for(lambda: guarded.get("/readyz", headers=bearer).status_code == 200, 30, "ready")
        assert evaluation(guarded.url, READ).status_code == 401
        assert evaluation(guarded.url, READ, {"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
        allowed = evaluation(guarded.url, READ, bearer)
        assert allowed.status_code == 200 and allowed.json()["decision"] is True
        pdp = f"{guarded.url}/orgs/{ORG}/scopes/{SCOPE}/access/v1"
        batch = {**READ, "evaluations": [{}, {"action": {"name": "write"}}]}
        items = httpx.post(f"{pdp}/evaluations", json=batch, headers=bearer).json()["evaluations"]
        assert [a["decision"] for a in items] == [True, False]
        search = {"subject": READ["subject"], "resource": READ["resource"]}
        found = httpx.post(f"{pdp}/search/action", json=search, headers=bearer).json()
        assert found["results"] == [{"name": "read"}]  # over the agent's snapshot
        for face in ("ext_authz", "auth_request"):
            assert ext_authz(guarded.url, face, PASSING).status_code == 401
            # the original request's Authorization is the client's, never the agent's credential
            assert ext_authz(guarded.url, face, {**PASSING, "Authorization": f"Bearer {token}"}).status_code == 401
            assert ext_authz(guarded.url, face, {**PASSING, "x-policyhub-key": token}).status_code == 200
            assert ext_authz(guarded.url, face, {**BLOCKED, "x-policyhub-key": token}).status_code == 403

        empty.start(wait="listening")
        assert evaluation(empty.url, READ).status_code == 503  # never a decision made on nothing
        for face in ("ext_authz", "auth_request"):
            assert ext_authz(empty.url, face, PASSING).status_code == 503
    finally:
        guarded.stop()
        empty.stop()
