"""Rate-limit counters: in-process for one node, Redis (atomic Lua) for counters shared by replicas.

Both stores implement :class:`policyhub.engine.compiled.RateLimiter` with the same window arithmetic
(:mod:`policyhub.engine.ratelimit.windows`, which documents the fixed and sliding windows and their
exact slack). Evaluators name their counters with :func:`counter_key`.
"""

from __future__ import annotations

import hashlib

from policyhub.engine.compiled import RateLimiter
from policyhub.engine.ratelimit.memory import MemoryRateLimiter

MAX_IDENTITY_CHARS = 200


class CounterStoreUnavailable(RuntimeError):
    """The shared counter store did not answer (down, unreachable, timed out)."""


def build_limiter(redis_url: str | None, *, keys_per_org: int = 100_000) -> RateLimiter:
    """The configured counter store: Redis when ``redis_url`` is set, else this process's memory; either
    keeps at most ``keys_per_org`` live counters per org."""
    if redis_url:
        from policyhub.engine.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(redis_url, keys_per_org=keys_per_org)
    return MemoryRateLimiter(keys_per_org=keys_per_org)


def counter_key(org_id: str, policy_id: str, rule: str, identity: str) -> str:
    """``<org>:<policy>:<rule>:<identity>``: orgs and policies never share a counter.

    ``rule`` names the limit within the policy (``-`` for the main one, ``d<hash>`` for an override)
    and must not contain ``:``; the identity comes last, so the key is unambiguous whatever it holds.
    The limit itself is not part of the key: changing it keeps the counts (and touches no other
    policy's). A long identity is replaced by its SHA-256.
    """
    if len(identity) > MAX_IDENTITY_CHARS:
        identity = "sha256=" + hashlib.sha256(identity.encode()).hexdigest()
    return f"{org_id}:{policy_id}:{rule}:{identity}"
