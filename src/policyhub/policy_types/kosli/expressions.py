"""The Kosli policy expression language (``${{ ... }}``): tokenizer, parser to an AST, evaluator.

Grammar (lowest precedence first; comparisons do not chain)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand (("==" | "!=" | "<" | ">" | "<=" | ">=") operand
                           | ["not"] "in" list)?
    operand    := STRING | NUMBER | "true" | "false" | "null" | list | call | variable | "(" expr ")"
    list       := "[" [item ("," item)* [","]] "]"      (an item may also be a bare word: a string)
    call       := ("exists" | "matches") "(" [expr ("," expr)*] ")"
    variable   := ("flow" | "artifact") ("." NAME)+    (NAME may contain "-": flow.tags.risk-level)

Positions are 0-based offsets into the parsed text; :class:`ExpressionError` reports 1-based columns.
Evaluation is pure: it reads ``variables`` and never mutates it.
"""

from __future__ import annotations

import re

from policyhub.policy_types.kosli.expr_ast import (
    BoolOp,
    Call,
    Compare,
    Expr,
    ExpressionError,
    ListExpr,
    Literal,
    Not,
    Token,
    Variable,
)
from policyhub.policy_types.kosli.expr_eval import evaluate, evaluate_condition
from policyhub.sandbox.regex import PatternBudget, pattern_problem

__all__ = [
    "BoolOp",
    "Call",
    "Compare",
    "Expr",
    "ExpressionError",
    "ListExpr",
    "Literal",
    "Not",
    "Token",
    "Variable",
    "evaluate",
    "evaluate_condition",
    "parse",
    "parse_template",
    "tokenize",
]

MAX_LENGTH = 4096
MAX_DEPTH = 32
FUNCTIONS = {"exists": 1, "matches": 2}
CONTEXT_FIELDS = {"flow": ("name", "tags"), "artifact": ("name", "fingerprint")}
KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<num>-?\d+(?:\.\d+)?(?![\w.-]))|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""|(?P<name>[A-Za-z_][\w-]*)|(?P<op>==|!=|<=|>=|<|>|[()\[\],.])"""
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Split ``text[start:end]`` into tokens (positions index ``text``); bad input is an ExpressionError."""
    tokens: list[Token] = []
    pos, end = start, len(text) if end is None else end
    while pos < end:
        match = _TOKEN.match(text, pos, end)
        if match is None:
            if text[pos] in "\"'":
                raise ExpressionError("unterminated string", pos)
            raise ExpressionError(f"unexpected character {text[pos]!r}", pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", end))
    return tokens


class _Parser:
    def __init__(self, text: str, start: int = 0, end: int | None = None, budget: PatternBudget | None = None) -> None:
        self.tokens = tokenize(text, start, end)
        self.i = 0
        self.depth = 0
        self.budget = budget

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> Token | None:
        if self.tok.kind in ("op", "name") and self.tok.text == text:
            return self.take()
        return None

    def expect(self, text: str) -> Token:
        tok = self.accept(text)
        if tok is None:
            raise ExpressionError(f"expected {text!r}, found {_describe(self.tok)}", self.tok.pos)
        return tok

    def parse(self) -> Expr:
        node = self.expr()
        if self.tok.kind != "end":
            raise ExpressionError(f"unexpected {_describe(self.tok)}", self.tok.pos)
        return node

    def expr(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("expression nests too deeply", self.tok.pos)
        operands = [self.and_expr()]
        pos = self.tok.pos
        while self.accept("or"):
            operands.append(self.and_expr())
        self.depth -= 1
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands), pos)

    def and_expr(self) -> Expr:
        operands = [self.not_expr()]
        pos = self.tok.pos
        while self.accept("and"):
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands), pos)

    def not_expr(self) -> Expr:
        if tok := self.accept("not"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError("expression nests too deeply", tok.pos)
            node = Not(self.not_expr(), tok.pos)
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.operand()
        tok = self.tok
        if tok.kind == "op" and tok.text in COMPARISONS:
            self.take()
            return Compare(tok.text, left, self.operand(), tok.pos)
        if self.accept("in"):
            return Compare("in", left, self.list_operand(), tok.pos)
        if tok.text == "not" and self.tokens[self.i + 1].text == "in":
            self.i += 2
            return Compare("not in", left, self.list_operand(), tok.pos)
        return left

    def list_operand(self) -> Expr:
        if self.tok.text != "[":
            raise ExpressionError(f"'in' needs a list literal, found {_describe(self.tok)}", self.tok.pos)
        return self.operand()

    def operand(self) -> Expr:
        tok = self.tok
        if tok.kind == "num":
            self.take()
            return Literal(float(tok.text) if "." in tok.text else int(tok.text), tok.pos)
        if tok.kind == "str":
            self.take()
            return Literal(_unquote(tok), tok.pos)
        if tok.text == "(" and tok.kind == "op":
            self.take()
            node = self.expr()
            self.expect(")")
            return node
        if tok.text == "[" and tok.kind == "op":
            return self.list_literal()
        if tok.kind == "name":
            return self.name_operand()
        raise ExpressionError(f"expected a value, found {_describe(tok)}", tok.pos)

    def list_literal(self) -> ListExpr:
        start = self.take()
        items: list[Expr] = []
        while not self.accept("]"):
            tok = self.tok
            bare = tok.kind == "name" and tok.text not in KEYWORDS and tok.text not in CONTEXT_FIELDS
            if bare and tok.text not in FUNCTIONS and self.tokens[self.i + 1].text != "(":
                self.take()
                items.append(Literal(tok.text, tok.pos))  # bare word: ["runner", differ]
            else:
                items.append(self.expr())
            if not self.accept(","):
                self.expect("]")
                break
        return ListExpr(tuple(items), start.pos)

    def name_operand(self) -> Expr:
        tok = self.take()
        constants = {"true": True, "false": False, "null": None}
        if tok.text in constants:
            return Literal(constants[tok.text], tok.pos)
        if tok.text in FUNCTIONS:
            return self.call(tok)
        if tok.text in CONTEXT_FIELDS:
            return self.variable(tok)
        if self.tok.text == "(":
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"unknown function {tok.text!r} (known: {known})", tok.pos)
        raise ExpressionError(f"unknown name {tok.text!r}: use flow.* or artifact.*, or quote a string", tok.pos)

    def call(self, name: Token) -> Call:
        self.expect("(")
        args: list[Expr] = []
        if not self.accept(")"):
            args.append(self.expr())
            while self.accept(","):
                args.append(self.expr())
            self.expect(")")
        arity = FUNCTIONS[name.text]
        if len(args) != arity:
            raise ExpressionError(f"{name.text}() takes {arity} argument(s), got {len(args)}", name.pos)
        if name.text == "matches" and isinstance(args[1], Literal):
            _check_regex(args[1], self.budget)
        return Call(name.text, tuple(args), name.pos)

    def variable(self, root: Token) -> Variable:
        path = [root.text]
        while self.tok.text == "." and self.tok.kind == "op":
            self.take()
            part = self.take()
            if part.kind not in ("name", "num"):
                raise ExpressionError(f"expected a field name, found {_describe(part)}", part.pos)
            path.append(part.text)
        fields = CONTEXT_FIELDS[root.text]
        if len(path) < 2 or path[1] not in fields:
            known = ", ".join(f"{root.text}.{f}" for f in fields)
            raise ExpressionError(f"unknown context variable {'.'.join(path)!r} (known: {known})", root.pos)
        if path[1] == "tags" and len(path) < 3:
            raise ExpressionError("flow.tags needs a key, e.g. flow.tags.team", root.pos)
        if path[1] != "tags" and len(path) > 2:
            raise ExpressionError(f"{root.text}.{path[1]} has no field {path[2]!r}", root.pos)
        return Variable(tuple(path), root.pos)


