"""Tenant-written JSON Schemas (org document schemas): no I/O, ever, and bounded validation.

- **References** (``$ref``, ``$dynamicRef``) must resolve inside the schema itself: a JSON pointer
  (``#/$defs/limit``), an ``$anchor``, or an ``$id`` the schema declares (``urn:acme:limits#/$defs/x``).
  Anything else (``http:``, ``https:``, ``file:``, an unknown ``urn:``, the meta-schemas) is refused with
  the path of the ``$ref``. Every validator is built on a ``referencing`` registry whose ``retrieve``
  refuses, so even a schema stored before this check cannot make PolicyHub fetch a URL or read a file:
  compiling it fails with :class:`SchemaRefused` instead.
- **Patterns** (``pattern``, ``patternProperties``) run with RE2 (:mod:`policyhub.sandbox.regex`); a
  pattern RE2 cannot run (a backreference, a lookaround) is refused with its path.
- **Dialect**: JSON Schema 2020-12 throughout. A ``$schema`` below the top level is refused (``jsonschema``
  would switch to its own, unbounded validator class there); the top-level one is ignored, as before.
- **Size and time**: at most :data:`MAX_SCHEMA_BYTES` of JSON nested at most :data:`MAX_SCHEMA_DEPTH`
  deep; one validation applies at most ``BASE_STEPS`` keywords plus ``STEPS_PER_VALUE`` per JSON value of
  the document (``MAX_STEPS`` at most) within ``MAX_SECONDS`` (:mod:`~policyhub.sandbox.json_schema_keywords`),
  and reports its first :data:`MAX_ERRORS` errors, each message at most :data:`MAX_MESSAGE_CHARS` long.
  A ``$ref`` loop that never reaches the document (``{"$ref": "#"}``) is a :class:`ValidationBudgetExceeded`,
  not a crash.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

import jsonschema
from referencing import Registry
from referencing._core import Resolver  # the public package does not re-export the type
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

from policyhub.domain.canonical import canonical_json
from policyhub.sandbox.json_schema_keywords import (
    BASE_STEPS,
    MAX_SECONDS,
    MAX_STEPS,
    STEPS_PER_VALUE,
    BoundedValidator,
    SchemaRefused,
    ValidationBudgetExceeded,
    brief,
    budget,
)
from policyhub.sandbox.regex import PatternBudget, SubjectTooLong

__all__ = [
    "BASE_STEPS",
    "MAX_ERRORS",
    "MAX_MESSAGE_CHARS",
    "MAX_SCHEMA_BYTES",
    "MAX_SCHEMA_DEPTH",
    "MAX_SECONDS",
    "MAX_STEPS",
    "STEPS_PER_VALUE",
    "BoundedSchema",
    "Findings",
    "InstanceError",
    "SchemaRefused",
    "ValidationBudgetExceeded",
    "check_schema",
    "compile_schema",
]

#: Largest schema (canonical JSON, UTF-8). The request body limit (10 MB by default) is far above it.
MAX_SCHEMA_BYTES = 256 * 1024
#: Deepest nesting of a schema (the request parser's default limit, 64, may be raised by an operator).
MAX_SCHEMA_DEPTH = 64
#: Errors one validation reports (the first ones found).
MAX_ERRORS = 20
#: Longest message or path element reported for one error.
MAX_MESSAGE_CHARS = 300

#: Keywords whose value is a subschema / an array of subschemas / an object of subschemas (2020-12).
_IN_VALUE = (
    "additionalProperties",
    "contains",
    "contentSchema",
    "else",
    "if",
    "items",
    "not",
    "propertyNames",
    "then",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_IN_ARRAY = ("allOf", "anyOf", "oneOf", "prefixItems")
_IN_OBJECT = ("$defs", "definitions", "dependentSchemas", "patternProperties", "properties")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class InstanceError:
    """One way the document breaks the schema: where in the document, and why."""

    path: Path
    message: str


@dataclass(frozen=True)
class Findings:
    errors: list[InstanceError]
    #: Whether there were more errors than were reported.
    truncated: bool


class BoundedSchema:
    """A checked tenant schema, ready to validate documents within the budget."""

    __slots__ = ("_validator",)

    def __init__(self, validator: Any) -> None:
        self._validator = validator

    def validate(self, instance: Any, limit: int = MAX_ERRORS) -> Findings:
        """The first ``limit`` errors of ``instance``; raises :class:`ValidationBudgetExceeded` when over budget."""
        steps = min(MAX_STEPS, BASE_STEPS + STEPS_PER_VALUE * _values(instance, MAX_STEPS // STEPS_PER_VALUE))
        try:
            with budget(steps):
                found = list(islice(self._validator.iter_errors(instance), limit + 1))
        except RecursionError:
            loop = "validation nested too deep (a $ref loop that never reaches the document?)"
            raise ValidationBudgetExceeded(loop) from None
        except SubjectTooLong as exc:
            raise ValidationBudgetExceeded(str(exc)) from None
        except Unresolvable:  # compile_schema refuses these first (jsonschema's wrapper subclasses it)
            raise SchemaRefused((), "a reference does not resolve inside the schema") from None
        errors = [InstanceError(_short_path(e.absolute_path), _short(e.message)) for e in found[:limit]]
        return Findings(errors, truncated=len(found) > limit)


def check_schema(schema: Any) -> BoundedSchema:
    """Check a schema being stored: JSON Schema 2020-12 and everything :func:`compile_schema` checks.

    Linear in the schema's size (about 0.5 s for the largest allowed): callers on a shared thread
    check first elsewhere; the result is cached by the schema's canonical text.
    """
    if not isinstance(schema, dict | bool):
        raise SchemaRefused((), "must be a JSON object")
    return _checked(_check_size(schema))


@lru_cache(maxsize=32)
def _checked(text: str) -> BoundedSchema:
    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)  # patterns: ours, RE2
    error = next(iter(meta.iter_errors(json.loads(text))), None)
    if error is not None:
        raise SchemaRefused(_short_path(error.absolute_path), f"not a valid JSON Schema: {_short(error.message)}")
    return _compile(text)


def compile_schema(schema: Any) -> BoundedSchema:
    """A bounded validator for a stored schema; raises :class:`SchemaRefused` naming the first problem.

    Cached by the schema's canonical text, so a schema used by every write is checked once.
    """
    if not isinstance(schema, dict | bool):
        raise SchemaRefused((), "must be a JSON object")
    text = _check_size(schema)
    return _compile(text)


def _check_size(schema: Any) -> str:
    text = canonical_json(schema)
    size = len(text.encode("utf-8"))
    if size > MAX_SCHEMA_BYTES:
        raise SchemaRefused((), f"a schema of {size} bytes is larger than the {MAX_SCHEMA_BYTES} bytes allowed")
    depth = _depth(schema)
    if depth > MAX_SCHEMA_DEPTH:
        raise SchemaRefused((), f"nested {depth} levels deep; at most {MAX_SCHEMA_DEPTH} are allowed")
    return text


@lru_cache(maxsize=128)
def _compile(text: str) -> BoundedSchema:
    schema = json.loads(text)  # a copy of its own: the cached validator never sees a caller's later changes
    if isinstance(schema, dict):
        schema.pop("$schema", None)  # 2020-12 whatever it says; kept, it would select jsonschema's own class
    root = DRAFT202012.create_resource(schema)
    registry: Registry[Any] = Registry(retrieve=_refuse).with_resource(root.id() or "", root).crawl()  # type: ignore[call-arg]
    _check_tree(schema, registry.resolver_with_root(root))
    return BoundedSchema(BoundedValidator(schema, registry=registry))


def _refuse(uri: str) -> Any:
    """The registry's ``retrieve``: nothing outside the schema is ever fetched or read."""
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class


