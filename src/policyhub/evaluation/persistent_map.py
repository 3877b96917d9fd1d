"""A read-only map whose updated copies share everything they do not change.

An org snapshot is replaced, never changed, while decisions read it; the next snapshot differs by a
few policies. Copying a dict of 100,000 entries for each write costs more than the decision it serves,
so the snapshot's indexes are split into :data:`BUCKETS` dicts by key hash: :meth:`PersistentMap.evolve`
copies the list of buckets and only the buckets it touches (O(BUCKETS + n / BUCKETS) per touched bucket,
about 1/256 of the map), and the old map stays valid and unchanged for whoever still reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

BUCKETS = 256
_MASK = BUCKETS - 1


class PersistentMap(Generic[K, V]):
    """Lookups as a dict's (one hash, two indexings); never mutated once built."""

    __slots__ = ("_buckets", "_len")

    def __init__(self, items: Iterable[tuple[K, V]] = ()) -> None:
        buckets: list[dict[K, V]] = [{} for _ in range(BUCKETS)]
        for key, value in items:
            buckets[hash(key) & _MASK][key] = value
        self._buckets = buckets
        self._len = sum(len(b) for b in buckets)

    def get(self, key: K, default: V | None = None) -> V | None:
        return self._buckets[hash(key) & _MASK].get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._buckets[hash(key) & _MASK]

    def __len__(self) -> int:
        return self._len

    def values(self) -> Iterator[V]:
        for bucket in self._buckets:
            yield from bucket.values()

    def items(self) -> Iterator[tuple[K, V]]:
        for bucket in self._buckets:
            yield from bucket.items()

    def set_while_building(self, key: K, value: V) -> None:
        """Set in place: only while the map's builder is its only reader (before it is published)."""
        bucket = self._buckets[hash(key) & _MASK]
        self._len += key not in bucket
        bucket[key] = value

    def evolve(self, changes: Mapping[K, V | None]) -> PersistentMap[K, V]:
        """A new map with ``changes`` applied (a value of None removes the key); this one is untouched."""
        if not changes:
            return self
        buckets = list(self._buckets)
        copied: set[int] = set()
        size = self._len
        for key, value in changes.items():
            index = hash(key) & _MASK
            if index not in copied:
                buckets[index] = dict(buckets[index])
                copied.add(index)
            bucket = buckets[index]
            size -= key in bucket
            if value is None:
                bucket.pop(key, None)
            else:
                bucket[key] = value
                size += 1
        evolved: PersistentMap[K, V] = PersistentMap.__new__(PersistentMap)
        evolved._buckets = buckets
        evolved._len = size
        return evolved
