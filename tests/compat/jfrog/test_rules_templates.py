"""Rules and templates: shapes, full replace, referential integrity both ways, audit events."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import OrgClient

from .conftest import RULE, TEMPLATE, JFrog, World

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _events(jf: JFrog, kind: str) -> list[tuple[str, str]]:
    r = jf.org.get(f"events?object_kind={kind}")
    assert r.status_code == 200, r.text
    return [(e["type"], e["object_id"]) for e in r.json()["items"]]


def test_template_shape(jf: JFrog) -> None:
    t = jf.template()
    assert set(t) == {
        "id",
        "name",
        "description",
        "version",
        "category",
        "data_source_type",
        "rego",
        "parameters",
        "scanners",
        "is_custom",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    }
    assert {k: t[k] for k in TEMPLATE} == TEMPLATE
    assert (t["scanners"], t["is_custom"], t["created_by"]) == ([], True, "admin")
    assert TIMESTAMP.match(t["created_at"])
    assert jf.call("GET", f"/templates/{t['id']}").json() == t


def test_rule_shape_follows_the_jfrog_sample(world: World) -> None:
    rule = world.rule
    assert set(rule) == {
        "id",
        "name",
        "description",
        "is_custom",
        "template_id",
        "template_name",
        "parameters",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    }
    assert rule["template_id"] == world.template["id"]
    assert rule["parameters"] == RULE["parameters"]
    assert world.jf.call("GET", f"/rules/{rule['id']}").json() == rule


def test_rule_put_is_a_full_replace_and_may_switch_template(world: World) -> None:
    jf = world.jf
    other = jf.template(name="Flag template", parameters=[{"name": "flag", "type": "bool"}])
    body = {"name": "Flag rule", "template_id": other["id"], "parameters": [{"name": "flag", "value": "false"}]}
    r = jf.call("PUT", f"/rules/{world.rule['id']}", json=body)
    assert r.status_code == 200, r.text
    assert "description" not in r.json()  # omitted in a full replace: cleared
    assert (r.json()["template_name"], r.json()["parameters"]) == ("Flag template", body["parameters"])
    # the original template is now unused, so it may go; the policy still uses the rule
    assert jf.call("DELETE", f"/templates/{world.template['id']}").status_code == 204
    assert jf.call("GET", f"/policies/{world.policy['id']}").json()["rule_ids"] == [world.rule["id"]]


def test_get_modify_put_round_trip(world: World) -> None:
    jf = world.jf
    rule = jf.call("GET", f"/rules/{world.rule['id']}").json()
    rule["description"] = "edited"
    assert jf.call("PUT", f"/rules/{rule['id']}", json=rule).json()["description"] == "edited"
    template = jf.call("GET", f"/templates/{world.template['id']}").json()
    template["version"] = "1.1.0"
    assert jf.call("PUT", f"/templates/{template['id']}", json=template).json()["version"] == "1.1.0"
    policy = jf.call("GET", f"/policies/{world.policy['id']}").json()
    policy["mode"] = "warning"
    assert jf.call("PUT", f"/policies/{policy['id']}", json=policy).json()["mode"] == "warning"


def test_rule_id_in_body_must_match_path(world: World) -> None:
    jf = world.jf
    body = {**RULE, "template_id": world.template["id"], "id": "rule-12345"}
    assert jf.call("PUT", f"/rules/{world.rule['id']}", json=body).json()["errors"][0]["field"] == "id"
    assert jf.call("POST", "/rules", json={**body, "name": "x"}).status_code == 400


def test_compatible_template_change_is_allowed(world: World) -> None:
    body = {**TEMPLATE, "rego": TEMPLATE["rego"] + "\n# v2\n", "scanners": ["secrets"]}
    r = world.jf.call("PUT", f"/templates/{world.template['id']}", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["scanners"] == ["secrets"]


def test_rename_to_a_taken_name_is_409(world: World) -> None:
    jf = world.jf
    other = jf.template(name="Second template")
    r = jf.call("PUT", f"/templates/{other['id']}", json=TEMPLATE)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (409, "name")
    second = jf.rule(world.template["id"], name="Second rule")
    r = jf.call("PUT", f"/rules/{second['id']}", json={**RULE, "template_id": world.template["id"]})
    assert (r.status_code, r.json()["errors"][0]["field"]) == (409, "name")


def test_another_orgs_template_is_a_missing_reference(world: World, other_org: OrgClient) -> None:
    theirs = JFrog(other_org).template()
    r = world.jf.call("POST", "/rules", json={**RULE, "name": "x", "template_id": theirs["id"]})
    assert (r.status_code, r.json()["errors"][0]["field"]) == (409, "template_id")
    assert JFrog(other_org).call("GET", f"/templates/{world.template['id']}").status_code == 404
    assert JFrog(other_org).call("DELETE", f"/rules/{world.rule['id']}").status_code == 404
    assert JFrog(other_org).call("PUT", f"/templates/{world.template['id']}", json=TEMPLATE).status_code == 404


def test_viewer_cannot_change_rules_or_templates(world: World) -> None:
    jf = world.jf
    viewer = jf.org.key("viewer")
    rule_body = {**RULE, "template_id": world.template["id"]}
    assert jf.call("PUT", f"/rules/{world.rule['id']}", token=viewer, json=rule_body).status_code == 403
    assert jf.call("DELETE", f"/rules/{world.rule['id']}", token=viewer).status_code == 403
    assert jf.call("POST", "/templates", token=viewer, json={**TEMPLATE, "name": "v"}).status_code == 403
    assert jf.call("PUT", f"/templates/{world.template['id']}", token=viewer, json=TEMPLATE).status_code == 403
    assert jf.call("DELETE", f"/templates/{world.template['id']}", token=viewer).status_code == 403
    assert jf.call("GET", f"/rules/{world.rule['id']}", token=viewer).status_code == 200


def test_changes_are_audited(world: World) -> None:
    jf = world.jf
    rule_id, template_id = world.rule["id"], world.template["id"]
    jf.call("PUT", f"/rules/{rule_id}", json={**RULE, "template_id": template_id, "description": "changed"})
    assert jf.call("DELETE", f"/policies/{world.policy['id']}").status_code == 204
    assert jf.call("DELETE", f"/rules/{rule_id}").status_code == 204
    assert jf.call("DELETE", f"/templates/{template_id}").status_code == 204
    assert _events(jf, "jfrog.rule") == [("created", rule_id), ("updated", rule_id), ("deleted", rule_id)]
    assert _events(jf, "jfrog.template") == [("created", template_id), ("deleted", template_id)]
    assert jf.call("GET", f"/rules/{rule_id}").status_code == 404


def test_failed_writes_leave_nothing_behind(world: World) -> None:
    jf = world.jf
    before: list[Any] = [jf.call("GET", p).json() for p in ("/policies", "/rules", "/templates")]
    assert jf.call("DELETE", f"/rules/{world.rule['id']}").status_code == 409
    assert jf.call("DELETE", f"/templates/{world.template['id']}").status_code == 409
    bad = {**TEMPLATE, "parameters": []}
    assert jf.call("PUT", f"/templates/{world.template['id']}", json=bad).status_code == 409
    assert [jf.call("GET", p).json() for p in ("/policies", "/rules", "/templates")] == before