def _check_tree(schema: Any, resolver: Resolver[Any]) -> None:
    """Visit every subschema, and every schema a reference reaches, checking references, patterns, ``$schema``."""
    seen: set[int] = set()
    patterns = _Patterns()
    here: list[tuple[Any, Resolver[Any], Path]] = [(schema, resolver, ())]
    referenced: deque[tuple[Any, Resolver[Any], Path]] = deque()
    while here or referenced:
        contents, resolver, path = here.pop() if here else referenced.popleft()
        if not isinstance(contents, dict) or id(contents) in seen:
            continue
        seen.add(id(contents))
        resolver = resolver.in_subresource(DRAFT202012.create_resource(contents))
        if "$schema" in contents and path:
            raise SchemaRefused((*path, "$schema"), "$schema is allowed only at the top level (schemas are 2020-12)")
        for keyword in ("$ref", "$dynamicRef"):
            if keyword in contents:
                target = _resolve(resolver, contents[keyword], (*path, keyword))
                referenced.append((target.contents, target.resolver, (*path, keyword)))
        patterns.check(contents, path)
        here.extend((sub, resolver, sub_path) for sub, sub_path in _subschemas(contents, path))


def _resolve(resolver: Resolver[Any], reference: Any, path: Path) -> Any:
    if not isinstance(reference, str):
        raise SchemaRefused(path, "must be a string")
    try:
        return resolver.lookup(reference)
    except Unresolvable:
        raise SchemaRefused(
            path,
            f"{brief(reference)} does not resolve inside this schema: a reference may only name a part of the "
            "schema itself (#/$defs/..., an $anchor or an $id declared in it); PolicyHub never fetches schemas",
        ) from None


class _Patterns:
    """The schema's patterns, each compiled once, all within one RE2 program-size budget (sandbox.regex)."""

    def __init__(self) -> None:
        self.budget = PatternBudget()
        self.seen: set[str] = set()

    def check(self, contents: dict[str, Any], path: Path) -> None:
        if "pattern" in contents:
            self._check(contents["pattern"], (*path, "pattern"))
        if isinstance(contents.get("patternProperties"), dict):
            for key in contents["patternProperties"]:
                self._check(key, (*path, "patternProperties", key))

    def _check(self, pattern: Any, path: Path) -> None:
        if isinstance(pattern, str) and pattern in self.seen:
            return
        problem = self.budget.problem(pattern)
        if problem:
            raise SchemaRefused(path, problem)
        self.seen.add(pattern)


def _subschemas(contents: dict[str, Any], path: Path) -> list[tuple[Any, Path]]:
    found: list[tuple[Any, Path]] = []
    for keyword in _IN_VALUE:
        if keyword in contents:
            found.append((contents[keyword], (*path, keyword)))
    for keyword in _IN_ARRAY:
        if isinstance(contents.get(keyword), list):
            found.extend((sub, (*path, keyword, i)) for i, sub in enumerate(contents[keyword]))
    for keyword in _IN_OBJECT:
        if isinstance(contents.get(keyword), dict):
            found.extend((sub, (*path, keyword, key)) for key, sub in contents[keyword].items())
    return found


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_SCHEMA_DEPTH:
                stack.extend((sub, depth + 1) for sub in (item.values() if isinstance(item, dict) else item))
    return deepest


def _values(value: Any, limit: int) -> int:
    """How many JSON values ``value`` holds (itself included), counting no further than ``limit``."""
    count = 0
    stack = [value]
    while stack and count < limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


def _short_path(path: Any) -> Path:
    return tuple(part if isinstance(part, int) else _short(str(part)) for part in path)
