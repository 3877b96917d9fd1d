"""10. Tenant isolation under hostile content: one org's worst inputs must not slow another org down.

A victim org runs the mixed load of scenario 9 (reads, merge PATCHes, decisions) twice on one server:
alone (the baseline), then while a hostile org loops the inputs that used to stall the server
(issue 11): a catastrophic-backtracking regex in an Apinizer throttling override, asked with the
header that triggers it and a new identity each time (flooding the rate-limit counters); a JSON Patch
that copies the spec into itself 20 times; a 200-byte Rego template nested 90 deep; a document schema
whose ``$ref`` points at a listener that accepts and never answers; half-megabyte inputs to a policy
that denies them (logged). Pass: the victim has no failed request and keeps its p99 (within
``3 x baseline + 150 ms``); its exhausted rate limit is still exhausted at the end; every hostile request
gets an answer (4xx or a bounded deny, never a 5xx) within 5 s; the listener saw no connection; the
server's RSS grew by less than 256 MiB.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from reliability.context import Context
from reliability.fixtures import new_org, percentile, servers
from reliability.report import Checks, Result, timed
from reliability.servers import ORG, TOKEN, ServerProcess

VICTIM_CONNECTIONS = 8
HOSTILE_CONNECTIONS = 4
POLICIES = 8
MAX_HOSTILE_S = 5.0
MAX_RSS_GROWTH = 256 << 20
PROJECT, PROXY = "Hostile", "Api"
EVIL_REGEX = "(a+)+$"
EVIL_HEADER = "a" * 27 + "!"
NESTED_REGO = "package curation.policies\n\nallow := " + "[" * 90 + "]" * 90 + "\n"
JF = "/unifiedpolicy/api/v1"


class SilentListener:
    """A TCP listener that accepts connections and never answers: counts who connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


class Latencies:
    def __init__(self) -> None:
        self.by_kind: dict[str, list[float]] = {}
        self.statuses: Counter[str] = Counter()
        self.seconds = 0.0

    def add(self, kind: str, status: str, took: float) -> None:
        self.by_kind.setdefault(kind, []).append(took)
        self.statuses[f"{kind} {status}"] += 1

    def p99(self, kind: str | None = None) -> float:
        values = self.by_kind.get(kind, []) if kind else [x for v in self.by_kind.values() for x in v]
        return percentile(values, 0.99) * 1000

    def worst(self) -> float:
        return max((max(v) for v in self.by_kind.values() if v), default=0.0)

    def count(self) -> int:
        return sum(len(v) for v in self.by_kind.values())


def _victim_setup(server: ServerProcess) -> None:
    with server.client() as c:
        for i in range(POLICIES):
            c.post("/policies", json={"name": f"v-{i}", "type": "document", "spec": {"n": 0}}).raise_for_status()
        c.post("/scopes", json={"kind": "endpoint", "key": "limited"}).raise_for_status()
        c.post(
            "/policies",
            json={
                "name": "tight",
                "type": "syftspace.rate_limit",
                "scope": "limited",
                "spec": {"limit": "2/h", "scope": "global"},
            },
        ).raise_for_status()
        for _ in range(3):
            c.post("/decisions", json=_limited()).raise_for_status()


def _limited() -> dict[str, Any]:
    return {"point": "http_request", "scope": "limited", "input": {"method": "GET", "path": "/limited"}}


def _hostile_setup(server: ServerProcess, org: str, token: str) -> None:
    with server.client(token, org) as c:
        c.post("/policies", json={"name": "doc", "type": "document", "spec": {"k": "v" * 64}}).raise_for_status()
        c.post("/scopes", json={"kind": "endpoint", "key": "deny"}).raise_for_status()
        c.post(
            "/policies",
            json={
                "name": "nobody",
                "type": "syftspace.access",
                "scope": "deny",
                "spec": {"allowed_users": ["nobody@example.com"]},
            },
        ).raise_for_status()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        c.post("/apiops/projects/", json={"name": PROJECT}).raise_for_status()
        c.post(
            f"/apiops/projects/{PROJECT}/apiProxies/",
            json={"name": PROXY, "endpointList": [{"endpoint": "/x", "httpMethod": "ALL"}]},
        ).raise_for_status()
        throttle = {
            "type": "policy-api-based-throttling",
            "description": "hostile",
            "active": True,
            "targetVariableForIdentity": {"type": "HEADER", "headerName": "X-API-Key"},
            "messageCountForInterval": 1000,
            "throttlingInterval": "ONE_MINUTE",
            "intervalPeriodLength": 1,
            "intervalWindowType": "FIXED",
            "detailList": [
                {
                    "targetValue": EVIL_REGEX,
                    "regexExpression": True,
                    "messageCountForInterval": 1,
                    "quotaInterval": "ONE_MINUTE",
                }
            ],
        }
        meta = {"targetScope": "ALL", "targetPipeline": "REQUEST", "deploy": False}
        r = c.post(
            f"/apiops/projects/{PROJECT}/apiProxies/{PROXY}/policies/evil/",
            json={"operationMetadata": meta, "policy": throttle},
        )
        r.raise_for_status()


