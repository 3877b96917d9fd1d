"""TenantLanes: a tenant runs at most its lane's calls at once, waits without a thread, and a call cancelled
while it waits never runs; another tenant's calls start at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest

from policyhub.sandbox.lanes import LaneFull, TenantLanes


def test_a_tenant_runs_at_most_its_lane_and_others_start_at_once() -> None:
    lanes = TenantLanes(threads=8, per_tenant=2, max_waiting=100)
    release = threading.Event()
    running: dict[str, int] = {"a": 0, "b": 0}
    most = {"a": 0, "b": 0}
    lock = threading.Lock()

    def call(tenant: str) -> str:
        with lock:
            running[tenant] += 1
            most[tenant] = max(most[tenant], running[tenant])
        release.wait(5)
        with lock:
            running[tenant] -= 1
        return tenant

    flood = [lanes.submit("a", lambda: call("a")) for _ in range(20)]
    time.sleep(0.1)
    assert lanes.waiting("a") == 18
    other = lanes.submit("b", lambda: "b answered")
    assert other.result(timeout=1) == "b answered"  # not behind tenant a's 20 calls
    release.set()
    assert [f.result(timeout=5) for f in flood] == ["a"] * 20
    assert most["a"] == 2 and lanes.waiting("a") == 0
    lanes.shutdown()


def test_a_call_cancelled_while_it_waits_never_runs_and_a_full_lane_refuses() -> None:
    lanes = TenantLanes(threads=2, per_tenant=1, max_waiting=3)
    release = threading.Event()
    ran: list[int] = []
    first = lanes.submit("a", lambda: release.wait(5))
    waiting: list[Future[None]] = [lanes.submit("a", lambda i=i: ran.append(i)) for i in range(3)]  # type: ignore[misc]
    with pytest.raises(LaneFull):
        lanes.submit("a", lambda: None).result(timeout=1)
    assert waiting[0].cancel() and waiting[1].cancel()
    assert lanes.waiting("a") == 1  # a caller that gave up no longer counts as waiting
    release.set()
    first.result(timeout=5)
    waiting[2].result(timeout=5)
    assert ran == [2]
    lanes.shutdown()
