"""The compiled Kosli environment policy: each rule kind satisfied, ignored and violated, per artifact."""

from __future__ import annotations

import pytest

from policyhub.evaluation.outcome import Status
from policyhub.policy_types.kosli import evaluate as evaluate_module
from policyhub.policy_types.kosli.evaluate import MAX_REASONS
from policyhub.policy_types.kosli.expressions import ExpressionError
from tests.policy_types.kosli.evaluate_support import (
    FP_A,
    FP_B,
    artifact,
    att,
    compiled,
    evaluation,
    resolutions,
    rules,
    run,
    trail,
    verdicts,
)

PROVENANCE = "artifacts:\n  provenance:\n    required: true\n"
TRAILS = "artifacts:\n  trail-compliance:\n    required: true\n"
UNIT_TEST = "artifacts:\n  attestations:\n    - name: unit-test\n      type: junit\n"


# -- provenance ------------------------------------------------------------------------------------
def test_provenance_satisfied_by_any_trail() -> None:
    out = run(PROVENANCE, artifact("backend", FP_A, trail("ci", "t1"), trail("release", "r1")))
    assert out.status is Status.PASS
    assert verdicts(out) == [("provenance", "satisfied")]
    assert resolutions(out) == [
        ("rule_satisfied", {"flow_name": "ci", "trail_name": "t1"}),
        ("rule_satisfied", {"flow_name": "release", "trail_name": "r1"}),
    ]
    assert rules(out)[0]["rule"] == {"type": "provenance", "definition": {"required": True, "exceptions": []}}


def test_provenance_violated_without_trails() -> None:
    out = run(PROVENANCE, artifact("nginx:1.25", FP_A))
    assert out.status is Status.VIOLATION
    assert verdicts(out) == [("provenance", "violated")]
    assert resolutions(out) == [("no_provenance", None)]
    assert out.reasons == ["artifact 'nginx:1.25': no provenance (not reported in any flow)"]
    assert out.details["status"] == "NON-COMPLIANT"


def test_provenance_not_required_is_no_rule() -> None:
    out = run("artifacts:\n  provenance:\n    required: false\n", artifact("nginx", FP_A))
    assert out.status is Status.PASS
    assert rules(out) == []


@pytest.mark.parametrize(("name", "state"), [("datadog:7.1", "ignored"), ("nginx:1.25", "violated")])
def test_provenance_exception(name: str, state: str) -> None:
    body = PROVENANCE + '    exceptions:\n      - if: ${{ matches(artifact.name, "^datadog:.*") }}\n'
    out = run(body, artifact(name, FP_A))
    assert verdicts(out) == [("provenance", state)]
    assert out.status is (Status.PASS if state == "ignored" else Status.VIOLATION)
    if state == "ignored":
        assert rules(out)[0]["satisfied"] is None
        assert resolutions(out) == [("rule_not_applicable", None)]
        exceptions = rules(out)[0]["rule"]["definition"]["exceptions"]
        assert exceptions == [{"if": {"text": '${{ matches(artifact.name, "^datadog:.*") }}'}}]


def test_an_exception_on_a_flow_is_false_without_provenance() -> None:
    """No trail: ``flow`` is missing, so ``flow.name == ...`` is false and the requirement stands."""
    body = PROVENANCE + '    exceptions:\n      - if: ${{ flow.name == "ci" }}\n'
    assert verdicts(run(body, artifact("x", FP_A))) == [("provenance", "violated")]


# -- trail compliance -----------------------------------------------------------------------------
def test_trail_compliance_in_every_trail() -> None:
    ok = run(TRAILS, artifact("backend", FP_A, trail("ci", "t1", True), trail("release", "r1", True)))
    assert ok.status is Status.PASS and verdicts(ok) == [("trail-compliance", "satisfied")]

    bad = run(TRAILS, artifact("backend", FP_A, trail("ci", "t1", True), trail("release", "r1", False)))
    assert bad.status is Status.VIOLATION and verdicts(bad) == [("trail-compliance", "violated")]
    assert resolutions(bad) == [
        ("rule_satisfied", {"flow_name": "ci", "trail_name": "t1"}),
        ("non_compliant_in_trail", {"flow_name": "release", "trail_name": "r1", "artifact_status": "NON-COMPLIANT"}),
    ]
    assert bad.reasons == ["artifact 'backend': not compliant in trail release/r1"]


