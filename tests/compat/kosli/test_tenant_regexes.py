"""Kosli ``matches()`` runs in linear time (RE2, the syntax of Kosli's own Go evaluator), through the real
app (issue 11): the backtracking pattern that stalled the server answers fast with the right verdict, a
pattern RE2 cannot run is a 400 naming the field on both faces, and one that arrives in the decision's
input denies with the reason."""

from __future__ import annotations

import time
from typing import Any

from tests.compat.kosli.support import create, env, put_policy
from tests.conftest import OrgClient
from tests.policy_types.kosli.evaluate_support import FP_A, SCHEMA, artifact, trail

NEAR_MISS = "a" * 27 + "!"  # the subject: (a+)+$ does not occur in it, and backtracking tries hard
LONGER_MISS = "a" * 32 + "!"
FAST_S = 2.0  # seconds to hours with Python's engine
PROVENANCE_UNLESS = SCHEMA + "artifacts:\n  provenance:\n    required: true\n    exceptions:\n      - if: {}\n"


def decide(org: OrgClient, *artifacts: dict[str, Any]) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    body = {"point": "environment", "input": {"environment": "prod", "artifacts": list(artifacts)}}
    r = org.post("decisions", json=body)
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    return dict(r.json()), elapsed


def test_a_backtracking_pattern_answers_fast_with_the_right_verdict(org: OrgClient) -> None:
    create(org, "waived", PROVENANCE_UNLESS.format('${{ matches(artifact.name, "(a+)+$") }}'))
    env(org, "prod", policies=["waived"])
    for name in (NEAR_MISS, LONGER_MISS):
        decision, elapsed = decide(org, artifact(name, FP_A))
        assert elapsed < FAST_S
        assert decision["decision"] == "deny"  # no provenance, and the exception does not hold
        assert not decision["results"][0].get("error"), decision["results"][0]
    assert decide(org, artifact("a" * 28, FP_A))[0]["decision"] == "allow"  # the exception holds


def test_ordinary_patterns_still_search(org: OrgClient) -> None:
    create(org, "waived", PROVENANCE_UNLESS.format('${{ matches(artifact.name, "^datadog:[0-9.]+$") }}'))
    env(org, "prod", policies=["waived"])
    assert decide(org, artifact("datadog:7.5", FP_A))[0]["decision"] == "allow"
    assert decide(org, artifact("datadog:latest", FP_A))[0]["decision"] == "deny"


def test_a_pattern_re2_cannot_run_is_a_400_naming_the_field_on_both_faces(org: OrgClient) -> None:
    expression = r'${{ matches(artifact.name, "(a)\\1") }}'  # a backreference: only backtracking runs it
    r = put_policy(org, {"name": "waived"}, PROVENANCE_UNLESS.format(expression))
    assert r.status_code == 400, r.text
    message = r.json()["errors"]["policy_file.artifacts.provenance.exceptions.0.if"]
    assert "invalid regular expression" in message and "column" in message

    spec = {
        "_schema": "https://kosli.com/schemas/policy/environment/v1",
        "artifacts": {"provenance": {"required": True, "exceptions": [{"if": expression}]}},
    }
    r = org.post("policies", json={"name": "waived", "type": "kosli.environment", "spec": spec})
    assert r.status_code == 400, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "invalid escape sequence" in errors["spec.artifacts.provenance.exceptions.0.if"]
    assert org.get("policies/waived").status_code == 404


def test_a_pattern_from_the_input_is_matched_fast_or_denies_with_the_reason(org: OrgClient) -> None:
    unit_test_unless = SCHEMA + (
        "artifacts:\n  attestations:\n    - name: unit-test\n      type: junit\n"
        "      if: ${{ not matches(artifact.name, flow.tags.exempt) }}\n"
    )
    create(org, "tests-unless-exempt", unit_test_unless)
    env(org, "prod", policies=["tests-unless-exempt"])

    def ask(name: str, exempt: str) -> tuple[dict[str, Any], float]:
        return decide(org, artifact(name, FP_A, trail("ci", "t1", True, tags={"exempt": exempt})))

    decision, elapsed = ask(LONGER_MISS, "(a+)+$")
    assert elapsed < FAST_S
    assert decision["decision"] == "deny"  # not exempt, and no unit-test attestation
    assert ask("a" * 28, "(a+)+$")[0]["decision"] == "allow"  # exempt

    broken, _ = ask("aa", r"(a)\1")
    assert broken["decision"] == "deny"
    assert broken["results"][0]["error"] is True
    assert "invalid regular expression" in broken["results"][0]["reasons"][0]


def test_a_policy_of_costly_patterns_is_refused_fast(org: OrgClient) -> None:
    """A pattern over Unicode classes compiles to ~350,000 RE2 instructions (~100 ms); a policy may hold
    hundreds. Its patterns share one compile budget: those over it are a 400 naming their fields."""
    rules = "".join(
        f"    - name: t{index}\n      type: junit\n"
        + rf'      if: ${{{{ matches(artifact.name, "(?i)^[\\pL\\pN ._-]{{1,255}}{index}$") }}}}'
        + "\n"
        for index in range(200)
    )
    started = time.perf_counter()
    r = put_policy(org, {"name": "costly"}, SCHEMA + "artifacts:\n  attestations:\n" + rules)
    assert time.perf_counter() - started < 5
    assert r.status_code == 400, r.text
    errors = r.json()["errors"]
    assert "policy_file.artifacts.attestations.0.if" not in errors  # the first ones fit
    assert "together compile to more than" in errors["policy_file.artifacts.attestations.2.if"]
