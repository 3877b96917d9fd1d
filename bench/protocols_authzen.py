"""The AuthZEN case of ``bench.protocols``: ``POST /orgs/bench/access/v1/evaluation``.

The same question as the other cases (alice, client 10.1.2.3, GET /api/items) as an AuthZEN evaluation,
asked of one ``access_rules`` policy with the same checks as the native case's two policies: a per-user
rate limit far above the load, and a deny for a client network the client is not in (point ``authzen``;
the native case asks point ``http_request``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from bench.payloads import RequestSpec
from bench.server import ORG, TOKEN

if TYPE_CHECKING:
    from bench.protocols import Context
    from bench.stats import Result

MARK = "__COUNTER__"
POLICY = {
    "name": "authzen-gateway",
    "type": "access_rules",
    "spec": {
        "rules": [
            {"id": "blocked-ips", "effect": "deny", "when": [{"path": "context.ip", "glob": "192.0.2.*"}]},
            {
                "id": "per-user",
                "subject": {"type": "user"},
                "action": {"name": "GET"},
                "rate_limit": {"limit": 100_000_000, "window_s": 3600, "per": "subject.id"},
            },
        ]
    },
}


def setup_authzen(ctx: Context) -> None:
    ctx.server.create_policy(json.dumps(POLICY).encode())


def run_authzen(ctx: Context, connections: int) -> Result:
    from bench.protocols import http_case

    body = {
        "subject": {"type": "user", "id": "alice"},
        "action": {"name": "GET"},
        "resource": {"type": "route", "id": "/api/items"},
        "context": {"ip": "10.1.2.3", "n": MARK},
    }
    prefix, suffix = json.dumps(body, separators=(",", ":")).split(json.dumps(MARK), 1)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    spec = RequestSpec("POST", (f"/orgs/{ORG}/access/v1/evaluation",), headers, (prefix.encode(), suffix.encode()))
    return http_case(ctx, f"authzen evaluation, {connections} conn", spec, connections)
