"""The JSON Schema validator class tenant schemas run in: RE2 patterns, linear keywords, a budget per validation.

``jsonschema``'s own keywords match ``pattern`` and ``patternProperties`` (and the property lookups of
``additionalProperties`` and ``unevaluatedProperties``) with Python's backtracking ``re``: ``(a+)+$``
against 40 ``a``s and a ``!`` never finishes. They also compare ``uniqueItems`` pairwise, look
unevaluated properties up in a list (both quadratic), and collect every error of every ``anyOf``/``oneOf``
branch. Here those keywords use RE2 and hashing, so each
is linear in what it looks at, and *every* keyword application is paid from the :class:`Budget` of the
validation in progress (a step count and a deadline): a schema whose ``$ref``s or ``anyOf``s multiply
the work stops with :class:`ValidationBudgetExceeded` instead of holding the writer thread.

Only :mod:`policyhub.sandbox.json_schema` builds validators of this class (with a registry that never
retrieves anything); use it, not this module.
"""

from __future__ import annotations

import reprlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.validators import extend

from policyhub.sandbox.regex import PatternError, SafePattern, compile_pattern

#: Keyword applications one validation may make: a base, plus some per JSON value of the document (legitimate
#: work grows with the document; a schema whose ``anyOf``/``$ref`` chains multiply the work does not need a
#: large one to blow up), at most MAX_STEPS (3-10 us each: 15-50 ms for the base;
#: MAX_SECONDS stops the most first).
BASE_STEPS = 5_000
STEPS_PER_VALUE = 20
MAX_STEPS = 150_000
#: Wall-clock bound of one validation, whatever its steps cost (a step may format a large value).
MAX_SECONDS = 0.5

Keyword = Callable[[Any, Any, Any, Any], Iterable[ValidationError] | None]


