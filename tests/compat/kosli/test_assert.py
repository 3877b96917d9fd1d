"""``/api/v2/asserts/{org}/fingerprint/{fingerprint}``: Kosli's assert shape over the decision engine."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compat.kosli.support import attach, create, env
from tests.conftest import OrgClient
from tests.policy_types.kosli.evaluate_support import FP_A, SCHEMA, att, trail

POLICY = (
    SCHEMA + "artifacts:\n  provenance:\n    required: true\n  trail-compliance:\n    required: true\n"
    "  attestations:\n    - name: unit-test\n      type: junit\n"
    '    - name: pr\n      type: pull_request\n      if: ${{ flow.tags.risk == "high" }}\n'
)
GOOD = {"name": "backend:1.2", "trails": [trail("backend-ci", "abc123", True, att("unit-test"), tags={"risk": "low"})]}
BAD = {"name": "backend:1.3", "trails": [trail("backend-ci", "def456", False, tags={"risk": "high"})]}


def url(org: OrgClient, fingerprint: str = FP_A, slug: str | None = None) -> str:
    return f"/api/v2/asserts/{slug or org.slug}/fingerprint/{fingerprint}"


def post(org: OrgClient, evidence: dict[str, Any], **params: Any) -> Any:
    return org.request("POST", url(org), json=evidence, params=params)


def prod(org: OrgClient, *policies: str) -> None:
    for name in policies:
        create(org, name, POLICY)
    env(org, "prod", policies=list(policies))


def test_a_compliant_artifact(org: OrgClient) -> None:
    prod(org, "prod-policy")
    r = post(org, GOOD, environment_name="prod")
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: body[k] for k in ("fingerprint", "flow", "trail", "compliant", "scope", "environment")} == {
        "fingerprint": FP_A,
        "flow": "backend-ci",
        "trail": "abc123",
        "compliant": True,
        "scope": "environment",
        "environment": "prod",
    }
    [evaluation] = body["policy_evaluations"]
    assert {k: evaluation[k] for k in ("policy_name", "policy_version", "status", "effect")} == {
        "policy_name": "prod-policy",
        "policy_version": 1,
        "status": "COMPLIANT",
        "effect": "allow",
    }
    rules = evaluation["rule_evaluations"]
    assert [(r["rule"]["type"], r["satisfied"], r["ignored"]) for r in rules] == [
        ("provenance", True, False),
        ("trail-compliance", True, False),
        ("attestation", True, False),
        ("attestation", None, True),  # the PR rule's `if` is false for a low-risk flow
    ]
    assert rules[3]["resolutions"] == [
        {"type": "rule_not_applicable", "context": {"flow_name": "backend-ci", "trail_name": "abc123"}}
    ]
    status = body["compliance_status"]
    assert status["attestations_statuses"] == [
        {
            "attestation_name": "unit-test",
            "attestation_type": "junit",
            "status": "COMPLETE",
            "is_compliant": True,
            "unexpected": False,
        }
    ]
    assert (status["artifact_fingerprint"], status["status"], status["is_compliant"]) == (FP_A, "COMPLIANT", True)
    assert [f["flow"] for f in body["flows"]] == ["backend-ci"]
    assert body["allow_listing"] is None and body["decision"] == "allow"


def test_a_non_compliant_artifact_is_a_200_with_resolutions(org: OrgClient) -> None:
    prod(org, "prod-policy")
    body = post(org, BAD, environment_name="prod").json()
    assert (body["compliant"], body["decision"]) == (False, "deny")
    [evaluation] = body["policy_evaluations"]
    assert evaluation["status"] == "NON-COMPLIANT"
    where = {"flow_name": "backend-ci", "trail_name": "def456"}
    assert [(r["satisfied"], [x["type"] for x in r["resolutions"]]) for r in evaluation["rule_evaluations"]] == [
        (True, ["rule_satisfied"]),
        (False, ["non_compliant_in_trail"]),
        (False, ["missing_attestation"]),
        (False, ["missing_attestation"]),
    ]
    assert evaluation["rule_evaluations"][1]["resolutions"][0]["context"] == {
        **where,
        "artifact_status": "NON-COMPLIANT",
    }
    assert evaluation["reasons"][0] == "artifact 'backend:1.3': not compliant in trail backend-ci/def456"


def test_several_attached_policies_each_evaluated(org: OrgClient) -> None:
    create(org, "strict", POLICY)
    create(org, "lenient", SCHEMA)
    env(org, "prod", policies=["lenient", "strict"])
    body = post(org, BAD, environment_name="prod").json()
    assert [(p["policy_name"], p["status"]) for p in body["policy_evaluations"]] == [
        ("lenient", "COMPLIANT"),
        ("strict", "NON-COMPLIANT"),
    ]
    assert attach(org, "prod", "strict", method="DELETE").status_code == 200
    body = post(org, BAD, environment_name="prod").json()
    assert (body["compliant"], [p["policy_name"] for p in body["policy_evaluations"]]) == (True, ["lenient"])


def test_a_warn_policy_reports_but_does_not_fail_the_gate(org: OrgClient) -> None:
    prod(org, "prod-policy")
    assert org.patch("policies/prod-policy", merge={"enforcement": "warn"}).status_code == 200
    body = post(org, BAD, environment_name="prod").json()
    assert (body["compliant"], body["decision"]) == (True, "warn")
    assert [(p["status"], p["effect"]) for p in body["policy_evaluations"]] == [("NON-COMPLIANT", "warn")]


def test_named_policies_need_no_attachment(org: OrgClient) -> None:
    create(org, "p1", POLICY)
    create(org, "p2", SCHEMA)
    r = org.request("POST", url(org), json=GOOD, params=[("policy_name", "p2"), ("policy_name", "p1")])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["scope"], body["environment"]) == ("policy", None)
    assert sorted(p["policy_name"] for p in body["policy_evaluations"]) == ["p1", "p2"]


def test_get_asserts_without_evidence(org: OrgClient) -> None:
    """GET (Kosli's method): PolicyHub holds no trails, so the artifact has no provenance."""
    create(org, "needs-provenance", POLICY)
    create(org, "needs-nothing", SCHEMA)
    env(org, "prod", policies=["needs-provenance"])
    env(org, "dev", policies=["needs-nothing"])
    body = org.get(url(org), params={"environment_name": "prod"}).json()
    assert (body["compliant"], body["flow"], body["trail"], body["flows"], body["compliance_status"]) == (
        False,
        "",
        "",
        [],
        None,
    )
    assert body["policy_evaluations"][0]["rule_evaluations"][0]["resolutions"] == [
        {"type": "no_provenance", "context": None}
    ]
    assert org.get(url(org), params={"environment_name": "dev"}).json()["compliant"] is True


def test_flow_name_narrows_the_trails(org: OrgClient) -> None:
    prod(org, "prod-policy")
    evidence = {"name": "x", "trails": [*GOOD["trails"], trail("other", "o1", False)]}
    assert post(org, evidence, environment_name="prod").json()["compliant"] is False
    narrowed = post(org, evidence, environment_name="prod", flow_name="backend-ci").json()
    assert narrowed["compliant"] is True and [f["flow"] for f in narrowed["flows"]] == ["backend-ci"]
    r = post(org, evidence, environment_name="prod", flow_name="nope")
    assert r.status_code == 404
    assert r.json() == {
        "message": f"Artifact with fingerprint '{FP_A}' does not exist in flow 'nope' "
        f"belonging to organization '{org.slug}'"
    }


def test_the_assertion_is_in_the_decision_log(org: OrgClient) -> None:
    prod(org, "prod-policy")
    body = post(org, BAD, environment_name="prod").json()
    assert body["html_url"].endswith(f"/v1/orgs/{org.slug}/decisions/{body['decision_id']}")
    logged = org.get(f"decisions/{body['decision_id']}")  # recorded before the answer
    assert logged.status_code == 200, logged.text
    assert (logged.json()["source"], logged.json()["point"], logged.json()["decision"]) == (
        "kosli",
        "environment",
        "deny",
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "environment_name"),
        ({"environment_name": "prod", "policy_name": "prod-policy"}, "policy_name"),
        ({"environment_name": ""}, "environment_name"),
    ],
)
def test_query_errors(org: OrgClient, params: dict[str, str], field: str) -> None:
    prod(org, "prod-policy")
    r = post(org, GOOD, **params)
    assert r.status_code == 400, r.text
    assert r.json()["message"] and field in r.json()["errors"]