def _attacks(
    org: str, listener_port: int
) -> list[tuple[str, Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]]]:
    v1 = f"/v1/orgs/{org}"

    def regex(c: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        body = {
            "point": "http_request",
            "scope": f"{PROJECT}/{PROXY}",
            "input": {"method": "GET", "path": f"/{PROXY}/x", "headers": {"X-API-Key": EVIL_HEADER}},
        }
        return c.post(f"{v1}/decisions", json=body)

    def flood(c: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        body = {
            "point": "http_request",
            "scope": f"{PROJECT}/{PROXY}",
            "input": {"method": "GET", "path": f"/{PROXY}/x", "headers": {"X-API-Key": f"id-{i}-{random.random()}"}},
        }
        return c.post(f"{v1}/decisions", json=body)

    def patch(c: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        ops = [{"op": "copy", "from": "/spec", "path": f"/spec/c{n}"} for n in range(20)]
        return c.patch(
            f"{v1}/policies/doc",
            params={"dry_run": "true"},
            json=ops,
            headers={"Content-Type": "application/json-patch+json"},
        )

    def rego(c: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        body = {
            "name": f"nested-{i}",
            "description": "d",
            "version": "1.0.0",
            "category": "security",
            "data_source_type": "evidence",
            "rego": NESTED_REGO,
            "parameters": [],
        }
        return c.post(f"{JF}/templates", json=body)

    def schema(c: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        ref = {"$ref": f"http://127.0.0.1:{listener_port}/schema.json"}
        return c.put(f"{v1}/document-schemas/remote-{i % 4}", json=ref)

    def big_deny(c: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        body = {
            "point": "http_request",
            "scope": "deny",
            "input": {
                "method": "GET",
                "path": "/deny",
                "user": "mallory@example.com",
                "headers": {"x-pad": "p" * 500_000},
            },
        }
        return c.post(f"{v1}/decisions", json=body)

    return [("regex", regex), ("flood", flood), ("patch", patch), ("rego", rego), ("schema", schema), ("big", big_deny)]


async def _victim(server: ServerProcess, stop_at: float, out: Latencies) -> None:
    limits = httpx.Limits(max_connections=VICTIM_CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30.0, limits=limits
    ) as c:

        async def one(conn: int) -> None:
            rng = random.Random(conn)
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                kind = rng.choice(("read", "read", "write", "decision"))
                t0 = time.perf_counter()
                try:
                    if kind == "read":
                        r = await c.get(f"/v1/orgs/{ORG}/policies/v-{rng.randrange(POLICIES)}")
                    elif kind == "write":
                        r = await c.patch(
                            f"/v1/orgs/{ORG}/policies/v-{conn % POLICIES}",
                            json={"spec": {"n": n}},
                            headers={"Content-Type": "application/merge-patch+json"},
                        )
                    else:
                        body = {"point": "http_request", "input": {"method": "GET", "path": f"/p/{n % 50}"}}
                        r = await c.post(f"/v1/orgs/{ORG}/decisions", json=body)
                    status = str(r.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                out.add(kind, status, time.perf_counter() - t0)

        await asyncio.gather(*(one(i) for i in range(VICTIM_CONNECTIONS)))


async def _hostile(server: ServerProcess, org: str, token: str, port: int, stop_at: float, out: Latencies) -> None:
    attacks = _attacks(org, port)
    limits = httpx.Limits(max_connections=HOSTILE_CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60.0, limits=limits
    ) as c:

        async def one(conn: int) -> None:
            i = conn
            while time.monotonic() < stop_at:
                label, attack = attacks[i % len(attacks)]
                i += HOSTILE_CONNECTIONS
                t0 = time.perf_counter()
                try:
                    r = await attack(c, i)
                    status = str(r.status_code)
                    if r.status_code == 200 and label == "big" and r.json().get("decision") == "allow":
                        status = "200-allow"
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                out.add(label, status, time.perf_counter() - t0)

        await asyncio.gather(*(one(i) for i in range(HOSTILE_CONNECTIONS)))


async def _phase(
    server: ServerProcess, seconds: float, hostile: tuple[str, str, int] | None
) -> tuple[Latencies, Latencies]:
    victim, attacker = Latencies(), Latencies()
    stop_at = time.monotonic() + seconds
    started = time.monotonic()
    jobs = [_victim(server, stop_at, victim)]
    if hostile is not None:
        jobs.append(_hostile(server, *hostile, stop_at, attacker))
    await asyncio.gather(*jobs)
    victim.seconds = attacker.seconds = time.monotonic() - started
    return victim, attacker


def _isolation(ctx: Context) -> Result:
    checks = Checks()
    url = ctx.backend.new_database("isolation")
    seconds = ctx.pick(4.0, 30.0)
    listener = SilentListener()
    # A small counter budget per org, so the hostile org's identity flood overflows its own within the run.
    extra = {"POLICYHUB_DECISION_LOG_SAMPLE_ALLOW": "1.0", "POLICYHUB_RATELIMIT_KEYS_PER_ORG": "200"}
    try:
        with servers(ctx, url, 1, label="isolation", extra_env=extra) as (server,):
            _victim_setup(server)
            hostile_org, hostile_token = new_org(url, "hostile")
            _hostile_setup(server, hostile_org, hostile_token)
            rss_before = server.rss_bytes()
            base, _ = asyncio.run(_phase(server, seconds, None))
            under, attacker = asyncio.run(_phase(server, seconds, (hostile_org, hostile_token, listener.port)))
            rss_after = server.rss_bytes()
            try:
                with server.client(timeout=10.0) as c:
                    still = c.post("/decisions", json=_limited()).json().get("decision")
            except httpx.HTTPError as exc:
                still = type(exc).__name__
            checks.expect(server.alive(), "the server died")
    finally:
        listener.close()
    victim_bad = {k: v for k, v in (base.statuses + under.statuses).items() if not k.endswith(" 200")}
    checks.expect(not victim_bad, f"victim requests failed: {victim_bad}")
    bound = 3 * base.p99() + 150
    checks.expect(under.p99() <= bound, f"victim p99 {under.p99():.0f} ms under attack > {bound:.0f} ms")
    checks.expect(still == "deny", f"the victim's exhausted rate limit answered {still!r} after the flood")
    hostile_bad = {k: v for k, v in attacker.statuses.items() if k.split()[-1][0] not in "24" or "allow" in k}
    checks.expect(not hostile_bad, f"hostile requests not refused or denied: {hostile_bad}")
    checks.expect(attacker.worst() <= MAX_HOSTILE_S, f"a hostile request took {attacker.worst():.1f} s")
    checks.expect(not listener.accepted, f"the server connected to the $ref listener {len(listener.accepted)} times")
    growth = rss_after - rss_before
    checks.expect(growth < MAX_RSS_GROWTH, f"RSS grew by {growth >> 20} MiB")
    kinds = "; ".join(
        f"{k} p99 {base.p99(k):.1f} -> {under.p99(k):.1f} ms"
        for k in ("read", "write", "decision")
        if k in base.by_kind
    )
    figures = (
        f"{seconds:.0f}s x {VICTIM_CONNECTIONS} victim conns: alone {base.count() / base.seconds:.0f} req/s "
        f"p99 {base.p99():.1f} ms; with hostile org {under.count() / under.seconds:.0f} req/s p99 {under.p99():.1f} ms "
        f"({kinds}); hostile: {attacker.count()} requests, slowest {attacker.worst() * 1000:.0f} ms, "
        f"{dict(sorted(attacker.statuses.items()))}; RSS {rss_before >> 20} -> {rss_after >> 20} MiB; "
        f"$ref listener connections {len(listener.accepted)}"
    )
    return checks.result("10", "tenant isolation (hostile)", ctx.backend.name, figures)


def run(ctx: Context) -> list[Result]:
    return [timed(_isolation, ctx)]
