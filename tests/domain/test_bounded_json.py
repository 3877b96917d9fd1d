"""JSON values cut to a byte budget keep their shape, and say what was cut."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.domain.bounded_json import TRUNCATED, bounded, is_marker, json_size

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=6), inner, max_size=8),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=6), json_values, max_size=8), budget=st.integers(256, 4096))
def test_a_cut_object_fits_its_budget_and_keeps_its_keys(value: dict[str, Any], budget: int) -> None:
    cut = bounded(value, budget)
    if json_size(value) <= budget:
        assert cut is value
        return
    assert json_size(cut) <= budget or is_marker(cut)
    if not is_marker(cut):
        assert cut.keys() == value.keys()


def test_a_marker_says_the_size_and_hash_of_what_it_replaced() -> None:
    big = list(range(5000))
    cut = bounded({"keep": "me", "big": big}, 1024)
    text = json.dumps(big, separators=(",", ":")).encode()
    marker = {TRUNCATED: True, "bytes": len(text), "sha256": hashlib.sha256(text).hexdigest()}
    assert cut == {"keep": "me", "big": marker}


def test_nested_objects_are_cut_inside_rather_than_whole() -> None:
    value = {"stage": "qa", "evidence": {"commit": "abc", "scan": "x" * 50_000}}
    cut = bounded(value, 2048)
    assert cut["stage"] == "qa" and cut["evidence"]["commit"] == "abc"
    assert is_marker(cut["evidence"]["scan"])


def test_huge_integers_are_measured_too() -> None:
    assert json_size({"n": 10**30}) == len('{"n":1000000000000000000000000000000}')
