"""The jfrog.lifecycle evaluator: JFrog's template contract run by regorus, scope and gate matching, modes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from policyhub.evaluation.compiled import CompileError
from policyhub.evaluation.limits import DeadlineExceeded
from policyhub.evaluation.outcome import Effect, Severity, Status
from policyhub.policy_types.jfrog.evaluate import GateScope, typed_parameters
from policyhub.policy_types.jfrog.program import RegoError

from .world import (
    REGO,
    SPEC,
    compile_policy,
    effect,
    evaluation,
    gate_input,
    later,
    rule,
    snapshot,
    template,
)


def run(rego: str, asked: dict[str, Any] | None = None, **rule_values: str) -> Any:
    snap = snapshot(template(rego), rule(rule_values or None))
    return compile_policy(snap).evaluate(evaluation(snap, asked or gate_input()))


def test_rego_allow_passes_with_the_templates_explanation() -> None:
    outcome = run(REGO, gate_input(2))
    assert outcome.status is Status.PASS
    assert outcome.reasons == ["within the limit"]
    assert outcome.details["output"] == {"should_allow": True, "explanation": "within the limit"}
    assert outcome.details | {"output": None} == {
        "policy_name": "Prod Sec",
        "mode": "block",
        "rule_id": "rule-1",
        "rule_name": "Two at most",
        "template_id": "tpl-1",
        "template_name": "Max vulns",
        "params": {"max_vulns": 2},
        "output": None,
    }


def test_rego_deny_blocks_with_the_templates_explanation() -> None:
    outcome = run(REGO, gate_input(3))
    assert outcome.status is Status.VIOLATION
    assert outcome.severity is Severity.BLOCK
    assert outcome.reasons == ["too many vulnerabilities"]
    assert effect(outcome) is Effect.DENY


def test_extra_result_fields_are_kept_and_sets_become_sorted_arrays() -> None:
    rego = (
        "package curation.policies\nimport rego.v1\n"
        'allow := {"should_allow": false, "violated_findings": {v.id | some v in input.data.vulnerabilities}}\n'
    )
    outcome = run(rego, gate_input(3))
    assert outcome.details["output"] == {"should_allow": False, "violated_findings": ["v0", "v1", "v2"]}
    assert outcome.reasons == ["rule 'Two at most' failed"]  # no explanation: a default reason
    json.dumps(outcome.details)


def test_a_bare_boolean_allow_is_should_allow() -> None:
    """JFrog's API reference describes ``allow`` as a boolean; its docs as the result object: both work."""
    rego = (
        "package unifiedpolicy\nimport rego.v1\n"
        "default allow := false\nallow if count(input.data.vulnerabilities) == 0\n"
    )
    assert run(rego, gate_input(0)).status is Status.PASS
    failed = run(rego, gate_input(1))
    assert failed.status is Status.VIOLATION and failed.details["output"] == {"should_allow": False}


def test_a_rego_v0_template_runs() -> None:
    rego = "package unifiedpolicy\n\ndefault allow = false\n\nallow {\n  count(input.data.vulnerabilities) < 1\n}\n"
    assert run(rego, gate_input(0)).status is Status.PASS
    assert run(rego, gate_input(1)).status is Status.VIOLATION


def test_rule_parameters_reach_the_rego_as_input_params_typed_per_the_template() -> None:
    rego = (
        "package curation.policies\nimport rego.v1\n"
        'allow := {"should_allow": true, "explanation": json.marshal(input.params)}\n'
    )
    declared = [
        {"name": "n", "type": "int"},
        {"name": "ratio", "type": "float"},
        {"name": "strict", "type": "bool"},
        {"name": "predicate_type", "type": "string"},
        {"name": "limits", "type": "object"},
    ]
    values = {
        "n": "3",
        "ratio": "0.5",
        "strict": "false",
        "predicate_type": "https://slsa.dev/provenance/v1",
        "limits": '{"high": 0, "tags": ["a"]}',
    }
    snap = snapshot(template(rego, declared), rule(values))
    seen = json.loads(compile_policy(snap).evaluate(evaluation(snap, gate_input())).reasons[0])
    assert seen == {
        "n": 3,
        "ratio": 0.5,
        "strict": False,
        "predicate_type": "https://slsa.dev/provenance/v1",
        "limits": {"high": 0, "tags": ["a"]},
    }


