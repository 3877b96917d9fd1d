"""Apinizer ``policyCondition`` compiled once into a predicate: does the policy run for this request?

- The top-level ``conditionRuleList`` must all hold (Apinizer creates a default AND); an empty list
  always holds. ``AND``/``OR``/``NOT`` combine their nested rules; ``VALUE`` compares ``firstVariable``
  (see :mod:`.variables`) with ``secondValue`` or ``secondVariable`` as ``variableDataType``:
  - ``STRING``: text comparison (``LT``... lexicographic);
  - ``NUMERIC``: decimal numbers;
  - ``DATE``: both sides parsed with ``dateFormat`` (Java ``SimpleDateFormat`` letters: ``yyyy MM dd
    HH mm ss SSS a EEE MMM Z X``, quoted literals). A ``CURRENT_TIME`` value is first formatted with it,
    so ``HH:mm`` compares times of day;
  - ``BOOLEAN``: ``true``/``false``, case-insensitive.
- ``IN``/``NOT_IN``: the second value is a comma-separated list.
- ``IS_EMPTY`` holds for a missing or empty value; ``IS_EXISTS`` for any value that is present.
- A value that is missing or is not of the data type makes every comparison false, except the
  negative operators (``NE``, ``NOT_CONTAINS``, ``NOT_IN``), which are exactly the negation of their
  positive twins and so hold.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from policyhub.evaluation.compiled import Evaluation
from policyhub.policy_types.apinizer.variables import Getter, compile_variable, text

if TYPE_CHECKING:
    from policyhub.policy_types.apinizer.common import ConditionRule, PolicyCondition

Predicate = Callable[[Evaluation], bool]
Coerce = Callable[[Any], Any]

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": operator.eq,
    "LT": operator.lt,
    "LE": operator.le,
    "GT": operator.gt,
    "GE": operator.ge,
    "STARTS_WITH": lambda a, b: a.startswith(b),
    "ENDS_WITH": lambda a, b: a.endswith(b),
    "CONTAINS": lambda a, b: b in a,
    "IN": lambda a, b: a in b,
}
_NEGATIONS = {"NE": "EQ", "NOT_CONTAINS": "CONTAINS", "NOT_IN": "IN"}


def compile_condition(condition: PolicyCondition | None) -> Predicate | None:
    """The policy's gate, or None when it always holds."""
    if condition is None or not condition.conditionRuleList:
        return None
    rules = [compile_rule(rule) for rule in condition.conditionRuleList]
    if len(rules) == 1:
        return rules[0]
    return lambda ev: all(rule(ev) for rule in rules)


def compile_rule(rule: ConditionRule) -> Predicate:
    children = [compile_rule(child) for child in rule.conditionRuleList or []]
    if rule.conditionCriteria == "AND":
        return lambda ev: all(child(ev) for child in children)
    if rule.conditionCriteria == "OR":
        return lambda ev: any(child(ev) for child in children)
    if rule.conditionCriteria == "NOT":
        return lambda ev: not all(child(ev) for child in children)
    return _value_rule(rule)


def _value_rule(rule: ConditionRule) -> Predicate:
    if rule.firstVariable is None or rule.valueComparisonOperator is None:
        raise ValueError("a VALUE rule needs firstVariable and valueComparisonOperator")
    first = compile_variable(rule.firstVariable)
    op = rule.valueComparisonOperator
    if op == "IS_EXISTS":
        return lambda ev: first(ev) is not None
    if op == "IS_NOT_EXISTS":
        return lambda ev: first(ev) is None
    if op in ("IS_EMPTY", "IS_NOT_EMPTY"):
        want_empty = op == "IS_EMPTY"
        return lambda ev: (first(ev) in (None, "", [])) is want_empty
    coerce = _coercion(rule)
    negate = op in _NEGATIONS
    compare = _ORDERING[_NEGATIONS.get(op, op)]
    listed = op in ("IN", "NOT_IN")
    second = _second(rule, coerce, listed)

    def holds(ev: Evaluation) -> bool:
        a = coerce(first(ev))
        b = second(ev)
        if a is None or b is None:
            return negate
        try:
            return compare(a, b) is not negate
        except (TypeError, AttributeError):  # values of another type than the rule's (a list, a number)
            return negate

    return holds


def _second(rule: ConditionRule, coerce: Coerce, listed: bool) -> Getter:
    if rule.secondValueSource == "VARIABLE":
        if rule.secondVariable is None:
            raise ValueError("secondVariable is required when secondValueSource is VARIABLE")
        getter = compile_variable(rule.secondVariable)
        if listed:
            return lambda ev: _coerce_list(text(getter(ev)), coerce)
        return lambda ev: coerce(getter(ev))
    if rule.secondValue is None:
        raise ValueError("secondValue is required when secondValueSource is VALUE")
    constant = _coerce_list(rule.secondValue, coerce) if listed else coerce(rule.secondValue)
    if constant is None or (listed and None in constant):
        raise ValueError(f"secondValue {rule.secondValue!r} is not a {rule.variableDataType} value")
    return lambda ev: constant


def _coerce_list(value: str | None, coerce: Coerce) -> list[Any] | None:
    if value is None:
        return None
    return [coerce(item.strip()) for item in value.split(",")]


# -- data types -----------------------------------------------------------------------------------------
def _coercion(rule: ConditionRule) -> Coerce:
    data_type = rule.variableDataType or "STRING"
    if data_type == "NUMERIC":
        return _number
    if data_type == "BOOLEAN":
        return _boolean
    if data_type == "DATE":
        return _date_parser(java_date_format(rule.dateFormat or "yyyy-MM-dd"))
    return text


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(value if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    lowered = text(value)
    if lowered is None:
        return None
    lowered = lowered.strip().lower()
    return True if lowered == "true" else False if lowered == "false" else None


def _date_parser(fmt: str) -> Coerce:
    def parse(value: Any) -> datetime | None:
        if value is None:
            return None
        try:
            moment = datetime.strptime(value.strftime(fmt) if isinstance(value, datetime) else str(value), fmt)
        except (ValueError, TypeError):
            return None
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment

    return parse


_JAVA_LETTERS: dict[str, Callable[[int], str]] = {
    "y": lambda n: "%y" if n == 2 else "%Y",
    "M": lambda n: "%m" if n <= 2 else "%b" if n == 3 else "%B",
    "d": lambda n: "%d",
    "H": lambda n: "%H",
    "h": lambda n: "%I",
    "m": lambda n: "%M",
    "s": lambda n: "%S",
    "S": lambda n: "%f",
    "a": lambda n: "%p",
    "E": lambda n: "%a" if n <= 3 else "%A",
    "D": lambda n: "%j",
    "Z": lambda n: "%z",
    "X": lambda n: "%z",
    "z": lambda n: "%Z",
}


def java_date_format(pattern: str) -> str:
    """A Java ``SimpleDateFormat`` pattern as a ``strptime`` format (ValueError for unsupported letters)."""
    out: list[str] = []
    for token in re.finditer(r"'((?:[^']|'')*)'|([A-Za-z])\2*|[^A-Za-z']+|'", pattern):
        quoted, letter = token.group(1), token.group(2)
        if quoted is not None:  # '' is a quote, inside quotes or out
            out.append(quoted.replace("''", "'").replace("%", "%%") if quoted else "'")
        elif letter is not None:
            if letter not in _JAVA_LETTERS:
                raise ValueError(f"unsupported date format letter {letter!r} in {pattern!r}")
            out.append(_JAVA_LETTERS[letter](len(token.group(0))))
        else:
            out.append(token.group(0).replace("%", "%%").replace("'", ""))
    return "".join(out)
