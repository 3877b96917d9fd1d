"""The bounded JSON Schema validator agrees with ``jsonschema``'s own on ordinary schemas, and stays bounded."""

from __future__ import annotations

import time
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policyhub.sandbox.json_schema import (
    SchemaRefused,
    ValidationBudgetExceeded,
    check_schema,
    compile_schema,
)
from policyhub.sandbox.json_schema_keywords import BoundedValidator

# Patterns on which Python's re and RE2 agree (the tenant's patterns differ only where re backtracks).
PATTERNS = ["^a", "b$", "^[a-c]+$", "x", "^$", "[0-9]"]
KEYS = st.sampled_from(["a", "b", "ab", "x1", "bb", "c"])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([1.0, 0.5]), KEYS)
instances = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


def _schema(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["object", "array", "string", "integer", "number"]),
            "pattern": st.sampled_from(PATTERNS),
            "properties": st.dictionaries(KEYS, inner, max_size=2),
            "patternProperties": st.dictionaries(st.sampled_from(PATTERNS), inner, max_size=2),
            "additionalProperties": st.one_of(st.booleans(), inner),
            "unevaluatedProperties": st.booleans(),
            "uniqueItems": st.booleans(),
            "items": inner,
            "anyOf": st.lists(inner, min_size=1, max_size=2),
            "oneOf": st.lists(inner, min_size=1, max_size=3),
            "allOf": st.lists(inner, min_size=1, max_size=2),
        },
    )


schemas = st.recursive(st.booleans() | st.just({}), _schema, max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=_schema(schemas), instance=instances)
def test_agrees_with_jsonschema_on_ordinary_schemas(schema: Any, instance: Any) -> None:
    assert_agrees(schema, instance)


def assert_agrees(schema: Any, instance: Any) -> None:
    expected = jsonschema.Draft202012Validator(schema)
    found = compile_schema(schema).validate(instance, limit=10_000)
    assert not found.truncated
    assert sorted(map(repr, (e.path for e in found.errors))) == sorted(
        repr(tuple(e.absolute_path)) for e in expected.iter_errors(instance)
    )


def _object_schema(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {},
        optional={
            "properties": st.dictionaries(KEYS, inner, max_size=3),
            "patternProperties": st.dictionaries(st.sampled_from(PATTERNS), inner, max_size=2),
            "additionalProperties": st.one_of(st.booleans(), inner),
            "unevaluatedProperties": st.one_of(st.booleans(), inner),
            "allOf": st.lists(inner, min_size=1, max_size=2),
            "anyOf": st.lists(inner, min_size=1, max_size=2),
            "oneOf": st.lists(inner, min_size=1, max_size=3),
            "if": inner,
            "then": inner,
            "else": inner,
            "type": st.sampled_from(["object", "string", "integer"]),
        },
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schema=_object_schema(st.recursive(st.booleans() | st.just({}), _object_schema, max_leaves=4)),
    instance=st.dictionaries(KEYS, scalars, max_size=5),
)
@example({"properties": {"a": {}}, "unevaluatedProperties": False}, {"a": None})
@example({"patternProperties": {"^a": {}}, "unevaluatedProperties": False}, {"ab": None})
@example({"patternProperties": {"^a": {}}, "additionalProperties": {"type": "string"}}, {"ab": 1})
@example({"allOf": [{"properties": {"a": {}}}], "unevaluatedProperties": {"type": "string"}}, {"a": 1, "b": 1})
@example({"if": {"properties": {"a": {"type": "integer"}}}, "then": {}, "unevaluatedProperties": False}, {"a": 1})
@example({"patternProperties": {"b$": {"type": "string"}}, "additionalProperties": False}, {"ab": 1, "c": 1})
def test_agrees_with_jsonschema_on_the_property_keywords(schema: Any, instance: Any) -> None:
    """The keywords rewritten for RE2 and sets (additional and unevaluated properties) on objects."""
    assert_agrees(schema, instance)


