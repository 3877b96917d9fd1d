"""The decision API as scenarios 4 and 9 use it, detected rather than assumed.

Contract: ``POST /v1/orgs/{org}/decisions`` with ``{"point": "http_request", "scope": ..., "input": {...}}``
answers 200 ``{"id", "decision": "allow"|"warn"|"deny", "results", "obligations"}``. While the route is
not in the server's OpenAPI document, the scenarios report "decisions: not available".
"""

from __future__ import annotations

from typing import Any

import httpx

from reliability.servers import ORG, ServerProcess

ROUTE = "/v1/orgs/{org}/decisions"


def available(server: ServerProcess) -> bool:
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    return "post" in spec.get("paths", {}).get(ROUTE, {})


def path(org: str = ORG) -> str:
    return ROUTE.format(org=org)


def request_body(i: int = 0) -> dict[str, Any]:
    return {
        "point": "http_request",
        "input": {
            "method": "GET",
            "path": f"/payments/{i % 100}",
            "headers": {"user-agent": "reliability"},
            "client_ip": "127.0.0.1",
        },
    }


def never_allow_problem(response: httpx.Response) -> str | None:
    """While the database is down a decision may be 503 or ``deny``, never ``allow`` (or ``warn``)."""
    if response.status_code == 503:
        return None
    if response.status_code == 200:
        decision = response.json().get("decision")
        return None if decision == "deny" else f"decision {decision!r} while the database was down"
    return f"decision answered {response.status_code} while the database was down"
