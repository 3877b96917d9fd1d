"""Lifecycle policies through the JFrog API, as the core sees them: versions, events, audit, mapping."""

from __future__ import annotations

import re
from typing import Any

from .conftest import POLICY, SEED_PUT_BODY, JFrog, World, with_rule


def _versions(world: World, policy_id: str) -> list[dict[str, Any]]:
    r = world.jf.org.get(f"policies/{policy_id}/versions")
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()
    return result


def _event_types(world: World, policy_id: str) -> list[str]:
    r = world.jf.org.get(f"policies/{policy_id}/events")
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["items"]]


def test_core_view_of_a_jfrog_policy(world: World) -> None:
    core = world.jf.org.get(f"policies/{world.policy['id']}").json()
    assert core["type"] == "jfrog.lifecycle"
    assert core["scope"] is None
    assert re.fullmatch(r"jfrog-production-security-policy-[0-9a-f]{8}", core["name"])
    assert core["attributes"] == {"jfrog": {"name": "Production Security Policy"}}
    assert core["description"] == "Block promotion on Critical CVEs"
    assert (core["enforcement"], core["enabled"]) == ("enforce", True)
    assert core["spec"] == {
        "mode": "block",
        "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
        "scope": {"type": "project", "project_keys": ["my-project"]},
        "rule_ids": [world.rule["id"]],
    }


def test_changes_through_jfrog_make_the_right_versions_events_and_audit_fields(world: World) -> None:
    jf, policy_id, rule_id = world.jf, world.policy["id"], world.rule["id"]
    assert _event_types(world, policy_id) == ["creation"]
    editor = jf.org.key("editor")

    # mode is spec (a new version) and also the enforcement (metadata): warning -> warn
    r = jf.call("PUT", f"/policies/{policy_id}", token=editor, json=with_rule(POLICY, rule_id, mode="warning"))
    assert r.status_code == 200, r.text
    assert (r.json()["updated_by"], r.json()["created_by"]) == ("editor bot", "admin")
    assert [v["version"] for v in _versions(world, policy_id)] == [1, 2]
    assert _versions(world, policy_id)[1]["spec"]["mode"] == "warning"
    assert jf.org.get(f"policies/{policy_id}").json()["enforcement"] == "warn"
    assert _event_types(world, policy_id) == ["creation", "metadata_update", "new_version"]

    # description and enabled are metadata only: no new version
    body = with_rule(POLICY, rule_id, mode="warning", description="new words", enabled=False)
    assert jf.call("PUT", f"/policies/{policy_id}", json=body).status_code == 200
    assert len(_versions(world, policy_id)) == 2
    assert _event_types(world, policy_id)[-1] == "metadata_update"

    # a JFrog rename renames the core policy too
    body["name"] = "Renamed Policy"
    r = jf.call("PUT", f"/policies/{policy_id}", json=body)
    assert r.json()["name"] == "Renamed Policy"
    assert r.json()["updated_by"] == "admin"
    assert jf.org.get(f"policies/{policy_id}").json()["name"].startswith("jfrog-renamed-policy-")
    assert _event_types(world, policy_id)[-2:] == ["renaming", "metadata_update"]

    # the same state again changes nothing
    before = jf.call("GET", f"/policies/{policy_id}").json()
    assert jf.call("PUT", f"/policies/{policy_id}", json=body).json() == before
    assert len(_event_types(world, policy_id)) == 6


def test_put_changing_the_rule_moves_the_reference(world: World) -> None:
    jf, policy_id = world.jf, world.policy["id"]
    second = jf.rule(world.template["id"], name="Second rule")
    body = with_rule(POLICY, second["id"])
    assert jf.call("PUT", f"/policies/{policy_id}", json=body).json()["rule_ids"] == [second["id"]]
    assert jf.call("DELETE", f"/rules/{world.rule['id']}").status_code == 204
    assert jf.call("DELETE", f"/rules/{second['id']}").status_code == 409


def test_put_keeps_core_only_labels_and_attributes(world: World) -> None:
    jf, policy_id = world.jf, world.policy["id"]
    r = jf.org.patch(f"policies/{policy_id}", merge={"labels": {"team": "sec"}, "attributes": {"owner": "ops"}})
    assert r.status_code == 200, r.text
    assert jf.call("PUT", f"/policies/{policy_id}", json=with_rule(SEED_PUT_BODY, world.rule["id"])).status_code == 200
    core = jf.org.get(f"policies/{policy_id}").json()
    assert core["labels"] == {"team": "sec"}
    assert core["attributes"] == {"owner": "ops", "jfrog": {"name": "Prod Sec Policy (Warnings First)"}}


def test_rename_to_a_taken_name_is_409(world: World) -> None:
    jf = world.jf
    other = jf.policy(world.rule["id"], name="Other")
    r = jf.call("PUT", f"/policies/{other['id']}", json=with_rule(POLICY, world.rule["id"]))
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "name"


