"""A short-lived cache of authenticated keys, so most requests skip the key lookup.

Bound: a key revoked (or an org setting changed) through this process stops working here at once
(the cache is cleared); on other replicas within ``ttl_s`` seconds.
"""

from __future__ import annotations

import threading
import time

from policyhub.domain.records import Actor, Org


class ActorCache:
    def __init__(self, ttl_s: float = 2.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Actor, Org]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> tuple[Actor, Org] | None:
        entry = self._entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1], entry[2]

    def put(self, token_hash: str, actor: Actor, org: Org) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[token_hash] = (time.monotonic() + self.ttl_s, actor, org)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
