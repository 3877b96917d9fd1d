"""RFC 7396 merge patch and RFC 6902 JSON Patch: vectors from the RFCs and algebraic properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.errors import InvalidInput, PatchTestFailed, PayloadTooLarge
from policyhub.services.patching import PatchBudget, check_document_size, json_patch, merge_patch

# RFC 7396, Appendix A: (original, patch, result)
RFC7396_VECTORS = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RFC7396_VECTORS)
def test_rfc7396_appendix_a(original: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(original, patch) == expected


def reference_merge_patch(target: Any, patch: Any) -> Any:
    """The RFC 7396 section 2 pseudo-code, transcribed literally as the oracle."""
    if isinstance(patch, dict):
        if not isinstance(target, dict):
            target = {}
        target = dict(target)
        for name, value in patch.items():
            if value is None:
                if name in target:
                    del target[name]
            else:
                target[name] = reference_merge_patch(target.get(name), value)
        return target
    return patch


scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=3), json_values, max_size=5)


@settings(max_examples=300, deadline=None)
@given(target=json_values, patch=json_values)
def test_merge_patch_matches_rfc_pseudocode(target: Any, patch: Any) -> None:
    assert merge_patch(target, patch) == reference_merge_patch(target, patch)


@settings(max_examples=300, deadline=None)
@given(target=json_objects, patch=json_objects)
def test_merge_patch_is_idempotent(target: Any, patch: Any) -> None:
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once


@settings(max_examples=200, deadline=None)
@given(target=json_objects, patch=json_objects)
def test_merge_patch_never_mutates_its_inputs(target: Any, patch: Any) -> None:
    import copy

    t, p = copy.deepcopy(target), copy.deepcopy(patch)
    merge_patch(target, patch)
    assert (target, patch) == (t, p)


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


@settings(max_examples=200, deadline=None)
@given(patch=json_objects)
def test_null_free_patch_fields_appear_in_result(patch: Any) -> None:
    result = merge_patch({"keep": 1}, patch)
    for key, value in patch.items():
        if value is not None and not isinstance(value, dict) and not _has_null(value):
            assert result[key] == value


def test_json_patch_applies_operations_in_order() -> None:
    doc = {"spec": {"a": 1, "list": [1, 2]}}
    ops = [
        {"op": "add", "path": "/spec/b", "value": 2},
        {"op": "remove", "path": "/spec/a"},
        {"op": "add", "path": "/spec/list/-", "value": 3},
        {"op": "move", "from": "/spec/b", "path": "/spec/c"},
        {"op": "copy", "from": "/spec/c", "path": "/spec/d"},
        {"op": "test", "path": "/spec/d", "value": 2},
    ]
    assert json_patch(doc, ops) == {"spec": {"list": [1, 2, 3], "c": 2, "d": 2}}
    assert doc == {"spec": {"a": 1, "list": [1, 2]}}, "the input document must be left untouched"


def test_failed_test_operation_is_a_conflict() -> None:
    with pytest.raises(PatchTestFailed):
        json_patch({"a": 1}, [{"op": "replace", "path": "/a", "value": 2}, {"op": "test", "path": "/a", "value": 1}])


@pytest.mark.parametrize(
    "ops",
    [
        {"op": "add"},
        [{"op": "frobnicate", "path": "/a"}],
        [{"op": "remove", "path": "/missing"}],
        [{"path": "/a", "value": 1}],
        [{"op": "add", "path": "a-without-slash", "value": 1}],
        [{"op": "move", "from": "/nope", "path": "/b"}],
        ["not an object"],
    ],
)
def test_malformed_json_patch_is_invalid_input(ops: Any) -> None:
    with pytest.raises(InvalidInput):
        json_patch({"a": 1}, ops)


# -- budgets (issue 11) and test-operation messages (issue 16) ------------------------------------------


def test_a_doubling_patch_stops_at_the_operation_that_crosses_the_budget() -> None:
    doc = {"spec": {"k": "v" * 1000}}
    ops = [{"op": "copy", "from": "/spec", "path": f"/spec/c{i}"} for i in range(30)]
    with pytest.raises(PayloadTooLarge) as caught:
        json_patch(doc, ops, PatchBudget(max_bytes=64 * 1024))
    # 1 KB doubled: the copies add 1, 2, 4, ... 32 KB (63 KB in all); the 7th (body.6) would add 64 KB more
    assert [e.field for e in caught.value.errors] == ["body.6"]
    assert doc == {"spec": {"k": "v" * 1000}}


def test_copies_have_a_smaller_budget_than_values_the_body_carries() -> None:
    doc = {"spec": {"k": "v" * 1000}}
    ops = [{"op": "copy", "from": "/spec", "path": f"/spec/c{i}"} for i in range(30)]
    with pytest.raises(PayloadTooLarge) as caught:
        json_patch(doc, ops, PatchBudget(max_bytes=1 << 30, max_copied_bytes=8 * 1024))
    assert [e.field for e in caught.value.errors] == ["body.3"]  # 1 + 2 + 4 KB copied; the 4th adds 8 KB more
    big = "x" * 20_000  # an added value as large is fine: the body carries it
    assert json_patch({}, [{"op": "add", "path": "/b", "value": big}], PatchBudget(max_copied_bytes=8 * 1024))


def test_the_number_of_operations_is_capped() -> None:
    ops = [{"op": "test", "path": "/a", "value": 1}] * 11
    with pytest.raises(InvalidInput) as caught:
        json_patch({"a": 1}, ops, PatchBudget(max_operations=10))
    assert caught.value.errors[0].field == "body"
    assert json_patch({"a": 1}, ops[:10], PatchBudget(max_operations=10)) == {"a": 1}


def test_added_values_count_against_the_budget_and_the_result_is_measured() -> None:
    budget = PatchBudget(max_bytes=2048)
    big = "x" * 1500
    assert json_patch({"a": 1}, [{"op": "add", "path": "/b", "value": big}], budget) == {"a": 1, "b": big}
    two = [{"op": "add", "path": "/b", "value": big}, {"op": "add", "path": "/c", "value": big}]
    with pytest.raises(PayloadTooLarge) as caught:  # the adds together cross the budget at the second
        json_patch({"a": 1}, two, budget)
    assert caught.value.errors[0].field == "body.1"
    with pytest.raises(PayloadTooLarge):  # what is already there counts in the result
        json_patch({"a": big}, [{"op": "copy", "from": "/a", "path": "/b"}], budget)
    with pytest.raises(PayloadTooLarge):
        check_document_size(merge_patch({"a": big}, {"b": big}), budget)
    check_document_size(merge_patch({"a": big}, {"a": None, "b": big}), budget)


@pytest.mark.parametrize(
    ("found", "expected", "message"),
    [
        (1, "1", 'expected "1" (a string), found 1 (a number)'),
        (True, 1, "expected 1 (a number), found true (a boolean)"),
        (None, {}, "expected {} (an object), found null"),
        ([1], [1, 2], "expected [1,2] (an array), found [1] (an array)"),
    ],
)
def test_a_failed_test_says_what_was_expected_and_found_in_json_terms(found: Any, expected: Any, message: str) -> None:
    with pytest.raises(PatchTestFailed) as caught:
        json_patch({"a": found}, [{"op": "test", "path": "/a", "value": expected}])
    assert caught.value.errors[0].message == f"test at '/a' failed: {message}"
    assert "<class" not in caught.value.detail


def test_test_compares_numbers_by_value_and_misses_are_conflicts() -> None:
    tests = [{"op": "test", "path": "/a", "value": 1.0}, {"op": "test", "path": "/b", "value": [1]}]
    assert json_patch({"a": 1, "b": [1.0]}, tests) == {"a": 1, "b": [1.0]}
    with pytest.raises(PatchTestFailed, match="no value there"):
        json_patch({"a": 1}, [{"op": "test", "path": "/missing", "value": 1}])