class SchemaRefused(ValueError):
    """A schema PolicyHub will not run; ``path`` is where in the schema (``("properties", "a", "$ref")``)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class ValidationBudgetExceeded(ValueError):
    """One validation used more steps or time than its budget (the document is refused, saying so)."""


class Budget:
    """What one validation may still spend: keyword applications and time."""

    __slots__ = ("deadline", "seconds", "steps", "steps_left")

    def __init__(self, steps: int = MAX_STEPS, seconds: float = MAX_SECONDS) -> None:
        self.steps = steps
        self.steps_left = steps
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def spend(self) -> None:
        self.steps_left -= 1
        if self.steps_left < 0:
            raise ValidationBudgetExceeded(f"validation needed more than {self.steps} schema keyword applications")
        if time.monotonic() > self.deadline:
            raise ValidationBudgetExceeded(f"validation took longer than {self.seconds:g} s")


_BUDGET: ContextVar[Budget | None] = ContextVar("policyhub_json_schema_budget", default=None)


@contextmanager
def budget(steps: int = MAX_STEPS, seconds: float = MAX_SECONDS) -> Iterator[Budget]:
    """Run validations of :data:`BoundedValidator` inside this: they pay from the budget it yields."""
    spent = Budget(steps, seconds)
    token = _BUDGET.set(spent)
    try:
        yield spent
    finally:
        _BUDGET.reset(token)


def _counted(keyword: Keyword) -> Keyword:
    def apply(validator: Any, value: Any, instance: Any, schema: Any) -> Iterable[ValidationError] | None:
        spent = _BUDGET.get()
        if spent is None:
            raise RuntimeError("a bounded JSON Schema validator was used outside sandbox.json_schema_keywords.budget()")
        spent.spend()
        return keyword(validator, value, instance, schema)

    apply.__name__ = apply.__qualname__ = getattr(keyword, "__name__", "keyword")
    return apply


_BRIEF = reprlib.Repr()
_BRIEF.maxstring = _BRIEF.maxother = 80
_BRIEF.maxlist = _BRIEF.maxdict = 5
_BRIEF.maxlevel = 2


def brief(value: Any) -> str:
    """A short repr of a value of any size (cost bounded by the repr's size, not the value's)."""
    return _BRIEF.repr(value)


def regex(pattern: Any) -> SafePattern:
    try:
        return compile_pattern(pattern)
    except PatternError as exc:  # compile_schema refuses these first; kept for a schema that slips past
        raise SchemaRefused((), f"pattern {brief(pattern)}: {exc}") from None


def _pattern(validator: Any, pattern: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not regex(pattern).search(instance):
        yield ValidationError(f"{brief(instance)} does not match {brief(pattern)}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        compiled = regex(pattern)
        for name, value in instance.items():
            if compiled.search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional(instance: dict[str, Any], schema: dict[str, Any]) -> Iterator[str]:
    """The properties neither ``properties`` nor ``patternProperties`` of ``schema`` covers."""
    properties = schema.get("properties", {})
    patterns = [regex(pattern) for pattern in schema.get("patternProperties", {})]
    for name in instance:
        if name not in properties and not any(p.search(name) for p in patterns):
            yield name


def _extras(names: Iterable[str]) -> str:
    listed = sorted(names, key=str)
    shown = ", ".join(brief(name) for name in listed[:10]) + (", ..." if len(listed) > 10 else "")
    return f"{shown} {'was' if len(listed) == 1 else 'were'}"


def _additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = set(_additional(instance, schema))
    if validator.is_type(extra, "object"):
        for name in extras:
            yield from validator.descend(instance[name], extra, path=name)
    elif not extra and extras:
        if "patternProperties" in schema:
            patterns = ", ".join(brief(p) for p in sorted(schema["patternProperties"]))
            yield ValidationError(f"{_extras(extras)} not matched by any of the regexes: {patterns}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({_extras(extras)} unexpected)")


def _unevaluated_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    bad = [
        name
        for name in instance
        if name not in evaluated and next(validator.descend(instance[name], extra, path=name), None) is not None
    ]
    if bad and extra is False:
        yield ValidationError(f"Unevaluated properties are not allowed ({_extras(bad)} unexpected)")
    elif bad:
        yield ValidationError(f"Unevaluated properties are not valid under the given schema ({_extras(bad)} invalid)")


def _evaluated_keys(validator: Any, instance: dict[str, Any], schema: Any) -> set[str]:
    """The keys of ``instance`` that ``schema`` evaluates (jsonschema's own walk, with RE2 and a set)."""
    if validator.is_type(schema, "boolean"):
        return set()
    keys: set[str] = set()
    for keyword in ("$ref", "$dynamicRef"):
        reference = schema.get(keyword)
        if reference is not None:
            resolved = validator._resolver.lookup(reference)
            target = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys |= _evaluated_keys(target, instance, resolved.contents)
    properties = schema.get("properties")
    if validator.is_type(properties, "object"):
        keys |= properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        subschema = schema.get(keyword)
        if subschema is not None:
            keys |= {k for k, v in instance.items() if next(validator.descend(v, subschema), None) is None}
    patterns = [regex(pattern) for pattern in schema.get("patternProperties", {})]
    keys |= {name for name in instance if any(p.search(name) for p in patterns)}
    for name, subschema in schema.get("dependentSchemas", {}).items():
        if name in instance:
            keys |= _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if next(validator.descend(instance, subschema), None) is None:
                keys |= _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            if "then" in schema:
                keys |= _evaluated_keys(validator, instance, schema["then"])
        elif "else" in schema:
            keys |= _evaluated_keys(validator, instance, schema["else"])
    return keys


def _any_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    for index, branch in enumerate(branches):
        if next(validator.descend(instance, branch, schema_path=index), None) is None:
            return
    yield ValidationError(f"{brief(instance)} is not valid under any of the given schemas")


def _one_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    valid: list[int] = []
    for index, branch in enumerate(branches):
        if next(validator.descend(instance, branch, schema_path=index), None) is None:
            valid.append(index)
            if len(valid) == 2:
                yield ValidationError(f"{brief(instance)} is valid under more than one of the given schemas {valid}")
                return
    if not valid:
        yield ValidationError(f"{brief(instance)} is not valid under any of the given schemas")


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for item in instance:
        key = _hashable(item)
        if key in seen:
            yield ValidationError(f"{brief(instance)} has non-unique elements")
            return
        seen.add(key)


def _hashable(value: Any) -> Any:
    """A key equal for JSON-Schema-equal values: 1 and 1.0 are equal, true and 1 are not, key order ignored."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list | tuple):
        return ("array", tuple(_hashable(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _hashable(v)) for k, v in value.items()))
    return ("null", None)


#: ``anyOf``/``oneOf`` stop at a branch's first error and keep none of them: jsonschema lists every error of
#: every branch as the context of its own, each pointing back at it (a reference cycle only the garbage
#: collector frees: under a loop of hostile writes, one gen-1 collection took 2.1 s for 780,000 objects).
_OVERRIDES: dict[str, Keyword] = {
    "anyOf": _any_of,
    "oneOf": _one_of,
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "unevaluatedProperties": _unevaluated_properties,
    "uniqueItems": _unique_items,
}

#: Draft 2020-12 with the keywords above, every keyword counted. ``format`` is an annotation (no checker).
BoundedValidator: Any = extend(
    Draft202012Validator,
    validators={name: _counted(fn) for name, fn in {**Draft202012Validator.VALIDATORS, **_OVERRIDES}.items()},
)
