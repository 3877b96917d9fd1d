"""Kosli expression ASTs compiled to Python closures, once per policy version.

A compiled condition gives exactly what :func:`expr_eval.evaluate_condition` gives for the same AST
and variables (same values, same :class:`ExpressionError` for the same inputs; a property test holds
the two together), without walking the tree on every evaluation: variable paths are split once,
``matches`` patterns compiled once (RE2), and comparisons with a plain (non-numeric) string literal, the
common case, reduce to ``==`` (``expr_eval`` only treats numeric-looking strings specially). Other
comparisons and calls reuse ``expr_eval``'s own rules (its ``_compare`` and ``_call``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from policyhub.policy_types.kosli import expr_eval
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
from policyhub.sandbox.regex import compile_pattern

Compiled = Callable[[dict[str, Any]], Any]
_NUMERIC = re.compile(r"\s*-?\d+(\.\d+)?\s*")


def compile_condition(node: Expr) -> Callable[[dict[str, Any]], bool]:
    """A closure evaluating ``node`` against the variables and requiring a boolean."""
    value = compile_expr(node)
    pos = node.pos

    def condition(variables: dict[str, Any]) -> bool:
        return _truth(value(variables), pos)

    return condition


def compile_expr(node: Expr) -> Compiled:
    if isinstance(node, Literal):
        constant = node.value
        return lambda _: constant
    if isinstance(node, ListExpr):
        items = [compile_expr(i) for i in node.items]
        return lambda v: [item(v) for item in items]
    if isinstance(node, Variable):
        return _variable(node.path)
    if isinstance(node, Not):
        operand, pos = compile_expr(node.operand), node.pos
        return lambda v: not _truth(operand(v), pos)
    if isinstance(node, BoolOp):
        return _bool_op(node)
    if isinstance(node, Compare):
        return _compare(node)
    return _call(node)


def _truth(value: Any, pos: int) -> bool:
    if value is True or value is False:
        return value
    raise ExpressionError(f"expected a boolean, got {type(value).__name__}", pos)


def _variable(path: tuple[str, ...]) -> Compiled:
    """``expr_eval._lookup`` without recursion or joining: at each level, the dotted keys longest first."""
    parts = list(path)
    levels = [[(".".join(parts[i:end]), end) for end in range(len(parts), i, -1)] for i in range(len(parts))]
    depth = len(parts)

    def lookup(obj: Any) -> Any:
        i = 0
        while i < depth:
            if not isinstance(obj, dict):
                return None
            for key, end in levels[i]:
                if key in obj:
                    obj, i = obj[key], end
                    break
            else:
                return None
        return obj

    return lookup


def _bool_op(node: BoolOp) -> Compiled:
    operands = [(compile_expr(o), o.pos) for o in node.operands]
    if node.op == "or":

        def any_true(v: dict[str, Any]) -> bool:
            return any(_truth(operand(v), pos) for operand, pos in operands)

        return any_true

    def all_true(v: dict[str, Any]) -> bool:
        return all(_truth(operand(v), pos) for operand, pos in operands)

    return all_true


def _plain_string(node: Expr) -> bool:
    """A string literal that ``expr_eval`` compares with plain equality (it is not numeric-looking)."""
    return isinstance(node, Literal) and isinstance(node.value, str) and not _NUMERIC.fullmatch(node.value)


def _compare(node: Compare) -> Compiled:
    left, right = compile_expr(node.left), compile_expr(node.right)
    if node.op in ("==", "!=") and (_plain_string(node.left) or _plain_string(node.right)):
        if node.op == "==":
            return lambda v: bool(left(v) == right(v))
        return lambda v: bool(left(v) != right(v))
    if node.op in ("in", "not in") and isinstance(node.right, ListExpr) and all(map(_plain_string, node.right.items)):
        members = tuple(item.value for item in node.right.items if isinstance(item, Literal))
        if node.op == "in":
            return lambda v: any(left(v) == m for m in members)
        return lambda v: not any(left(v) == m for m in members)

    def general(v: dict[str, Any]) -> bool:
        return expr_eval._compare(node, left(v), right(v))

    return general


def _call(node: Call) -> Compiled:
    args = [compile_expr(a) for a in node.args]
    if node.name == "exists":
        arg = args[0]
        return lambda v: arg(v) is not None
    pattern = node.args[1]
    if isinstance(pattern, Literal) and isinstance(pattern.value, str):
        compiled, value, pos = compile_pattern(pattern.value), args[0], node.pos  # the parser checked it

        def matches(v: dict[str, Any]) -> bool:
            found = value(v)
            return False if found is None else expr_eval.search(compiled, found, pos)

        return matches

    def general(v: dict[str, Any]) -> bool:
        return expr_eval._call(node, [a(v) for a in args])

    return general
