"""What a signed bundle costs the hub: ``python -m bench.rollout_bundles --policies 10000``.

Seeds a scratch SQLite database through the real services (policies spread over 5 teams x 3 stages, as
``bench.console`` does), then, in process (Starlette's TestClient: no socket), measures
``GET /v1/orgs/{org}/bundles/{env}`` for an environment of one team and one of every scope:

- *full*: the first request after a change that builds the bundle in full (a rollout environment's);
- *after a write*: the first request after a policy of the environment changed (only that policy is read
  again; the bundle is composed from the kept texts, digested and signed: ``services.bundle_builds``);
- *304*: a request with the current ETag at an unchanged head;
- the bundle's size (bytes of JSON) and its policies.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from policyhub.app import build_container
from policyhub.http.app import create_app
from policyhub.services import keys
from policyhub.services.commands import CreatePolicy
from policyhub.services.orgs import create_org
from policyhub.services.policies import Preconditions
from policyhub.settings import Settings
from policyhub.storage.migrate import upgrade

ORG = "bench"
TOKEN = "phk_bench_bundles_" + "0123456789abcdef" * 2
AUDIT_KEY = "bench-audit-key-0123456789abcdef0123456789abcdef"
TEAMS = ("payments", "search", "identity", "billing", "platform")
STAGES = ("dev", "staging", "prod")


def seed(c: Any, policies: int) -> None:
    with c.db.write() as uow:
        create_org(uow, ORG, admin_token=TOKEN)
    with c.db.read() as uow:
        actor, org, _ = keys.authenticate(uow, TOKEN)
    for team in TEAMS:
        c.db.transact(lambda uow, t=team: c.scopes.create(uow, actor, kind="team", key=t, name=t, parent=None))
        for stage in STAGES:
            c.db.transact(lambda uow, t=team, s=stage: c.scopes.create(uow, actor, kind="env", key=s, parent=t))
    scopes = [f"{t}/{s}" for t in TEAMS for s in STAGES] + list(TEAMS)
    for start in range(0, policies, 500):

        def write(uow: Any, start: int = start) -> None:
            for i in range(start, min(start + 500, policies)):
                body = {"name": f"policy-{i:06d}", "spec": {"limit": i % 1000, "paths": [f"/api/{i % 37}/*"]}}
                command = CreatePolicy(body, "document", scopes[i % len(scopes)])
                c.commands.run(uow, actor, org, command, Preconditions())

        c.db.transact(write)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policies", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-bundles-')) / 'hub.db'}"
    upgrade(url)
    c = build_container(Settings(database_url=url, audit_key=AUDIT_KEY, access_log=False))
    t0 = time.perf_counter()
    seed(c, args.policies)
    print(f"seeded {args.policies} policies in {time.perf_counter() - t0:.1f} s (SQLite, in process)")
    client = TestClient(create_app(container=c))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    base = f"/v1/orgs/{ORG}"
    for env, scopes in (("one-team", ["payments"]), ("everything", list(TEAMS))):
        assert client.put(f"{base}/environments/{env}", json={"scopes": scopes}, headers=auth).status_code == 201
    print(
        f"\n{'environment':12} {'policies':>8} {'bytes':>10} {'full p50 ms':>12} {'after a write p50':>18}"
        f" {'max':>7} {'304 p50 ms':>11}"
    )
    for env in ("one-team", "everything"):
        fulls, writes, hits = [], [], []
        size = count = 0
        for i in range(args.repeat):
            # a change that builds in full: another environment's
            client.put(f"{base}/environments/other", json={"scopes": [TEAMS[i % len(TEAMS)]]}, headers=auth)
            started = time.perf_counter()
            r = client.get(f"{base}/bundles/{env}", headers=auth)
            fulls.append(time.perf_counter() - started)
            # a write to one of the environment's policies (payments/dev is in both)
            patch = {"spec": {"limit": i, "paths": ["/api/x/*"]}}
            headers = {**auth, "Content-Type": "application/merge-patch+json"}
            assert client.patch(f"{base}/policies/policy-000000", json=patch, headers=headers).status_code == 200
            started = time.perf_counter()
            r = client.get(f"{base}/bundles/{env}", headers=auth)
            writes.append(time.perf_counter() - started)
            assert r.status_code == 200, r.text
            size, count = len(r.content), len(r.json()["bundle"]["policies"])
            started = time.perf_counter()
            cached = client.get(f"{base}/bundles/{env}", headers={**auth, "If-None-Match": r.headers["ETag"]})
            hits.append(time.perf_counter() - started)
            assert cached.status_code == 304
        full_ms, write_ms, hit_ms = (statistics.median(x) * 1000 for x in (fulls, writes, hits))
        print(
            f"{env:12} {count:>8} {size:>10} {full_ms:>12.1f} {write_ms:>18.1f} {max(writes) * 1000:>7.1f}"
            f" {hit_ms:>11.2f}"
        )
    c.decisions.log.close()
    c.db.dispose()


if __name__ == "__main__":
    main()
