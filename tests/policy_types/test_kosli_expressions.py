"""The ${{ ... }} expression language: parsing, positions, evaluation."""

from __future__ import annotations

import contextlib
import copy
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.policy_types.kosli.expr_compile import compile_condition
from policyhub.policy_types.kosli.expr_eval import MAX_MATCHED_CHARS
from policyhub.policy_types.kosli.expressions import (
    BoolOp,
    Call,
    Compare,
    ExpressionError,
    ListExpr,
    Literal,
    Not,
    Variable,
    evaluate,
    evaluate_condition,
    parse,
    parse_template,
    tokenize,
)

VARIABLES: dict[str, Any] = {
    "flow": {
        "name": "saver",
        "tags": {"risk-level": "3", "key.with.dots": "dotted", "team": "payments"},
    },
    "artifact": {"name": "datadog:7.1", "fingerprint": "a" * 64},
}


def test_tokenize_positions() -> None:
    tokens = tokenize('flow.name == "x"')
    assert [(t.kind, t.text, t.pos) for t in tokens] == [
        ("name", "flow", 0),
        ("op", ".", 4),
        ("name", "name", 5),
        ("op", "==", 10),
        ("str", '"x"', 13),
        ("end", "", 16),
    ]


def test_ast_shape_and_precedence() -> None:
    node = parse("not exists(flow.tags.team) or flow.name == \"a\" and artifact.name != 'b'")
    assert node == BoolOp(
        "or",
        (
            Not(Call("exists", (Variable(("flow", "tags", "team"), 11),), 4), 0),
            BoolOp(
                "and",
                (
                    Compare("==", Variable(("flow", "name"), 30), Literal("a", 43), 40),
                    Compare("!=", Variable(("artifact", "name"), 51), Literal("b", 68), 65),
                ),
                47,
            ),
        ),
        27,
    )


def test_bare_words_in_lists_are_strings() -> None:
    node = parse("flow.name in [\"runner\", 'saver', differ]")
    assert node == Compare(
        "in",
        Variable(("flow", "name"), 0),
        ListExpr((Literal("runner", 14), Literal("saver", 24), Literal("differ", 33)), 13),
        10,
    )


def test_template_positions_index_the_whole_text() -> None:
    node = parse_template("${{ flow.name == 'x' }}")
    assert node == Compare("==", Variable(("flow", "name"), 4), Literal("x", 17), 14)


def test_tag_keys_with_dashes_and_dots() -> None:
    assert parse("exists(flow.tags.key.with.dots)") == Call(
        "exists", (Variable(("flow", "tags", "key", "with", "dots"), 7),), 0
    )
    assert parse("flow.tags.risk-level >= 2") == Compare(
        ">=", Variable(("flow", "tags", "risk-level"), 0), Literal(2, 24), 21
    )


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("flow.name ==", 13, "expected a value, found end of expression"),
        ("flow.name = 'x'", 11, "unexpected character '='"),
        ("'abc", 1, "unterminated string"),
        ("flow.name == 'a' 'b'", 18, "unexpected \"'b'\""),
        ("(flow.name == 'a'", 18, "expected ')'"),
        ("foo(1)", 1, "unknown function 'foo'"),
        ("exists(flow.name, 1)", 1, "exists() takes 1 argument(s), got 2"),
        ("matches(artifact.name)", 1, "matches() takes 2 argument(s), got 1"),
        ("matches(artifact.name, '(')", 24, "invalid regular expression"),
        ("matches(artifact.name, 1)", 24, "needs a string regular expression"),
        ("flow.owner == 'x'", 1, "unknown context variable 'flow.owner'"),
        ("artifact.name.first == 'x'", 1, "artifact.name has no field 'first'"),
        ("exists(flow.tags)", 8, "flow.tags needs a key"),
        ("env.name == 'x'", 1, "unknown name 'env'"),
        ("flow.name in flow.tags.x", 14, "'in' needs a list literal"),
        ("flow.name == 'a' == 'b'", 18, "unexpected '=='"),
        ("'just a string'", 1, "must evaluate to a boolean"),
        ("[1, 2]", 1, "must evaluate to a boolean"),
        ("(" * 40 + "true" + ")" * 40, 33, "nests too deeply"),
        ("flow.name == 'x' @", 18, "unexpected character '@'"),
    ],
)
def test_parse_errors_carry_column(text: str, column: int, reason: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert reason in info.value.reason
    assert info.value.column == column
    assert str(info.value).endswith(f"at column {column}")


def test_template_errors_use_columns_of_the_whole_text() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_template("${{ flow.name = 'x' }}")
    assert info.value.column == 15
    with pytest.raises(ExpressionError, match="must be written as"):
        parse_template("flow.name == 'x'")


def test_overlong_expression_rejected() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        parse("true or " * 1000 + "true")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('flow.name == "saver"', True),
        ("flow.name != 'saver'", False),
        ("flow.name in [\"runner\", 'saver', differ]", True),
        ("flow.name not in [runner, differ]", True),
        ("flow.tags.risk-level >= 2", True),
        ("flow.tags.risk-level < 3", False),
        ("flow.tags.risk-level == 3", True),
        ('flow.tags.key.with.dots == "dotted"', True),
        ('matches(artifact.name, "^datadog:.*")', True),
        ('matches(artifact.name, "^nginx")', False),
        ("matches(flow.tags.missing, '.*')", False),
        ("exists(flow.tags.team)", True),
        ("exists(flow.tags.missing)", False),
        ("not exists(flow.tags.missing) and flow.name == 'saver'", True),
        ("flow.name == 'x' or flow.name == 'y' or flow.name == 'saver'", True),
        ("(flow.name == 'x' or flow.name == 'saver') and not (artifact.name == 'a')", True),
        ("flow.tags.missing == null", True),
        ("'b' > 'a'", True),
        ("true and false", False),
    ],
)
def test_evaluate(text: str, expected: bool) -> None:
    variables = copy.deepcopy(VARIABLES)
    assert evaluate_condition(parse(text), variables) is expected
    assert variables == VARIABLES  # evaluation never mutates its input


