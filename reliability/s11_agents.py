"""11. Agents: a hub outage and an agent crash, under decision load.

A hub and two ``policyhub agent`` processes following environment ``prod`` (scope ``edge``: an IP
allow list and an access list). The expected verdict of every input is asked of the hub first.

- **Hub outage**: 4 connections per agent ask decisions for the whole phase; the hub is killed (-9) a
  third of the way in and started again (same database) at two thirds. Pass: every agent request is a
  200 with the hub's verdict (fail-static: no error, no other answer, never a 503 once the agents have a
  state); both agents say they are stale while the hub is down; both are following it again within
  10 s of its restart, and a write made then reaches both within 5 s.
- **Agent crash**: 4 connections on one agent; it is killed (-9) at a random moment and started again
  (the hub is up). Pass: it serves again from its state directory; every decision it had answered
  before the crash (its id) is in the hub's decision log once its spool is shipped (0 lost).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import httpx

from reliability.agents import AgentProcess, agent_key, desired_revision, put_environment
from reliability.context import Context
from reliability.fixtures import percentile, wait_until
from reliability.report import Checks, Result, timed
from reliability.servers import ORG, ServerProcess

ENV = "prod"
SCOPE = "edge"
CONNECTIONS = 4
INPUTS = [
    {"client_ip": ip, "user": user}
    for ip in ("10.1.2.3", "192.168.1.9", "172.16.0.1", "8.8.8.8")
    for user in ("a@example.org", "b@blocked.example")
]


def _requests() -> list[dict[str, Any]]:
    return [{"point": "http_request", "scope": SCOPE, "input": data} for data in INPUTS]


class Load:
    """``CONNECTIONS`` closed-loop clients per agent; every answer checked against the expected verdict."""

    def __init__(self, agents: list[AgentProcess], expected: list[str]) -> None:
        self.agents = agents
        self.expected = expected
        self.stop = threading.Event()
        self.statuses: Counter[str] = Counter()
        self.wrong: list[str] = []
        self.latencies: list[tuple[float, float]] = []  # (when, seconds)
        self.answered: dict[str, list[str]] = {a.name: [] for a in agents}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> Load:
        for agent in self.agents:
            for _ in range(CONNECTIONS):
                thread = threading.Thread(target=self._loop, args=(agent,), daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def _loop(self, agent: AgentProcess) -> None:
        requests = _requests()
        rng = random.Random()
        with httpx.Client(timeout=5.0) as client:
            while not self.stop.is_set():
                i = rng.randrange(len(requests))
                started = time.monotonic()
                try:
                    r = agent.decide(requests[i], client)
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.statuses[type(exc).__name__] += 1
                    if agent.proc is not None and agent.proc.poll() is not None:
                        return  # the agent was killed: this connection is done
                    time.sleep(0.01)
                    continue
                took = time.monotonic() - started
                with self._lock:
                    self.statuses[str(r.status_code)] += 1
                    self.latencies.append((started, took))
                    if r.status_code == 200:
                        body = r.json()
                        self.answered[agent.name].append(body["id"])
                        if body["decision"] != self.expected[i]:
                            self.wrong.append(f"{agent.name}: {INPUTS[i]} -> {body['decision']} not {self.expected[i]}")

    def finish(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(10)

    def p99_ms(self, since: float = 0.0, until: float = float("inf")) -> float:
        values = [took * 1000 for at, took in self.latencies if since <= at < until]
        return percentile(values, 99)


def _setup(hub: ServerProcess) -> tuple[str, list[str]]:
    with hub.client() as admin:
        assert admin.post("/scopes", json={"kind": "endpoint", "key": SCOPE}).status_code == 201
        for body in (
            {
                "name": "office",
                "type": "apinizer.policy-white-ip",
                "spec": {"ipList": ["10.0.0.0/8", "192.168.1.0/24"]},
            },
            {"name": "blocked", "type": "syftspace.access", "spec": {"denied_users": ["*@blocked.example"]}},
        ):
            r = admin.post("/policies", json={**body, "scope": SCOPE})
            assert r.status_code == 201, r.text
        put_environment(admin, ENV, [SCOPE])
        token = agent_key(admin)
        answers = admin.post("/decisions/batch", json={"requests": _requests()}).json()["decisions"]
    return token, [a["decision"] for a in answers]


def _scenario(ctx: Context) -> Result:
    checks = Checks()
    url = ctx.backend.new_database("agents")
    phase = ctx.pick(3.0, 30.0)
    hub = ServerProcess(url, log_path=ctx.log_path("agents-hub")).start(timeout_s=30)
    agents: list[AgentProcess] = []
    try:
        token, expected = _setup(hub)
        checks.expect({"allow", "deny"} <= set(expected), f"the inputs do not reach both verdicts: {expected}")
        env = {"POLICYHUB_DECISION_LOG_SAMPLE_ALLOW": "1", "POLICYHUB_AGENT_POLL_WAIT_S": "5"}
        for n in range(2):
            agents.append(
                AgentProcess(
                    hub.url,
                    ORG,
                    ENV,
                    token,
                    ctx.workdir / f"{ctx.backend.name}-agent{n}-{time.monotonic_ns()}",
                    name=f"edge{n}",
                    log_path=ctx.log_path(f"agent{n}"),
                    extra_env=env,
                )
            )
        for agent in agents:
            agent.start(wait=None)
        for agent in agents:
            agent.wait_ready(30)
        outage = _hub_outage(ctx, checks, hub, agents, expected, phase)
        crash = _agent_crash(checks, hub, agents[0], expected, phase)
    finally:
        for agent in agents:
            agent.stop()
        hub.stop()
    return checks.result("11", "agents: hub outage, crash", ctx.backend.name, f"{outage}; {crash}")


def _hub_outage(
    ctx: Context, checks: Checks, hub: ServerProcess, agents: list[AgentProcess], expected: list[str], phase: float
) -> str:
    load = Load(agents, expected).start()
    t0 = time.monotonic()
    time.sleep(phase / 3)
    down_at = time.monotonic()
    hub.kill9()
    stale = wait_until(lambda: all(a.status()["connected"] is False for a in agents), 10)
    checks.expect(stale is not None, "the agents did not notice the hub was down within 10 s")
    stale_s = [a.status()["stale_s"] for a in agents]
    time.sleep(max(0.0, t0 + 2 * phase / 3 - time.monotonic()))
    up_at = time.monotonic()
    hub.start(timeout_s=30)
    back = wait_until(lambda: all(a.status()["connected"] and a.status()["stale_s"] == 0 for a in agents), 10)
    checks.expect(back is not None, "the agents were not following the hub again within 10 s of its restart")
    time.sleep(max(0.0, t0 + phase - time.monotonic()))
    load.finish()
    with hub.client() as admin:
        written = time.monotonic()
        r = admin.post(
            "/policies",
            json={
                "name": "later",
                "type": "syftspace.access",
                "scope": SCOPE,
                "spec": {"denied_users": ["*@later.example"]},
            },
        )
        checks.expect(r.status_code == 201, f"a write after the restart answered {r.status_code}")
        desired = desired_revision(admin, ENV)
    reached = wait_until(lambda: all((a.status()["revision"] or 0) >= desired for a in agents), 5, 0.01)
    checks.expect(reached is not None, "a write after the hub's restart did not reach both agents within 5 s")
    applied_ms = (time.monotonic() - written) * 1000 if reached is not None else float("inf")
    bad = {k: v for k, v in load.statuses.items() if k != "200"}
    checks.expect(not bad, f"agent answers other than 200 during the hub outage: {bad}")
    checks.expect(not load.wrong, f"{len(load.wrong)} answers differ from the hub's: {load.wrong[:3]}")
    total = sum(load.statuses.values())
    return (
        f"hub outage {up_at - down_at:.1f}s within {phase:.0f}s x {2 * CONNECTIONS} conns: {total} decisions, "
        f"{dict(load.statuses)}, {len(load.wrong)} differing; p99 before {load.p99_ms(t0, down_at):.1f} ms, "
        f"hub down {load.p99_ms(down_at, up_at):.1f} ms, after {load.p99_ms(up_at):.1f} ms; stale_s at outage "
        f"{stale_s}; following again {back if back is None else round(back, 2)}s after restart; write -> both "
        f"applied {applied_ms:.0f} ms"
    )


def _agent_crash(checks: Checks, hub: ServerProcess, agent: AgentProcess, expected: list[str], phase: float) -> str:
    load = Load([agent], expected).start()
    time.sleep(random.uniform(phase / 4, phase / 2))
    agent.kill9()
    load.finish()
    answered = load.answered[agent.name]
    started = time.monotonic()
    agent.start(wait="ready", timeout_s=30)
    ready_ms = (time.monotonic() - started) * 1000
    shipped = wait_until(lambda: agent.status()["counts"]["spooled"] == 0, 30)
    checks.expect(shipped is not None, "the restarted agent did not ship its spool within 30 s")
    with hub.client() as admin:
        logged = _logged_ids(admin, f"agent:{agent.name}")
    lost = set(answered) - logged
    checks.expect(not lost, f"{len(lost)} of {len(answered)} answered decisions are not in the hub's log")
    return (
        f"agent kill -9 after {len(answered)} answered decisions: restart -> ready {ready_ms:.0f} ms (from disk), "
        f"spool shipped in {shipped if shipped is None else round(shipped, 2)}s, {len(logged)} in the hub's log, "
        f"{len(lost)} lost"
    )


def _logged_ids(admin: httpx.Client, source: str) -> set[str]:
    found: set[str] = set()
    token: str | None = None
    for _ in range(1000):
        params: dict[str, Any] = {"source": source, "limit": 500}
        if token:
            params["page_token"] = token
        page = admin.get("/decisions", params=params).json()
        found.update(item["id"] for item in page["items"])
        token = page["next_page_token"]
        if not token:
            break
    return found


def run(ctx: Context) -> list[Result]:
    return [timed(_scenario, ctx)]
