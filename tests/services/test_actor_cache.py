"""The actor cache: one lookup per expired key however many requests wait, and never a stale refill."""

from __future__ import annotations

import asyncio

import pytest

from policyhub.domain.canonical import now
from policyhub.domain.records import Actor, Org, Role
from policyhub.services.actor_cache import ActorCache

ORG = Org(id="o", slug="o", name="o", settings={}, created_at=now())


def actor(name: str) -> Actor:
    return Actor(org_id="o", principal_id="p", name=name, role=Role.ADMIN)


def test_concurrent_misses_share_one_lookup() -> None:
    cache = ActorCache(ttl_s=60)
    calls = 0

    async def load() -> tuple[Actor, Org]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return actor("a"), ORG

    async def main() -> list[tuple[Actor, Org]]:
        return await asyncio.gather(*(cache.fetch("h", load) for _ in range(50)))

    results = asyncio.run(main())
    assert calls == 1
    assert {r[0].name for r in results} == {"a"}
    assert cache.get("h") is not None


def test_a_failed_lookup_fails_every_waiter_and_is_not_cached() -> None:
    cache = ActorCache(ttl_s=60)
    calls = 0

    async def load() -> tuple[Actor, Org]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise PermissionError("revoked")

    async def main() -> list[object]:
        return await asyncio.gather(*(cache.fetch("h", load) for _ in range(5)), return_exceptions=True)

    assert all(isinstance(r, PermissionError) for r in asyncio.run(main()))
    assert calls == 1 and cache.get("h") is None
    with pytest.raises(PermissionError):
        asyncio.run(cache.fetch("h", load))
    assert calls == 2  # the next request looks again


def test_a_clear_during_a_lookup_keeps_its_result_out_of_the_cache() -> None:
    cache = ActorCache(ttl_s=60)

    async def load() -> tuple[Actor, Org]:
        await asyncio.sleep(0.01)
        return actor("before-revocation"), ORG

    async def main() -> tuple[Actor, Org]:
        task = asyncio.ensure_future(cache.fetch("h", load))
        await asyncio.sleep(0)
        cache.clear()  # e.g. the key was revoked meanwhile
        return await task

    assert asyncio.run(main())[0].name == "before-revocation"  # that request started before the revocation
    assert cache.get("h") is None  # but the next one looks the key up again


def test_a_request_after_a_clear_does_not_join_a_lookup_begun_before() -> None:
    cache = ActorCache(ttl_s=60)
    answers = iter(["old", "new"])

    async def load() -> tuple[Actor, Org]:
        name = next(answers)
        await asyncio.sleep(0.02 if name == "old" else 0)
        return actor(name), ORG

    async def main() -> tuple[str, str]:
        early = asyncio.ensure_future(cache.fetch("h", load))
        await asyncio.sleep(0.005)
        cache.clear()
        late = await cache.fetch("h", load)
        return (await early)[0].name, late[0].name

    assert asyncio.run(main()) == ("old", "new")
    assert cache.get("h")[0].name == "new"  # type: ignore[index]


def test_a_waiter_that_goes_away_does_not_cancel_the_lookup() -> None:
    cache = ActorCache(ttl_s=60)

    async def load() -> tuple[Actor, Org]:
        await asyncio.sleep(0.02)
        return actor("a"), ORG

    async def main() -> tuple[Actor, Org]:
        first = asyncio.ensure_future(cache.fetch("h", load))
        second = asyncio.ensure_future(cache.fetch("h", load))
        await asyncio.sleep(0.005)
        first.cancel()
        return await second

    assert asyncio.run(main())[0].name == "a"
