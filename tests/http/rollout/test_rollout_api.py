"""Rollout through the real app and database: environments (audited, in the event log), signed bundles with
ETag/304, agent status and decision reports, and the agent role's limits."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from policyhub.domain.bundle_signing import PublicKey, SignatureError, open_envelope
from policyhub.domain.bundles import decode_bundle
from tests.conftest import OrgClient


def _scopes(org: OrgClient) -> None:
    for key, parent in (("payments", None), ("eu", "payments"), ("search", None), ("web", None)):
        body: dict[str, Any] = {"kind": "team", "key": key}
        if parent:
            body["parent"] = parent
        assert org.post("scopes", json=body).status_code == 201


def test_environment_crud_is_audited_and_validated(org: OrgClient, other_org: OrgClient) -> None:
    _scopes(org)
    r = org.put("environments/prod", json={"scopes": ["payments/eu", "/search/"]})
    assert r.status_code == 201, r.text
    assert r.json()["scopes"] == ["payments/eu", "search"]
    assert org.put("environments/prod", json={"scopes": ["payments/eu", "search"]}).status_code == 200
    assert org.put("environments/prod", json={"scopes": ["web"]}).json()["scopes"] == ["web"]
    assert [e["name"] for e in org.get("environments").json()["environments"]] == ["prod"]
    assert org.get("environments/prod").json()["scopes"] == ["web"]
    bad = org.put("environments/prod", json={"scopes": ["web", "nope"]})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "scopes[1]"
    assert org.put("environments/prod", json={"scopes": "web"}).status_code == 400
    assert org.put("environments/prod", json={"scope": []}).json()["errors"][0]["field"] == "scope"
    assert org.put("environments/bad%20name", json={"scopes": []}).status_code == 400
    viewer = org.key("viewer")
    assert org.put("environments/qa", json={"scopes": []}, token=viewer).status_code == 403
    assert org.get("environments/prod", token=viewer).status_code == 200
    # another org's environment is a 404
    assert other_org.request("GET", f"/v1/orgs/{other_org.slug}/environments/prod").status_code == 404
    assert org.delete("environments/prod").status_code == 204
    assert org.get("environments/prod").status_code == 404
    events = [e["type"] for e in org.get("events").json()["items"] if e["object_kind"] == "rollout_environment"]
    # created, updated (the second PUT changed nothing: no event), deleted
    assert sorted(events) == ["environment_created", "environment_deleted", "environment_updated"]


def _bundle(org: OrgClient, env: str, token: str, etag: str | None = None) -> Any:
    headers = {"If-None-Match": etag} if etag else {}
    return org.get(f"bundles/{env}", token=token, headers=headers)


def test_bundle_holds_the_environments_policies_is_signed_and_cached_by_etag(org: OrgClient) -> None:
    _scopes(org)
    org.create_policy("org-wide")
    org.create_policy("at-payments", scope="payments")
    org.create_policy("at-eu", scope="payments/eu")
    org.create_policy("at-search", scope="search")
    org.create_policy("at-web", scope="web")
    org.create_policy("disabled", scope="payments/eu", enabled=False)
    assert org.put("environments/prod", json={"scopes": ["payments/eu", "search"]}).status_code == 201
    agent = org.key("agent")

    r = _bundle(org, "prod", agent)
    assert r.status_code == 200, r.text
    keys = org.client.get("/v1/bundle-keys").json()["keys"]  # no authentication needed
    assert keys and keys[0]["algorithm"] == "Ed25519"
    trusted = {k["key_id"]: PublicKey.from_b64(k["public_key"]) for k in keys}
    bundle = decode_bundle(open_envelope(r.json(), trusted))
    assert bundle.environment == "prod" and bundle.org == org.org_id
    assert int(r.headers["PolicyHub-Revision"]) == bundle.revision > 0
    # org level, the ancestor of a listed scope, the listed scopes; not a sibling's, nor a disabled one
    assert sorted(p.name for p in bundle.policies) == ["at-eu", "at-payments", "at-search", "org-wide"]
    assert sorted(s.path for s in bundle.scopes) == ["payments", "payments/eu", "search"]

    etag = r.headers["ETag"]
    same = _bundle(org, "prod", agent, etag)
    assert same.status_code == 304 and same.headers["ETag"] == etag and same.content == b""
    assert same.headers["PolicyHub-Revision"] == r.headers["PolicyHub-Revision"]
    # a change the environment does not receive moves the revision, not the content (still 304)
    org.create_policy("elsewhere", scope="web")
    moved = _bundle(org, "prod", agent, etag)
    assert moved.status_code == 304 and int(moved.headers["PolicyHub-Revision"]) > bundle.revision
    # one it receives changes the content
    org.create_policy("new-at-eu", scope="payments/eu")
    changed = _bundle(org, "prod", agent, etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "new-at-eu" in [p["name"] for p in changed.json()["bundle"]["policies"]]

    # a key's creation is no decision-relevant change: the bundle built at the last one is served as it is
    built = changed.json()["bundle"]["revision"]
    org.key("viewer")
    again = _bundle(org, "prod", agent)
    assert again.status_code == 200 and again.json() == changed.json()
    assert int(again.headers["PolicyHub-Revision"]) > built == int(changed.headers["PolicyHub-Revision"])
    assert decode_bundle(open_envelope(again.json(), trusted)).revision == built

    tampered = changed.json()
    tampered["bundle"]["policies"][0]["spec"] = {"n": 2}
    with pytest.raises(SignatureError):
        open_envelope(tampered, trusted)

    assert org.get("bundles/nope", token=agent).status_code == 404
    assert org.get("bundles/prod").status_code == 200  # the admin key (a viewer or above) may read too


def test_agent_role_reads_bundles_and_reports_and_nothing_else(org: OrgClient) -> None:
    _scopes(org)
    assert org.put("environments/prod", json={"scopes": []}).status_code == 201
    agent = org.key("agent")
    assert org.get("bundles/prod", token=agent).status_code == 200
    status = {"environment": "prod", "revision": 3, "address": "10.0.0.7:8181", "last_error": None, "counts": {}}
    assert org.post("agents/a1/status", json=status, token=agent).status_code == 204
    forbidden = [
        ("GET", "policies"),
        ("GET", ""),
        ("GET", "scopes"),
        ("GET", "events"),
        ("GET", "environments/prod"),
        ("GET", "environments/prod/status"),
        ("PUT", "environments/x"),
        ("POST", "decisions"),
        ("POST", "keys"),
    ]
    for method, path in forbidden:
        r = org.request(method, path, token=agent, json={})
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "agent key" in r.json()["detail"]
    # a vendor face, in its own error format
    r = org.client.get("/apiops/environments/", headers={"Authorization": f"Bearer {agent}"})
    assert r.status_code == 403, r.text
    # and only agent keys report
    assert org.post("agents/a1/status", json=status).status_code == 403
    assert org.post("agents/a1/decisions", json={"decisions": []}).status_code == 403


def test_agent_keys_are_issued_like_others_and_a_scoped_one_reads_only_covered_environments(org: OrgClient) -> None:
    _scopes(org)
    assert org.put("environments/eu", json={"scopes": ["payments/eu"]}).status_code == 201
    assert org.put("environments/all", json={"scopes": []}).status_code == 201
    scoped = org.key("agent", scope="payments")
    assert org.get("bundles/eu", token=scoped).status_code == 200
    assert org.get("bundles/all", token=scoped).status_code == 403
    assert org.get("bundles/unknown", token=scoped).status_code == 403  # not told which names exist
    assert org.get("bundles/unknown").status_code == 404
    report = {"environment": "eu", "revision": 1}
    assert org.post("agents/eu-1/status", json=report, token=scoped).status_code == 204
    for other in ("all", "unknown"):
        report = {"environment": other, "revision": 1}
        assert org.post("agents/eu-1/status", json=report, token=scoped).status_code == 403
    listed = {k["role"] for k in org.get("keys").json()}
    assert "agent" in listed


def test_status_shows_desired_revision_and_each_agents_lag(org: OrgClient) -> None:
    _scopes(org)
    assert org.put("environments/prod", json={"scopes": ["payments"]}).status_code == 201
    org.create_policy("p1", scope="payments")
    agent = org.key("agent")  # a key event: not decision-relevant, so not the desired revision
    empty = org.get("environments/prod/status").json()
    assert empty["agents"] == [] and empty["summary"] == {"agents": 0, "live": 0, "in_sync": 0}
    desired = empty["desired"]["revision"]
    head = int(org.get("bundles/prod").headers["PolicyHub-Revision"])
    assert 0 < desired < head
    for name, revision in (("gw-1", desired), ("gw-2", desired - 1)):
        body = {"environment": "prod", "revision": revision, "address": f"{name}:8181", "last_error": None}
        assert org.post(f"agents/{name}/status", json=body, token=agent).status_code == 204
    broken = {"environment": "prod", "revision": desired - 1, "address": "gw-2:8181", "last_error": "bad signature"}
    assert org.post("agents/gw-2/status", json=broken, token=agent).status_code == 204
    status = org.get("environments/prod/status").json()
    assert status["desired"]["committed_at"].endswith("Z")
    by_name = {a["name"]: a for a in status["agents"]}
    assert by_name["gw-1"]["in_sync"] and by_name["gw-1"]["lag_s"] == 0 and by_name["gw-1"]["live"]
    assert not by_name["gw-2"]["in_sync"] and by_name["gw-2"]["lag_s"] > 0
    assert by_name["gw-2"]["last_error"] == "bad signature" and by_name["gw-2"]["address"] == "gw-2:8181"
    assert status["summary"] == {"agents": 2, "live": 2, "in_sync": 1}
    # a decommissioned agent is forgotten (editor), until it reports again
    assert org.delete("agents/gw-2", token=org.key("viewer")).status_code == 403
    assert org.delete("agents/gw-2").status_code == 204
    assert org.delete("agents/gw-2").status_code == 404
    assert [a["name"] for a in org.get("environments/prod/status").json()["agents"]] == ["gw-1"]
    for body, field in (
        ({"environment": "prod", "revision": -1}, "revision"),
        ({"environment": "prod", "revision": True}, "revision"),
        ({"environment": "", "revision": 1}, "environment"),
        ({"environment": "prod", "revision": 1, "address": 5}, "address"),
        ({"environment": "prod", "revision": 1, "stale_s": "x"}, "stale_s"),
    ):
        r = org.post("agents/gw-1/status", json=body, token=agent)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field, r.text


def _decision(revision: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "at": "2026-12-05T22:00:00.000000Z",
        "source": "agent",
        "point": "gateway",
        "scope": "payments",
        "decision": "deny",
        "input_hash": "0" * 64,
        "input": {"path": "/x"},
        "results": [{"policy_id": "p", "effect": "deny", "status": "fail", "reasons": ["no"]}],
        "obligations": [],
        "policy_state": revision,
        "bundle_revision": revision,
        "policies": [{"policy_id": str(uuid.uuid4()), "type": "rate_limit", "version": 2, "effect": "deny"}],
    }


def test_shipped_decisions_are_logged_once_by_id(org: OrgClient) -> None:
    agent = org.key("agent")
    batch = [_decision(7) for _ in range(5)]
    first = org.post("agents/gw-1/decisions", json={"decisions": batch[:3]}, token=agent)
    assert first.status_code == 200 and first.json() == {"accepted": 3, "duplicates": 0}
    # the agent re-sends (it was killed before the acknowledgement), with two new ones and one twice
    again = org.post("agents/gw-1/decisions", json={"decisions": [*batch, batch[4]]}, token=agent)
    assert again.json() == {"accepted": 2, "duplicates": 4}
    logged = org.get(f"decisions/{batch[0]['id']}").json()
    assert logged["source"] == "agent:gw-1"
    assert logged["policy_state"] == 7
    bad = org.post("agents/gw-1/decisions", json={"decisions": [{**_decision(1), "id": "x"}]}, token=agent)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "decisions[0].id"
    assert org.post("agents/gw-1/decisions", json={"decisions": {}}, token=agent).status_code == 400
    bad = org.post("agents/gw-1/decisions", json={"decisions": [{**_decision(1), "decision": "maybe"}]}, token=agent)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "decisions[0].decision"


def test_another_orgs_rollout_is_a_404_for_an_agent_key(org: OrgClient, other_org: OrgClient) -> None:
    assert other_org.put("environments/prod", json={"scopes": []}).status_code == 201
    mine = org.key("agent")
    theirs = f"/v1/orgs/{other_org.slug}"
    assert org.request("GET", f"{theirs}/bundles/prod", token=mine).status_code == 404
    body = {"environment": "prod", "revision": 1}
    assert org.request("POST", f"{theirs}/agents/a/status", json=body, token=mine).status_code == 404
    assert org.request("POST", f"{theirs}/agents/a/decisions", json={"decisions": []}, token=mine).status_code == 404
    assert other_org.get("environments/prod/status").json()["agents"] == []
