"""Counters in Redis, shared by every replica: one atomic Lua script per decision.

The script is registered once (``register_script``: EVALSHA, loaded on first use) and does the whole
check-and-count in Redis, so concurrent requests on any number of replicas never over-admit: N
requests at a limit L admit exactly min(N, L) per window, with no slack. The window arithmetic is
the one in :mod:`policyhub.engine.ratelimit.windows` (the memory store's), on the caller's clock:
replicas should keep their clocks in sync (NTP), since a skew of d ms shifts their windows by d.

- fixed window: one string key per window (``…:f<window start ms>``), INCRBY + PEXPIRE;
- sliding window: one hash per counter (``…:s``), a field per bucket of W/60, HINCRBY + PEXPIRE;
  buckets that left the window are deleted by the same script.

**Per-org budget.** Each org's counter keys are listed in one sorted set per org (``…idx:<org>``,
scored by when each key expires), kept by the same script: expired entries are dropped, and when the
org holds more than ``keys_per_org`` live keys, its keys that expire soonest are deleted (an exhausted
long window outlives a flood of short ones). An org can thus never make Redis evict or refuse another
org's counters through its own volume (with ``maxmemory``, Redis's own eviction would pick keys of any
org; memory is now at most about ``keys_per_org`` keys per org, within one window), and a flood of new
identities costs the flooding org only its own soonest-expiring counters. Every key still has its TTL.

A refused request is not counted. Every command has a short socket timeout (``socket_timeout`` in
the URL, default 0.5 s; a policy may ask for its own, e.g. Apinizer's ``cacheConnectionTimeoutInSeconds``)
and no retry after a timeout (one immediate retry after a broken connection), so an unreachable Redis
fails a decision quickly; the error is
:class:`CounterStoreUnavailable`, which makes the policy's result an evaluation error (a deny unless the
policy's own fail-open setting says otherwise).

URL: ``redis://host:6379/0``, plus optional query parameters ``socket_timeout`` (seconds) and
``key_prefix`` (default ``policyhub:rl:``; tests use a unique one on a shared database).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from policyhub.engine.ratelimit import CounterStoreUnavailable
from policyhub.engine.ratelimit.windows import bucket_ms, fixed_state, now_ms, window_ms
from policyhub.evaluation.compiled import RateState

DEFAULT_TIMEOUT_S = 0.5
DEFAULT_PREFIX = "policyhub:rl:"

# KEYS[1]: the counter key, KEYS[2]: its org's index. ARGV: mode ("f" fixed | "s" sliding), limit,
# window ms, now ms, cost, then for "f": window start ms; for "s": bucket ms; then the org's key budget.
# Returns {allowed (0|1), count after the decision, ms until capacity frees (sliding; -1 never)}.
_SCRIPT = """
local mode = ARGV[1]
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local budget = tonumber(ARGV[7])
local function index(ttl)
  local idx = KEYS[2]
  redis.call('ZADD', idx, now + ttl, KEYS[1])
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
  local over = redis.call('ZCARD', idx) - budget
  if over > 0 then
    local victims = redis.call('ZRANGE', idx, 0, over)
    for i = 1, #victims do
      if over > 0 and victims[i] ~= KEYS[1] then
        redis.call('ZREM', idx, victims[i])
        redis.call('DEL', victims[i])
        over = over - 1
      end
    end
  end
  if redis.call('PTTL', idx) < ttl then
    redis.call('PEXPIRE', idx, ttl)
  end
end
if mode == 'f' then
  local start = tonumber(ARGV[6])
  local count = tonumber(redis.call('GET', KEYS[1]) or '0')
  if count + cost > limit then
    return {0, count, 0}
  end
  count = redis.call('INCRBY', KEYS[1], cost)
  if count == cost then
    redis.call('PEXPIRE', KEYS[1], start + window - now + 1000)
    index(start + window - now + 1000)
  end
  return {1, count, 0}
