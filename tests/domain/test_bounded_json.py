"""domain.bounded_json: sizes within a budget, the two ways of cutting, and the one marker vocabulary.

Sizes and cuts are checked against orjson's actual output; both cutters must leave a value that fits
as itself and mark what they cut with ``_truncated``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.domain.bounded_json import (
    TRUNCATED,
    bounded,
    estimated_size,
    is_marker,
    json_size,
    truncated,
    truncated_text,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=6), inner, max_size=8),
    max_leaves=60,
)
# Printable ASCII without the characters JSON escapes: there the estimate is exact, not an estimate.
TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'), max_size=300)
ascii_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | TEXT,
    lambda inner: st.lists(inner, max_size=30) | st.dictionaries(TEXT, inner, max_size=30),
    max_leaves=400,
)
#: Each cutter, with the measure it cuts by (exact for the log; an estimate, bounded by the budget, for answers).
CUTTERS: dict[str, tuple[Callable[[Any, int], Any], Callable[[Any, int], int]]] = {
    "bounded": (bounded, lambda value, _: json_size(value)),
    "truncated": (truncated, estimated_size),
}


def _says_truncated(value: Any) -> bool:
    """Whether ``value`` holds a ``_truncated`` member, a stand-in, or text cut with ``… [truncated: …]``."""
    if isinstance(value, dict):
        return TRUNCATED in value or any(_says_truncated(v) for v in value.values())
    if isinstance(value, list):
        return any(_says_truncated(v) for v in value)
    return isinstance(value, str) and "… [truncated: " in value


@pytest.mark.parametrize("name", CUTTERS)
@settings(max_examples=200, deadline=None)
@given(value=st.dictionaries(st.text(max_size=6), json_values, max_size=8), budget=st.integers(256, 4096))
def test_a_value_that_fits_is_itself_and_a_cut_one_says_so(name: str, value: dict[str, Any], budget: int) -> None:
    cut, size = CUTTERS[name]
    out = cut(value, budget)
    if size(value, budget) <= budget:
        assert out is value
    else:
        assert out is not value and _says_truncated(out)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=6), json_values, max_size=8), budget=st.integers(256, 4096))
def test_bounded_fits_its_budget_and_keeps_the_keys(value: dict[str, Any], budget: int) -> None:
    cut = bounded(value, budget)
    if json_size(value) <= budget:
        return
    assert json_size(cut) <= budget or is_marker(cut)
    if not is_marker(cut):
        assert cut.keys() == value.keys()


@settings(max_examples=300, deadline=None)
@given(value=ascii_values, budget=st.integers(min_value=100, max_value=5000))
def test_truncated_fits_its_budget(value: Any, budget: int) -> None:
    cut = truncated(value, budget)
    if estimated_size(value, budget) <= budget:
        assert cut is value
    else:
        assert len(orjson.dumps(cut)) <= budget + 64  # the marker may overrun by its own size at most
        assert _says_truncated(cut)


@settings(max_examples=300, deadline=None)
@given(value=ascii_values)
def test_the_estimate_is_never_below_the_json_text(value: Any) -> None:
    real = len(orjson.dumps(value))
    assert estimated_size(value, 1 << 40) >= real
    assert estimated_size(value, 1 << 40) <= real + 8 * (1 + real // 2)  # numbers and separators, generously


def test_a_stand_in_says_the_size_and_hash_of_what_it_replaced() -> None:
    big = list(range(5000))
    cut = bounded({"keep": "me", "big": big}, 1024)
    text = json.dumps(big, separators=(",", ":")).encode()
    marker = {TRUNCATED: True, "bytes": len(text), "sha256": hashlib.sha256(text).hexdigest()}
    assert cut == {"keep": "me", "big": marker}


def test_bounded_cuts_nested_objects_inside_rather_than_whole() -> None:
    value = {"stage": "qa", "evidence": {"commit": "abc", "scan": "x" * 50_000}}
    cut = bounded(value, 2048)
    assert cut["stage"] == "qa" and cut["evidence"]["commit"] == "abc"
    assert is_marker(cut["evidence"]["scan"])


def test_huge_integers_are_measured_too() -> None:
    assert json_size({"n": 10**30}) == len('{"n":1000000000000000000000000000000}')


def test_measuring_a_huge_value_costs_what_the_budget_costs() -> None:
    trail = {"flow_name": "f" * 256, "trail_name": "t" * 1024}
    huge = {"artifacts": [{"rules": [{"resolutions": [{"context": trail}] * 100}] * 1000}] * 10}  # ~1.3 GB
    started = time.monotonic()
    assert estimated_size(huge, 16 * 1024) > 16 * 1024
    cut = truncated(huge, 16 * 1024)
    assert time.monotonic() - started < 0.5
    assert len(orjson.dumps(cut)) <= 16 * 1024
    rules = cut["artifacts"][0]["rules"]
    assert rules[0]["resolutions"][0] == {"context": trail}
    assert is_marker(rules[-1]) and rules[-1] == {TRUNCATED: True, "omitted": 1000 - (len(rules) - 1)}


def test_a_dict_with_very_many_keys_keeps_a_prefix_and_one_sentence() -> None:
    cut = truncated({f"k{i}": i for i in range(200_000)}, 4096)
    assert len(orjson.dumps(cut)) <= 4096 and cut["k0"] == 0
    assert cut[TRUNCATED] == f"{200_000 - (len(cut) - 1)} more entr(ies) left out" and not is_marker(cut)


def test_too_deep_a_value_is_replaced_by_a_stand_in_with_its_size() -> None:
    deep: Any = "x" * 200_000
    for _ in range(40):
        deep = {"d": deep}
    cut = truncated(deep, 100_000)
    inner = cut
    while not is_marker(inner):
        inner = inner["d"]
    assert inner.keys() == {TRUNCATED, "bytes"} and inner["bytes"] > 10_000


def test_long_text_is_cut_on_a_character_boundary_with_a_marker() -> None:
    assert truncated_text("short", 10) == "short"
    cut = truncated_text("é" * 1000, 200)
    assert len(cut.encode()) <= 200 and cut.startswith("éé") and cut.endswith("… [truncated: 1000 characters]")
