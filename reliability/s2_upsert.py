"""2. Concurrent upsert: 50 PUTs creating the same new name at once.

Exactly one gets 201; the rest get 200 (an identical replace: no new version, no event) or, with
``If-None-Match: *`` (create only), 412. One policy, one version, one ``creation`` event; no 5xx.
On PostgreSQL the PUTs are spread over two replicas.
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx
from sqlalchemy import text

from reliability.context import Context
from reliability.databases import Inspector
from reliability.fixtures import servers
from reliability.report import Checks, Result
from reliability.servers import ServerProcess

WRITERS = 50


def _burst(replicas: list[ServerProcess], name: str, create_only: bool) -> Counter[str]:
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(WRITERS, timeout=60)
    headers = {"If-None-Match": "*"} if create_only else {}

    def writer(i: int) -> None:
        with replicas[i % len(replicas)].client() as c:
            c.get("")  # open the connection before the start line
            try:
                barrier.wait()
                r = c.put(f"/policies/{name}", json={"type": "document", "spec": {"same": True}}, headers=headers)
                status = str(r.status_code)
            except (httpx.HTTPError, threading.BrokenBarrierError) as exc:
                status = type(exc).__name__
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return statuses


def run(ctx: Context) -> list[Result]:
    rounds = ctx.pick(2, 10)
    url = ctx.backend.new_database("upsert")
    checks = Checks()
    totals: Counter[str] = Counter()
    inspector = Inspector(url)
    try:
        with servers(ctx, url, 2 if ctx.is_postgres else 1, label="upsert") as replicas:
            for i in range(rounds):
                for create_only in (False, True):
                    name = f"upsert-{i}-{'inm' if create_only else 'plain'}"
                    got = _burst(replicas, name, create_only)
                    totals.update(got)
                    other = "412" if create_only else "200"
                    checks.expect(
                        got["201"] == 1 and got[other] == WRITERS - 1,
                        f"{name}: expected one 201 and {WRITERS - 1} x {other}, got {dict(got)}",
                    )
                    with inspector.connect() as conn:
                        ids = [r[0] for r in conn.execute(text("SELECT id FROM policies WHERE name = :n"), {"n": name})]
                        versions = conn.execute(
                            text(
                                "SELECT count(*) FROM policy_versions v JOIN policies p ON p.id = v.policy_id "
                                "WHERE p.name = :n"
                            ),
                            {"n": name},
                        ).scalar_one()
                        events = conn.execute(
                            text(
                                "SELECT count(*) FROM events e JOIN policies p ON p.id = e.object_id WHERE p.name = :n"
                            ),
                            {"n": name},
                        ).scalar_one()
                    checks.expect(len(ids) == 1, f"{name}: {len(ids)} policies")
                    checks.expect(versions == 1, f"{name}: {versions} versions")
                    checks.expect(events == 1, f"{name}: {events} events")
        checks.problems += inspector.consistency_problems("acme")
    finally:
        inspector.dispose()
    fivexx = sum(v for k, v in totals.items() if k.startswith("5"))
    odd = {k: v for k, v in totals.items() if k not in ("200", "201", "412")}
    checks.expect(not odd, f"unexpected answers: {odd}")
    figures = (
        f"bursts={rounds * 2} x {WRITERS} PUTs; 201={totals['201']} (1 per burst); 200={totals['200']}; "
        f"412={totals['412']} (If-None-Match: *); 5xx={fivexx}; other={sum(odd.values()) - fivexx}; "
        f"1 policy, 1 version, 1 event per burst: {'yes' if not checks.problems else 'NO'}"
    )
    return [checks.result("2", "concurrent upsert", ctx.backend.name, figures)]
