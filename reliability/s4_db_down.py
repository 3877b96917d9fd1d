"""4. Database down: answers stay fast and honest, and the service heals itself.

PostgreSQL: a throwaway cluster the suite owns is stopped (``pg_ctl stop -m fast``) under a running
server. For the whole outage every read and write (core and seed API) must be a 503 with
``Retry-After`` within 5 s, ``/readyz`` 503, ``/healthz`` 200, never a 500, and a decision 503 or
``deny``, never ``allow``. Nothing may be half-written (the database's fingerprint is unchanged), and
once PostgreSQL is back the same server process (no restart) must be ready and writing within 10 s.

SQLite: an embedded database cannot be "unreachable" the way a server can, and a root process cannot
be locked out of a file by its permissions; the honest equivalent is another process holding the
database's write lock (an open write transaction, e.g. a maintenance job). Reads keep being served
from the last committed state (WAL), so they, ``/readyz`` and decisions answer normally; every write
must be a 503 with ``Retry-After`` within 5 s, and writing resumes within 10 s of the lock's release.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from reliability import decisions, pgcluster
from reliability.context import Context
from reliability.databases import Inspector
from reliability.fixtures import servers, wait_until
from reliability.report import Checks, Result, Status
from reliability.servers import ORG, TOKEN, ServerProcess

PROBE = "down-probe"
ANSWER_LIMIT_S = 5.0
RECOVER_LIMIT_S = 10.0
MERGE = {"Content-Type": "application/merge-patch+json"}


@dataclass
class Probe:
    name: str
    kind: str  # "write", "read", "ready", "health", "decision"
    send: Callable[[httpx.Client, int], httpx.Response]


def _probes(with_decisions: bool) -> list[Probe]:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    v1 = f"/v1/orgs/{ORG}"
    probes = [
        Probe(
            "POST policy",
            "write",
            lambda c, i: c.post(
                f"{v1}/policies",
                headers=auth,
                json={"name": f"down-new-{i}-{uuid.uuid4().hex[:4]}", "type": "document", "spec": {"i": i}},
            ),
        ),
        Probe(
            "PATCH policy",
            "write",
            lambda c, i: c.patch(f"{v1}/policies/{PROBE}", json={"spec": {"k": i}}, headers={**auth, **MERGE}),
        ),
        Probe(
            "PUT policy",
            "write",
            lambda c, i: c.put(f"{v1}/policies/down-put-{i}", headers=auth, json={"type": "document", "spec": {}}),
        ),
        Probe(
            "POST scope",
            "write",
            lambda c, i: c.post(f"{v1}/scopes", headers=auth, json={"kind": "team", "key": f"down-{i}"}),
        ),
        Probe(
            "PUT kosli env",
            "write",
            lambda c, i: c.put(
                f"/api/v2/environments/{ORG}",
                headers=auth,
                json={"name": f"down-env-{i}", "type": "K8S", "description": "d"},
            ),
        ),
        Probe("GET policy", "read", lambda c, i: c.get(f"{v1}/policies/{PROBE}", headers=auth)),
        Probe("GET policies", "read", lambda c, i: c.get(f"{v1}/policies", headers=auth)),
        Probe("GET events", "read", lambda c, i: c.get(f"{v1}/events", headers=auth)),
        Probe("GET kosli policies", "read", lambda c, i: c.get(f"/api/v2/policies/{ORG}", headers=auth)),
        Probe("GET jfrog policies", "read", lambda c, i: c.get("/unifiedpolicy/api/v1/policies", headers=auth)),
        Probe("/readyz", "ready", lambda c, i: c.get("/readyz")),
        Probe("/healthz", "health", lambda c, i: c.get("/healthz")),
    ]
    if with_decisions:
        probes.append(
            Probe(
                "POST decision",
                "decision",
                lambda c, i: c.post(decisions.path(), headers=auth, json=decisions.request_body(i)),
            )
        )
    return probes


@dataclass
class Outage:
    """What the probes saw while the database was down."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: dict[str, dict[str, int]] = field(default_factory=dict)
    slowest: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    count: int = 0

    def record(self, probe: Probe, status: str, seconds: float, problem: str | None) -> None:
        with self.lock:
            self.count += 1
            kind = self.seen.setdefault(probe.kind, {})
            kind[status] = kind.get(status, 0) + 1
            self.slowest[probe.kind] = max(self.slowest.get(probe.kind, 0.0), seconds)
            if problem and len(self.problems) < 30:
                self.problems.append(f"{probe.name}: {problem}")


def _expectation(kind: str, sqlite: bool) -> set[int]:
    if kind == "health":
        return {200}
    if sqlite:  # the write lock is held: reads are served, writes are refused
        return {503} if kind == "write" else ({200, 503} if kind == "decision" else {200})
    return {503} if kind != "decision" else {503, 200}


