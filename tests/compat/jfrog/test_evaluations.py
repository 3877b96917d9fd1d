"""Evaluations through the JFrog face: POST evaluates a stage gate, GET reads it back, on both backends."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import OrgClient

from .conftest import REGO, TEMPLATE, JFrog, World


def request(
    vulns: int = 1,
    *,
    stage: str = "production",
    gate: str = "entry",
    project: str = "my-project",
    key: str = "web-app",
    labels: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "action": {"type": "certify_to_gate", "stage": {"key": stage, "gate": gate}},
        "resource": {
            "identifier": {"type": "application_version", "key": key, "version": "2.1.0"},
            "hierarchy": {
                "project": {"key": project},
                "application": {"key": key, "labels": labels or []},
                "application_version": {"version": "2.1.0"},
            },
        },
        "data": {"vulnerabilities": [{"id": f"vuln-{i:03}", "severity": "critical"} for i in range(vulns)]},
    }


def evaluate(jf: JFrog, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    r = jf.call("POST", "/evaluations", json=body, **kw)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    assert r.headers["Location"].endswith(f"/unifiedpolicy/api/v1/evaluations/{out['id']}")
    return out


def test_a_passing_evaluation_and_its_record(world: World) -> None:
    jf = world.jf
    out = evaluate(jf, request(2))
    assert out["decision"] == "pass"
    assert out["explanation"] == "all 1 applicable lifecycle policies passed"
    assert out["action"] == {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}}
    assert out["resource"] == {
        "identifier": {"type": "application_version", "key": "web-app", "version": "2.1.0"},
        "hierarchy": {
            "project": {"key": "my-project"},
            "application": {"key": "web-app", "labels": []},
            "application_version": {"version": "2.1.0"},
        },
    }
    assert out["policies"] == [
        {"id": world.policy["id"], "name": "Production Security Policy", "enabled": True, "mode": "block"}
    ]
    [item] = out["decision_breakdown"]
    assert item["rule_id"] == world.rule["id"]
    assert item["resource"] == {"type": "application_version", "key": "web-app", "version": "2.1.0"}
    assert item["input"] == {"params": {"max_vulns": 3, "strict": True}}  # typed per the template
    assert item["output"] == {"should_allow": True, "explanation": "ok", "decision": "pass"}
    assert out["context"]["user"] and out["context"]["timestamp"] == out["timestamp"]
    r = jf.call("GET", f"/evaluations/{out['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == out


def test_a_blocking_rule_fails_the_evaluation_with_the_templates_explanation(world: World) -> None:
    out = evaluate(world.jf, request(4))
    assert out["decision"] == "fail"
    assert out["explanation"] == "Production Security Policy: too many vulnerabilities"
    assert out["decision_breakdown"][0]["output"] == {
        "should_allow": False,
        "explanation": "too many vulnerabilities",
        "decision": "fail",
    }


def test_a_warning_policy_warns(jf: JFrog) -> None:
    rule = jf.rule(jf.template()["id"])
    jf.policy(rule["id"], mode="warning")
    out = evaluate(jf, request(4))
    assert out["decision"] == "warning"
    assert out["policies"][0]["mode"] == "warning"
    assert out["decision_breakdown"][0]["output"]["decision"] == "warning"


def test_the_rules_parameters_reach_the_rego(world: World) -> None:
    jf = world.jf
    assert evaluate(jf, request(5))["decision"] == "fail"
    body = {**world.rule, "parameters": [{"name": "max_vulns", "value": "10"}, {"name": "strict", "value": "true"}]}
    assert jf.call("PUT", f"/rules/{world.rule['id']}", json=body).status_code == 200
    assert evaluate(jf, request(5))["decision"] == "pass"


def test_a_template_change_takes_effect(world: World) -> None:
    jf = world.jf
    assert evaluate(jf, request(5))["decision"] == "fail"
    lenient = REGO.replace("to_number(input.params.max_vulns)", "to_number(input.params.max_vulns) * 2")
    r = jf.call("PUT", f"/templates/{world.template['id']}", json={**world.template, "rego": lenient})
    assert r.status_code == 200, r.text
    assert evaluate(jf, request(5))["decision"] == "pass"


def test_a_rego_runtime_error_is_an_error_that_denies(jf: JFrog) -> None:
    rego = REGO.replace("to_number(input.params.max_vulns)", "to_number(input.data.limit)")
    jf.policy(jf.rule(jf.template(rego=rego)["id"])["id"])
    body = request(1)
    body["data"]["limit"] = "not a number"
    out = evaluate(jf, body)
    assert out["decision"] == "error"
    [item] = out["decision_breakdown"]
    assert item["output"]["decision"] == "error"
    assert (
        "evaluation error: rule 'High+ CVEs' (template 'Max vulnerabilities'): line " in item["output"]["explanation"]
    )
    assert item["rule_id"]  # from the deciding policy version: an error carries no details
    assert jf.call("GET", f"/evaluations/{out['id']}").json() == out


@pytest.mark.parametrize(
    ("rego", "message"),
    [
        ("package curation.policies\n\nimport rego.v1\n\nallow if {\n    input.a ==\n}\n", "is not valid Rego: line 7"),
        ("package curation.policies\nimport rego.v1\nok := true\n", "must define an 'allow' rule"),
        (
            'package curation.policies\nimport rego.v1\nallow := {"should_allow": time.now_ns() > 0}\n',
            "uses functions that are not allowed: time.now_ns.",
        ),
    ],
)
def test_bad_rego_is_rejected_when_the_template_is_written(jf: JFrog, rego: str, message: str) -> None:
    r = jf.call("POST", "/templates", json={**copy.deepcopy(TEMPLATE), "rego": rego})
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert error["code"] == "BAD_REQUEST" and error["field"] == "rego"
    assert error["message"].startswith(message)


@pytest.mark.parametrize(
    ("change", "applies"),
    [
        ({}, True),
        ({"stage": "qa"}, False),
        ({"gate": "exit"}, False),
        ({"project": "other-project"}, False),
    ],
)
def test_only_policies_of_the_gate_and_scope_take_part(world: World, change: dict[str, Any], applies: bool) -> None:
    out = evaluate(world.jf, request(9, **change))
    assert out["decision"] == ("fail" if applies else "pass")
    assert len(out["policies"]) == (1 if applies else 0)
    if not applies:
        assert out["explanation"] == "no lifecycle policy applies to this stage gate"


def test_application_scope_by_label(jf: JFrog) -> None:
    rule = jf.rule(jf.template()["id"])
    scope = {"type": "application", "application_labels": [{"key": "tier", "value": "critical"}]}
    jf.policy(rule["id"], scope=scope)
    assert evaluate(jf, request(9, labels=[{"key": "tier", "value": "critical"}]))["decision"] == "fail"
    assert evaluate(jf, request(9, labels=[{"key": "tier", "value": "low"}]))["policies"] == []


def test_disabled_and_deleted_policies_are_ignored(world: World) -> None:
    jf = world.jf
    assert evaluate(jf, request(9))["decision"] == "fail"
    body = {**world.policy, "enabled": False}
    assert jf.call("PUT", f"/policies/{world.policy['id']}", json=body).status_code == 200
    assert evaluate(jf, request(9))["policies"] == []
    assert jf.call("PUT", f"/policies/{world.policy['id']}", json={**body, "enabled": True}).status_code == 200
    assert evaluate(jf, request(9))["decision"] == "fail"
    assert jf.call("DELETE", f"/policies/{world.policy['id']}").status_code == 204
    assert evaluate(jf, request(9))["policies"] == []


def test_core_enforcement_modes_apply(world: World) -> None:
    """``mode`` sets the core enforcement; set through /v1, ``audit`` only records the violation."""
    org = world.jf.org
    r = org.patch(f"policies/{world.policy['id']}", merge={"enforcement": "audit"})
    assert r.status_code == 200, r.text
    out = evaluate(world.jf, request(9))
    assert out["decision"] == "pass"
    assert out["explanation"] == "passed; recorded only: Production Security Policy: too many vulnerabilities"
    assert out["decision_breakdown"][0]["output"]["should_allow"] is False
    decision = org.post("decisions", json={"point": "lifecycle_gate", "input": core_input(9)}).json()
    assert decision["decision"] == "allow" and decision["results"][0]["effect"] == "audit"


def core_input(vulns: int) -> dict[str, Any]:
    return {
        "stage": "production",
        "gate": "entry",
        "application": {"key": "web-app", "version": "2.1.0", "project": "my-project", "labels": {"env": "prod"}},
        "evidence": {"vulnerabilities": [{"id": str(i)} for i in range(vulns)]},
    }


def test_a_v1_lifecycle_gate_decision_reads_as_an_evaluation(world: World) -> None:
    org = world.jf.org
    r = org.post("decisions", json={"point": "lifecycle_gate", "input": core_input(9)})
    assert r.status_code == 200, r.text
    decision = r.json()
    assert decision["decision"] == "deny"
    assert decision["results"][0]["details"]["output"]["explanation"] == "too many vulnerabilities"
    org.container.decisions.log.flush()
    out = world.jf.call("GET", f"/evaluations/{decision['id']}").json()
    assert out["decision"] == "fail"
    assert out["resource"]["hierarchy"]["application"]["labels"] == [{"key": "env", "value": "prod"}]


def test_another_orgs_evaluation_and_other_decisions_are_not_found(world: World, other_org: OrgClient) -> None:
    out = evaluate(world.jf, request(1))
    for path, token in [
        (f"/evaluations/{out['id']}", other_org.token),
        ("/evaluations/00000000-0000-0000-0000-000000000000", None),
        ("/evaluations/not-an-id", None),
    ]:
        r = world.jf.call("GET", path, token=token)
        assert r.status_code == 404, r.text
        assert r.json() == {"errors": [{"code": "NOT_FOUND", "message": "Evaluation not found", "field": None}]}
    other = world.jf.org.post("decisions", json={"point": "ai_content", "input": {"content": "hi"}}).json()
    world.jf.org.container.decisions.log.flush()
    assert world.jf.call("GET", f"/evaluations/{other['id']}").status_code == 404


def test_a_viewer_key_may_evaluate_and_read(world: World) -> None:
    viewer = world.jf.org.key("viewer")
    out = evaluate(world.jf, request(1), token=viewer)
    assert world.jf.call("GET", f"/evaluations/{out['id']}", token=viewer).status_code == 200


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["action"].pop("stage"), "action.stage"),
        (lambda b: b["action"]["stage"].update(gate="middle"), "action.stage.gate"),
        (lambda b: b["action"].update(type="use_skill"), "action.type"),
        (lambda b: b["resource"]["identifier"].pop("key"), "resource.identifier.key"),
        (lambda b: b["resource"]["hierarchy"]["application"].update(key="other"), "resource.hierarchy.application.key"),
        (
            lambda b: b["resource"]["hierarchy"]["application_version"].update(version="9"),
            "resource.hierarchy.application_version.version",
        ),
        (lambda b: b.update(data=[]), "data"),
        (lambda b: b.update(extra=1), "extra"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field(world: World, mutate: Any, field: str) -> None:
    body = request(1)
    mutate(body)
    r = world.jf.call("POST", "/evaluations", json=body)
    assert r.status_code == 400, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert all(e["code"] == "BAD_REQUEST" for e in r.json()["errors"])