end
local g = tonumber(ARGV[6])
local oldest = math.floor((now - window) / g)
local current = math.floor(now / g)
local flat = redis.call('HGETALL', KEYS[1])
local counts = {}
local stale = {}
local total = 0
local first = nil
local last = nil
for i = 1, #flat, 2 do
  local b = tonumber(flat[i])
  local n = tonumber(flat[i + 1])
  if b < oldest then
    stale[#stale + 1] = flat[i]
  else
    counts[b] = n
    total = total + n
    if first == nil or b < first then first = b end
    if last == nil or b > last then last = b end
  end
end
if #stale > 0 then
  redis.call('HDEL', KEYS[1], unpack(stale))
end
if total + cost > limit then
  local need = total + cost - limit
  local freed = 0
  local retry = -1
  if first ~= nil then
    for b = first, last do
      local n = counts[b]
      if n ~= nil then
        freed = freed + n
        if freed >= need then
          retry = (b + 1) * g + window - now
          break
        end
      end
    end
  end
  local reset = window
  if first ~= nil then reset = (first + 1) * g + window - now end
  return {0, total, retry, reset}
end
local bucket = current
if last ~= nil and last > current then bucket = last end
redis.call('HINCRBY', KEYS[1], tostring(bucket), cost)
redis.call('PEXPIRE', KEYS[1], window + g + 1000)
index(window + g + 1000)
if first == nil then first = bucket end
return {1, total + cost, -1, (first + 1) * g + window - now}
"""


class RedisRateLimiter:
    """Rate-limit counters in Redis (shared by all replicas)."""

    blocking = True

    def __init__(
        self, url: str, *, timeout_s: float | None = None, prefix: str | None = None, keys_per_org: int = 100_000
    ) -> None:
        if keys_per_org < 1:
            raise ValueError("keys_per_org must be at least 1")
        self.keys_per_org = keys_per_org
        self._url, options = _split_url(url)
        self.prefix = prefix if prefix is not None else options.get("key_prefix", DEFAULT_PREFIX)
        given = options.get("socket_timeout")
        self.timeout_s = timeout_s if timeout_s is not None else float(given) if given else DEFAULT_TIMEOUT_S
        self._clients: dict[float, redis.Redis] = {}
        self._lock = threading.Lock()
        self._script = self._client(self.timeout_s).register_script(_SCRIPT)

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
        window, at = window_ms(window_s), now_ms(now)
        client = self._client(timeout_s if timeout_s is not None else self.timeout_s)
        if sliding:
            args: list[Any] = ["s", limit, window, at, cost, bucket_ms(window), self.keys_per_org]
            full_key = f"{self.prefix}{key}:s{window}"
        else:
            start = at - at % window
            args = ["f", limit, window, at, cost, start, self.keys_per_org]
            full_key = f"{self.prefix}{key}:f{window}:{start}"
        index_key = f"{self.prefix}idx:{key.partition(':')[0]}"
        try:
            answer = self._script(keys=[full_key, index_key], args=args, client=client)
        except redis.RedisError as exc:
            raise CounterStoreUnavailable(f"rate-limit counters unavailable ({type(exc).__name__}: {exc})") from exc
        allowed, count = bool(answer[0]), int(answer[1])
        if not sliding:
            return fixed_state(allowed, limit, count, int(args[5]), window, at)
        reset = int(answer[3]) / 1000
        if allowed:
            return RateState(True, limit, max(0, limit - count), reset, 0.0)
        retry_ms = int(answer[2])
        retry = retry_ms / 1000 if retry_ms >= 0 else window / 1000
        return RateState(False, limit, max(0, limit - count), reset, retry)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def _client(self, timeout_s: float) -> redis.Redis:
        client = self._clients.get(timeout_s)
        if client is None:
            with self._lock:
                client = self._clients.get(timeout_s)
                if client is None:
                    pool = redis.ConnectionPool.from_url(
                        self._url,
                        socket_timeout=timeout_s,
                        socket_connect_timeout=timeout_s,
                        # One immediate retry on a broken connection (a Redis restart leaves stale
                        # pooled connections), none on a timeout: a decision never waits twice.
                        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
                    )
                    client = redis.Redis(connection_pool=pool)
                    self._clients[timeout_s] = client
        return client


def _split_url(url: str) -> tuple[str, dict[str, str]]:
    """The URL for redis-py without the options handled here (``key_prefix``, ``socket_timeout``)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    mine = {k: v for k, v in query if k in ("key_prefix", "socket_timeout", "socket_connect_timeout")}
    rest = [(k, v) for k, v in query if k not in mine]
    return urlunsplit(parts._replace(query=urlencode(rest))), mine