def _describe(tok: Token) -> str:
    return "end of expression" if tok.kind == "end" else repr(tok.text)


def _unquote(tok: Token) -> str:
    body = tok.text[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _check_regex(node: Literal, budget: PatternBudget | None) -> None:
    """A ``matches()`` pattern must run on RE2 (Go's syntax, as Kosli's own evaluator: linear time),
    within the ``budget`` the policy's patterns share."""
    if not isinstance(node.value, str):
        raise ExpressionError("matches() needs a string regular expression", node.pos)
    problem = pattern_problem(node.value) if budget is None else budget.problem(node.value)
    if problem is not None:
        raise ExpressionError(problem, node.pos)


def parse(text: str, start: int = 0, end: int | None = None, budget: PatternBudget | None = None) -> Expr:
    """Parse a bare expression (``text[start:end]``, without ``${{ }}``) to its AST; its ``matches()``
    patterns are charged to ``budget`` when one is given."""
    end = len(text) if end is None else end
    if end - start > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", start + MAX_LENGTH)
    node = _Parser(text, start, end, budget).parse()
    if isinstance(node, ListExpr) or (isinstance(node, Literal) and not isinstance(node.value, bool)):
        raise ExpressionError("expression must evaluate to a boolean", node.pos)
    return node


_TEMPLATE = re.compile(r"\s*\$\{\{(.*)\}\}\s*", re.DOTALL)


def parse_template(text: str, budget: PatternBudget | None = None) -> Expr:
    """Parse ``${{ expr }}``; AST and error positions are offsets into ``text`` itself."""
    match = _TEMPLATE.fullmatch(text)
    if match is None:
        raise ExpressionError("expression must be written as ${{ ... }}", 0)
    return parse(text, match.start(1), match.end(1), budget)
