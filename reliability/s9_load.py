"""9. Bounded load: mixed reads, writes and decisions against one replica and against two.

Each configuration first measures the trivial endpoint (``GET /healthz``: no auth, no database) with
the same client and connection count, then runs the mixed load for the form's duration: 60% reads
(GET a policy, list policies), 30% writes (merge PATCH of the connection's own policy), 10% decisions
(when the decision API is there). Pass: no 5xx and no failed request. Printed: throughput and p50/p99
latency of the mix and of each kind, next to the baseline's.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from reliability import decisions
from reliability.context import Context
from reliability.fixtures import percentile, servers
from reliability.report import Checks, Result, timed
from reliability.servers import ORG, TOKEN, ServerProcess

CONNECTIONS = 16
POLICIES = 16
MAX_REQUESTS = 2_000_000
AUTH = {"Authorization": f"Bearer {TOKEN}"}
V1 = f"/v1/orgs/{ORG}"


@dataclass
class Run:
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float, kind: str | None = None) -> float:
        values = self.latencies.get(kind, []) if kind else [x for v in self.latencies.values() for x in v]
        return percentile(values, q) * 1000


async def _drive(replicas: list[ServerProcess], seconds: float, mix: list[str], with_decisions: bool) -> Run:
    run = Run()
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    clients = [httpx.AsyncClient(base_url=s.url, headers=AUTH, timeout=30.0, limits=limits) for s in replicas]
    stop_at = time.monotonic() + seconds
    counter = 0

    async def one(conn: int) -> None:
        nonlocal counter
        c = clients[conn % len(clients)]
        rng = random.Random(conn)
        while time.monotonic() < stop_at and counter < MAX_REQUESTS:
            counter += 1
            kind = rng.choice(mix)
            t0 = time.perf_counter()
            try:
                if kind == "trivial":
                    r = await c.get("/healthz")
                elif kind == "read":
                    if rng.random() < 0.8:
                        r = await c.get(f"{V1}/policies/load-{rng.randrange(POLICIES)}")
                    else:
                        r = await c.get(f"{V1}/policies", params={"limit": 20})
                elif kind == "write":
                    r = await c.patch(
                        f"{V1}/policies/load-{conn % POLICIES}",
                        json={"spec": {"n": counter}},
                        headers={"Content-Type": "application/merge-patch+json"},
                    )
                else:
                    r = await c.post(decisions.path(), json=decisions.request_body(counter))
                status = str(r.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            took = time.perf_counter() - t0
            run.statuses[f"{kind} {status}"] += 1
            run.latencies.setdefault(kind, []).append(took)

    start = time.monotonic()
    try:
        await asyncio.gather(*(one(i) for i in range(CONNECTIONS)))
    finally:
        for c in clients:
            await c.aclose()
    run.seconds = time.monotonic() - start
    return run


def _config(ctx: Context, replicas_n: int) -> Result:
    checks = Checks()
    url = ctx.backend.new_database(f"load{replicas_n}")
    seconds = ctx.pick(3.0, 60.0)
    with servers(ctx, url, replicas_n, label=f"load{replicas_n}", extra_env={"POLICYHUB_DB_POOL_SIZE": "20"}) as rs:
        with rs[0].client() as c:
            for i in range(POLICIES):
                c.post("/policies", json={"name": f"load-{i}", "type": "document", "spec": {"n": 0}}).raise_for_status()
        with_decisions = decisions.available(rs[0])
        mix = ["read"] * 6 + ["write"] * 3 + (["decision"] if with_decisions else ["read"])
        baseline = asyncio.run(_drive(rs, ctx.pick(1.5, 5.0), ["trivial"], False))
        load = asyncio.run(_drive(rs, seconds, mix, with_decisions))
        checks.expect(all(s.alive() for s in rs), "a replica died under load")
    bad = {k: v for k, v in (baseline.statuses + load.statuses).items() if not k.endswith(" 200")}
    fivexx = sum(v for k, v in bad.items() if k.split()[-1].startswith("5"))
    checks.expect(not bad, f"failed requests: {bad}")
    kinds = [k for k in ("read", "write", "decision") if k in load.latencies]
    per_kind = "; ".join(
        f"{k}: {len(load.latencies[k]) / load.seconds:.0f}/s p50 {load.pct(0.5, k):.1f} p99 {load.pct(0.99, k):.1f} ms"
        for k in kinds
    )
    figures = (
        f"{seconds:.0f}s x {CONNECTIONS} conns; 5xx={fivexx}; failed={sum(bad.values())}; "
        f"mix {load.rate():.0f} req/s p50 {load.pct(0.5):.1f} p99 {load.pct(0.99):.1f} ms; {per_kind}; "
        f"baseline /healthz {baseline.rate():.0f} req/s p50 {baseline.pct(0.5):.1f} p99 {baseline.pct(0.99):.1f} ms"
        + ("" if with_decisions else "; decisions: not available")
    )
    return checks.result(
        "9", f"bounded load, {replicas_n} replica{'s' if replicas_n > 1 else ''}", ctx.backend.name, figures
    )


def run(ctx: Context) -> list[Result]:
    return [timed(_config, ctx, 1), timed(_config, ctx, 2)]
