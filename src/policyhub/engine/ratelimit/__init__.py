"""Rate-limit counters: in-process for one node, Redis (atomic Lua) for counters shared by replicas."""

from __future__ import annotations

from policyhub.engine.compiled import RateLimiter
from policyhub.engine.ratelimit.memory import MemoryRateLimiter


def build_limiter(redis_url: str | None) -> RateLimiter:
    """The configured counter store: Redis when ``redis_url`` is set, else this process's memory."""
    if redis_url:
        from policyhub.engine.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(redis_url)
    return MemoryRateLimiter()
