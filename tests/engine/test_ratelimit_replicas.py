"""Two real PolicyHub replicas on one PostgreSQL database and one Redis: together they enforce one
limit, and a policy written through one is applied by the other within the freshness bound."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.http_request_support import redis_url
from tests.support.server import ServerProcess

__all__ = ["redis_url"]  # the fixture, used by name

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.xdist_group("servers")]

REFRESH_S = 0.25  # settings.decision_refresh_s, the documented bound (the default)
MARGIN_S = 0.75  # one decision's round trip and the snapshot reload, on a busy machine


@pytest.fixture
def replicas(postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {"POLICYHUB_REDIS_URL": redis_url, "POLICYHUB_DECISION_REFRESH_S": str(REFRESH_S)}
    started: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            started.append(ServerProcess(postgres_url, extra_env=env, log_path=tmp_path / f"{name}.log").start())
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


def test_two_replicas_enforce_one_limit_and_apply_updates_within_the_bound(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = replicas
    endpoint = f"ep-{uuid.uuid4().hex[:10]}"  # the bootstrap org is shared with other server tests
    name = f"{endpoint}-limit"
    with a.client() as client:
        assert client.post("/scopes", json={"kind": "endpoint", "key": endpoint}).status_code == 201
        spec = {"limit": "100/h", "scope": "global"}
        r = client.post(
            "/policies", json={"name": name, "type": "syftspace.rate_limit", "scope": endpoint, "spec": spec}
        )
        assert r.status_code == 201, r.text
    time.sleep(REFRESH_S + 0.1)  # both replicas past their freshness bound
    ask = {"point": "http_request", "scope": endpoint, "input": {"user": "u@x.org"}}

    # 300 requests at a limit of 100, half through each replica, from 6 concurrent clients.
    decisions: Counter[str] = Counter()
    per_replica: dict[str, Counter[str]] = {"a": Counter(), "b": Counter()}
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def client_loop(server: ServerProcess, label: str) -> None:
        with server.client() as c:
            barrier.wait()
            for _ in range(50):
                r = c.post("/decisions", json=ask)
                assert r.status_code == 200, r.text
                with lock:
                    decisions[r.json()["decision"]] += 1
                    per_replica[label][r.json()["decision"]] += 1

    threads = [threading.Thread(target=client_loop, args=(s, s_label)) for s, s_label in [(a, "a"), (b, "b")] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(decisions.values()) == 300
    assert decisions["allow"] == 100, (decisions, per_replica)  # the Lua script is atomic: no slack
    assert per_replica["a"]["allow"] > 0 and per_replica["b"]["allow"] > 0, per_replica

    # Raise the limit through A; B applies it within the bound (its counter keeps the 100 counted).
    with a.client() as ca, b.client() as cb:
        assert cb.post("/decisions", json=ask).json()["decision"] == "deny"
        r = ca.patch(
            f"/policies/{name}",
            json={"spec": {"limit": "1000/h"}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 200, r.text
        acknowledged = time.monotonic()
        while True:
            answer = cb.post("/decisions", json=ask).json()
            elapsed = time.monotonic() - acknowledged
            if answer["decision"] == "allow":
                break
            assert elapsed < 10, "replica B never applied the update"
            time.sleep(0.01)
    assert elapsed <= REFRESH_S + MARGIN_S, f"B applied the update after {elapsed:.3f}s"
    (obligation,) = answer["obligations"]
    assert (obligation["limit"], obligation["remaining"]) == (1000, 899)