def test_evaluate_short_circuits() -> None:
    # the right-hand side would be a type error; "or" stops at the first true operand
    assert evaluate(parse("flow.name == 'saver' or flow.name < 3"), VARIABLES) is True
    assert evaluate(parse("flow.name == 'x' and flow.name < 3"), VARIABLES) is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("flow.name < 3", "cannot compare str with int using <"),
        ("flow.tags.missing >= 1", "cannot compare NoneType with int"),
        ("not flow.name", "expected a boolean, got str"),
    ],
)
def test_evaluation_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        evaluate(parse(text), VARIABLES)


def test_evaluate_condition_requires_boolean() -> None:
    with pytest.raises(ExpressionError, match="expected a boolean"):
        evaluate_condition(parse("flow.name"), VARIABLES)
    assert evaluate(parse("flow.name"), VARIABLES) == "saver"


def test_evaluate_with_missing_contexts() -> None:
    assert evaluate_condition(parse("exists(artifact.name)"), {}) is False
    assert evaluate_condition(parse("flow.name == 'x'"), {"flow": "not a mapping"}) is False


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("flow.name artifact tags()[],'\"=!<>andornotin 0123-_$"))))
def test_parse_raises_only_expression_error(text: str) -> None:
    try:
        node = parse(text)
    except ExpressionError:
        return
    with contextlib.suppress(ExpressionError):
        evaluate(node, VARIABLES)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_parse_template_any_text(text: str) -> None:
    try:
        parse_template(text)
    except ExpressionError as exc:
        assert exc.column >= 1


@pytest.mark.parametrize(
    ("text", "variables", "message"),
    [
        ('matches(artifact.name, "a")', {"artifact": {"name": "a" * (MAX_MATCHED_CHARS + 1)}}, "longer than 8192"),
        ("matches(artifact.name, flow.tags.re)", {"artifact": {"name": "a"}, "flow": {"tags": {"re": "(?=a)"}}}, "RE2"),
    ],
)
def test_matches_errors_are_expression_errors_in_both_evaluators(
    text: str, variables: dict[str, Any], message: str
) -> None:
    """A text over the matching budget, or a pattern from the input that RE2 cannot run, is an
    ExpressionError (the rule fails closed), from the tree walker and from the compiled closure alike."""
    node = parse(text)
    with pytest.raises(ExpressionError, match=message):
        evaluate(node, variables)
    with pytest.raises(ExpressionError, match=message):
        compile_condition(node)(variables)


def test_matches_searches_in_linear_time() -> None:
    variables = {"artifact": {"name": "a" * 40 + "!"}}  # Python's backtracking engine: hours
    node = parse('matches(artifact.name, "(a+)+$")')
    assert evaluate(node, variables) is False
    assert compile_condition(node)(variables) is False


def test_a_costly_pattern_from_the_input_is_refused_after_a_millisecond_of_compiling() -> None:
    """A policy's own patterns may compile for up to ~100 ms (once, within its budget, when written); one
    that arrives with each decision (a flow tag) gets a small RE2 memory, so it is refused almost at once."""
    costly = r"(?i)^[\pL\pN ._-]{1,255}$"  # ~350,000 RE2 instructions
    variables = {"artifact": {"name": "a"}, "flow": {"tags": {"re": costly}}}
    node = parse("matches(artifact.name, flow.tags.re)")
    started = time.perf_counter()
    for run in (evaluate, lambda n, v: compile_condition(n)(v)):
        with pytest.raises(ExpressionError, match="too large"):
            run(node, variables)
    assert time.perf_counter() - started < 1  # with the policy budget: ~0.2 s
    assert evaluate(parse(f'matches(artifact.name, "{costly}")'.replace("\\", "\\\\")), variables) is True
