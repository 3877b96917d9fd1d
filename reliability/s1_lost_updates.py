"""1. No lost updates: 8 clients GET then PATCH (If-Match) appending a unique token to one list.

A 412 is retried with the same token after a fresh GET. Afterwards the stored list must be exactly the
tokens whose PATCH got a 2xx (none lost, none twice, none that was refused), ``revision`` must be
1 + the number of 2xx, and there must be one version and one ``new_version`` event per 2xx, each
version extending the previous one by exactly its token. Two replicas on one database on both backends
(on SQLite, as ``serve --workers 2``: each plans its writes while the other holds the write lock, so
plans go stale across them). Rounds of at most 1,000 attempts per policy keep the list (and each
version) small.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import text

from reliability.context import Context
from reliability.databases import Inspector
from reliability.fixtures import servers
from reliability.report import Checks, Result
from reliability.servers import ServerProcess

CLIENTS = 8
ROUND_ATTEMPTS = 1_000
MAX_TRIES_PER_TOKEN = 200
MERGE = {"Content-Type": "application/merge-patch+json"}


class _Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: list[str] = []
        self.statuses: Counter[str] = Counter()
        self.attempts = 0
        self.lost = self.dup = self.phantom = 0


def _client(server: ServerProcess, tally: _Tally, name: str, worker: int, attempts: int) -> None:
    with server.client() as c:
        n = 0
        token = f"c{worker}-t0"
        tries = 0
        while n < attempts:
            n += 1
            tries += 1
            try:
                got = c.get(f"/policies/{name}")
                if got.status_code != 200:
                    with tally.lock:
                        tally.statuses[f"GET {got.status_code}"] += 1
                    continue
                spec = got.json()["spec"]
                r = c.patch(
                    f"/policies/{name}",
                    json={"spec": {"tokens": [*spec["tokens"], token]}},
                    headers={**MERGE, "If-Match": got.headers["etag"]},
                )
                status = str(r.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            with tally.lock:
                tally.attempts += 1
                tally.statuses[status] += 1
                if status.startswith("2"):
                    tally.acked.append(token)
            if status.startswith("2") or tries >= MAX_TRIES_PER_TOKEN:
                token = f"c{worker}-t{n}"
                tries = 0
            elif status != "412":
                return  # anything but 2xx/412 is a failure already counted; stop this client


def _round(replicas: list[ServerProcess], inspector: Inspector, name: str, attempts: int, checks: Checks) -> _Tally:
    with replicas[0].client() as c:
        r = c.post("/policies", json={"name": name, "type": "document", "spec": {"tokens": []}})
        checks.expect(r.status_code == 201, f"{name}: create answered {r.status_code}")
    tally = _Tally()
    per_client = attempts // CLIENTS
    threads = [
        threading.Thread(target=_client, args=(replicas[i % len(replicas)], tally, name, i, per_client), daemon=True)
        for i in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    checks.expect(not any(t.is_alive() for t in threads), f"{name}: clients still running after 600 s")
    with replicas[-1].client() as c:
        final = c.get(f"/policies/{name}").json()
    tokens: list[str] = final["spec"]["tokens"]
    acked = tally.acked
    lost = set(acked) - set(tokens)
    dup = len(tokens) - len(set(tokens))
    phantom = set(tokens) - set(acked)
    checks.expect(not lost, f"{name}: {len(lost)} acknowledged tokens lost, e.g. {sorted(lost)[:3]}")
    checks.expect(dup == 0 and len(acked) == len(set(acked)), f"{name}: {dup} duplicated tokens")
    checks.expect(
        not phantom, f"{name}: {len(phantom)} phantom tokens (never acknowledged), e.g. {sorted(phantom)[:3]}"
    )
    checks.expect(final["revision"] == 1 + len(acked), f"{name}: revision {final['revision']} != 1 + {len(acked)}")
    with inspector.connect() as conn:
        pid = final["id"]
        specs = [
            row[0]
            for row in conn.execute(
                text("SELECT spec FROM policy_versions WHERE policy_id = :p ORDER BY version"), {"p": pid}
            )
        ]
        new_versions = conn.execute(
            text("SELECT count(*) FROM events WHERE object_id = :p AND type = 'new_version'"), {"p": pid}
        ).scalar_one()
    checks.expect(len(specs) == 1 + len(acked), f"{name}: {len(specs)} versions for {len(acked)} 2xx")
    checks.expect(new_versions == len(acked), f"{name}: {new_versions} new_version events for {len(acked)} 2xx")
    previous: list[Any] = []
    for number, spec in enumerate(specs[1:], start=2):
        current = _tokens(spec)
        if current[:-1] != previous or len(current) != len(previous) + 1:
            checks.expect(False, f"{name}: version {number} does not extend version {number - 1} by one token")
            break
        previous = current
    checks.expect(previous == tokens, f"{name}: the last version is not the current spec")
    tally.lost, tally.dup, tally.phantom = len(lost), dup, len(phantom)
    return tally


def _tokens(spec: Any) -> list[Any]:
    if isinstance(spec, str):  # some drivers hand JSON columns back as text
        import json

        spec = json.loads(spec)
    return list(spec["tokens"])


def run(ctx: Context) -> list[Result]:
    replicas_n = 2
    total = ctx.pick(1_000, 10_000)
    url = ctx.backend.new_database("lost")
    checks = Checks()
    statuses: Counter[str] = Counter()
    acked = attempts = lost = dup = phantom = 0
    inspector = Inspector(url)
    try:
        with servers(ctx, url, replicas_n, label="lost") as replicas:
            for i in range(max(1, total // ROUND_ATTEMPTS)):
                tally = _round(replicas, inspector, f"tokens-{i}", min(ROUND_ATTEMPTS, total), checks)
                statuses.update(tally.statuses)
                acked += len(tally.acked)
                attempts += tally.attempts
                lost, dup, phantom = lost + tally.lost, dup + tally.dup, phantom + tally.phantom
        checks.problems += inspector.consistency_problems("acme")
    finally:
        inspector.dispose()
    unexpected = {k: v for k, v in statuses.items() if k not in ("200", "412")}
    checks.expect(not unexpected, f"unexpected answers: {unexpected}")
    checks.expect(attempts >= total * 0.99, f"only {attempts} of {total} operations ran")
    figures = (
        f"replicas={replicas_n}; ops={attempts}; 2xx={acked}; 412={statuses['412']}; "
        f"other={sum(unexpected.values())}; lost={lost} dup={dup} phantom={phantom}; "
        f"revision, versions, events = 1+2xx, 1+2xx, 2xx: {'yes' if not checks.problems else 'NO'}"
    )
    return [checks.result("1", "no lost updates", ctx.backend.name, figures)]
