"""In-process counters (one node): exact, thread-safe, fixed and sliding windows.

The arithmetic is :mod:`policyhub.engine.ratelimit.windows`, the same as the Redis store's Lua script.
Memory stays bounded: counters that have expired are dropped as new requests arrive (oldest-used
first), and at most ``max_keys`` counters are kept (the least recently used one goes first).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

from policyhub.engine.compiled import RateState
from policyhub.engine.ratelimit.windows import (
    bucket_ms,
    fixed_state,
    sliding_retry_ms,
    window_ms,
)


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

    def __init__(self, max_keys: int = 1_000_000) -> None:
        self._counters: OrderedDict[str, _Fixed | _Sliding] = OrderedDict()
        self._lock = threading.Lock()
        self._max_keys = max_keys

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
        with self._lock:
            if sliding:
                state = self._sliding(key, limit, window, at, cost)
            else:
                state = self._fixed(key, limit, window, at, cost)
            self._evict(at)
        return state

    def __len__(self) -> int:
        return len(self._counters)

    def _fixed(self, key: str, limit: int, window: int, at: int, cost: int) -> RateState:
        start = at - at % window
        counter = self._counters.get(key)
        if not isinstance(counter, _Fixed) or counter.window != window or counter.start != start:
            counter = _Fixed(window, start)
            self._counters[key] = counter
        else:
            self._counters.move_to_end(key)
        allowed = counter.count + cost <= limit
        if allowed:
            counter.count += cost
        return fixed_state(allowed, limit, counter.count, start, window, at)

    def _sliding(self, key: str, limit: int, window: int, at: int, cost: int) -> RateState:
        counter = self._counters.get(key)
        if type(counter) is not _Sliding or counter.window != window:
            counter = _Sliding(window)
            self._counters[key] = counter
        else:
            self._counters.move_to_end(key)
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

    def _evict(self, at: int) -> None:
        """Drop up to two expired counters from the least recently used end, and any over the cap."""
        counters = self._counters
        for _ in range(2):
            if not counters:
                return
            key = next(iter(counters))
            if counters[key].expires > at:
                break
            del counters[key]
        while len(counters) > self._max_keys:
            counters.popitem(last=False)