@pytest.mark.parametrize(
    ("evidence", "field"),
    [
        ({"trails": [{"name": "t"}]}, "trails.0.flow"),
        ({"trails": [trail("ci", "t", True, {"name": "u", "type": "junit"})]}, "trails.0.attestations.0.compliant"),
        ({"trails": [trail("ci", "t", True, att("u", "nope"))]}, "trails.0.attestations.0.type"),
        ({"name": "x", "artifacts": []}, "artifacts"),
        ({"name": 3}, "name"),
    ],
)
def test_malformed_evidence_is_a_400_naming_the_field(org: OrgClient, evidence: dict[str, Any], field: str) -> None:
    prod(org, "prod-policy")
    r = post(org, evidence, environment_name="prod")
    assert r.status_code == 400, r.text
    assert r.json()["message"] == "Input payload validation failed"
    assert field in r.json()["errors"], r.json()


def test_bad_fingerprint_and_body(org: OrgClient) -> None:
    prod(org, "prod-policy")
    r = org.request("POST", url(org, "XYZ"), json=GOOD, params={"environment_name": "prod"})
    assert r.status_code == 400 and "fingerprint" in r.json()["errors"]
    r = org.request(
        "POST",
        url(org),
        content=b"[1]",
        params={"environment_name": "prod"},
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["errors"] == {"body": "must be a JSON object"}
    r = org.request(
        "POST", url(org), content=b"x", params={"environment_name": "prod"}, headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 415 and set(r.json()) == {"message"}


def test_unknown_environment_and_policy_are_404_in_kosli_words(org: OrgClient) -> None:
    prod(org, "prod-policy")
    r = post(org, GOOD, environment_name="staging")
    assert r.status_code == 404
    assert r.json() == {"message": f"Environment 'staging' does not exist in organization '{org.slug}'"}
    r = post(org, GOOD, policy_name="ghost")
    assert r.status_code == 404
    assert r.json() == {"message": f"Policy 'ghost' does not exist in organization '{org.slug}'"}


def test_an_archived_environment_is_404(org: OrgClient) -> None:
    prod(org, "prod-policy")
    assert org.request("PUT", f"/api/v2/environments/{org.slug}/prod/archive").status_code == 200
    r = post(org, GOOD, environment_name="prod")
    assert r.status_code == 404
    assert r.json() == {"message": f"Environment 'prod' does not exist in organization '{org.slug}'"}
    env(org, "prod")  # a PUT of its name brings it back, with its policies
    assert post(org, GOOD, environment_name="prod").status_code == 200


def test_another_orgs_environment_is_404(org: OrgClient, other_org: OrgClient) -> None:
    prod(other_org, "theirs")
    r = post(org, GOOD, environment_name="prod")  # their environment's name, in my org
    assert r.status_code == 404
    assert r.json()["message"] == f"Environment 'prod' does not exist in organization '{org.slug}'"
    r = org.request("POST", url(org, slug=other_org.slug), json=GOOD, params={"environment_name": "prod"})
    assert r.status_code == 404
    assert r.json() == {"message": f"Organization '{other_org.slug}' does not exist"}
    assert (
        other_org.request("POST", url(other_org), json=BAD, params={"environment_name": "prod"}).json()["compliant"]
        is False
    )


def test_a_viewer_key_may_assert(org: OrgClient) -> None:
    prod(org, "prod-policy")
    viewer = org.key("viewer")
    r = org.request("POST", url(org), json=GOOD, params={"environment_name": "prod"}, token=viewer)
    assert r.status_code == 200 and r.json()["compliant"] is True
    r = org.request("POST", url(org), json=GOOD, params={"environment_name": "prod"}, token="nonsense")
    assert r.status_code == 401 and set(r.json()) == {"message"}


def test_the_routes_are_documented(org: OrgClient) -> None:
    doc = org.client.get("/openapi.json").json()
    route = doc["paths"]["/api/v2/asserts/{org}/fingerprint/{fingerprint}"]
    assert set(route) == {"get", "post"}
    params = {p["name"]: p["in"] for p in route["get"]["parameters"]}
    assert params == {
        "org": "path",
        "fingerprint": "path",
        "flow_name": "query",
        "environment_name": "query",
        "policy_name": "query",
    }
    body = route["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/KosliAssertEvidence"}
    ok = route["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/KosliAssertArtifactResponse"}
    schemas = doc["components"]["schemas"]
    assert schemas["KosliRuleResolution"]["properties"]["type"]["enum"] == [
        "missing_attestation",
        "non_compliant_attestation",
        "non_compliant_in_trail",
        "no_provenance",
        "missing_provenance",
        "legacy_flow",
        "rule_satisfied",
        "rule_not_applicable",
    ]
    assert "EnvironmentTrail" in schemas