def test_unreported_trail_compliance_is_incomplete() -> None:
    out = run(TRAILS, artifact("backend", FP_A, trail("ci", None, None)))
    assert resolutions(out) == [
        ("non_compliant_in_trail", {"flow_name": "ci", "trail_name": None, "artifact_status": "INCOMPLETE"})
    ]
    assert out.reasons == ["artifact 'backend': not compliant in trail ci (compliance not reported)"]


def test_trail_compliance_exception_waives_matching_trails_only() -> None:
    body = TRAILS + '    exceptions:\n      - if: ${{ flow.tags.scope == "prod-scan" }}\n'
    scan = trail("snyk-prod", "s1", False, tags={"scope": "prod-scan"})
    waived = run(body, artifact("runner", FP_A, trail("ci", "t1", True), scan))
    assert waived.status is Status.PASS
    assert [kind for kind, _ in resolutions(waived)] == ["rule_satisfied", "rule_not_applicable"]

    other = trail("snyk-beta", "s2", False, tags={"scope": "beta-scan"})
    assert run(body, artifact("runner", FP_A, scan, other)).reasons == [
        "artifact 'runner': not compliant in trail snyk-beta/s2"
    ]

    all_waived = run(body, artifact("runner", FP_A, scan))
    assert verdicts(all_waived) == [("trail-compliance", "ignored")]


def test_trail_compliance_without_provenance() -> None:
    out = run(TRAILS, artifact("nginx", FP_A))
    assert verdicts(out) == [("trail-compliance", "violated")]
    assert resolutions(out) == [("no_provenance", None)]
    body = TRAILS + "    exceptions:\n      - if: ${{ not exists(flow.name) }}\n"
    assert verdicts(run(body, artifact("nginx", FP_A))) == [("trail-compliance", "ignored")]


# -- attestations ---------------------------------------------------------------------------------
def test_attestation_satisfied_missing_and_non_compliant() -> None:
    ok = run(UNIT_TEST, artifact("backend", FP_A, trail("ci", "t1", True, att("unit-test", "junit"))))
    assert ok.status is Status.PASS and verdicts(ok) == [("attestation", "satisfied")]
    assert rules(ok)[0]["rule"] == {
        "type": "attestation",
        "definition": {"name": "unit-test", "type": "junit", "must_be_compliant": True},
    }

    missing = run(UNIT_TEST, artifact("backend", FP_A, trail("ci", "t1", True, att("unit-test", "snyk"))))
    assert verdicts(missing) == [("attestation", "violated")]
    assert resolutions(missing) == [("missing_attestation", {"flow_name": "ci", "trail_name": "t1"})]
    assert missing.reasons == ["artifact 'backend': missing attestation 'unit-test' (type junit) in trail ci/t1"]

    failing = run(UNIT_TEST, artifact("backend", FP_A, trail("ci", "t1", True, att("unit-test", compliant=False))))
    assert resolutions(failing) == [("non_compliant_attestation", {"flow_name": "ci", "trail_name": "t1"})]
    assert failing.reasons == [
        "artifact 'backend': attestation 'unit-test' (type junit) is non-compliant in trail ci/t1"
    ]


def test_must_be_compliant_false_needs_presence_only() -> None:
    body = UNIT_TEST + "      must_be_compliant: false\n"
    out = run(body, artifact("backend", FP_A, trail("ci", "t1", True, att("unit-test", compliant=False))))
    assert out.status is Status.PASS


