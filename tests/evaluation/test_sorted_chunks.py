"""SortedChunks against a sorted list: the same items in the same order after any removals and additions,
and every earlier version unchanged (the copy-on-write a running decision relies on)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.evaluation import sorted_chunks
from policyhub.evaluation.sorted_chunks import SortedChunks


def _key(item: tuple[str, int]) -> tuple[str, int]:
    return item


_items = st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 30))
_steps = st.lists(st.tuples(st.sets(_items, max_size=6), st.sets(_items, max_size=6)), max_size=25)


@pytest.mark.parametrize("chunk", [1, 2, 3, 512])
@settings(max_examples=60, deadline=None)
@given(start=st.sets(_items, max_size=60), steps=_steps)
def test_matches_a_sorted_list_and_never_changes_an_earlier_version(
    chunk: int, start: set[tuple[str, int]], steps: list[tuple[set[tuple[str, int]], set[tuple[str, int]]]]
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sorted_chunks, "CHUNK", chunk)
        model = sorted(start)
        current = SortedChunks(model, _key)
        versions = [(current, list(model))]
        for removed, added in steps:
            # what a snapshot does: removes the policies that leave, then adds those that join (not present)
            model = [x for x in model if x not in removed]
            fresh = sorted(added - set(model))
            current = current.changed(sorted(removed), fresh)
            model = sorted(model + fresh)
            versions.append((current, list(model)))
            assert list(current) == model
            assert len(current) == len(model)
            assert all(len(c) <= 2 * chunk for c in current._chunks)
        for version, expected in versions:
            assert list(version) == expected


def test_a_large_list_changes_by_one_chunk() -> None:
    """A change to a list of 100,000 copies one chunk and the list of chunks, and shares every other chunk."""
    items = [(f"p{i:06d}", i) for i in range(100_000)]
    big = SortedChunks(items, _key)
    changed = big.changed([items[50_000]], [("p050000x", -1)])
    shared = sum(a is b for a, b in zip(big._chunks, changed._chunks, strict=True))
    assert shared == len(big._chunks) - 1
    assert len(changed) == 100_000
    assert ("p050000x", -1) in list(changed) and items[50_000] not in list(changed)
    assert list(big) == items
