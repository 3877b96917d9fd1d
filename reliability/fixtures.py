"""Setting the stage for a scenario: servers on a fresh database, extra orgs, keys, scopes, audit checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from reliability.context import Context
from reliability.servers import AUDIT_KEY, ORG, TOKEN, ServerProcess


@contextmanager
def servers(ctx: Context, url: str, count: int = 1, label: str = "server", **kw: Any) -> Iterator[list[ServerProcess]]:
    """``count`` replicas on one database, started one after the other (each migrates and bootstraps)."""
    started: list[ServerProcess] = []
    try:
        for i in range(count):
            started.append(ServerProcess(url, log_path=ctx.log_path(f"{label}{i}"), **kw).start(timeout_s=30))
        yield started
    finally:
        for s in started:
            s.stop()


def new_org(url: str, prefix: str = "org") -> tuple[str, str]:
    """Create an org directly on the database (as ``policyhub orgs create`` does); (slug, admin token)."""
    from policyhub.domain.audit_keys import AuditKeyring
    from policyhub.services.orgs import create_org
    from policyhub.storage.db import Database

    slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
    db = Database(url, pool_size=1, group_commit=False, audit_keyring=AuditKeyring.parse(AUDIT_KEY))
    try:
        with db.write() as uow:
            created = create_org(uow, slug)
    finally:
        db.dispose()
    assert created.admin_token
    return slug, created.admin_token


@dataclass
class Key:
    id: str
    token: str
    role: str
    scope: str | None


def issue_key(server: ServerProcess, role: str, scope: str | None = None, *, org: str = ORG, admin: str = TOKEN) -> Key:
    with server.client(admin, org) as c:
        p = c.post("/principals", json={"kind": "service_account", "display_name": f"{role} {scope or 'org'}"})
        p.raise_for_status()
        k = c.post("/keys", json={"principal_id": p.json()["id"], "role": role, "scope": scope})
        k.raise_for_status()
        body = k.json()
    return Key(body["id"], body["token"], role, scope)


def revoke_key(server: ServerProcess, key_id: str, *, org: str = ORG, admin: str = TOKEN) -> None:
    with server.client(admin, org) as c:
        c.delete(f"/keys/{key_id}").raise_for_status()


def create_scope(
    server: ServerProcess,
    key: str,
    kind: str = "workspace",
    parent: str | None = None,
    *,
    org: str = ORG,
    admin: str = TOKEN,
) -> dict[str, Any]:
    with server.client(admin, org) as c:
        r = c.post("/scopes", json={"kind": kind, "key": key, "parent": parent})
        r.raise_for_status()
        return dict(r.json())


def audit_verify_cli(url: str, org: str | None = ORG) -> tuple[bool, list[dict[str, Any]], str]:
    """``policyhub audit verify -o json`` on the database: (ok, reports, raw output)."""
    args = [sys.executable, "-m", "policyhub.cli.main", "audit", "verify", "-o", "json"]
    if org:
        args += ["--org", org]
    env = {**os.environ, "POLICYHUB_DATABASE_URL": url, "POLICYHUB_AUDIT_KEY": AUDIT_KEY}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    try:
        reports = json.loads(done.stdout)
    except json.JSONDecodeError:
        reports = []
    if isinstance(reports, dict):
        reports = [reports]
    return done.returncode == 0, reports, done.stdout + done.stderr


def paged(client: httpx.Client, path: str, limit: int = 500, max_pages: int = 1000) -> list[dict[str, Any]]:
    """Every item of a paginated /v1 list (bounded)."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(max_pages):
        params: dict[str, Any] = {"limit": limit}
        if token:
            params["page_token"] = token
        r = client.get(path, params=params)
        r.raise_for_status()
        body = r.json()
        items += body["items"]
        token = body.get("next_page_token")
        if not token:
            break
    return items


def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.05) -> float | None:
    """Seconds until ``check()`` held, or None if it never did within ``timeout_s``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        try:
            if check():
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(interval_s)
    return None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