@pytest.mark.parametrize(
    ("items", "unique"),
    [
        ([1, 1.0], False),
        ([True, 1], True),
        ([False, 0, None], True),
        ([{"a": 1, "b": [1]}, {"b": [1.0], "a": 1}], False),
        ([[1, 2], [2, 1]], True),
        (["1", 1], True),
    ],
)
def test_unique_items_follows_json_schema_equality(items: list[Any], unique: bool) -> None:
    schema = {"uniqueItems": True}
    assert (compile_schema(schema).validate(items).errors == []) is unique
    assert jsonschema.Draft202012Validator(schema).is_valid(items) is unique


def test_unique_items_is_linear() -> None:
    items = [{"n": i} for i in range(20_000)]  # jsonschema compares unhashable items pairwise: 2 x 10^8
    started = time.monotonic()
    assert compile_schema({"uniqueItems": True}).validate(items).errors == []
    assert time.monotonic() - started < 1.0


def test_refused_references_and_patterns_name_their_path() -> None:
    cases = [
        ({"$ref": "https://example.com/s.json"}, ("$ref",)),
        ({"$defs": {"a": {"$dynamicRef": "urn:nowhere#x"}}}, ("$defs", "a", "$dynamicRef")),
        ({"$ref": "#/$defs/missing"}, ("$ref",)),
        ({"$ref": "https://json-schema.org/draft/2020-12/schema"}, ("$ref",)),  # no meta-schemas either
        ({"$ref": "#/enum/0", "enum": [{"$ref": "http://x/"}]}, ("$ref", "$ref")),  # reached through a pointer
        ({"prefixItems": [{}, {"pattern": "(?<=a)b"}]}, ("prefixItems", 1, "pattern")),
        ({"not": {"$schema": "http://json-schema.org/draft-07/schema#"}}, ("not", "$schema")),
    ]
    for schema, path in cases:
        with pytest.raises(SchemaRefused) as refused:
            check_schema(schema)
        assert refused.value.path == path, schema


def test_the_patterns_of_a_schema_compile_within_one_budget() -> None:
    heavy = {f"p{i}": {"pattern": rf"(?i)[\pL\pN]{{1,255}}{i}"} for i in range(50)}  # ~100 ms each to compile
    started = time.monotonic()
    with pytest.raises(SchemaRefused, match="RE2 instructions") as refused:
        check_schema({"properties": heavy})
    assert refused.value.path[:1] == ("properties",) and refused.value.path[-1] == "pattern"
    assert time.monotonic() - started < 3.0
    repeated = {f"p{i}": {"pattern": r"(?i)[\pL\pN]{1,255}"} for i in range(50)}  # one pattern, charged once
    assert check_schema({"properties": repeated}).validate({"p1": "abc"}).errors == []


def test_dynamic_refs_and_ids_resolve_locally() -> None:
    tree = {
        "$dynamicAnchor": "node",
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$dynamicRef": "#node"}}},
    }
    assert [e.path for e in check_schema(tree).validate({"kids": [{"kids": 3}]}).errors] == [("kids", 0, "kids")]
    nested_id = {"$defs": {"x": {"$id": "https://acme.test/x", "type": "string"}}, "$ref": "https://acme.test/x"}
    assert check_schema(nested_id).validate(1).errors


def test_the_budget_grows_with_the_document_not_with_the_schema() -> None:
    defs: dict[str, Any] = {f"a{i}": {"anyOf": [{"$ref": f"#/$defs/a{i + 1}"}] * 2} for i in range(40)}
    defs["a40"] = {"type": "string"}
    started = time.monotonic()
    with pytest.raises(ValidationBudgetExceeded, match="more than 5020 schema keyword applications"):
        compile_schema({"$defs": defs, "$ref": "#/$defs/a0"}).validate(1)  # 2^40 without the budget
    assert time.monotonic() - started < 0.5  # the doubling schema, 10 us a step: 50 ms
    numbers = compile_schema({"items": {"type": "integer", "minimum": 0}})
    assert numbers.validate(list(range(30_000))).errors == []  # 60,000 keyword applications, paid by 30,000 values


def test_a_validator_cannot_run_outside_a_budget() -> None:
    with pytest.raises(RuntimeError, match="outside"):
        BoundedValidator({"type": "integer"}).is_valid(1)


def test_messages_are_short_whatever_the_value() -> None:
    found = compile_schema({"type": "integer"}).validate({"k": "x" * 1_000_000})
    assert len(found.errors[0].message) < 400
