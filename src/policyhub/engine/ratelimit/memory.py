"""In-process counters (one node): fixed windows."""

from __future__ import annotations

import math
import threading

from policyhub.engine.compiled import RateState


class MemoryRateLimiter:
    """Counters in this process's memory; exact for a single replica."""

    blocking = False

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_s: float, *, sliding: bool, now: float, cost: int = 1) -> RateState:
        start = math.floor(now / window_s) * window_s
        with self._lock:
            window_start, count = self._windows.get(key, (start, 0))
            if window_start != start:
                window_start, count = start, 0
            allowed = count + cost <= limit
            if allowed:
                count += cost
                self._windows[key] = (window_start, count)
        reset = window_start + window_s - now
        return RateState(allowed, limit, max(0, limit - count), reset, 0.0 if allowed else reset)
