"""11. Agents: a hub outage and an agent crash during it, under decision load.

A hub and two ``policyhub agent`` processes following environment ``prod`` (scope ``edge``: an IP
allow list and an access list); the expected verdict of every input is asked of the hub first. Four
connections per agent ask decisions for the whole phase, while:

1. the hub is killed (-9) a quarter of the way in: both agents must keep answering every request with
   the hub's verdict (fail-static) and say they are stale;
2. with the hub still down, agent 0 is killed (-9) and started again: it must serve from its state
   directory alone (its connections' errors while it is down are expected and counted apart);
3. the hub is started again (same database): both agents must be following it again within 10 s, a
   write made then must reach both within 5 s, and once their spools are shipped every decision either
   agent answered (its id) must be in the hub's decision log: 0 lost, across the hub outage and the
   agent's crash.

Pass also requires no answer other than a 200 (never a 503 or an error) outside agent 0's own downtime.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import httpx

from reliability.agents import AgentProcess, agent_key, desired_revision, logged_ids, put_environment
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
    """``CONNECTIONS`` closed-loop clients per agent; every answer checked against the expected verdict.
    A connection error is recorded with its time and the client goes on (the agent may come back)."""

    def __init__(self, agents: list[AgentProcess], expected: list[str]) -> None:
        self.agents = agents
        self.expected = expected
        self.stop = threading.Event()
        self.statuses: Counter[str] = Counter()
        self.wrong: list[str] = []
        self.errors: list[tuple[str, float, str]] = []  # (agent, when it failed, what)
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
        client = httpx.Client(timeout=5.0)
        while not self.stop.is_set():
            i = rng.randrange(len(requests))
            started = time.monotonic()
            try:
                r = agent.decide(requests[i], client)
            except httpx.HTTPError as exc:
                with self._lock:  # when it failed: a request in flight at a kill fails at the kill
                    self.errors.append((agent.name, time.monotonic(), type(exc).__name__))
                client.close()
                client = httpx.Client(timeout=5.0)
                time.sleep(0.02)
                continue
            took = time.monotonic() - started
            with self._lock:
                self.latencies.append((started, took))
                if r.status_code != 200:
                    self.errors.append((agent.name, started, str(r.status_code)))
                    continue
                self.statuses["200"] += 1
                body = r.json()
                self.answered[agent.name].append(body["id"])
                if body["decision"] != self.expected[i]:
                    self.wrong.append(f"{agent.name}: {INPUTS[i]} -> {body['decision']} not {self.expected[i]}")
        client.close()

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
    phase = ctx.pick(4.0, 40.0)
    hub = ServerProcess(url, log_path=ctx.log_path("agents-hub")).start(timeout_s=30)
    agents: list[AgentProcess] = []
    try:
        token, expected = _setup(hub)
        checks.expect({"allow", "deny"} <= set(expected), f"the inputs do not reach both verdicts: {expected}")
        env = {"POLICYHUB_DECISION_LOG_SAMPLE_ALLOW": "1", "POLICYHUB_AGENT_POLL_WAIT_S": "5"}
        for n in range(2):
            state = ctx.workdir / f"{ctx.backend.name}-agent{n}-{time.monotonic_ns()}"
            log = ctx.log_path(f"agent{n}")
            agents.append(AgentProcess(hub.url, ORG, ENV, token, state, name=f"edge{n}", log_path=log, extra_env=env))
        for agent in agents:
            agent.start(wait=None)
        for agent in agents:
            agent.wait_ready(30)
        figures = _timeline(checks, hub, agents, expected, phase)
    finally:
        for agent in agents:
            agent.stop()
        hub.stop()
    return checks.result("11", "agents: hub outage, crash", ctx.backend.name, figures)


def _timeline(checks: Checks, hub: ServerProcess, agents: list[AgentProcess], expected: list[str], phase: float) -> str:
    crashed = agents[0]
    load = Load(agents, expected).start()
    t0 = time.monotonic()
    time.sleep(phase / 4)
    down_at = time.monotonic()
    hub.kill9()
    noticed = wait_until(lambda: all(a.status()["connected"] is False for a in agents), 10, 0.02)
    checks.expect(noticed is not None, "the agents did not notice the hub was down within 10 s")
    stale = [a.status()["stale_s"] for a in agents]
    checks.expect(all(isinstance(x, int | float) and x >= 0 for x in stale), f"stale_s while the hub is down: {stale}")
    time.sleep(max(0.0, t0 + phase / 2 - time.monotonic()))
    killed_at = time.monotonic()
    crashed.kill9()
    crashed.start(wait="ready", timeout_s=30)  # the hub is still down: from its state directory alone
    back_at = time.monotonic()
    time.sleep(max(0.0, t0 + 3 * phase / 4 - time.monotonic()))
    up_at = time.monotonic()
    hub.start(timeout_s=30)
    following = wait_until(lambda: all(a.status()["connected"] and a.status()["stale_s"] == 0 for a in agents), 10)
    checks.expect(following is not None, "the agents were not following the hub again within 10 s of its restart")
    time.sleep(max(0.0, t0 + phase - time.monotonic()))
    load.finish()
    with hub.client() as admin:
        written = time.monotonic()
        later = {"name": "later", "type": "syftspace.access", "scope": SCOPE, "spec": {"denied_users": ["*@x.example"]}}
        r = admin.post("/policies", json=later)
        checks.expect(r.status_code == 201, f"a write after the restart answered {r.status_code}")
        desired = desired_revision(admin, ENV)
        reached = wait_until(lambda: all((a.status()["revision"] or 0) >= desired for a in agents), 5, 0.01)
        applied_ms = (time.monotonic() - written) * 1000 if reached is not None else float("inf")
        checks.expect(reached is not None, "a write after the hub's restart did not reach both agents within 5 s")
        shipped = wait_until(lambda: all(a.status()["counts"]["spooled"] == 0 for a in agents), 30)
        checks.expect(shipped is not None, "the agents did not ship their spools within 30 s")
        lost = {}
        for agent in agents:
            logged = logged_ids(admin, f"agent:{agent.name}")
            lost[agent.name] = len(set(load.answered[agent.name]) - logged)
    checks.expect(not any(lost.values()), f"answered decisions missing from the hub's log: {lost}")
    expected_errors = [e for e in load.errors if e[0] == crashed.name and killed_at <= e[1] <= back_at]
    other = Counter(f"{name}: {what}" for name, at, what in load.errors if (name, at, what) not in expected_errors)
    checks.expect(not other, f"answers other than 200 outside the crashed agent's downtime: {dict(other)}")
    checks.expect(not load.wrong, f"{len(load.wrong)} answers differ from the hub's: {load.wrong[:3]}")
    answered = {name: len(ids) for name, ids in load.answered.items()}
    return (
        f"{phase:.0f}s x {2 * CONNECTIONS} conns: {answered} answered, {len(load.wrong)} differing from the hub, "
        f"{len(expected_errors)} errors while {crashed.name} was down, {sum(other.values())} others; hub down "
        f"{up_at - down_at:.1f}s (noticed in {noticed if noticed is None else round(noticed, 2)}s, stale_s {stale}); "
        f"p99 before {load.p99_ms(t0, down_at):.1f} ms, hub down {load.p99_ms(down_at, up_at):.1f} ms, after "
        f"{load.p99_ms(up_at):.1f} ms; {crashed.name} kill -9 -> serving from disk (hub down) in "
        f"{(back_at - killed_at) * 1000:.0f} ms; following the restarted hub in "
        f"{following if following is None else round(following, 2)}s; write -> both applied {applied_ms:.0f} ms; "
        f"lost decisions {lost}"
    )


def run(ctx: Context) -> list[Result]:
    return [timed(_scenario, ctx)]
