"""3. Crash durability: ``kill -9`` a replica at random points of a write load; crash PostgreSQL itself.

3a. Writers PATCH one shared policy (each adds its own key) and POST new policies, on every replica;
    at a random moment one replica is killed with SIGKILL and started again. After every cycle: every
    acknowledged (2xx) write is present, every policy's row, versions and events agree, the audit
    chain verifies, and the restarted replica was ready within 10 s.
3b. (PostgreSQL) The same load on a throwaway cluster the suite owns, stopped with
    ``pg_ctl stop -m immediate`` (a database crash) and started again: during the outage writes may
    only fail with 503; afterwards the servers, never restarted, are ready and writing within 10 s,
    and the same durability checks hold. The shared PostgreSQL server is never touched. On SQLite the
    database is embedded, so its crash is the process crash of 3a (N/A).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from reliability import pgcluster
from reliability.context import Context
from reliability.databases import Inspector
from reliability.fixtures import audit_verify_cli, servers, wait_until
from reliability.report import Checks, Result, Status, timed
from reliability.servers import ServerProcess

SHARED = "crash-shared"
PATCHERS = 4
CREATORS = 2
MERGE = {"Content-Type": "application/merge-patch+json"}
READY_LIMIT_S = 10.0


@dataclass
class Load:
    """Writers of one cycle and what they were told."""

    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked_keys: list[str] = field(default_factory=list)
    acked_policies: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    threads: list[threading.Thread] = field(default_factory=list)

    def note(self, status: str, key: str | None = None, policy: str | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            if key:
                self.acked_keys.append(key)
            if policy:
                self.acked_policies.append(policy)

    def start(self, replicas: list[ServerProcess], cycle: int, keep_going: bool) -> None:
        for w in range(PATCHERS + CREATORS):
            server = replicas[w % len(replicas)]
            t = threading.Thread(target=self._writer, args=(server, cycle, w, keep_going), daemon=True)
            self.threads.append(t)
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def _writer(self, server: ServerProcess, cycle: int, w: int, keep_going: bool) -> None:
        """Write until stopped; after a connection error stop (3a: the server died) or pause (3b)."""
        with server.client(timeout=10.0) as c:
            for i in range(20_000):
                if self.stop.is_set():
                    return
                key = f"c{cycle}-w{w}-{i}"
                try:
                    if w < PATCHERS:
                        r = c.patch(f"/policies/{SHARED}", json={"spec": {key: i}}, headers=MERGE)
                        self.note(str(r.status_code), key=key if r.status_code == 200 else None)
                    else:
                        body = {"name": key, "type": "document", "spec": {"i": i}}
                        r = c.post("/policies", json=body)
                        self.note(str(r.status_code), policy=key if r.status_code == 201 else None)
                except httpx.HTTPError as exc:
                    self.note(type(exc).__name__)
                    if not keep_going:
                        return
                    time.sleep(0.05)


def _verify(replicas: list[ServerProcess], inspector: Inspector, load: Load, checks: Checks, where: str) -> None:
    with replicas[0].client() as c:
        spec = c.get(f"/policies/{SHARED}").json()["spec"]
        missing_keys = [k for k in load.acked_keys if k not in spec]
        missing_policies = [p for p in load.acked_policies if c.get(f"/policies/{p}").status_code != 200]
        verify = c.get("/audit/verify").json()
    checks.expect(not missing_keys, f"{where}: {len(missing_keys)} acknowledged PATCHes lost, e.g. {missing_keys[:3]}")
    checks.expect(not missing_policies, f"{where}: {len(missing_policies)} acknowledged creates lost")
    checks.expect(bool(verify.get("ok")), f"{where}: audit chain broken: {verify}")
    for problem in inspector.consistency_problems("acme"):
        checks.expect(False, f"{where}: partial write: {problem}")


def _kill9(ctx: Context) -> Result:
    cycles = ctx.pick(5, 20)
    url = ctx.backend.new_database("crash")
    checks = Checks()
    inspector = Inspector(url)
    acked = 0
    ready: list[float] = []
    statuses: Counter[str] = Counter()
    try:
        with servers(ctx, url, 2 if ctx.is_postgres else 1, label="crash") as replicas:
            with replicas[0].client() as c:
                c.post("/policies", json={"name": SHARED, "type": "document", "spec": {}}).raise_for_status()
            total = Load()
            for cycle in range(cycles):
                load = Load()
                load.start(replicas, cycle, keep_going=False)
                time.sleep(random.uniform(0.2, 1.5))
                victim = random.choice(replicas)
                victim.kill9()
                load.finish()
                t0 = time.monotonic()
                victim.start(timeout_s=30)
                ready.append(time.monotonic() - t0)
                checks.expect(ready[-1] <= READY_LIMIT_S, f"cycle {cycle}: ready after {ready[-1]:.1f} s")
                total.acked_keys += load.acked_keys
                total.acked_policies += load.acked_policies
                statuses.update(load.statuses)
                _verify(replicas, inspector, total, checks, f"cycle {cycle}")
            acked = len(total.acked_keys) + len(total.acked_policies)
        ok, _reports, raw = audit_verify_cli(url)
        checks.expect(ok, f"policyhub audit verify failed: {raw[-300:]}")
    finally:
        inspector.dispose()
    fivexx = sum(v for k, v in statuses.items() if k.startswith("5"))
    checks.expect(fivexx == 0, f"5xx answers under load: {dict(statuses)}")
    checks.expect(acked >= 10 * cycles, f"only {acked} acknowledged writes: too few to mean anything")
    figures = (
        f"kill -9 cycles={cycles}; acked writes={acked}; lost={_count(checks, 'lost')}; "
        f"partial={_count(checks, 'partial')}; 5xx={fivexx}; audit verify={'ok' if ok else 'BROKEN'}; "
        f"ready max={max(ready, default=0):.1f}s"
    )
    return checks.result("3a", "crash: kill -9 replica", ctx.backend.name, figures)


def _pg_immediate(ctx: Context) -> Result:
    title = "crash: pg_ctl stop -m immed"
    if not ctx.is_postgres:
        return Result(
            "3b", title, ctx.backend.name, "N/A: SQLite is embedded; its crash is the process crash (3a)", Status.NA
        )
    reason = pgcluster.unavailable_reason()
    if reason:
        return Result("3b", title, ctx.backend.name, f"no throwaway cluster: {reason}", Status.SKIP)
    cycles = ctx.pick(2, 5)
    checks = Checks()
    cluster = pgcluster.ThrowawayCluster().init()
    recover: list[float] = []
    statuses: Counter[str] = Counter()
    acked = 0
    try:
        cluster.start()
        url = cluster.create_database("reliability_crash")
        inspector = Inspector(url)
        extra = {"POLICYHUB_DB_CONNECT_TIMEOUT_S": "2"}
        with servers(ctx, url, 2, label="pgcrash", extra_env=extra) as replicas:
            with replicas[0].client() as c:
                c.post("/policies", json={"name": SHARED, "type": "document", "spec": {}}).raise_for_status()
            total = Load()
            for cycle in range(cycles):
                load = Load()
                load.start(replicas, cycle, keep_going=True)
                time.sleep(random.uniform(0.3, 1.5))
                cluster.stop("immediate")
                time.sleep(0.5)  # writes meet a dead database
                cluster.start()
                t0 = time.monotonic()
                took = wait_until(lambda: all(_writes(s) for s in replicas), READY_LIMIT_S + 5, 0.1)
                recover.append(time.monotonic() - t0 if took is None else took)
                checks.expect(
                    took is not None and took <= READY_LIMIT_S,
                    f"cycle {cycle}: not ready and writing {recover[-1]:.1f} s after PostgreSQL returned",
                )
                time.sleep(0.3)
                load.finish()
                checks.expect(all(s.alive() for s in replicas), f"cycle {cycle}: a replica died")
                total.acked_keys += load.acked_keys
                total.acked_policies += load.acked_policies
                statuses.update(load.statuses)
                _verify(replicas, inspector, total, checks, f"cycle {cycle}")
            acked = len(total.acked_keys) + len(total.acked_policies)
        inspector.dispose()
        ok, _, raw = audit_verify_cli(url)
        checks.expect(ok, f"policyhub audit verify failed: {raw[-300:]}")
    finally:
        cluster.destroy()
    bad = {k: v for k, v in statuses.items() if k not in ("200", "201", "503")}
    checks.expect(not bad, f"answers other than 2xx/503 while PostgreSQL crashed: {bad}")
    figures = (
        f"pg_ctl stop -m immediate cycles={cycles}; acked writes={acked}; 503 during outage={statuses['503']}; "
        f"other errors={sum(bad.values())}; lost={_count(checks, 'lost')}; partial={_count(checks, 'partial')}; "
        f"recovered max={max(recover, default=0):.1f}s (no restart)"
    )
    return checks.result("3b", title, ctx.backend.name, figures)


def _writes(server: ServerProcess) -> bool:
    with server.client(timeout=3.0) as c:
        ready = httpx.get(f"{server.url}/readyz", timeout=3.0).status_code == 200
        return (
            ready
            and c.patch(f"/policies/{SHARED}", json={"spec": {"probe": time.time()}}, headers=MERGE).status_code == 200
        )


def _count(checks: Checks, word: str) -> int:
    return sum(word in p for p in checks.problems)


def run(ctx: Context) -> list[Result]:
    return [timed(_kill9, ctx), timed(_pg_immediate, ctx)]
