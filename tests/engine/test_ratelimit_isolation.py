"""In-memory counters are budgeted per org (issue 11): one org sending 1,002,000 distinct identities used
to push every other org's counters out of the one shared LRU, resetting an exhausted limit. Now an org
over its budget evicts only its own counters, expired ones first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from policyhub.app import build_container
from policyhub.engine.ratelimit.memory import MemoryRateLimiter
from policyhub.engine.ratelimit.redis import RedisRateLimiter
from policyhub.evaluation.counters import counter_key
from policyhub.http.app import create_app
from policyhub.http.deps import Container
from tests.conftest import OrgClient, make_settings, new_org
from tests.engine.http_request_support import T0, redis_url

__all__ = ["redis_url"]  # the fixture, used by name

BUDGET = 50


def key(org: str, identity: str) -> str:
    return counter_key(org, "policy", "-", identity)


def test_an_org_over_its_budget_never_evicts_another_orgs_counters() -> None:
    store = MemoryRateLimiter(keys_per_org=BUDGET)
    victim = key("org-b", "alice")
    assert [store.hit(victim, 2, 3600, sliding=False, now=T0).allowed for _ in range(3)] == [True, True, False]
    for i in range(20 * BUDGET):  # org A: ever new identities, all live
        store.hit(key("org-a", f"user-{i}"), 5, 3600, sliding=i % 2 == 0, now=T0 + i * 0.001)
    assert store.keys_of("org-a") == BUDGET and store.keys_of("org-b") == 1
    assert not store.hit(victim, 2, 3600, sliding=False, now=T0 + 2).allowed  # still exhausted


def test_an_org_over_its_budget_evicts_its_expired_counters_before_live_ones() -> None:
    store = MemoryRateLimiter(keys_per_org=BUDGET)
    exhausted = key("org-a", "mallory")
    assert [store.hit(exhausted, 1, 3600, sliding=False, now=T0).allowed for _ in range(2)] == [True, False]
    for i in range(BUDGET - 1):  # short windows, soon expired
        store.hit(key("org-a", f"burst-{i}"), 5, 1, sliding=False, now=T0 + 0.5)
    for i in range(BUDGET - 1):  # later: new identities take the expired counters' places
        store.hit(key("org-a", f"next-{i}"), 5, 3600, sliding=False, now=T0 + 10)
    assert store.keys_of("org-a") == BUDGET
    assert not store.hit(exhausted, 1, 3600, sliding=False, now=T0 + 11).allowed  # its live counter was kept


def test_an_org_with_only_live_counters_evicts_its_own_least_recently_used() -> None:
    """The documented cost of a budget: an org sending more live identities than it holds resets its own
    oldest counter (and only its own)."""
    store = MemoryRateLimiter(keys_per_org=BUDGET)
    oldest = key("org-a", "first")
    assert [store.hit(oldest, 1, 3600, sliding=False, now=T0).allowed for _ in range(2)] == [True, False]
    for i in range(BUDGET):
        store.hit(key("org-a", f"u{i}"), 5, 3600, sliding=False, now=T0 + 1)
    assert store.keys_of("org-a") == BUDGET
    assert store.hit(oldest, 1, 3600, sliding=False, now=T0 + 2).allowed  # counted again from zero


def test_idle_orgs_give_their_expired_counters_back() -> None:
    store = MemoryRateLimiter(keys_per_org=BUDGET)
    for i in range(BUDGET):
        store.hit(key("idle", f"u{i}"), 5, 1, sliding=False, now=T0)
    for i in range(2000):  # another org's traffic, long after the idle org's windows ended
        store.hit(key("busy", "one"), 10**9, 3600, sliding=False, now=T0 + 10 + i * 0.001)
    assert store.keys_of("idle") == 0


# -- Redis: the same budget, kept by the counting script --------------------------------------------
@pytest.mark.redis
def test_redis_an_org_over_its_budget_never_evicts_another_orgs_counters(redis_url: str) -> None:
    import redis

    store = RedisRateLimiter(redis_url, keys_per_org=BUDGET)
    now = time.time()
    victim = key("org-b", "alice")
    assert [store.hit(victim, 2, 3600, sliding=False, now=now).allowed for _ in range(3)] == [True, True, False]
    exhausted = key("org-a", "mallory")  # org A's own exhausted long window outlives its flood of short ones
    assert [store.hit(exhausted, 1, 3600, sliding=True, now=now).allowed for _ in range(2)] == [True, False]
    for i in range(4 * BUDGET):
        store.hit(key("org-a", f"user-{i}"), 5, 60, sliding=i % 2 == 0, now=now)
    client = redis.Redis.from_url(redis_url.split("?")[0])
    assert client.zcard(f"{store.prefix}idx:org-a") == BUDGET
    assert len(list(client.scan_iter(match=f"{store.prefix}org-a:*", count=1000))) == BUDGET
    assert client.pttl(f"{store.prefix}idx:org-a") > 0  # the index expires too
    client.close()
    assert not store.hit(victim, 2, 3600, sliding=False, now=now + 1).allowed  # still exhausted
    assert not store.hit(exhausted, 1, 3600, sliding=True, now=now + 1).allowed
    store.close()


# -- through the app -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def budget_container(database_url: str) -> Iterator[Container]:
    c = build_container(make_settings(database_url, ratelimit_keys_per_org=BUDGET, decision_log=False))
    yield c
    c.db.dispose()


@pytest.fixture(scope="module")
def budget_client(budget_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=budget_container), raise_server_exceptions=False) as client:
        yield client


def per_user_limit(org: OrgClient, limit: str) -> None:
    spec = {"limit": limit, "scope": "per_user"}
    r = org.post("policies", json={"name": "per-user", "type": "syftspace.rate_limit", "spec": spec})
    assert r.status_code == 201, r.text


def ask(org: OrgClient, user: str) -> str:
    r = org.post("decisions", json={"point": "http_request", "input": {"user": user}})
    assert r.status_code == 200, r.text
    return str(r.json()["decision"])


def test_an_org_filling_its_counter_budget_does_not_reset_another_orgs_limit(
    budget_client: TestClient, budget_container: Container
) -> None:
    hostile, victim = new_org(budget_client, budget_container), new_org(budget_client, budget_container)
    per_user_limit(hostile, "1000/h")
    per_user_limit(victim, "2/h")
    assert [ask(victim, "alice@example.com") for _ in range(3)] == ["allow", "allow", "deny"]
    answers = {ask(hostile, f"user-{i}@example.com") for i in range(4 * BUDGET)}  # 4x its budget
    assert answers == {"allow"}  # its own users are served as before
    assert ask(victim, "alice@example.com") == "deny"  # the exhausted limit holds
    assert ask(victim, "bob@example.com") == "allow"
