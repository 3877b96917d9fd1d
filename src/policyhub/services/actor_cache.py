"""A short-lived cache of authenticated keys, so most requests skip the key lookup.

Bound: a key revoked (or an org setting changed) through this process stops working here at once
(the cache is cleared); on other replicas within ``ttl_s`` seconds. When an entry expires under load,
one lookup refreshes it while the key's other requests wait for that one (no stampede of lookups).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from policyhub.domain.records import Actor, Org


class ActorCache:
    def __init__(self, ttl_s: float = 2.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Actor, Org]] = {}
        self._lock = threading.Lock()
        self._loading: dict[str, asyncio.Future[tuple[Actor, Org]]] = {}
        self._generation = 0  # bumped by clear(): a lookup that started before must not repopulate

    def get(self, token_hash: str) -> tuple[Actor, Org] | None:
        entry = self._entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1], entry[2]

    async def fetch(self, token_hash: str, load: Callable[[], Awaitable[tuple[Actor, Org]]]) -> tuple[Actor, Org]:
        """The cached entry, else the result of ``load`` (shared by concurrent callers of one event loop)."""
        cached = self.get(token_hash)
        if cached is not None:
            return cached
        pending = self._loading.get(token_hash)
        if pending is None:
            pending = asyncio.ensure_future(self._load(token_hash, load, self._generation))
            self._loading[token_hash] = pending
            pending.add_done_callback(lambda done: self._forget(token_hash, done))
        return await asyncio.shield(pending)  # a waiter that goes away does not cancel the others' lookup

    def _forget(self, token_hash: str, done: asyncio.Future[tuple[Actor, Org]]) -> None:
        if self._loading.get(token_hash) is done:
            del self._loading[token_hash]

    async def _load(
        self, token_hash: str, load: Callable[[], Awaitable[tuple[Actor, Org]]], generation: int
    ) -> tuple[Actor, Org]:
        actor, org = await load()
        self.put(token_hash, actor, org, generation=generation)
        return actor, org

    def put(self, token_hash: str, actor: Actor, org: Org, *, generation: int | None = None) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if generation is not None and generation != self._generation:
                return  # cleared while this entry was being looked up: it may be stale
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[token_hash] = (time.monotonic() + self.ttl_s, actor, org)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._loading.clear()  # requests from now on look up afresh, not join a lookup begun before