def _drive(server: ServerProcess, probes: list[Probe], seconds: float, sqlite: bool) -> Outage:
    """One thread per probe, each sending its request again and again until the outage ends."""
    outage = Outage()
    stop_at = time.monotonic() + seconds

    def worker(probe: Probe) -> None:
        with httpx.Client(base_url=server.url, timeout=30.0) as c:
            for i in range(10_000):
                if time.monotonic() >= stop_at:
                    return
                t0 = time.monotonic()
                try:
                    r = probe.send(c, i)
                except httpx.HTTPError as exc:
                    outage.record(probe, type(exc).__name__, time.monotonic() - t0, f"no answer: {exc!r}")
                    continue
                took = time.monotonic() - t0
                problem = None
                if r.status_code not in _expectation(probe.kind, sqlite):
                    problem = f"answered {r.status_code}: {r.text[:160]}"
                elif r.status_code == 503 and not r.headers.get("retry-after"):
                    problem = "503 without Retry-After"
                elif r.status_code == 503 and not r.content:
                    problem = "503 without a message"
                elif took > ANSWER_LIMIT_S:
                    problem = f"answered {r.status_code} after {took:.1f} s (limit {ANSWER_LIMIT_S:.0f} s)"
                elif probe.kind == "decision" and not sqlite:
                    problem = decisions.never_allow_problem(r)
                outage.record(probe, str(r.status_code), took, problem)
                time.sleep(0.01)

    pool = [threading.Thread(target=worker, args=(p,), daemon=True) for p in probes]
    for t in pool:
        t.start()
    for t in pool:
        t.join(seconds + 60)
    return outage


def _writes_again(server: ServerProcess) -> bool:
    with server.client(timeout=5.0) as c:
        ready = httpx.get(f"{server.url}/readyz", timeout=5.0).status_code == 200
        return ready and c.patch(f"/policies/{PROBE}", json={"description": "back"}, headers=MERGE).status_code == 200


def _figures(outage: Outage, recovered: float | None, decisions_on: bool, unchanged: bool) -> str:
    parts = [f"probes={outage.count}"]
    for kind in ("write", "read", "ready", "health", "decision"):
        if kind in outage.seen:
            answers = ",".join(f"{k}x{v}" for k, v in sorted(outage.seen[kind].items()))
            parts.append(f"{kind}: {answers} (max {outage.slowest[kind]:.2f}s)")
    if not decisions_on:
        parts.append("decisions: not available")
    parts.append("500s=" + str(sum(v.get("500", 0) for v in outage.seen.values())))
    parts.append(f"nothing written: {'yes' if unchanged else 'NO'}")
    parts.append(f"recovered in {recovered:.1f}s (no restart)" if recovered is not None else "NOT recovered")
    return "; ".join(parts)


def _run_outage(
    ctx: Context, server: ServerProcess, url: str, down: Callable[[], None], up: Callable[[], None], checks: Checks
) -> str:
    with server.client() as c:
        c.post("/policies", json={"name": PROBE, "type": "document", "spec": {"k": 0}}).raise_for_status()
    with_decisions = decisions.available(server)
    sqlite = not ctx.is_postgres
    inspector = Inspector(url)
    try:
        before = inspector.fingerprint()
        down()
        try:
            outage = _drive(server, _probes(with_decisions), ctx.pick(3.0, 15.0), sqlite)
        finally:
            up()
        recovered = wait_until(
            lambda: httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200, RECOVER_LIMIT_S + 5
        )
        after = inspector.fingerprint()
        total = wait_until(lambda: _writes_again(server), RECOVER_LIMIT_S + 5)
        checks.problems += outage.problems
        checks.expect(before == after, f"the database changed during the outage: {before[0]} -> {after[0]}")
        checks.expect(
            total is not None and total <= RECOVER_LIMIT_S,
            f"not writing again within {RECOVER_LIMIT_S:.0f} s of the database's return ({total})",
        )
        checks.expect(server.alive(), "the server died")
        checks.problems += inspector.consistency_problems(ORG)
    finally:
        inspector.dispose()
    del recovered
    return _figures(outage, total, with_decisions, before == after)


def _postgres(ctx: Context) -> Result:
    reason = pgcluster.unavailable_reason()
    if reason:
        return Result("4", "database down", ctx.backend.name, f"no throwaway cluster: {reason}", Status.SKIP)
    checks = Checks()
    cluster = pgcluster.ThrowawayCluster().init()
    try:
        cluster.start()
        url = cluster.create_database("reliability_down")
        with servers(ctx, url, 1, label="down") as (server,):
            figures = _run_outage(ctx, server, url, lambda: cluster.stop("fast"), cluster.start, checks)
    finally:
        cluster.destroy()
    return checks.result("4", "database down", ctx.backend.name, "PostgreSQL stopped: " + figures)


def _sqlite(ctx: Context) -> Result:
    checks = Checks()
    url = ctx.backend.new_database("down")
    path = make_url(url).database
    holder: dict[str, Any] = {}

    def down() -> None:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=10)
        conn.execute("BEGIN IMMEDIATE")  # another process's open write transaction
        holder["conn"] = conn

    def up() -> None:
        conn = holder.pop("conn")
        conn.execute("ROLLBACK")
        conn.close()

    with servers(ctx, url, 1, label="down") as (server,):
        figures = _run_outage(ctx, server, url, down, up, checks)
    return checks.result("4", "database down", ctx.backend.name, "write lock held by another process: " + figures)


def run(ctx: Context) -> list[Result]:
    return [_postgres(ctx) if ctx.is_postgres else _sqlite(ctx)]