def test_a_different_rule_value_changes_the_answer() -> None:
    assert run(REGO, gate_input(3), max_vulns="2").status is Status.VIOLATION
    assert run(REGO, gate_input(3), max_vulns="5").status is Status.PASS


def test_warning_mode_warns_instead_of_blocking() -> None:
    snap = snapshot(template(), rule())
    outcome = compile_policy(snap, {**SPEC, "mode": "warning"}).evaluate(evaluation(snap, gate_input(9)))
    assert outcome.status is Status.VIOLATION and outcome.severity is Severity.WARN
    assert effect(outcome) is Effect.WARN


def test_a_template_change_takes_effect_without_recompiling_the_policy() -> None:
    """The engine's cache key holds the rule's last change, not its template's: the compiled policy
    notices a newer template in the evaluation's snapshot and re-binds."""
    old = snapshot(template(), rule())
    compiled = compile_policy(old)
    assert compiled.evaluate(evaluation(old, gate_input(5))).status is Status.VIOLATION
    lenient = REGO.replace("<= input.params.max_vulns", "<= input.params.max_vulns * 10")
    new = snapshot(template(lenient, at=later()), rule())
    assert compiled.evaluate(evaluation(new, gate_input(5))).status is Status.PASS
    assert compiled.evaluate(evaluation(old, gate_input(5))).status is Status.VIOLATION  # each its own snapshot


def test_a_deleted_template_is_an_error_not_an_allow() -> None:
    snap = snapshot(template(), rule())
    compiled = compile_policy(snap)
    with pytest.raises(CompileError, match="template 'tpl-1' of rule 'Two at most' does not exist"):
        compiled.evaluate(evaluation(snapshot(rule()), gate_input(0)))


@pytest.mark.parametrize(
    ("rego", "message"),
    [
        (
            'package p\nimport rego.v1\nallow := {"should_allow": count(input.data.vulnerabilities) / 0 > 1}\n',
            "rule 'Two at most' (template 'Max vulns'): line 3, column ",
        ),
        ('package p\nimport rego.v1\nallow := {"should_allow": to_number("x") > 1}\n', "could not parse"),
        ("package p\nimport rego.v1\nallow if input.data.missing\n", "data.p.allow is undefined for this input"),
        ('package p\nimport rego.v1\nallow := {"explanation": "?"}\n', "should_allow must be a boolean, got missing"),
        ('package p\nimport rego.v1\nallow := {"should_allow": "yes"}\n', "should_allow must be a boolean, got str"),
        (
            'package p\nimport rego.v1\nallow := {"should_allow": true, "explanation": 1}\n',
            "explanation must be a string",
        ),
        ("package p\nimport rego.v1\nallow := [true]\n", "must be an object with a boolean should_allow, got list"),
        ("package p\nimport rego.v1\nallow := 1 if true\nallow := 2 if true\n", "conflicts"),
    ],
)
def test_a_runtime_error_or_a_malformed_result_raises_with_the_reason(rego: str, message: str) -> None:
    """Raising is how an evaluator says "error": the engine denies with the message (never allows)."""
    with pytest.raises(RegoError) as info:
        run(rego, gate_input(1))
    assert message in str(info.value)
    assert "Stack backtrace" not in str(info.value)


