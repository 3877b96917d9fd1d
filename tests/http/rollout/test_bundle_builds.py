"""A bundle written again after a change (re-reading only what changed) is byte for byte the bundle a full
build writes at the same head; only scope and environment changes (or too many events) build in full."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policyhub.services import keys
from policyhub.services.bundle_builds import BundleBuilds
from tests.conftest import OrgClient


def _full_build(org: OrgClient, env: str) -> bytes:
    c = org.container
    assert c.rollout.keys is not None
    fresh = BundleBuilds(c.rollout.keys.signer)
    with c.db.read() as uow:
        actor, _, _ = keys.authenticate(uow, org.token)
        found = uow.rollout.environment(actor.org_id, env)
        assert found is not None
        head, _ = uow.orgs.chain_head(actor.org_id)
        return fresh.signed(uow, actor.org_id, found, head).body


def test_incremental_builds_equal_full_builds(org: OrgClient, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = org.container.rollout._builds
    assert builds is not None
    full_builds: list[int] = []
    real_full = builds._full

    def counted(*args: Any) -> Any:
        full_builds.append(args[-1])
        return real_full(*args)

    monkeypatch.setattr(builds, "_full", counted)
    agent = org.key("agent")
    steps: list[str] = []

    def check(step: str, *, rebuilt: bool = True) -> None:
        r = org.get("bundles/prod", token=agent)
        assert r.status_code == 200, r.text
        full = _full_build(org, "prod")
        if rebuilt:
            assert r.content == full, step
        else:  # served as built before: the same content, at the revision it was built at
            served, fresh = r.json()["bundle"], json.loads(full)["bundle"]
            assert served["revision"] < fresh["revision"] == int(r.headers["PolicyHub-Revision"])
            assert {**served, "revision": 0} == {**fresh, "revision": 0}, step
        steps.append(step)

    for key, parent in (("payments", None), ("eu", "payments"), ("search", None)):
        assert org.post("scopes", json={"kind": "team", "key": key, "parent": parent}).status_code == 201
    assert org.put("environments/prod", json={"scopes": ["payments/eu"]}).status_code == 201
    check("first build")
    org.create_policy("eu-1", scope="payments/eu")
    check("a policy in the environment")
    org.create_policy("elsewhere", scope="search")
    check("a policy outside it")
    assert org.patch("policies/eu-1", merge={"spec": {"n": 2}}).status_code == 200
    check("a new version")
    assert org.patch("policies/eu-1", merge={"enabled": False}).status_code == 200
    check("disabled")
    assert org.patch("policies/eu-1", merge={"enabled": True}).status_code == 200
    check("enabled again")
    assert org.delete("policies/eu-1").status_code in (200, 204)
    check("archived")
    assert org.post("policies/eu-1/unarchive").status_code == 200
    check("unarchived")
    org.create_policy("org-wide")
    org.create_policy("at-payments", scope="payments")
    check("org level and an ancestor")
    org.key("viewer")
    check("a key (nothing relevant)", rebuilt=False)
    assert org.post("/apiops/environments/", json={"name": "staging"}).status_code == 200
    check("a resource")
    assert org.patch("policies/at-payments", merge={"name": "renamed"}).status_code == 200
    check("renamed")
    full_so_far = len(full_builds)
    assert full_so_far == 1, "one full build, then only what changed"
    assert org.post("scopes", json={"kind": "team", "key": "x", "parent": "payments/eu"}).status_code == 201
    org.create_policy("in-x", scope="payments/eu/x")
    check("a new scope below a listed one")
    assert org.put("environments/prod", json={"scopes": ["search"]}).status_code == 200
    check("the environment's scopes")
    assert len(full_builds) == full_so_far + 2
    names = [p["name"] for p in org.get("bundles/prod", token=agent).json()["bundle"]["policies"]]
    assert sorted(names) == ["elsewhere", "org-wide"]
