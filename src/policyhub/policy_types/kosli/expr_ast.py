"""AST nodes of the Kosli policy expression language, and its error type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ExpressionError(ValueError):
    """A syntax error (or, from :func:`evaluate`, an evaluation error) at ``pos`` (0-based)."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(f"{message} at column {pos + 1}")
        self.reason = message
        self.pos = pos

    @property
    def column(self) -> int:
        return self.pos + 1


@dataclass(frozen=True)
class Token:
    kind: str  # num | str | name | op | end
    text: str
    pos: int


@dataclass(frozen=True)
class Literal:
    value: Any
    pos: int


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Expr, ...]
    pos: int


@dataclass(frozen=True)
class Variable:
    path: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    pos: int


@dataclass(frozen=True)
class Not:
    operand: Expr
    pos: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]  # flattened chain: a or b or c
    pos: int


@dataclass(frozen=True)
class Compare:
    op: str  # == != < > <= >= in "not in"
    left: Expr
    right: Expr
    pos: int


Expr = Literal | ListExpr | Variable | Call | Not | BoolOp | Compare