def test_a_runaway_template_is_an_error_naming_its_budget_or_the_decisions_deadline() -> None:
    rego = (
        "package p\nimport rego.v1\nv := input.data.vulnerabilities\n"
        'allow := {"should_allow": count([1 | some a in v; some b in v; some c in v]) >= 0}\n'
    )
    snap = snapshot(template(rego), rule())
    compiled = compile_policy(snap)
    with pytest.raises(RegoError, match=r"\(template 'Max vulns'\): Rego evaluation exceeded its 250 ms time budget$"):
        compiled.evaluate(evaluation(snap, gate_input(1000)))
    assert compiled.evaluate(evaluation(snap, gate_input(3))).status is Status.PASS  # on a new worker
    cut_short = evaluation(snap, gate_input(1000))
    cut_short.deadline = time.monotonic() + 0.05
    with pytest.raises(DeadlineExceeded, match=r"^the deadline passed during Rego evaluation$"):
        compiled.evaluate(cut_short)


def test_a_template_without_allow_or_a_missing_rule_does_not_compile() -> None:
    with pytest.raises(CompileError, match=r"defines no 'allow' rule in package data\.p"):
        compile_policy(snapshot(template("package p\nimport rego.v1\ndeny := true\n"), rule()))
    with pytest.raises(CompileError, match="rule 'rule-1' does not exist"):
        compile_policy(snapshot(template()))


def test_project_scope_applies_to_its_projects_applications_at_its_gate() -> None:
    snap = snapshot(template(), rule())
    compiled = compile_policy(snap)
    assert compiled.applies(evaluation(snap, gate_input()))
    assert not compiled.applies(evaluation(snap, gate_input(project="other")))
    assert not compiled.applies(evaluation(snap, gate_input(project=None)))
    assert not compiled.applies(evaluation(snap, gate_input(stage="qa")))
    assert not compiled.applies(evaluation(snap, gate_input(gate="exit")))


def test_application_scope_applies_by_key_or_by_any_label_within_its_project() -> None:
    spec = {
        **SPEC,
        "scope": {
            "type": "application",
            "project_keys": ["my-project"],
            "application_keys": ["web-app"],
            "application_labels": [{"key": "tier", "value": "critical"}],
        },
    }
    snap = snapshot(template(), rule())
    compiled = compile_policy(snap, spec)
    applies = lambda **kw: compiled.applies(evaluation(snap, gate_input(**kw)))  # noqa: E731
    assert applies(key="web-app")
    assert applies(key="api", labels=[{"key": "tier", "value": "critical"}, {"key": "env", "value": "prod"}])
    assert applies(key="api", labels={"tier": "critical"})
    assert not applies(key="api", labels=[{"key": "tier", "value": "low"}])
    assert not applies(key="web-app", project="other")
    assert not applies(key="web-app", gate="release")


def test_application_scope_without_a_project_applies_in_any_project() -> None:
    spec = {**SPEC, "scope": {"type": "application", "application_keys": ["web-app"]}}
    snap = snapshot(template(), rule())
    compiled = compile_policy(snap, spec)
    assert compiled.applies(evaluation(snap, gate_input(key="web-app", project="any")))
    assert compiled.applies(evaluation(snap, gate_input(key="web-app", project=None)))
    assert not compiled.applies(evaluation(snap, gate_input(key="api")))


def test_a_policy_for_another_action_never_applies_at_a_gate() -> None:
    spec = {**SPEC, "action": {"type": "use_skill"}}
    snap = snapshot(template(), rule())
    assert not compile_policy(snap, spec).applies(evaluation(snap, gate_input()))
    assert GateScope.of(spec).stage is None


def test_typed_parameters() -> None:
    declared = [{"name": "n", "type": "int"}, {"name": "b", "type": "bool"}]
    assert typed_parameters([{"name": "n", "value": "-7"}, {"name": "b", "value": "true"}], declared) == {
        "n": -7,
        "b": True,
    }
    assert typed_parameters([{"name": "undeclared", "value": "7"}], declared) == {"undeclared": "7"}
