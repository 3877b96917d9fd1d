"""Rollback of a JFrog policy goes through the validation and reference bookkeeping of any write: a version
naming a rule deleted since cannot be restored, and a restored rule is protected from deletion."""

from __future__ import annotations

from typing import Any

from .conftest import POLICY, World, with_rule


def _history(world: World, policy_id: str) -> tuple[list[int], list[str]]:
    org = world.jf.org
    versions = [v["version"] for v in org.get(f"policies/{policy_id}/versions").json()]
    events = [e["type"] for e in org.get(f"policies/{policy_id}/events").json()["items"]]
    return versions, events


def _move_to(world: World, rule: dict[str, Any]) -> None:
    r = world.jf.call("PUT", f"/policies/{world.policy['id']}", json=with_rule(POLICY, rule["id"]))
    assert r.status_code == 200, r.text


def test_rollback_to_a_version_naming_a_deleted_rule_is_refused_and_writes_nothing(world: World) -> None:
    jf, policy_id, first = world.jf, world.policy["id"], world.rule
    second = jf.rule(world.template["id"], name="Second rule")
    _move_to(world, second)  # version 2 names the second rule; the first is free ...
    assert jf.call("DELETE", f"/rules/{first['id']}").status_code == 204  # ... and deleted
    before = _history(world, policy_id)

    r = jf.org.post(f"policies/{policy_id}/rollback", json={"version": 1})
    assert r.status_code == 409, r.text
    assert first["id"] in r.json()["detail"]
    assert r.json()["errors"] == [{"field": "spec.rule_ids.0", "message": f"rule {first['id']!r} does not exist"}]
    assert _history(world, policy_id) == before
    core = jf.org.get(f"policies/{policy_id}").json()
    assert (core["version"], core["spec"]["rule_ids"]) == (2, [second["id"]])
    # the rule in use is still protected, and the chain is whole
    assert jf.call("DELETE", f"/rules/{second['id']}").status_code == 409
    assert jf.org.get("audit/verify").json()["ok"] is True


def test_rollback_moves_the_reference_index_with_the_content(world: World) -> None:
    jf, policy_id, first = world.jf, world.policy["id"], world.rule
    second = jf.rule(world.template["id"], name="Second rule")
    _move_to(world, second)

    r = jf.org.post(f"policies/{policy_id}/rollback", json={"version": 1, "comment": "back to the first rule"})
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["spec"]["rule_ids"]) == (3, [first["id"]])
    assert _history(world, policy_id) == ([1, 2, 3], ["creation", "new_version", "rollback"])
    # the restored rule is in use again: it cannot be deleted; the one left behind can
    assert jf.call("DELETE", f"/rules/{first['id']}").status_code == 409
    assert jf.call("DELETE", f"/rules/{second['id']}").status_code == 204
    assert jf.org.get("audit/verify").json()["ok"] is True


def test_dry_run_rollback_of_a_dangling_version_answers_the_same_409(world: World) -> None:
    jf, policy_id, first = world.jf, world.policy["id"], world.rule
    _move_to(world, jf.rule(world.template["id"], name="Second rule"))
    assert jf.call("DELETE", f"/rules/{first['id']}").status_code == 204
    r = jf.org.post(f"policies/{policy_id}/rollback?dry_run=true", json={"version": 1})
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["field"] == "spec.rule_ids.0"
