"""In-process counters (one node): exact, thread-safe, fixed and sliding windows.

The arithmetic is :mod:`policyhub.engine.ratelimit.windows`, the same as the Redis store's Lua script.

Memory stays bounded **per org** (the org is the key's first part, see
:func:`~policyhub.engine.ratelimit.counter_key`): each org has its own least-recently-used list of at
most ``keys_per_org`` counters, so an org sending ever new identities only ever evicts its own counters,
never another org's. Dropping an expired counter changes nothing (the next request would start a new
window anyway), so expired counters go first: two from the org's least recently used end on each of its
requests, a few of another org's now and then, and, when the org is over its budget, an expired one
among its oldest few. Only when none of those has expired does the org evict a live counter of its own
(its least recently used): that identity's count starts again, which an org can bring on only itself,
by sending more distinct identities within one window than its budget. Memory: at most
``keys_per_org`` counters per org (orgs are created by the operator).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

from policyhub.engine.ratelimit.windows import (
    bucket_ms,
    fixed_state,
    sliding_retry_ms,
    window_ms,
)
from policyhub.evaluation.compiled import RateState


class _Fixed:
    __slots__ = ("count", "expires", "start", "window")

    def __init__(self, window: int, start: int) -> None:
        self.window = window
        self.start = start
        self.count = 0
        self.expires = start + window


class _Sliding:
    __slots__ = ("bucket", "buckets", "expires", "total", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.bucket = bucket_ms(window)  # the granularity of its timestamps
        self.buckets: list[list[int]] = []  # [bucket index, count], oldest first
        self.total = 0
        self.expires = 0


class MemoryRateLimiter:
    """Counters in this process's memory; exact for a single replica."""

    blocking = False

    def __init__(self, keys_per_org: int = 100_000) -> None:
        if keys_per_org < 1:
            raise ValueError("keys_per_org must be at least 1")
        #: org id -> its counters, least recently used first; orgs in the order the sweep visits them.
        self._orgs: dict[str, OrderedDict[str, _Fixed | _Sliding]] = {}
        self._lock = threading.Lock()
        self._keys_per_org = keys_per_org
        self._hits = 0

    def hit(
        self,
        key: str,
        limit: int,
        window_s: float,
        *,
        sliding: bool,
        now: float,
        cost: int = 1,
        timeout_s: float | None = None,
    ) -> RateState:
        window, at = window_ms(window_s), math.floor(now * 1000)  # now_ms, inlined: this is per decision
        org = key.partition(":")[0]
        with self._lock:
            counters = self._orgs.get(org)
            if counters is None:
                counters = self._orgs[org] = OrderedDict()
            if sliding:
                state = self._sliding(counters, key, limit, window, at, cost)
            else:
                state = self._fixed(counters, key, limit, window, at, cost)
            self._evict(counters, at)
            self._hits += 1
            if not self._hits & 255:
                self._sweep(at)
        return state

    def __len__(self) -> int:
        return sum(len(counters) for counters in self._orgs.values())

    def keys_of(self, org_id: str) -> int:
        """How many counters the org holds."""
        counters = self._orgs.get(org_id)
        return len(counters) if counters is not None else 0

    def _fixed(
        self, counters: OrderedDict[str, _Fixed | _Sliding], key: str, limit: int, window: int, at: int, cost: int
    ) -> RateState:
        start = at - at % window
        counter = counters.get(key)
        if not isinstance(counter, _Fixed) or counter.window != window or counter.start != start:
            counter = _Fixed(window, start)
            counters[key] = counter
        else:
            counters.move_to_end(key)
        allowed = counter.count + cost <= limit
        if allowed:
            counter.count += cost
        return fixed_state(allowed, limit, counter.count, start, window, at)

    def _sliding(
        self, counters: OrderedDict[str, _Fixed | _Sliding], key: str, limit: int, window: int, at: int, cost: int
    ) -> RateState:
        counter = counters.get(key)
        if type(counter) is not _Sliding or counter.window != window:
            counter = _Sliding(window)
            counters[key] = counter
        else:
            counters.move_to_end(key)
        g = counter.bucket
        oldest, current = (at - window) // g, at // g
        buckets = counter.buckets
        while buckets and buckets[0][0] < oldest:
            counter.total -= buckets.pop(0)[1]
        if counter.total + cost > limit:
            until = sliding_retry_ms([(b, n) for b, n in buckets], counter.total, cost, limit, g, window)
            retry = (until - at) / 1000 if until >= 0 else window / 1000
            reset = ((buckets[0][0] + 1) * g + window - at) / 1000 if buckets else window / 1000
            return RateState(False, limit, max(0, limit - counter.total), reset, retry)
        if buckets and buckets[-1][0] >= current:
            # Same bucket, or the clock stepped back: counting it in the newest bucket keeps it longer
            # (never shorter) than its true time would, so the limit still holds.
            buckets[-1][1] += cost
        else:
            buckets.append([current, cost])
        counter.total += cost
        counter.expires = (buckets[-1][0] + 1) * g + window
        reset = ((buckets[0][0] + 1) * g + window - at) / 1000
        return RateState(True, limit, max(0, limit - counter.total), reset, 0.0)

    def _evict(self, counters: OrderedDict[str, _Fixed | _Sliding], at: int) -> None:
        """Drop up to two of the org's expired counters from its least recently used end; then, while it is
        over its budget, one of its own: an expired one among its oldest few, else its least recently used."""
        for _ in range(2):
            key = next(iter(counters))
            if counters[key].expires > at or len(counters) == 1:
                break
            del counters[key]
        while len(counters) > self._keys_per_org:
            victim = None
            for seen, (key, counter) in enumerate(counters.items()):
                if counter.expires <= at:
                    victim = key
                    break
                if seen == _OLDEST_LOOKED_AT:
                    break
            if victim is None:
                counters.popitem(last=False)
            else:
                del counters[victim]

    def _sweep(self, at: int) -> None:
        """Drop some expired counters of the org visited next (round robin), so idle orgs give memory back."""
        org = next(iter(self._orgs))
        counters = self._orgs.pop(org)
        for _ in range(64):
            if not counters:
                return  # the org holds nothing: forget it
            key = next(iter(counters))
            if counters[key].expires > at:
                break
            del counters[key]
        self._orgs[org] = counters  # to the end of the round


#: Over its budget, an org looks this far from its least recently used end for an expired counter.
_OLDEST_LOOKED_AT = 8
