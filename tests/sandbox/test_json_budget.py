"""sandbox.json_budget against its model (orjson's actual output): sizes, cuts and their markers."""

from __future__ import annotations

import time
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.sandbox.json_budget import MARKER_KEY, json_size, truncated, truncated_text

# Printable ASCII without the characters JSON escapes: there the size is exact, not an estimate.
TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'), max_size=300)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | TEXT,
    lambda inner: st.lists(inner, max_size=30) | st.dictionaries(TEXT, inner, max_size=30),
    max_leaves=400,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON)
def test_the_size_is_never_below_the_json_text(value: Any) -> None:
    real = len(orjson.dumps(value))
    assert json_size(value, 1 << 40) >= real
    assert json_size(value, 1 << 40) <= real + 8 * (1 + real // 2)  # numbers and separators, counted generously


@settings(max_examples=300, deadline=None)
@given(value=JSON, budget=st.integers(min_value=100, max_value=5000))
def test_a_cut_value_fits_its_budget_and_an_uncut_one_is_itself(value: Any, budget: int) -> None:
    cut = truncated(value, budget)
    if json_size(value, budget) <= budget:
        assert cut is value
    else:
        assert len(orjson.dumps(cut)) <= budget + 64  # the marker may overrun by its own size at most
        assert "truncated" in orjson.dumps(cut).decode()


def test_measuring_a_huge_value_costs_what_the_budget_costs() -> None:
    trail = {"flow_name": "f" * 256, "trail_name": "t" * 1024}
    huge = {"artifacts": [{"rules": [{"resolutions": [{"context": trail}] * 100}] * 1000}] * 10}  # ~1.3 GB as JSON
    started = time.monotonic()
    assert json_size(huge, 16 * 1024) > 16 * 1024
    cut = truncated(huge, 16 * 1024)
    assert time.monotonic() - started < 0.5
    assert len(orjson.dumps(cut)) <= 16 * 1024
    rules = cut["artifacts"][0]["rules"]
    assert rules[0]["resolutions"][0] == {"context": trail} and rules[-1].endswith("more item(s)]")


def test_a_dict_with_very_many_keys_keeps_a_prefix_and_one_marker() -> None:
    cut = truncated({f"k{i}": i for i in range(200_000)}, 4096)
    assert len(orjson.dumps(cut)) <= 4096 and cut["k0"] == 0
    assert cut[MARKER_KEY].endswith("more entr(ies) left out")


def test_long_text_is_cut_on_a_character_boundary_with_a_marker() -> None:
    assert truncated_text("short", 10) == "short"
    cut = truncated_text("é" * 1000, 200)
    assert len(cut.encode()) <= 200 and cut.startswith("éé") and cut.endswith("[truncated: 1000 characters]")