def test_every_matching_attestation_must_be_compliant() -> None:
    body = "artifacts:\n  attestations:\n    - type: snyk\n"  # name "*": any snyk attestation
    scans = trail("ci", "t1", True, att("image-scan", "snyk"), att("code-scan", "snyk", False))
    out = run(body, artifact("backend", FP_A, scans))
    assert out.reasons == ["artifact 'backend': snyk attestation is non-compliant in trail ci/t1"]
    assert run(body, artifact("backend", FP_A, trail("ci", "t1", True, att("image-scan", "snyk")))).reasons == [
        "1 artifact(s) comply with 1 rule(s)"
    ]


@pytest.mark.parametrize(
    ("rule", "attestation", "ok"),
    [
        ("name: unit-test\n      type: '*'", att("unit-test", "custom:coverage"), True),
        ("name: '*'\n      type: junit", att("anything", "junit"), True),
        ("name: '*'\n      type: junit", att("anything", "generic"), False),
        ("name: pr\n      type: pull_request", att("pr", "pull-request"), True),  # the docs' spelling
        ("name: cov\n      type: custom:coverage", att("cov", "custom:coverage"), True),
        ("name: cov\n      type: custom:coverage", att("cov", "custom:other"), False),
    ],
)
def test_attestation_matching(rule: str, attestation: dict[str, object], ok: bool) -> None:
    out = run(f"artifacts:\n  attestations:\n    - {rule}\n", artifact("x", FP_A, trail("ci", "t1", True, attestation)))
    assert (out.status is Status.PASS) is ok


def test_decision_for_a_control() -> None:
    body = "artifacts:\n  attestations:\n    - type: decision\n      name: '*'\n      for_control: ctl-1\n"
    other = att("d", "decision", for_control="ctl-2")
    out = run(body, artifact("x", FP_A, trail("ci", "t1", True, other)))
    assert resolutions(out) == [
        ("missing_attestation", {"flow_name": "ci", "trail_name": "t1", "for_control": "ctl-1"})
    ]
    assert out.reasons == ["artifact 'x': missing decision for control 'ctl-1' in trail ci/t1"]
    decided = trail("ci", "t1", True, att("d", "decision", for_control="ctl-1"))
    assert run(body, artifact("x", FP_A, decided)).status is Status.PASS


@pytest.mark.parametrize(("risk", "state"), [("high", "violated"), ("low", "ignored")])
def test_if_condition(risk: str, state: str) -> None:
    body = UNIT_TEST + '      if: ${{ flow.tags.risk-level == "high" }}\n'
    out = run(body, artifact("backend", FP_A, trail("ci", "t1", True, tags={"risk-level": risk})))
    assert verdicts(out) == [("attestation", state)]
    if state == "ignored":
        assert resolutions(out) == [("rule_not_applicable", {"flow_name": "ci", "trail_name": "t1"})]
        assert rules(out)[0]["rule"]["definition"]["if"] == {"text": '${{ flow.tags.risk-level == "high" }}'}


def test_if_condition_is_evaluated_per_trail() -> None:
    body = UNIT_TEST + '      if: ${{ flow.name == "backend-ci" }}\n'
    trails = (trail("backend-ci", "b1", True, att("unit-test")), trail("promotion", "p1", True))
    out = run(body, artifact("backend", FP_A, *trails))
    assert out.status is Status.PASS
    assert [kind for kind, _ in resolutions(out)] == ["rule_satisfied", "rule_not_applicable"]
    unscoped = run(UNIT_TEST, artifact("backend", FP_A, *trails))
    assert unscoped.reasons == [
        "artifact 'backend': missing attestation 'unit-test' (type junit) in trail promotion/p1"
    ]


def test_numeric_tag_comparison() -> None:
    body = UNIT_TEST + "      if: ${{ flow.tags.risk-level >= 2 }}\n"
    for level, state in (("3", "violated"), (1, "ignored"), (2, "violated")):
        out = run(body, artifact("x", FP_A, trail("ci", "t1", True, tags={"risk-level": level})))
        assert verdicts(out) == [("attestation", state)], level


