"""Decisions an agent answered in an enforcement protocol (AuthZEN, ext_authz, ...) are logged by the hub as
``agent:<name>/<protocol>``; the agent's native decisions stay ``agent:<name>``."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import OrgClient


def _decision(protocol: str | None) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "at": "2026-12-05T22:00:00.000000Z",
        "source": "ignored",
        "protocol": protocol,
        "point": "authzen",
        "scope": None,
        "decision": "allow",
        "input_hash": "0" * 64,
        "results": [],
        "obligations": [],
        "bundle_revision": 3,
        "policies": [],
    }


def test_a_shipped_decisions_protocol_is_part_of_its_source(org: OrgClient) -> None:
    agent = org.key("agent")
    long_name = "g" * 63  # the longest agent name: 'envoy_ratelimit' no longer fits the log's 80 characters
    sent = {
        ("gw-1", "authzen"): _decision("authzen"),
        ("gw-1", None): _decision(None),
        (long_name, "envoy_http"): _decision("envoy_http"),
        (long_name, "envoy_ratelimit"): _decision("envoy_ratelimit"),
    }
    for (name, _), entry in sent.items():
        r = org.post(f"agents/{name}/decisions", json={"decisions": [entry]}, token=agent)
        assert r.status_code == 200, r.text
    sources = {key: org.get(f"decisions/{entry['id']}").json()["source"] for key, entry in sent.items()}
    assert sources == {
        ("gw-1", "authzen"): "agent:gw-1/authzen",
        ("gw-1", None): "agent:gw-1",
        (long_name, "envoy_http"): f"agent:{long_name}/envoy_http",
        (long_name, "envoy_ratelimit"): f"agent:{long_name}",
    }
    assert [d["id"] for d in org.get("decisions", params={"source": "agent:gw-1/authzen"}).json()["items"]] == [
        sent[("gw-1", "authzen")]["id"]
    ]
    for bad in ("Authzen", "a/b", 7, ""):
        r = org.post("agents/gw-1/decisions", json={"decisions": [{**_decision(None), "protocol": bad}]}, token=agent)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "decisions[0].protocol", r.text
