"""The first decision after a write against a steady decision, by org size (issue 13: incremental snapshots).

On a scratch SQLite file, in one process (one worker): an org of N policies (``--sizes``; the policies
are spread ten per scope, the decision asks at scope ``bench``, which holds four), seeded with bulk row
inserts (no validation: the bench measures reads; ``--crowded``: all at scope ``far``, one (scope, point)
list of the whole org, which every other write edits). Then, ``--writes`` times: a policy write through the
real app (PATCH: alternately a policy of the decision's scope and one of another scope), the next
decision, and the one after it (the same rhythm with nothing to apply: on a busy machine a decision
after a pause is slower whatever it does); and ``--steady`` decisions back to back. Decisions are timed
through HTTP (``POST .../decisions`` on the in-process app, as an enforcement point asks) and in the
engine alone (``DecisionEngine.decide``: the freshness check, applying the change, selection,
evaluation). Memory: what a full load of the org holds (the snapshot and its compiled policies, by
``tracemalloc``), per 10,000 policies.

    python -m bench.snapshots --sizes 100,10000 [--writes 100] [--steady 2000] [--crowded]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from policyhub.app import Container, build_container
from policyhub.domain.canonical import now
from policyhub.domain.records import Scope
from policyhub.engine.engine import DecisionRequest
from policyhub.engine.snapshot import load_snapshot
from policyhub.http.app import create_app
from policyhub.services.orgs import create_org
from policyhub.settings import Settings
from policyhub.storage.migrate import upgrade

PER_SCOPE = 10
BATCH = 5000


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _access(name: str, scope: str, user: int) -> dict[str, Any]:
    spec = {"denied_users": ["*@blocked.example", f"user{user}@example.org"]}
    return {"name": name, "type": "syftspace.access", "scope": scope, "spec": spec}


def _seed(c: Container, client: TestClient, size: int, crowded: bool = False) -> tuple[str, str, dict[str, str]]:
    with c.db.write() as uow:
        created = create_org(uow, f"bench-{uuid.uuid4().hex[:8]}")
    org, headers = created.org, {"Authorization": f"Bearer {created.admin_token}"}
    base = f"/v1/orgs/{org.slug}"
    for key in ("bench", "far"):
        assert client.post(f"{base}/scopes", json={"kind": "endpoint", "key": key}, headers=headers).status_code == 201
    for i in range(4):
        r = client.post(f"{base}/policies", json=_access(f"bench-{i}", "bench", i), headers=headers)
        assert r.status_code == 201, r.text
    r = client.post(f"{base}/policies", json=_access("far-0", "far", 9), headers=headers)
    assert r.status_code == 201, r.text
    with c.db.read() as uow:
        template = uow.policies.by_name(org.id, "far-0")
    assert template is not None
    remaining, scope_no = max(0, size - 5), 0
    while crowded and remaining > 0:  # every policy at scope ``far``, in one (scope, point) list
        with c.db.write() as uow:
            for _ in range(min(BATCH, remaining)):
                uow.policies.insert(replace(template, id=str(uuid.uuid4()), name=f"seed-{remaining}"))
                remaining -= 1
    while remaining > 0:
        with c.db.write() as uow:
            for _ in range(min(BATCH, remaining) // PER_SCOPE + 1):
                if remaining <= 0:
                    break
                scope = Scope(
                    str(uuid.uuid4()),
                    org.id,
                    None,
                    "endpoint",
                    f"s{scope_no}",
                    f"s{scope_no}",
                    f"s{scope_no}",
                    {},
                    now(),
                )
                uow.scopes.insert(scope)
                for j in range(min(PER_SCOPE, remaining)):
                    uow.policies.insert(
                        replace(
                            template,
                            id=str(uuid.uuid4()),
                            name=f"seed-{scope_no}-{j}",
                            scope_id=scope.id,
                            scope_path=scope.path,
                        )
                    )
                    remaining -= 1
                scope_no += 1
    return org.id, base, headers


def _decide_ms(c: Container, org_id: str, request: DecisionRequest) -> float:
    started = time.perf_counter()
    c.decisions.engine.decide(org_id, request)
    return (time.perf_counter() - started) * 1000


def _http_ms(client: TestClient, base: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    r = client.post(f"{base}/decisions", json=DECISION, headers=headers)
    took = (time.perf_counter() - started) * 1000
    assert r.status_code == 200, r.text
    return took


DECISION = {"point": "http_request", "scope": "bench", "input": {"method": "GET", "path": "/x", "user": "a@x.org"}}


def _write(client: TestClient, base: str, headers: dict[str, str], i: int) -> None:
    """Alternately a policy the decision selects and one of another scope."""
    target = f"bench-{i % 4}" if i % 2 else "far-0"
    body = {"spec": {"denied_users": ["*@blocked.example", f"user{i}@example.org"]}}
    r = client.patch(
        f"{base}/policies/{target}", json=body, headers={**headers, "Content-Type": "application/merge-patch+json"}
    )
    assert r.status_code == 200, r.text


def measure(size: int, writes: int, steady: int, crowded: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-snapshots-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'snapshots.db'}"
        upgrade(url)
        c = build_container(Settings(database_url=url, access_log=False, decision_refresh_s=60.0, decision_log=False))
        try:
            with TestClient(create_app(container=c)) as client:
                started = time.perf_counter()
                org_id, base, headers = _seed(c, client, size, crowded)
                seeded_s = time.perf_counter() - started
                request = DecisionRequest("http_request", DECISION["input"], "bench")
                engine = c.decisions.engine
                started = time.perf_counter()
                engine.decide(org_id, request)  # the first load
                load_ms = (time.perf_counter() - started) * 1000
                for _ in range(200):
                    _http_ms(client, base, headers)
                figures: dict[str, float] = {"size": size, "seed_s": seeded_s, "load_ms": load_ms}
                for mode in ("http", "engine"):
                    timed = (
                        (lambda: _http_ms(client, base, headers))
                        if mode == "http"
                        else (lambda: _decide_ms(c, org_id, request))
                    )
                    steady_ms = [timed() for _ in range(steady)]
                    after_ms, next_ms = [], []
                    for i in range(writes):
                        _write(client, base, headers, i)
                        after_ms.append(timed())
                        next_ms.append(timed())  # the same rhythm, nothing to apply
                    figures.update(
                        {
                            f"{mode}_steady_p50": _pct(steady_ms, 50),
                            f"{mode}_steady_p99": _pct(steady_ms, 99),
                            f"{mode}_after_p50": _pct(after_ms, 50),
                            f"{mode}_after_p99": _pct(after_ms, 99),
                            f"{mode}_after_max": max(after_ms),
                            f"{mode}_next_p50": _pct(next_ms, 50),
                            f"{mode}_next_p99": _pct(next_ms, 99),
                        }
                    )
                gc.collect()
                tracemalloc.start()
                before = tracemalloc.get_traced_memory()[0]
                with c.db.read() as uow:
                    engine.cache._items.clear()
                    held = load_snapshot(uow, org_id, engine._compile)
                figures["mib_per_10k"] = (tracemalloc.get_traced_memory()[0] - before) / 2**20 * 10_000 / size
                tracemalloc.stop()
                del held
        finally:
            c.db.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,10000", help="policies in the org, comma-separated")
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--steady", type=int, default=2000)
    parser.add_argument(
        "--crowded",
        action="store_true",
        help="seed every policy at one scope (the one every other write edits), not ten per scope",
    )
    args = parser.parse_args()
    print(
        "mode    policies  seed s  full load ms  steady p50 / p99 ms  first after a write p50 / p99 / max ms"
        "  second p50 / p99 ms  ratio p50 / p99 to steady  to second  MiB per 10k policies"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        m = measure(size, args.writes, args.steady, args.crowded)
        for mode in ("http", "engine"):
            g = {k.removeprefix(mode + "_"): v for k, v in m.items() if k.startswith(mode + "_")}
            print(
                f"{mode:<6}  {size:>8}  {m['seed_s']:6.1f}  {m['load_ms']:12.1f}"
                f"  {g['steady_p50']:8.3f} / {g['steady_p99']:6.3f}"
                f"  {g['after_p50']:19.3f} / {g['after_p99']:6.3f} / {g['after_max']:7.2f}"
                f"  {g['next_p50']:9.3f} / {g['next_p99']:6.3f}"
                f"  {g['after_p50'] / g['steady_p50']:9.2f} / {g['after_p99'] / g['steady_p99']:5.2f}"
                f"  {g['after_p50'] / g['next_p50']:5.2f} / {g['after_p99'] / g['next_p99']:5.2f}"
                f"  {m['mib_per_10k']:11.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