def test_attestation_without_provenance() -> None:
    assert run(UNIT_TEST, artifact("x", FP_A)).reasons == [
        "artifact 'x': missing attestation 'unit-test' (type junit) (no provenance)"
    ]
    scoped = UNIT_TEST + '      if: ${{ flow.name == "ci" }}\n'
    assert verdicts(run(scoped, artifact("x", FP_A))) == [("attestation", "ignored")]
    by_name = UNIT_TEST + '      if: ${{ matches(artifact.name, "^x$") }}\n'
    assert verdicts(run(by_name, artifact("x", FP_A))) == [("attestation", "violated")]


# -- the policy as a whole -------------------------------------------------------------------------
def test_several_artifacts_each_judged() -> None:
    body = PROVENANCE + "  attestations:\n    - name: unit-test\n      type: junit\n"
    good = artifact("backend", FP_A, trail("ci", "t1", True, att("unit-test")))
    bad = artifact(None, FP_B)
    out = run(body, good, bad)
    assert out.status is Status.VIOLATION
    assert [a["compliant"] for a in out.details["artifacts"]] == [True, False]
    assert [a["fingerprint"] for a in out.details["artifacts"]] == [FP_A, FP_B]
    assert verdicts(out, 1) == [("provenance", "violated"), ("attestation", "violated")]
    assert out.reasons == [
        f"artifact {FP_B}: no provenance (not reported in any flow)",
        f"artifact {FP_B}: missing attestation 'unit-test' (type junit) (no provenance)",
    ]


def test_no_artifacts_and_no_rules_pass() -> None:
    assert run(PROVENANCE).status is Status.PASS
    out = run("artifacts: {}\n", artifact("x", FP_A))
    assert out.status is Status.PASS and out.details == {
        "status": "COMPLIANT",
        "artifacts": [{"name": "x", "fingerprint": FP_A, "compliant": True, "rule_evaluations": []}],
    }


def test_reasons_are_capped() -> None:
    many = [artifact(f"a{i}", f"{i:064x}") for i in range(30)]
    out = run(PROVENANCE, *many)
    assert len(out.reasons) == MAX_REASONS + 1
    assert out.reasons[-1] == "... and 10 more violations"


def test_an_expression_that_cannot_be_evaluated_is_an_error() -> None:
    body = UNIT_TEST + '      if: ${{ flow.tags.level > "high" }}\n'
    policy = compiled(body)
    with pytest.raises(ExpressionError, match="cannot compare"):
        policy.evaluate(evaluation(artifact("x", FP_A, trail("ci", "t1", True, tags={"level": 3}))))


def test_expressions_are_parsed_once_at_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    body = PROVENANCE + '    exceptions:\n      - if: ${{ matches(artifact.name, "^dd") }}\n'
    body += UNIT_TEST.removeprefix("artifacts:\n") + '      if: ${{ flow.name == "ci" }}\n'
    policy = compiled(body)

    def refuse(text: str) -> None:
        raise AssertionError("parsed during evaluation")

    monkeypatch.setattr(evaluate_module, "parse_template", refuse)
    out = policy.evaluate(evaluation(artifact("dd-agent", FP_A), artifact("x", FP_B, trail("ci", "t1"))))
    assert out.status is Status.VIOLATION


def test_artifact_contexts_are_shared_by_the_policies_of_one_decision() -> None:
    first, second = compiled(PROVENANCE), compiled(UNIT_TEST)
    ev = evaluation(artifact("x", FP_A, trail("ci", "t1", True, att("unit-test"))))
    first.evaluate(ev)
    prepared = ev.memo["kosli.environment.subjects"]
    assert second.evaluate(ev).status is Status.PASS
    assert ev.memo["kosli.environment.subjects"] is prepared