def test_names_that_slug_alike_are_distinct_policies(jf: JFrog) -> None:
    rule = jf.rule(jf.template()["id"])
    names = ["Prod Policy", "prod-policy", "PROD  policy", "政策", "(())"]
    ids = {jf.policy(rule["id"], name=name)["id"] for name in names}
    assert len(ids) == len(names)
    listed = jf.call("GET", "/policies?sort_by=name").json()
    assert sorted(p["name"] for p in listed["items"]) == sorted(names)


def test_delete_archives_then_the_name_and_rule_are_free(world: World) -> None:
    jf, policy_id = world.jf, world.policy["id"]
    r = jf.call("DELETE", f"/policies/{policy_id}")
    assert (r.status_code, r.content) == (204, b"")
    assert jf.call("GET", f"/policies/{policy_id}").status_code == 404
    assert jf.call("PUT", f"/policies/{policy_id}", json=with_rule(POLICY, world.rule["id"])).status_code == 404
    assert jf.call("DELETE", f"/policies/{policy_id}").status_code == 404
    assert jf.call("GET", "/policies").json()["total_count"] == 0
    core = jf.org.get(f"policies/{policy_id}").json()
    assert core["archived"] is True
    assert _event_types(world, policy_id) == ["creation", "archiving"]
    again = jf.policy(world.rule["id"])
    assert again["id"] != policy_id
    assert jf.call("DELETE", f"/policies/{again['id']}").status_code == 204
    assert jf.call("DELETE", f"/rules/{world.rule['id']}").status_code == 204
    assert jf.call("DELETE", f"/templates/{world.template['id']}").status_code == 204


def test_policies_of_other_types_are_not_jfrog_policies(world: World) -> None:
    doc = world.jf.org.create_policy("plain-doc")
    assert world.jf.call("GET", f"/policies/{doc['id']}").status_code == 404
    assert world.jf.call("DELETE", f"/policies/{doc['id']}").status_code == 404
    assert [p["id"] for p in world.jf.call("GET", "/policies").json()["items"]] == [world.policy["id"]]
    core_name = world.jf.org.get(f"policies/{world.policy['id']}").json()["name"]
    assert world.jf.call("GET", f"/policies/{core_name}").status_code == 404


def test_if_match_is_honoured_when_sent(world: World) -> None:
    jf, policy_id = world.jf, world.policy["id"]
    tag = jf.call("GET", f"/policies/{policy_id}").headers["etag"]
    body = with_rule(POLICY, world.rule["id"], mode="warning")
    r = jf.call("PUT", f"/policies/{policy_id}", json=body, headers={"If-Match": '"stale.1"'})
    assert r.status_code == 412
    assert r.json()["errors"][0]["code"] == "PRECONDITION_FAILED"
    assert jf.call("PUT", f"/policies/{policy_id}", json=body, headers={"If-Match": tag}).status_code == 200


def test_basic_auth_with_the_key_as_password(world: World) -> None:
    r = world.jf.org.client.get(
        f"/unifiedpolicy/api/v1/policies/{world.policy['id']}", auth=("admin", world.jf.org.token)
    )
    assert r.status_code == 200


def test_unauthenticated_errors_carry_the_challenge(world: World) -> None:
    r = world.jf.org.client.get("/unifiedpolicy/api/v1/policies")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_a_key_scoped_below_the_org_cannot_see_or_write_root_policies(world: World) -> None:
    jf = world.jf
    assert jf.org.post("scopes", json={"kind": "workspace", "key": "ws"}).status_code == 201
    scoped = jf.org.key("editor", "ws")
    assert jf.call("GET", f"/policies/{world.policy['id']}", token=scoped).status_code == 404
    assert jf.call("GET", "/policies", token=scoped).json()["total_count"] == 0
    body = with_rule(POLICY, world.rule["id"], name="Scoped")
    assert jf.call("POST", "/policies", token=scoped, json=body).status_code == 403
    assert jf.call("POST", "/rules", token=scoped, json={"name": "x"}).status_code == 403


def test_waiver_request_config_is_kept_with_the_policy_and_a_full_replace_without_it_drops_it(world: World) -> None:
    """A body carrying ``waiver_request_config`` (issue 16) is stored in the core attributes, not the spec
    (the policy type does not evaluate it), returned on reads, and a PUT (full replace) without it removes it."""
    jf, policy_id = world.jf, world.policy["id"]
    body = with_rule(POLICY, world.rule["id"], waiver_request_config="manual")
    r = jf.call("PUT", f"/policies/{policy_id}", json=body)
    assert r.status_code == 200 and r.json()["waiver_request_config"] == "manual", r.text
    assert jf.call("GET", f"/policies/{policy_id}").json()["waiver_request_config"] == "manual"
    core = jf.org.get(f"policies/{policy_id}").json()
    assert core["attributes"]["jfrog"]["waiver_request_config"] == "manual"
    assert "waiver_request_config" not in core["spec"]
    r = jf.call("PUT", f"/policies/{policy_id}", json=with_rule(POLICY, world.rule["id"]))
    assert r.status_code == 200 and "waiver_request_config" not in r.json()
    assert jf.org.get(f"policies/{policy_id}").json()["attributes"] == {"jfrog": {"name": "Production Security Policy"}}
