"""Kosli environment policies in ``/v1`` decisions, through the real app on both databases: selection by
attachment, enforcement modes, disabled/archived policies, bad input, another org."""

from __future__ import annotations

from typing import Any

from tests.compat.kosli.support import attach, create, env
from tests.conftest import OrgClient
from tests.policy_types.kosli.evaluate_support import FP_A, FP_B, SCHEMA, artifact, att, trail

NEEDS_UNIT_TEST = SCHEMA + "artifacts:\n  attestations:\n    - name: unit-test\n      type: junit\n"
NEEDS_PROVENANCE = SCHEMA + "artifacts:\n  provenance:\n    required: true\n"
NEEDS_NOTHING = SCHEMA

TESTED = artifact("backend", FP_A, trail("ci", "t1", True, att("unit-test")))
UNTESTED = artifact("nginx", FP_B)


def ask(org: OrgClient, environment: str | None, *artifacts: dict[str, Any], **extra: Any) -> Any:
    body = {"point": "environment", "input": {"environment": environment, "artifacts": list(artifacts)}, **extra}
    return org.post("decisions", json=body)


def decide(org: OrgClient, environment: str | None, *artifacts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    r = ask(org, environment, *artifacts, **extra)
    assert r.status_code == 200, r.text
    return dict(r.json())


def outcome(decision: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["name"], r["effect"]) for r in decision["results"]]


def test_the_policies_attached_to_the_environment_decide(org: OrgClient) -> None:
    create(org, "needs-tests", NEEDS_UNIT_TEST)
    create(org, "needs-provenance", NEEDS_PROVENANCE)
    create(org, "unattached", NEEDS_PROVENANCE)
    env(org, "prod")
    env(org, "dev", "docker")
    assert attach(org, "prod", "needs-provenance", "needs-tests").status_code == 200

    allowed = decide(org, "prod", TESTED)
    assert allowed["decision"] == "allow"
    assert outcome(allowed) == [("needs-provenance", "allow"), ("needs-tests", "allow")]  # attachment order
    assert allowed["results"][1]["details"]["status"] == "COMPLIANT"

    denied = decide(org, "prod", TESTED, UNTESTED)
    assert denied["decision"] == "deny"
    assert outcome(denied) == [("needs-provenance", "deny"), ("needs-tests", "deny")]
    assert denied["results"][1]["reasons"] == [
        "artifact 'nginx': missing attestation 'unit-test' (type junit) (no provenance)"
    ]
    assert [a["compliant"] for a in denied["results"][1]["details"]["artifacts"]] == [True, False]

    nothing = decide(org, "dev", UNTESTED)  # no policy attached: nothing required
    assert (nothing["decision"], nothing["results"]) == ("allow", [])


def test_a_detached_policy_no_longer_applies(org: OrgClient) -> None:
    create(org, "needs-tests", NEEDS_UNIT_TEST)
    env(org, "prod", policies=["needs-tests"])
    assert decide(org, "prod", UNTESTED)["decision"] == "deny"
    assert attach(org, "prod", "needs-tests", method="DELETE").status_code == 200
    assert decide(org, "prod", UNTESTED) | {"id": None, "input_hash": None, "policy_state": None} == {
        "id": None,
        "decision": "allow",
        "point": "environment",
        "scope": None,
        "results": [],
        "obligations": [],
        "policy_state": None,
        "input_hash": None,
    }


def test_enforcement_modes(org: OrgClient) -> None:
    for name in ("enforced", "warned", "audited"):
        create(org, name, NEEDS_UNIT_TEST)
    for name, mode in (("warned", "warn"), ("audited", "audit")):
        r = org.patch(f"policies/{name}", merge={"enforcement": mode})
        assert r.status_code == 200, r.text
    env(org, "prod", policies=["warned", "audited"])
    env(org, "stage", policies=["audited"])
    env(org, "dev", policies=["enforced", "warned", "audited"])

    assert decide(org, "stage", UNTESTED)["decision"] == "allow"
    warned = decide(org, "prod", UNTESTED)
    assert warned["decision"] == "warn"
    assert outcome(warned) == [("warned", "warn"), ("audited", "audit")]
    assert {r["status"] for r in warned["results"]} == {"violation"}
    assert decide(org, "dev", UNTESTED)["decision"] == "deny"
    assert decide(org, "dev", TESTED)["decision"] == "allow"


