"""Template Rego through the real engine: write-time checks, threads, and parameter typing (Hypothesis)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.evaluation.outcome import Status
from policyhub.policy_types.jfrog import validate_template
from policyhub.policy_types.jfrog.program import RegoProgram, parse

from ..helpers import error_map
from .world import REGO, compile_policy, evaluation, gate_input, rule, snapshot, template

TEMPLATE: dict[str, Any] = {
    "name": "Max vulnerabilities",
    "version": "1.0.0",
    "category": "security",
    "data_source_type": "evidence",
    "rego": REGO,
    "parameters": [{"name": "max_vulns", "type": "int"}],
}


def rego_error(rego: str) -> str:
    errors = error_map(lambda: validate_template({**TEMPLATE, "rego": rego}))
    assert list(errors) == ["rego"]
    return errors["rego"]


def test_a_syntax_error_is_rejected_at_write_time_with_its_position() -> None:
    message = rego_error("package curation.policies\n\nimport rego.v1\n\nallow if {\n    input.a ==\n}\n")
    assert message.startswith("is not valid Rego: line 7, column 1: ")


def test_a_v0_template_is_accepted_and_told_about_v0_mistakes() -> None:
    assert validate_template(
        {**TEMPLATE, "rego": "package unifiedpolicy\n\ndefault allow = false\n\nallow {\n  true\n}\n"}
    )
    message = rego_error("package unifiedpolicy\n\nallow {\n  input.a ==\n}\n")
    assert message.startswith("is not valid Rego: line 3, column 7: ")
    assert "`if`" not in message  # the v0 parser's complaint, not v1's "`if` keyword is required"


def test_a_template_must_define_allow() -> None:
    message = rego_error("package curation.policies\nimport rego.v1\nshould_allow := true\n")
    assert message.startswith("must define an 'allow' rule (JFrog evaluates data.curation.policies.allow")


@pytest.mark.parametrize(
    ("call", "name"),
    [("time.now_ns()", "time.now_ns"), ('rand.intn("x", 10)', "rand.intn"), ("opa.runtime()", "opa.runtime")],
)
def test_builtins_the_engine_would_run_are_still_rejected_at_write_time(call: str, name: str) -> None:
    rego = f'package curation.policies\nimport rego.v1\nallow := {{"should_allow": {call} != 0}}\n'
    assert parse(rego).package == "data.curation.policies"  # the real engine parses it...
    assert rego_error(rego).startswith(f"uses functions that are not allowed: {name}.")  # ...the allow-list refuses it


def test_time_now_ns_really_runs_in_the_engine_so_the_allow_list_matters() -> None:
    program = RegoProgram('package p\nimport rego.v1\nallow := {"should_allow": time.now_ns() > 0}\n')
    assert program.evaluate({}) == {"should_allow": True}


def test_concurrent_evaluations_from_many_threads_share_the_sandbox_workers() -> None:
    """Evaluations from many threads at once each get a worker of the Rego sandbox (or wait for one)."""
    snap = snapshot(template(), rule({"max_vulns": "5"}))
    compiled = compile_policy(snap)
    seen_threads: set[int] = set()
    lock = threading.Lock()

    def decide(n: int) -> tuple[int, Status]:
        with lock:
            seen_threads.add(threading.get_ident())
        return n, compiled.evaluate(evaluation(snap, gate_input(n % 9))).status

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(decide, range(400)))
    assert all(status is (Status.PASS if n % 9 <= 5 else Status.VIOLATION) for n, status in answers)
    assert len(seen_threads) > 1


PARAMETER_VALUES = st.one_of(
    st.tuples(st.just("int"), st.integers(min_value=-(2**53), max_value=2**53)),
    st.tuples(st.just("bool"), st.booleans()),
    st.tuples(st.just("string"), st.text(max_size=30)),
    st.tuples(st.just("float"), st.floats(allow_nan=False, allow_infinity=False, width=32)),
)


@settings(max_examples=60, deadline=None)
@given(PARAMETER_VALUES)
def test_a_rule_value_reaches_the_rego_as_the_declared_type(typed: tuple[str, Any]) -> None:
    """The rule stores a string; the template sees the value of its declared type (equal to the same
    value given as evidence)."""
    kind, value = typed
    as_string = {"bool": lambda v: "true" if v else "false"}.get(kind, str)(value)
    rego = 'package p\nimport rego.v1\nallow := {"should_allow": input.params.x == input.data.x}\n'
    snap = snapshot(template(rego, [{"name": "x", "type": kind}]), rule({"x": as_string}))
    outcome = compile_policy(snap).evaluate(evaluation(snap, gate_input(evidence={"x": value})))
    assert outcome.status is Status.PASS, (kind, value, as_string)
