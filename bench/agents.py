"""Agents against the hub: ``python -m bench.agents [--seconds 3] [--writes 20] [--agents 10]``.

Starts a hub (``policyhub serve``, SQLite, 1 worker) and real ``policyhub agent`` processes on loopback,
all on this machine, then prints two tables:

- **write -> applied**: a policy write through the hub's API (timed from just before the request is
  sent, so the commit is included) until each agent's ``/status`` shows a newer revision; with 1 agent,
  then with ``--agents`` (every agent's apply counts, and "all" is the slowest agent per write). The
  apply time is the agent's own (``applied_at`` in ``/status``, wall clock on this machine), read by
  polling every 20 ms (so the watching neither adds error nor loads the agents).
- **decisions**: closed-loop keep-alive load (``bench.loadgen``) at 1 and 64 connections against an
  agent's ``POST /v1/orgs/{org}/decisions``, the hub's same endpoint (same policies, same inputs) and the
  hub's trivial ``GET /healthz``, measured in the same run. Only one agent runs during this part.

The org: scope ``bench`` with an IP allow list and an access list (the gateway policies of
``bench.decision_cases``), environment ``prod`` receiving that scope. Decision log sampling is the default.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import httpx
from reliability.agents import AgentProcess, agent_key, put_environment
from reliability.servers import ORG, TOKEN, ServerProcess

from bench import loadgen
from bench.decision_cases import gateway_policy
from bench.payloads import RequestSpec
from bench.stats import Result, percentile

ENV = "prod"
DECISION = (
    b'{"point":"http_request","scope":"bench","input":{"client_ip":"10.1.2.3","user":"user',
    b'@example.org"}}',
)


def process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of one process (0 when gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def watch_applies(agents: list[AgentProcess], before: list[int], t0: float, timeout_s: float) -> list[float]:
    """Seconds from ``t0`` (wall clock) until each agent applied a revision past its ``before``: the
    agent's own ``applied_at`` (so polling every 20 ms adds no error and little load); inf when it never did."""
    out = [float("inf")] * len(agents)
    pending = set(range(len(agents)))
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while pending and time.monotonic() < deadline:
            for i in sorted(pending):
                try:
                    status = client.get(f"{agents[i].url}/status").json()
                except (httpx.HTTPError, ValueError):
                    continue
                if (status["revision"] or 0) > before[i]:
                    out[i] = status["applied_at"] - t0
                    pending.discard(i)
            time.sleep(0.02)
    return out


def write_to_applied(admin: httpx.Client, agents: list[AgentProcess], writes: int, tag: str) -> dict[str, float]:
    per_agent: list[float] = []
    slowest: list[float] = []
    for i in range(writes):
        before = [a.status()["revision"] or 0 for a in agents]
        t0 = time.time()
        r = admin.post("/policies", json=gateway_policy(f"w-{tag}-{i}", "bench", 2 * i))
        assert r.status_code == 201, r.text
        result = watch_applies(agents, before, t0, 10.0)
        per_agent.extend(result)
        slowest.append(max(result))
        time.sleep(0.05)
    per_agent.sort()
    slowest.sort()
    return {
        "p50": percentile(per_agent, 50) * 1000,
        "p99": percentile(per_agent, 99) * 1000,
        "all_p50": percentile(slowest, 50) * 1000,
        "all_p99": percentile(slowest, 99) * 1000,
        "missed": sum(1 for x in per_agent if x == float("inf")),
    }


def load(name: str, port: int, spec: RequestSpec, connections: int, seconds: float, pid: int | None) -> Result:
    return loadgen.run_load(
        name,
        "127.0.0.1",
        port,
        spec,
        connections=connections,
        warmup_s=min(1.0, seconds / 3),
        seconds=seconds,
        counter_base=0,
        server_cpu=lambda: process_cpu_s(pid),
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.agents", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3.0, help="measured seconds per load run")
    p.add_argument("--writes", type=int, default=20, help="writes timed per agent count")
    p.add_argument("--agents", type=int, default=10)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-agents-") as tmp:
        run(Path(tmp), args.seconds, args.writes, args.agents)


def run(tmp: Path, seconds: float, writes: int, count: int) -> None:
    hub = ServerProcess(f"sqlite:///{tmp / 'hub.db'}", log_path=tmp / "hub.log").start()
    agents: list[AgentProcess] = []
    try:
        admin = hub.client()
        assert admin.post("/scopes", json={"kind": "endpoint", "key": "bench"}).status_code == 201
        for i in range(2):
            assert admin.post("/policies", json=gateway_policy(f"gw-{i}", "bench", i)).status_code == 201
        put_environment(admin, ENV, ["bench"])
        token = agent_key(admin)
        agents = [
            AgentProcess(hub.url, ORG, ENV, token, tmp / f"agent{n}", name=f"bench{n}", log_path=tmp / f"agent{n}.log")
            for n in range(count)
        ]
        agents[0].start(wait="ready")
        applied = {1: write_to_applied(admin, agents[:1], writes, "one")}
        for agent in agents[1:]:
            agent.start(wait=None)
        for agent in agents[1:]:
            agent.wait_ready(60)
        applied[count] = write_to_applied(admin, agents, writes, "many")
        for agent in agents[1:]:
            agent.stop()

        print(f"write -> applied ({writes} writes each; hub SQLite 1 worker; loopback)")
        print("| agents | per agent p50 ms | per agent p99 ms | all agents p50 ms | all agents p99 ms | missed |")
        print("|---|---|---|---|---|---|")
        for n, f in applied.items():
            print(
                f"| {n} | {f['p50']:.1f} | {f['p99']:.1f} | {f['all_p50']:.1f} | {f['all_p99']:.1f} | "
                f"{int(f['missed'])} |"
            )

        decision = RequestSpec("POST", (f"/v1/orgs/{ORG}/decisions",), {"Content-Type": "application/json"}, DECISION)
        hub_decision = RequestSpec(
            "POST",
            (f"/v1/orgs/{ORG}/decisions",),
            {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
            DECISION,
        )
        healthz = RequestSpec("GET", ("/healthz",))
        agent = agents[0]
        agent_pid = agent.proc.pid if agent.proc else None
        rows: list[tuple[str, int, Result]] = []
        for connections in (1, 64):
            rows.append(
                ("agent decision", connections, load("agent", agent.port, decision, connections, seconds, agent_pid))
            )
            rows.append(
                ("hub decision", connections, load("hub", hub.port, hub_decision, connections, seconds, hub.pid))
            )
            rows.append(
                ("hub /healthz", connections, load("healthz", hub.port, healthz, connections, seconds, hub.pid))
            )
        print()
        print(f"decisions ({seconds:g} s per run after a warm-up; closed loop, keep-alive; 2 cores shared)")
        print("| endpoint | connections | req/s | p50 ms | p99 ms | errors | vs hub /healthz |")
        print("|---|---|---|---|---|---|---|")
        floors = {c: r.rate for name, c, r in rows if name == "hub /healthz"}
        for name, connections, r in rows:
            ratio = r.rate / floors[connections] if floors.get(connections) else 0.0
            print(
                f"| {name} | {connections} | {r.rate:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | "
                f"{ratio:.2f} |"
            )
    finally:
        for agent in agents:
            agent.stop()
        hub.stop()


if __name__ == "__main__":
    main()
