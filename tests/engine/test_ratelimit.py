"""The counter stores: window edges, slack, isolation, atomicity, failure. Memory always; Redis when
POLICYHUB_TEST_REDIS_URL is set (skipped with the reason otherwise, a failure in CI). Every window
test injects ``now``: no sleeping."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyhub.engine.ratelimit import CounterStoreUnavailable, build_limiter
from policyhub.engine.ratelimit.memory import MemoryRateLimiter
from policyhub.engine.ratelimit.redis import RedisRateLimiter
from policyhub.engine.ratelimit.windows import bucket_ms
from policyhub.evaluation.compiled import RateLimiter
from policyhub.evaluation.counters import counter_key
from tests.engine.http_request_support import T0, redis_url
from tests.support.server import free_port

__all__ = ["redis_url"]  # the fixture, used by name


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    store = RedisRateLimiter(request.getfixturevalue("redis_url"))
    yield store
    store.close()


def hits(limiter: RateLimiter, key: str, limit: int, window: float, times: list[float], sliding: bool) -> list[bool]:
    return [limiter.hit(key, limit, window, sliding=sliding, now=t).allowed for t in times]


# -- fixed windows ------------------------------------------------------------------------------------
def test_fixed_window_resets_exactly_at_the_boundary(limiter: RateLimiter) -> None:
    end = T0 + 60
    assert hits(limiter, "k", 3, 60, [T0, T0 + 1, end - 0.002, end - 0.001], sliding=False) == [True] * 3 + [False]
    assert limiter.hit("k", 3, 60, sliding=False, now=end).allowed  # the first millisecond of the next window
    assert hits(limiter, "k", 3, 60, [end + 1, end + 2, end + 3], sliding=False) == [True, True, False]


def test_fixed_window_reports_remaining_reset_and_retry(limiter: RateLimiter) -> None:
    first = limiter.hit("k", 2, 60, sliding=False, now=T0 + 15)
    assert (first.allowed, first.limit, first.remaining) == (True, 2, 1)
    assert first.reset_after_s == pytest.approx(45) and first.retry_after_s == 0
    limiter.hit("k", 2, 60, sliding=False, now=T0 + 20)
    refused = limiter.hit("k", 2, 60, sliding=False, now=T0 + 50)
    assert (refused.allowed, refused.remaining) == (False, 0)
    assert refused.reset_after_s == pytest.approx(10) and refused.retry_after_s == pytest.approx(10)


def test_refused_requests_are_not_counted(limiter: RateLimiter) -> None:
    assert hits(limiter, "k", 2, 60, [T0] * 5, sliding=False) == [True, True, False, False, False]
    assert limiter.hit("k", 3, 60, sliding=False, now=T0 + 1).allowed  # only 2 were counted


def test_cost_counts_several_and_a_cost_above_the_limit_never_fits(limiter: RateLimiter) -> None:
    assert limiter.hit("k", 5, 60, sliding=False, now=T0, cost=3).remaining == 2
    assert not limiter.hit("k", 5, 60, sliding=False, now=T0, cost=3).allowed
    assert limiter.hit("k", 5, 60, sliding=False, now=T0, cost=2).allowed
    big = limiter.hit("other", 5, 60, sliding=True, now=T0, cost=6)
    assert not big.allowed and big.retry_after_s > 0


# -- sliding windows ---------------------------------------------------------------------------------
def test_sliding_window_has_no_double_burst_at_the_boundary(limiter: RateLimiter) -> None:
    # A fixed window would admit 10 just before the boundary and 10 more just after it.
    before = [T0 + 60 - 0.01] * 10
    assert all(hits(limiter, "s", 10, 60, before, sliding=True))
    assert not any(hits(limiter, "s", 10, 60, [T0 + 60 + 0.01, T0 + 61, T0 + 90, T0 + 119.9], sliding=True))
    # Capacity returns once the bucket holding them has left the window (at most W/60 late).
    g = bucket_ms(60_000) / 1000
    assert limiter.hit("s", 10, 60, sliding=True, now=T0 + 120 + g).allowed


def test_sliding_retry_after_is_when_the_oldest_requests_leave(limiter: RateLimiter) -> None:
    for t in (T0 + 1, T0 + 2, T0 + 3):
        limiter.hit("s", 3, 60, sliding=True, now=t)
    refused = limiter.hit("s", 3, 60, sliding=True, now=T0 + 30)
    assert not refused.allowed
    retry_at = T0 + 30 + refused.retry_after_s
    assert T0 + 61 <= retry_at <= T0 + 61 + bucket_ms(60_000) / 1000
    assert not limiter.hit("s", 3, 60, sliding=True, now=retry_at - 0.002).allowed
    assert limiter.hit("s", 3, 60, sliding=True, now=retry_at).allowed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offsets=st.lists(st.floats(min_value=0, max_value=300, allow_nan=False), min_size=1, max_size=120),
    limit=st.integers(min_value=1, max_value=8),
    window=st.sampled_from([1, 10, 60]),
)
def test_sliding_never_admits_more_than_the_limit_in_any_window(offsets: list[float], limit: int, window: int) -> None:
    store = MemoryRateLimiter()
    times = sorted(T0 + round(o, 3) for o in offsets)
    admitted = [t for t in times if store.hit("s", limit, window, sliding=True, now=t).allowed]
    for i, start in enumerate(admitted):  # every span (start - W, start] ... checked from each admission
        in_window = [t for t in admitted[: i + 1] if t > start - window]
        assert len(in_window) <= limit
    assert admitted, "the first request always fits"


def test_sliding_admits_at_a_steady_rate(limiter: RateLimiter) -> None:
    # 10 per minute, one request every 6.2 s: every one fits, forever. (The slack: a client at exactly
    # 10 per 60 s would see refusals, as requests count until their 1 s bucket has left the window.)
    assert all(hits(limiter, "s", 10, 60, [T0 + 6.2 * i + 0.5 for i in range(40)], sliding=True))


# -- keys, isolation, configuration changes --------------------------------------------------------
def test_counters_are_per_key_and_a_limit_change_keeps_the_count(limiter: RateLimiter) -> None:
    a, b = counter_key("org-1", "pol-1", "-", "alice"), counter_key("org-1", "pol-2", "-", "alice")
    c = counter_key("org-2", "pol-1", "-", "alice")
    assert len({a, b, c}) == 3
    assert hits(limiter, a, 2, 60, [T0, T0], sliding=False) == [True, True]
    assert limiter.hit(b, 2, 60, sliding=False, now=T0).allowed  # another policy
    assert limiter.hit(c, 2, 60, sliding=False, now=T0).allowed  # another org
    assert limiter.hit(a, 3, 60, sliding=False, now=T0).remaining == 0  # raised limit: 2 already counted
    assert limiter.hit(a, 10, 3600, sliding=False, now=T0).remaining == 9  # another window: a new counter


def test_a_long_identity_is_hashed_into_the_key() -> None:
    key = counter_key("o", "p", "-", "x" * 5000)
    assert len(key) < 100 and key != counter_key("o", "p", "-", "x" * 5001)
    assert counter_key("o", "p", "-", "a:b") != counter_key("o", "p", "-", "a:c")


def test_memory_store_drops_expired_counters_and_stays_bounded() -> None:
    store = MemoryRateLimiter(keys_per_org=100)
    for i in range(500):
        store.hit(f"org:k{i}", 5, 1, sliding=i % 2 == 0, now=T0 + i * 0.001)
    assert len(store) == 100
    for i in range(400):
        store.hit(f"org:late{i}", 5, 1, sliding=False, now=T0 + 10 + i)
    assert len(store) <= 3  # every earlier counter had expired and was dropped on the way


def test_memory_store_is_exact_under_threads() -> None:
    store = MemoryRateLimiter()
    admitted = _hammer(store, threads=8, per_thread=250, limit=300)
    assert admitted == 300


# -- Redis -----------------------------------------------------------------------------------------------
def _hammer(store: RateLimiter, *, threads: int, per_thread: int, limit: int) -> int:
    admitted = 0
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        nonlocal admitted
        start.wait()
        mine = sum(store.hit("hot", limit, 3600, sliding=False, now=T0 + 1).allowed for _ in range(per_thread))
        with lock:
            admitted += mine

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    return admitted


@pytest.mark.redis
@pytest.mark.parametrize("sliding", [False, True])
def test_redis_is_atomic_under_concurrent_clients(redis_url: str, sliding: bool) -> None:
    stores = [RedisRateLimiter(redis_url) for _ in range(4)]  # four "replicas", each with its own pool
    admitted = 0
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def worker(store: RedisRateLimiter) -> None:
        nonlocal admitted
        barrier.wait()
        mine = sum(store.hit("hot", 100, 3600, sliding=sliding, now=T0 + 1).allowed for _ in range(25))
        with lock:
            admitted += mine

    threads = [threading.Thread(target=worker, args=(stores[i % 4],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for store in stores:
        store.close()
    assert admitted == 100  # 400 requests at a limit of 100: exactly 100, no slack


@pytest.mark.redis
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=200, allow_nan=False), st.integers(1, 3), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_redis_and_memory_agree_to_the_millisecond(redis_url: str, steps: list[tuple[float, int, bool]]) -> None:
    memory, shared = MemoryRateLimiter(), RedisRateLimiter(redis_url)
    key = f"parity-{time.monotonic_ns()}"
    now = T0
    for delta, cost, sliding in steps:
        now += round(delta, 3) / 20
        a = memory.hit(key + str(sliding), 5, 10, sliding=sliding, now=now, cost=cost)
        b = shared.hit(key + str(sliding), 5, 10, sliding=sliding, now=now, cost=cost)
        assert a == b
    shared.close()


def test_an_unreachable_redis_fails_fast_with_a_clear_error() -> None:
    store = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(CounterStoreUnavailable, match="rate-limit counters unavailable"):
        store.hit("k", 1, 1, sliding=False, now=T0)
    assert time.monotonic() - started < 1.0


def test_a_redis_that_never_answers_costs_one_timeout_of_the_callers_choice() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        store = RedisRateLimiter(f"redis://127.0.0.1:{silent.getsockname()[1]}/0?socket_timeout=0.2")
        for timeout_s, expected in ((None, 0.2), (0.5, 0.5)):
            started = time.monotonic()
            with pytest.raises(CounterStoreUnavailable, match="Timeout"):
                store.hit("k", 1, 1, sliding=False, now=T0, timeout_s=timeout_s)
            assert expected <= time.monotonic() - started < expected + 0.5
        store.close()


def test_redis_url_options_and_per_call_timeouts() -> None:
    store = RedisRateLimiter("redis://127.0.0.1:6379/15?key_prefix=abc:&socket_timeout=0.2")
    assert store.prefix == "abc:" and store.timeout_s == 0.2
    assert RedisRateLimiter("redis://127.0.0.1:6379/0").timeout_s == 0.5
    assert isinstance(build_limiter(None), MemoryRateLimiter)
    assert isinstance(build_limiter("redis://127.0.0.1:6379/0"), RedisRateLimiter)
    assert store._client(3.0) is store._client(3.0) is not store._client(0.2)