def test_disabled_and_archived_policies_are_ignored(org: OrgClient) -> None:
    create(org, "off", NEEDS_UNIT_TEST)
    create(org, "archived", NEEDS_PROVENANCE)
    create(org, "on", NEEDS_NOTHING)
    env(org, "prod", policies=["off", "archived", "on"])
    assert outcome(decide(org, "prod", UNTESTED)) == [("off", "deny"), ("archived", "deny"), ("on", "allow")]

    assert org.patch("policies/off", merge={"enabled": False}).status_code == 200
    assert org.delete("policies/archived").status_code == 200
    assert outcome(decide(org, "prod", UNTESTED)) == [("on", "allow")]

    assert org.patch("policies/off", merge={"enabled": True}).status_code == 200  # the attachment comes back
    assert org.post("policies/archived/unarchive").status_code == 200
    assert outcome(decide(org, "prod", UNTESTED)) == [("off", "deny"), ("archived", "deny"), ("on", "allow")]


def test_named_policies(org: OrgClient) -> None:
    create(org, "needs-tests", NEEDS_UNIT_TEST)
    create(org, "needs-provenance", NEEDS_PROVENANCE)
    env(org, "prod", policies=["needs-tests"])
    # without an environment: any named policy, attached or not (Kosli's --policy)
    named = decide(org, None, TESTED, policies=["needs-provenance"])
    assert outcome(named) == [("needs-provenance", "allow")]
    # with an environment: only among its attached policies
    r = ask(org, "prod", TESTED, policies=["needs-provenance"])
    assert r.status_code == 400
    assert "needs-provenance" in r.json()["errors"][0]["message"]
    assert outcome(decide(org, "prod", TESTED, policies=["needs-tests"])) == [("needs-tests", "allow")]


def test_bad_input_is_a_400_naming_the_field(org: OrgClient) -> None:
    env(org, "prod")
    cases = [
        ({"artifacts": [{"name": "x", "fingerprint": "not-hex"}]}, "input.artifacts.0.fingerprint"),
        (
            {"artifacts": [artifact("x", FP_A, trail("ci", "t", True, att("u", "junt")))]},
            "input.artifacts.0.trails.0.attestations.0.type",
        ),
        ({"environment": "prod", "artefacts": []}, "input.artefacts"),
        ({"environment": 7}, "input.environment"),
    ]
    for data, field in cases:
        r = org.post("decisions", json={"point": "environment", "input": data})
        assert r.status_code == 400, r.text
        assert field in [e["field"] for e in r.json()["errors"]], r.json()


def test_unknown_and_foreign_environments_are_404(org: OrgClient, other_org: OrgClient) -> None:
    create(other_org, "theirs", NEEDS_UNIT_TEST)
    env(other_org, "their-prod", policies=["theirs"])
    for name in ("their-prod", "nowhere"):
        r = ask(org, name, UNTESTED)
        assert r.status_code == 404, r.text
        assert name in r.json()["detail"]
    assert ask(other_org, "their-prod", UNTESTED).json()["decision"] == "deny"


def test_an_evaluation_error_denies_with_the_reason(org: OrgClient) -> None:
    create(org, "typed", NEEDS_UNIT_TEST + '      if: ${{ flow.tags.level > "high" }}\n')
    env(org, "prod", policies=["typed"])
    out = decide(org, "prod", artifact("x", FP_A, trail("ci", "t1", True, tags={"level": 3})))
    assert out["decision"] == "deny"
    assert out["results"][0]["error"] is True
    assert "cannot compare int with str" in out["results"][0]["reasons"][0]


def test_the_log_keeps_the_rule_evaluations(org: OrgClient) -> None:
    create(org, "needs-tests", NEEDS_UNIT_TEST)
    env(org, "prod", policies=["needs-tests"])
    decision = decide(org, "prod", UNTESTED)
    org.container.decisions.log.flush()
    logged = org.get(f"decisions/{decision['id']}")
    assert logged.status_code == 200, logged.text
    result = logged.json()["results"][0]
    assert result["details"]["artifacts"][0]["rule_evaluations"][0]["resolutions"] == [
        {"type": "missing_attestation", "context": None}
    ]
