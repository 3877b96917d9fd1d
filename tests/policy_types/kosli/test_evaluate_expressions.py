"""Compiled conditions agree with the reference evaluator (``expr_eval``) on any expression and context."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.policy_types.kosli.expr_compile import compile_condition
from policyhub.policy_types.kosli.expr_eval import evaluate_condition
from policyhub.policy_types.kosli.expressions import ExpressionError, parse

VARIABLES = ("flow.name", "flow.tags.risk", "flow.tags.a.b", "flow.tags.level", "artifact.name", "artifact.fingerprint")
LITERALS = ('"high"', "'low'", '"2"', '" 3 "', "2", "-1", "2.5", "true", "false", "null", '"a.b"', '""')

operand = st.sampled_from((*VARIABLES, *LITERALS))
lists = st.lists(st.sampled_from((*LITERALS, "bare", "x-y")), max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]")
comparison = st.one_of(
    st.tuples(operand, st.sampled_from(("==", "!=", "<", ">", "<=", ">=")), operand).map(" ".join),
    st.tuples(operand, st.sampled_from(("in", "not in")), lists).map(" ".join),
    operand.map(lambda o: f"exists({o})"),
    st.tuples(operand, st.sampled_from(('"^h"', '"\\\\d"', '"a.b"'))).map(lambda t: f"matches({t[0]}, {t[1]})"),
    st.sampled_from(("true", "false", "flow.name", "flow.tags.level")),  # non-booleans too: both must raise
)
expressions = st.recursive(
    comparison,
    lambda inner: st.one_of(
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"({e})"),
        st.tuples(inner, st.sampled_from(("and", "or")), inner).map(" ".join),
    ),
    max_leaves=6,
)
scalars = st.one_of(
    st.sampled_from(("high", "low", "2", " 3 ", "a.b", "")), st.integers(-3, 3), st.floats(-3, 3), st.booleans()
)
tags = st.dictionaries(st.sampled_from(("risk", "a", "a.b", "level", "b")), scalars, max_size=4)
flows = st.one_of(st.none(), st.fixed_dictionaries({"name": scalars, "tags": tags}))
artifacts = st.fixed_dictionaries({"name": st.one_of(st.none(), scalars), "fingerprint": st.just("f" * 64)})


def outcome(call: Any) -> tuple[str, Any]:
    try:
        return ("value", call())
    except ExpressionError as exc:
        return ("error", (exc.reason, exc.pos))


@settings(max_examples=1500, deadline=None)
@given(expressions, flows, artifacts)
def test_compiled_agrees_with_the_reference(text: str, flow: Any, artifact: dict[str, Any]) -> None:
    try:
        node = parse(text)
    except ExpressionError:
        return  # e.g. a top-level literal: not a condition
    variables = {"flow": flow, "artifact": artifact}
    assert outcome(lambda: compile_condition(node)(variables)) == outcome(lambda: evaluate_condition(node, variables))


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ('flow.tags.a.b == "x"', {"flow": {"tags": {"a.b": "x"}}}, True),
        ('flow.tags.a.b == "x"', {"flow": {"tags": {"a": "y"}}}, False),
        ('flow.name in ["ci", deploy]', {"flow": {"name": "deploy"}}, True),
        ("flow.tags.level >= 2", {"flow": {"tags": {"level": "3"}}}, True),
        ('flow.tags.level == "2"', {"flow": {"tags": {"level": 2}}}, True),  # numeric-looking: not plain equality
        ('not matches(artifact.name, "^dd")', {"artifact": {"name": None}}, True),
        ("exists(flow.name)", {"flow": None}, False),
    ],
)
def test_compiled_examples(text: str, variables: dict[str, Any], expected: bool) -> None:
    node = parse(text)
    assert compile_condition(node)(variables) is expected
    assert evaluate_condition(node, variables) is expected


def test_non_boolean_is_the_same_error() -> None:
    node = parse("not flow.name")
    with pytest.raises(ExpressionError, match="expected a boolean, got str") as compiled:
        compile_condition(node)({"flow": {"name": "x"}})
    with pytest.raises(ExpressionError) as reference:
        evaluate_condition(node, {"flow": {"name": "x"}})
    assert compiled.value.pos == reference.value.pos
