"""Window arithmetic shared by the memory and Redis counter stores, so both count exactly alike.

Times are whole milliseconds since the Unix epoch (``now`` is floored), so a memory and a Redis
store given the same ``now`` agree to the millisecond.

**Fixed window.** Windows are aligned to the epoch: ``[k·W, (k+1)·W)``. A request is admitted when
the window's count plus its cost is at most the limit; a refused request is not counted. The count
resets exactly at the boundary, so a client may spend the limit at the end of one window and again
at the start of the next (up to 2·limit within any span of W straddling a boundary): that is what a
fixed window means.

**Sliding window** (a log with its timestamps rounded to buckets of ``g = ceil(W / 60)`` ms). Each
admitted request adds its cost to the bucket ``floor(now / g)``. A decision at ``now`` counts every
bucket from ``floor((now - W) / g)`` on: those cover the whole window ``(now - W, now]`` plus part of
one bucket before it. Exact slack: the count is never lower than an exact log's, so **no span of
length W ever admits more than the limit** (no burst at a boundary, none anywhere); in exchange a
request may be refused for up to ``g`` (W/60, e.g. 1 s of a 1-minute window) after an exact log would
already have admitted it, because the oldest bucket leaves the window whole.
"""

from __future__ import annotations

import math

from policyhub.evaluation.compiled import RateState

SLIDING_BUCKETS = 60


def now_ms(now: float) -> int:
    return math.floor(now * 1000)


def window_ms(window_s: float) -> int:
    if not window_s > 0:
        raise ValueError(f"a rate-limit window must be positive, not {window_s!r}")
    return max(1, round(window_s * 1000))


def bucket_ms(window: int) -> int:
    """The sliding log's timestamp granularity for a window of ``window`` ms."""
    return max(1, -(-window // SLIDING_BUCKETS))


def fixed_state(allowed: bool, limit: int, count: int, start: int, window: int, now: int) -> RateState:
    """The answer of a fixed window ``[start, start + window)`` that holds ``count`` after the decision."""
    reset = (start + window - now) / 1000
    return RateState(allowed, limit, max(0, limit - count), reset, 0.0 if allowed else reset)


def sliding_retry_ms(buckets: list[tuple[int, int]], total: int, cost: int, limit: int, g: int, window: int) -> int:
    """When (ms since the epoch) enough of the oldest buckets have left the window for ``cost`` to fit.

    ``buckets`` are the counted (bucket index, count) pairs, oldest first. A cost above the limit can
    never fit: one window from now is answered then.
    """
    need = total + cost - limit
    freed = 0
    for index, count in buckets:
        freed += count
        if freed >= need:
            return (index + 1) * g + window
    return -1
