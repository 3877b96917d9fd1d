"""A read-only sorted sequence whose updated copies share every chunk they do not change.

A snapshot's per-(scope, point) list can hold most of an org (every policy placed at one scope, or at the
org level): rebuilding it for each write (filter, sort, copy 100,000 entries) would cost far more than
the decision the write precedes. So a list is kept as tuples of at most ``2 * CHUNK`` items in key
order: :meth:`SortedChunks.changed` copies the list of chunks and rewrites only the chunks it touches
(O(n / CHUNK + CHUNK) per change), and the old sequence stays valid and unchanged for whoever reads it.
Walking it is a C-level chain over the chunks, as cheap as walking one tuple.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: Items per chunk when a sequence is chunked; a chunk is split when it grows past twice this.
CHUNK = 512


class SortedChunks(Generic[T]):
    """Items in ``key`` order (keys unique), never mutated once built."""

    __slots__ = ("_chunks", "_key", "_len", "_maxes")

    def __init__(self, ordered: Sequence[T], key: Callable[[T], Any]) -> None:
        """``ordered``: already in ``key`` order, keys unique."""
        self._key = key
        self._chunks: list[tuple[T, ...]] = [tuple(ordered[i : i + CHUNK]) for i in range(0, len(ordered), CHUNK)]
        self._maxes: list[Any] = [key(c[-1]) for c in self._chunks]
        self._len = len(ordered)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[T]:
        return chain.from_iterable(self._chunks)

    def changed(self, removed: Iterable[T], added: Iterable[T]) -> SortedChunks[T]:
        """A new sequence without ``removed`` (found by key; absent ones are ignored) and with ``added``
        (whose keys must not be in it once ``removed`` is gone); this one is untouched."""
        key = self._key
        chunks = list(self._chunks)
        maxes = list(self._maxes)
        size = self._len
        for item in removed:
            k = key(item)
            i = bisect_left(maxes, k)
            if i == len(chunks):
                continue
            chunk = chunks[i]
            j = bisect_left(chunk, k, key=key)
            if j == len(chunk) or key(chunk[j]) != k:
                continue
            size -= 1
            if len(chunk) == 1:
                del chunks[i], maxes[i]
                continue
            chunks[i] = chunk[:j] + chunk[j + 1 :]
            maxes[i] = key(chunks[i][-1])
        for item in added:
            k = key(item)
            size += 1
            if not chunks:
                chunks.append((item,))
                maxes.append(k)
                continue
            i = min(bisect_left(maxes, k), len(chunks) - 1)
            chunk = chunks[i]
            j = bisect_left(chunk, k, key=key)
            grown = (*chunk[:j], item, *chunk[j:])
            if len(grown) > 2 * CHUNK:
                chunks[i : i + 1] = [grown[:CHUNK], grown[CHUNK:]]
                maxes[i : i + 1] = [key(grown[CHUNK - 1]), key(grown[-1])]
            else:
                chunks[i] = grown
                maxes[i] = key(grown[-1])
        evolved: SortedChunks[T] = SortedChunks.__new__(SortedChunks)
        evolved._key = key
        evolved._chunks = chunks
        evolved._maxes = maxes
        evolved._len = size
        return evolved
