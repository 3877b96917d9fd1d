"""Evaluation of Kosli expression ASTs: pure, reads ``variables`` and never mutates it."""

from __future__ import annotations

import re
from typing import Any

from policyhub.policy_types.kosli.expr_ast import (
    BoolOp,
    Call,
    Compare,
    Expr,
    ExpressionError,
    ListExpr,
    Literal,
    Not,
    Variable,
)
from policyhub.sandbox.regex import MAX_PATTERN_MEMORY, PatternError, SafePattern, compile_pattern

#: Longest text ``matches()`` searches: names are at most 1,024 characters; a flow tag is a label. RE2 is
#: linear, but a pattern its DFA cannot cache costs about 1 us a character, for every trail of every artifact.
MAX_MATCHED_CHARS = 8192
#: RE2 memory for a ``matches()`` pattern that arrives in the decision's input (a flow tag), compiled per
#: decision: ~1 ms at most to compile (a policy's own patterns were checked, within a budget, when written).
INPUT_PATTERN_MEMORY = 256 << 10


def evaluate(node: Expr, variables: dict[str, Any]) -> Any:
    """Evaluate ``node`` against ``variables`` (``{"flow": {...}, "artifact": {...}}``).

    Missing variables are ``None``. Raises :class:`ExpressionError` for type errors such as
    ordering a string against a list, or an invalid regular expression given at run time.
    """
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, ListExpr):
        return [evaluate(item, variables) for item in node.items]
    if isinstance(node, Variable):
        return _lookup(variables, list(node.path))
    if isinstance(node, Not):
        return not _truth(evaluate(node.operand, variables), node.pos)
    if isinstance(node, BoolOp):
        short_circuit = node.op == "or"  # or: stop at the first true; and: at the first false
        for operand in node.operands:
            if _truth(evaluate(operand, variables), operand.pos) == short_circuit:
                return short_circuit
        return not short_circuit
    if isinstance(node, Compare):
        return _compare(node, evaluate(node.left, variables), evaluate(node.right, variables))
    return _call(node, [evaluate(arg, variables) for arg in node.args])


def evaluate_condition(node: Expr, variables: dict[str, Any]) -> bool:
    """Evaluate ``node`` and require a boolean result."""
    return _truth(evaluate(node, variables), node.pos)


def _truth(value: Any, pos: int) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(f"expected a boolean, got {type(value).__name__}", pos)
    return value


def _lookup(obj: Any, parts: list[str]) -> Any:
    """Dotted lookup; a key may itself contain dots (``flow.tags.key.with.dots``): longest first."""
    if not parts:
        return obj
    if not isinstance(obj, dict):
        return None
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        if key in obj:
            return _lookup(obj[key], parts[end:])
    return None


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value) else None
        except ValueError:
            return None
    return None


def _compare(node: Compare, left: Any, right: Any) -> bool:
    if node.op in ("in", "not in"):
        found = isinstance(right, list) and any(_equal(left, item) for item in right)
        return found if node.op == "in" else not found
    if node.op == "==":
        return _equal(left, right)
    if node.op == "!=":
        return not _equal(left, right)
    pair = _ordered(left, right)
    if pair is None:
        raise ExpressionError(
            f"cannot compare {type(left).__name__} with {type(right).__name__} using {node.op}", node.pos
        )
    a, b = pair
    return bool({"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[node.op])


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None and not (isinstance(left, str) and isinstance(right, str)):
        return ln == rn
    return bool(left == right)


def _ordered(left: Any, right: Any) -> tuple[Any, Any] | None:
    if isinstance(left, str) and isinstance(right, str):
        ln, rn = _number(left), _number(right)
        return (ln, rn) if ln is not None and rn is not None else (left, right)
    ln, rn = _number(left), _number(right)
    return None if ln is None or rn is None else (ln, rn)


def _call(node: Call, args: list[Any]) -> bool:
    if node.name == "exists":
        return args[0] is not None
    value, pattern = args
    if not isinstance(pattern, str):
        raise ExpressionError("matches() needs a string regular expression", node.pos)
    if value is None:
        return False
    try:
        literal = isinstance(node.args[1], Literal)  # checked when the policy was written
        compiled = compile_pattern(pattern, max_memory=MAX_PATTERN_MEMORY if literal else INPUT_PATTERN_MEMORY)
    except PatternError as exc:
        raise ExpressionError(str(exc), node.pos) from None
    return search(compiled, value, node.pos)


def search(pattern: SafePattern, value: Any, pos: int) -> bool:
    """``matches()``: does ``pattern`` occur in ``value`` (as text)? RE2, so linear in the text; a text
    longer than :data:`MAX_MATCHED_CHARS` is an ExpressionError (the rule then fails closed)."""
    text = str(value)
    if len(text) > MAX_MATCHED_CHARS:
        raise ExpressionError(f"matches(): a text of {len(text)} characters is longer than {MAX_MATCHED_CHARS}", pos)
    return pattern.search(text)
