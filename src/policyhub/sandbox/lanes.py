"""A small thread pool shared by tenants, where no tenant can take more than its lane.

Blocking calls made on a tenant's behalf (a content judge over HTTP) run here, never on the shared
request thread pool: a tenant's flood of slow calls must not hold the threads another tenant's plain
requests need. Each tenant runs at most ``per_tenant`` calls at once; its further calls wait in its
own queue, holding no thread, and a call cancelled while it waits (its decision gave up) never runs.
So one tenant holds at most ``per_tenant`` of the pool's threads, and the others always find the rest.
A tenant's queue is bounded too (``max_waiting``): beyond it a call fails at once with :class:`LaneFull`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class LaneFull(RuntimeError):
    """The tenant already has as many calls waiting as it may."""


class _Lane:
    __slots__ = ("running", "waiting")

    def __init__(self) -> None:
        self.running = 0
        self.waiting: deque[tuple[Future[Any], Callable[[], Any]]] = deque()


class TenantLanes:
    def __init__(self, threads: int, per_tenant: int, *, max_waiting: int | None = None, name: str = "lanes") -> None:
        if threads < 1 or per_tenant < 1:
            raise ValueError("threads and per_tenant must be at least 1")
        self.per_tenant = per_tenant
        self.max_waiting = max_waiting if max_waiting is not None else 64 * per_tenant
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self._lanes: dict[str, _Lane] = {}
        self._lock = threading.Lock()

    def submit(self, tenant: str, call: Callable[[], T]) -> Future[T]:
        """Run ``call`` for ``tenant`` now if its lane has room, else when one of its calls ends.

        Cancelling the returned future before the call started means it never runs.
        """
        future: Future[T] = Future()
        with self._lock:
            lane = self._lanes.get(tenant)
            if lane is None:
                lane = self._lanes[tenant] = _Lane()
            if lane.running >= self.per_tenant:
                if len(lane.waiting) >= self.max_waiting:  # first forget the calls whose callers gave up
                    lane.waiting = deque(item for item in lane.waiting if not item[0].cancelled())
                if len(lane.waiting) >= self.max_waiting:
                    future.set_exception(LaneFull(f"{len(lane.waiting)} calls are already waiting"))
                    return future
                lane.waiting.append((future, call))
                return future
            lane.running += 1
        self._start(tenant, future, call)
        return future

    def waiting(self, tenant: str) -> int:
        """The tenant's calls waiting to run (a call whose caller gave up is not one: it never runs, and its
        entry leaves the queue when a slot frees or the queue is full)."""
        with self._lock:
            lane = self._lanes.get(tenant)
            return sum(not future.cancelled() for future, _ in lane.waiting) if lane else 0

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _start(self, tenant: str, future: Future[Any], call: Callable[[], Any]) -> None:
        while not future.set_running_or_notify_cancel():  # cancelled while it waited: the next one
            nxt = self._next(tenant)
            if nxt is None:
                return
            future, call = nxt
        self._pool.submit(self._run, tenant, future, call)

    def _run(self, tenant: str, future: Future[Any], call: Callable[[], Any]) -> None:
        try:
            result = call()
        except BaseException as exc:  # the caller sees it; the lane goes on
            future.set_exception(exc)
        else:
            future.set_result(result)
        nxt = self._next(tenant)
        if nxt is not None:
            self._start(tenant, *nxt)

    def _next(self, tenant: str) -> tuple[Future[Any], Callable[[], Any]] | None:
        """The tenant's next waiting call (its slot passes to it), or None (the slot is freed)."""
        with self._lock:
            lane = self._lanes[tenant]
            if lane.waiting:
                return lane.waiting.popleft()
            lane.running -= 1
            if lane.running == 0:
                del self._lanes[tenant]
            return None
