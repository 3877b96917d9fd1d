"""Server time of every console page with 10,000 policies and 100,000 logged decisions in the org:
``python -m bench.console``.

Seeds a scratch SQLite database (or PostgreSQL with ``--postgres URL``) through the real services: the
policies are created by the command runner in batches of 500 per transaction (so history, audit chain and
MACs are the real ones), spread over 20 scopes with labels; a few decisions are made by the real engine and
logged, and the log is then filled to ``--decisions`` rows by copying them with new ids and times (bulk
``insert_many``, as the log writer writes). Then every page is requested ``--repeat`` times in process
(Starlette's TestClient against the app: no socket, so the figure is the server's work plus a fraction of
a millisecond of client) and the median and p95 are printed. ``/audit/verify`` walks the whole chain and
every stored version by design (it is an on-demand button, not part of the audit page).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from policyhub.app import build_container
from policyhub.engine.engine import DecisionRequest
from policyhub.http.app import create_app
from policyhub.services import keys
from policyhub.services.commands import CreatePolicy
from policyhub.services.orgs import create_org
from policyhub.settings import Settings
from policyhub.storage.migrate import upgrade

ORG = "bench"
TOKEN = "phk_bench_console_" + "0123456789abcdef" * 2  # the org's admin key (a scratch database's)
AUDIT_KEY = "bench-audit-key-0123456789abcdef0123456789abcdef"
TEAMS = ("payments", "search", "identity", "billing", "platform")
ENVS = ("dev", "staging", "prod")


def seed(c: Any, policies: int, decisions: int) -> dict[str, str]:
    """The org, its scopes, ``policies`` policies and ``decisions`` logged decisions; returns names to visit."""
    t0 = time.perf_counter()
    with c.db.write() as uow:
        create_org(uow, ORG, admin_token=TOKEN)
    token = TOKEN
    with c.db.read() as uow:
        actor, org, _ = keys.authenticate(uow, token)
    for team in TEAMS:
        c.db.transact(lambda uow, t=team: c.scopes.create(uow, actor, kind="team", key=t, name=t.title(), parent=None))
        for env in ENVS:
            c.db.transact(
                lambda uow, t=team, e=env: c.scopes.create(uow, actor, kind="env", key=e, name=f"{t} {e}", parent=t)
            )
    scopes = [f"{t}/{e}" for t in TEAMS for e in ENVS] + list(TEAMS)
    batch = 500
    for start in range(0, policies, batch):

        def write(uow: Any, start: int = start) -> None:
            for i in range(start, min(start + batch, policies)):
                body = {
                    "name": f"policy-{i:05d}",
                    "description": f"Generated policy {i}",
                    "spec": {"limit": i % 1000, "window": "1m", "paths": [f"/api/{i % 37}/*"]},
                    "labels": {"team": TEAMS[i % len(TEAMS)], "env": ENVS[i % len(ENVS)], "tier": str(i % 4)},
                }
                c.commands.run(uow, actor, org, CreatePolicy(body, "document", scopes[i % len(scopes)]), _no_pre())

        c.db.transact(write)
    t1 = time.perf_counter()
    block = {"name": "edge-blocklist", "spec": {"ipList": ["203.0.113.0/24"], "errorMessageList": []}}
    c.db.transact(
        lambda uow: c.commands.run(uow, actor, org, CreatePolicy(block, "apinizer.policy-black-ip"), _no_pre())
    )
    for ip in ("203.0.113.9", "198.51.100.7"):
        req = DecisionRequest("http_request", {"client_ip": ip, "method": "GET", "path": "/api/1/x"})
        c.decisions.decide(actor, req, record=True)
    c.decisions.log.flush()
    with c.db.read() as uow:
        templates = uow.decisions.page(org.id, _all_filter(), 10)
    start_at = datetime.now(UTC) - timedelta(days=7)
    step = timedelta(days=7) / max(decisions, 1)
    made = len(templates)
    for chunk in range(made, decisions, 5000):
        rows = [
            replace(templates[i % len(templates)], id=str(uuid.uuid4()), at=start_at + step * i)
            for i in range(chunk, min(chunk + 5000, decisions))
        ]
        c.db.transact(lambda uow, rows=rows: uow.decisions.insert_many(rows), tracked=False)
    t2 = time.perf_counter()
    print(f"seeded {policies} policies in {t1 - t0:.1f} s, {decisions} decisions in {t2 - t1:.1f} s")
    deny = next(t for t in templates if t.decision == "deny")
    return {"token": token, "decision": deny.id, "policy": f"policy-{policies // 2:05d}"}


def _no_pre() -> Any:
    from policyhub.services.policies import Preconditions

    return Preconditions()


def _all_filter() -> Any:
    from policyhub.storage.repositories.decisions import DecisionFilter

    return DecisionFilter()


def measure(client: TestClient, path: str, repeat: int, data: dict[str, str] | None = None) -> tuple[float, float, int]:
    times = []
    status = 0
    for _ in range(repeat + 1):
        t = time.perf_counter()
        r = client.post(path, data=data, follow_redirects=False) if data else client.get(path, follow_redirects=False)
        times.append((time.perf_counter() - t) * 1000)
        status = r.status_code
    times = times[1:]  # the first request warms caches
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], status


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policies", type=int, default=10_000)
    ap.add_argument("--decisions", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--postgres", help="a PostgreSQL URL of an empty database to use instead of SQLite")
    ap.add_argument("--only", default="", help="measure only the pages whose label contains this text")
    ap.add_argument("--sqlite", type=Path, help="the SQLite file to seed (kept), or to reuse when it was seeded")
    args = ap.parse_args()
    path = args.sqlite or Path(tempfile.mkdtemp(prefix="bench-console-")) / "console.db"
    url = args.postgres or f"sqlite:///{path}"
    reuse = args.postgres is None and path.exists() and path.with_suffix(".names").exists()
    upgrade(url)
    settings = Settings(database_url=url, audit_key=AUDIT_KEY, access_log=False, decision_log_sample_allow=1.0)
    c = build_container(settings)
    if reuse:
        names = json.loads(path.with_suffix(".names").read_text())
        print(f"reusing the seeded database {path}")
    else:
        names = seed(c, args.policies, args.decisions)
        if args.postgres is None:
            path.with_suffix(".names").write_text(json.dumps(names))
    app = create_app(container=c)
    client = TestClient(app)
    page = client.get("/console/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    client.post("/console/sign-in", data={"csrf": csrf.group(1), "api_key": names["token"]})
    base = f"/console/orgs/{ORG}"
    listing = client.get(f"{base}/policies").text
    deep = f"{base}/policies?page=" + _cursor(["policy-09000", ""])
    p = names["policy"]
    edit = client.get(f"{base}/policies/{p}/edit").text
    form_csrf = re.search(r'name="csrf" value="([^"]+)"', edit)
    etag = re.search(r'name="etag" value="([^"]+)"', edit)
    assert form_csrf and etag and "policy-" in listing
    preview = {
        "csrf": form_csrf.group(1),
        "etag": etag.group(1).replace("&#34;", '"'),
        "description": "changed",
        "enforcement": "warn",
        "enabled": "on",
        "labels": "team=payments",
        "spec": "limit: 7\nwindow: 1m\n",
        "action": "preview",
    }
    pages: list[tuple[str, str, dict[str, str] | None]] = [
        ("sign-in", "/console/sign-in", None),
        ("policies (first page)", f"{base}/policies", None),
        ("policies ?labels=team=payments,tier=2", f"{base}/policies?labels=team%3Dpayments%2Ctier%3D2", None),
        ("policies ?scope=billing&type=document", f"{base}/policies?scope=billing&type=document", None),
        ("policies ?name=policy-09 (prefix)", f"{base}/policies?name=policy-09", None),
        ("policies (page after policy-09000)", deep, None),
        ("policy", f"{base}/policies/{p}", None),
        ("history", f"{base}/policies/{p}/history", None),
        ("version", f"{base}/policies/{p}/versions/1", None),
        ("diff", f"{base}/policies/{p}/diff?from=1&to=1", None),
        ("edit", f"{base}/policies/{p}/edit", None),
        ("edit preview (dry run, POST)", f"{base}/policies/{p}/edit", preview),
        ("rollback confirmation", f"{base}/policies/{p}/rollback?version=1", None),
        ("audit", f"{base}/audit", None),
        ("audit ?type=creation&kind=policy", f"{base}/audit?type=creation&kind=policy", None),
        ("decisions", f"{base}/decisions", None),
        ("decisions ?decision=deny", f"{base}/decisions?decision=deny", None),
        ("decisions ?policy=<the denying one>", f"{base}/decisions?policy=" + _blocker(c), None),
        ("decision (why)", f"{base}/decisions/{names['decision']}", None),
        ("scopes (tree, policies per node)", f"{base}/scopes", None),
        ("keys", f"{base}/keys", None),
        ("rollout", f"{base}/rollout", None),
        ("/docs", "/docs", None),
        ("audit/verify (whole chain, on demand)", f"{base}/audit/verify", None),
    ]
    print(f"\n{'page':45} {'median ms':>10} {'p95 ms':>8} status   ({args.repeat} requests each, in process)")
    for label, path, data in pages:
        if args.only not in label:
            continue
        repeat = 3 if "verify" in path else args.repeat
        med, p95, status = measure(client, path, repeat, data)
        print(f"{label:45} {med:10.1f} {p95:8.1f} {status}")
    c.decisions.log.close()
    c.db.dispose()


def _cursor(value: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def _blocker(c: Any) -> str:
    with c.db.read() as uow:
        org = uow.orgs.by_slug(ORG)
        from policyhub.storage.repositories.policies import PolicyFilter

        found = uow.policies.list(org.id, PolicyFilter(type="apinizer.policy-black-ip"), 1)
    return str(found[0].id)


if __name__ == "__main__":
    main()
