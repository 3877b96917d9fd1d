"""GET /policies, /rules and /templates: JFrog's filters, sorting and paging envelope."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from .conftest import JFrog


@pytest.fixture
def listed(jf: JFrog) -> dict[str, Any]:
    """Four policies with different modes, stages, gates and scopes."""
    template = jf.template()
    rule = jf.rule(template["id"])
    rid = rule["id"]
    app_scope = {
        "type": "application",
        "application_keys": ["app-1", "app-2"],
        "application_labels": [{"key": "env", "value": "prod"}, {"key": "tier", "value": "web"}],
    }
    policies = {
        "a": jf.policy(rid, name="A qa entry"),
        "b": jf.policy(rid, name="B prod exit", mode="warning", enabled=False),
        "c": jf.policy(rid, name="C apps", scope=app_scope),
        "d": jf.policy(
            rid, name="D release", action={"type": "certify_to_gate", "stage": {"key": "qa", "gate": "release"}}
        ),
    }
    for key, stage in (("a", {"key": "qa", "gate": "entry"}), ("b", {"key": "production", "gate": "exit"})):
        body = {k: v for k, v in policies[key].items() if k in ("name", "enabled", "mode", "scope", "rule_ids")}
        body["action"] = {"type": "certify_to_gate", "stage": stage}
        r = jf.call("PUT", f"/policies/{policies[key]['id']}", json=body)
        assert r.status_code == 200, r.text
    return {"jf": jf, "rule": rule, "template": template, **{k: v["id"] for k, v in policies.items()}}


def _ids(listed: dict[str, Any], query: str) -> list[str]:
    r = listed["jf"].call("GET", "/policies" + query)
    assert r.status_code == 200, r.text
    by_id = {listed[k]: k for k in "abcd"}
    return [by_id[p["id"]] for p in r.json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["a", "b", "c", "d"]),
        ("?mode=warning", ["b"]),
        ("?enabled=false", ["b"]),
        ("?enabled=true&mode=block", ["a", "c", "d"]),
        ("?stage_key=qa", ["a", "d"]),
        ("?stage_key=qa&stage_key=production", ["a", "b", "c", "d"]),
        ("?stage_gate=release&stage_gate=exit", ["b", "d"]),
        ("?scope_type=application", ["c"]),
        ("?project_key=my-project", ["a", "b", "d"]),
        ("?project_key=nope", []),
        ("?application_key=app-2&application_key=zzz", ["c"]),
        ("?application_labels=" + quote('{"env":"prod"}'), ["c"]),
        ("?application_labels[env]=prod&application_labels[tier]=web", ["c"]),
        ("?application_labels[env]=dev", []),
        ("?action_type=certify_to_gate", ["a", "b", "c", "d"]),
        ("?action_type=use_skill", []),
        ("?name=A%20qa%20entry&name=C%20apps", ["a", "c"]),
        ("?sort_by=name&sort_order=desc", ["d", "c", "b", "a"]),
        ("?sort_by=mode&sort_order=desc", ["b", "d", "c", "a"]),
        ("?sort_by=enabled", ["b", "a", "c", "d"]),
        ("?sort_by=action", ["c", "b", "a", "d"]),
        ("?sort_by=resource", ["c", "a", "b", "d"]),
        ("?hierarchical=true", ["a", "b", "c", "d"]),
    ],
)
def test_policy_filters_and_sorting(listed: dict[str, Any], query: str, expected: list[str]) -> None:
    assert _ids(listed, query) == expected


def test_policy_filter_by_id(listed: dict[str, Any]) -> None:
    assert _ids(listed, f"?id={listed['b']}&id={listed['d']}") == ["b", "d"]


def test_policy_paging_envelope(listed: dict[str, Any]) -> None:
    jf = listed["jf"]
    body = jf.call("GET", "/policies?limit=3").json()
    assert {k: body[k] for k in ("offset", "limit", "page_size", "total_count")} == {
        "offset": 0,
        "limit": 3,
        "page_size": 3,
        "total_count": 4,
    }
    body = jf.call("GET", "/policies?limit=3&offset=3").json()
    assert (body["offset"], body["page_size"], len(body["items"])) == (3, 1, 1)
    assert jf.call("GET", "/policies?limit=3&page=3").json() == body
    assert jf.call("GET", "/policies?offset=9").json()["items"] == []
    assert jf.call("GET", "/policies?offset=1&page=2").status_code == 400
    assert jf.call("GET", "/policies?limit=0").status_code == 400
    assert jf.call("GET", "/policies?offset=-1").status_code == 400


def test_policy_list_expand_rules(listed: dict[str, Any]) -> None:
    items = listed["jf"].call("GET", "/policies?expand=rules").json()["items"]
    rule = listed["rule"]
    for p in items:
        assert [(r["id"], r["name"], r["template_id"]) for r in p["rules"]] == [
            (rule["id"], "High+ CVEs", rule["template_id"])
        ]
        assert p["rules"][0]["template"]["id"] == rule["template_id"]
    assert all("rules" not in p for p in listed["jf"].call("GET", "/policies").json()["items"])


def test_lists_are_per_org(listed: dict[str, Any], other_org: Any) -> None:
    other = JFrog(other_org)
    for path in ("/policies", "/rules", "/templates"):
        assert other.call("GET", path).json()["total_count"] == 0


def test_rule_and_template_lists(jf: JFrog) -> None:
    evidence = jf.template()
    noop = jf.template(name="Noop template", data_source_type="noop", category="quality", scanners=["sca"])
    r1 = jf.rule(evidence["id"], name="Rule one")
    r2 = jf.rule(noop["id"], name="Rule two")

    def names(path: str) -> list[str]:
        r = jf.call("GET", path)
        assert r.status_code == 200, r.text
        return [item["name"] for item in r.json()["items"]]

    assert names("/rules") == ["Rule one", "Rule two"]
    assert names("/rules?sort_by=name&sort_order=desc") == ["Rule two", "Rule one"]
    assert names("/rules?template_data_source=noop") == ["Rule two"]
    assert names("/rules?template_category=security") == ["Rule one"]
    assert names("/rules?scanner_types=sca&scanner_types=secrets") == ["Rule two"]
    assert names(f"/rules?id={r1['id']}") == ["Rule one"]
    assert names(f"/rules?template_id={noop['id']}") == ["Rule two"]
    assert names("/rules?name=Rule%20two") == ["Rule two"]
    page = jf.call("GET", "/rules?limit=1&offset=1").json()
    assert (page["offset"], page["limit"], page["page_size"], page["total_count"]) == (1, 1, 1, 2)
    assert page["items"][0]["id"] == r2["id"]
    assert page["items"][0]["template_name"] == "Noop template"
    assert jf.call("GET", "/rules?limit=1001").status_code == 400

    assert names("/templates") == ["Max vulnerabilities", "Noop template"]
    assert names("/templates?category=quality") == ["Noop template"]
    assert names("/templates?data_source_type=evidence") == ["Max vulnerabilities"]
    assert names("/templates?scanner_types=sca") == ["Noop template"]
    assert names("/templates?sort_by=name&sort_order=desc") == ["Noop template", "Max vulnerabilities"]
