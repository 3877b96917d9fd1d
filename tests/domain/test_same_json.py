"""``same_json`` must agree with canonical JSON text equality: it decides whether content changed."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyhub.domain.canonical import canonical_json, same_json

# Small alphabets of look-alike values, so that equal-but-different pairs (1, 1.0, true; 0.0, -0.0) are common.
scalars = st.sampled_from([None, True, False, 0, 1, 2, 0.0, -0.0, 1.0, 2.5, "", "1", "a"])
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from("ab"), children, max_size=2),
    max_leaves=8,
)


@given(values, values)
def test_same_json_is_canonical_text_equality(a: Any, b: Any) -> None:
    assert same_json(a, b) == (canonical_json(a) == canonical_json(b))


@given(values)
def test_a_value_is_the_same_as_itself_and_its_round_trip(a: Any) -> None:
    import json

    assert same_json(a, a)
    assert same_json(a, json.loads(canonical_json(a)))


def test_look_alikes_differ() -> None:
    assert not same_json({"a": 1}, {"a": True})
    assert not same_json([1], [1.0])
    assert not same_json(0.0, -0.0)
    assert same_json({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})
