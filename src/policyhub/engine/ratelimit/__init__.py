"""Rate-limit counters: in-process for one node, Redis (atomic Lua) for counters shared by replicas.

Both stores implement :class:`policyhub.evaluation.compiled.RateLimiter` with the same window arithmetic
(:mod:`policyhub.engine.ratelimit.windows`, which documents the fixed and sliding windows and their
exact slack). Evaluators name their counters with :func:`policyhub.evaluation.counters.counter_key`.
"""

from __future__ import annotations

from policyhub.engine.ratelimit.memory import MemoryRateLimiter
from policyhub.evaluation.compiled import RateLimiter


class CounterStoreUnavailable(RuntimeError):
    """The shared counter store did not answer (down, unreachable, timed out)."""


def build_limiter(redis_url: str | None, *, keys_per_org: int = 100_000) -> RateLimiter:
    """The configured counter store: Redis when ``redis_url`` is set, else this process's memory; either
    keeps at most ``keys_per_org`` live counters per org."""
    if redis_url:
        from policyhub.engine.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(redis_url, keys_per_org=keys_per_org)
    return MemoryRateLimiter(keys_per_org=keys_per_org)
