"""Concurrent conditional read-modify-write against a real server: no lost updates, no gaps."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from tests.support.listing import all_versions
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("servers")]

THREADS = 8
ATTEMPTS_PER_THREAD = 25


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> ServerProcess:
    srv = ServerProcess(database_url, log_path=tmp_path / "server.log").start()
    yield srv  # type: ignore[misc]
    srv.stop()


def test_conditional_writers_lose_with_412_and_nothing_is_lost(server: ServerProcess) -> None:
    name = f"counter-{threading.get_ident()}-{id(server)}"
    with server.client() as c:
        r = c.post("/policies", json={"name": name, "type": "document", "spec": {"tokens": []}})
        assert r.status_code == 201, r.text
    accepted: list[str] = []
    rejected = Counter[str]()
    other = Counter[int]()
    lock = threading.Lock()

    def writer(worker: int) -> None:
        with server.client() as c:
            for attempt in range(ATTEMPTS_PER_THREAD):
                token = f"w{worker}-{attempt}"
                got = c.get(f"/policies/{name}")
                spec = got.json()["spec"]
                patch = {"spec": {"tokens": [*spec["tokens"], token]}}
                r = c.patch(
                    f"/policies/{name}",
                    json=patch,
                    headers={"If-Match": got.headers["etag"], "Content-Type": "application/merge-patch+json"},
                )
                with lock:
                    if r.status_code == 200:
                        accepted.append(token)
                    elif r.status_code == 412:
                        rejected[token] += 1
                    else:
                        other[r.status_code] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not other, f"unexpected statuses: {other}"
    assert accepted, "no write succeeded"
    assert sum(rejected.values()) + len(accepted) == THREADS * ATTEMPTS_PER_THREAD
    with server.client() as c:
        final = c.get(f"/policies/{name}").json()
        versions = all_versions(c, name)
        events = c.get(f"/policies/{name}/events", params={"limit": 500}).json()["items"]
        verify = c.get("/audit/verify").json()
    assert sorted(final["spec"]["tokens"]) == sorted(accepted), "lost or phantom tokens"
    assert len(final["spec"]["tokens"]) == len(set(final["spec"]["tokens"])), "duplicated tokens"
    assert final["revision"] == 1 + len(accepted)
    assert [v["version"] for v in versions] == list(range(1, len(accepted) + 2)), "version numbers have gaps"
    assert [e["type"] for e in events].count("new_version") == len(accepted)
    # Each accepted write's version holds exactly the tokens accepted before it, in order.
    for v, token in zip(versions[1:], final["spec"]["tokens"], strict=True):
        assert v["spec"]["tokens"][-1] == token
    assert verify["ok"], verify


def test_unconditional_writers_are_serialised_each_as_its_own_version(server: ServerProcess) -> None:
    name = f"serial-{id(server)}"
    with server.client() as c:
        assert c.post("/policies", json={"name": name, "type": "document", "spec": {"n": 0}}).status_code == 201
    statuses = Counter[int]()
    lock = threading.Lock()

    def writer(worker: int) -> None:
        with server.client() as c:
            for i in range(10):
                r = c.patch(
                    f"/policies/{name}",
                    json={"spec": {f"w{worker}": i}},
                    headers={"Content-Type": "application/merge-patch+json"},
                )
                with lock:
                    statuses[r.status_code] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert statuses == Counter({200: THREADS * 10})
    with server.client() as c:
        final = c.get(f"/policies/{name}").json()
        versions = all_versions(c, name)
    assert final["spec"] == {"n": 0, **{f"w{w}": 9 for w in range(THREADS)}}, "a merge was lost"
    assert final["revision"] == 1 + THREADS * 10
    assert len(versions) == 1 + THREADS * 10


def test_concurrent_upserts_of_one_new_name_create_exactly_one(server: ServerProcess) -> None:
    name = f"upsert-{id(server)}"
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def writer(i: int) -> None:
        with server.client() as c:
            barrier.wait()
            r = c.put(f"/policies/{name}", json={"type": "document", "spec": {"same": True}})
            with lock:
                statuses.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201}
    with server.client() as c:
        assert len(all_versions(c, name)) == 1
        listed = c.get("/policies", params={"name_prefix": name}).json()["items"]
        assert len(listed) == 1


def test_two_worker_processes_share_one_sqlite_file_without_errors(sqlite_url: str, tmp_path: Path) -> None:
    server = ServerProcess(sqlite_url, workers=2, log_path=tmp_path / "server.log").start()
    name = f"multi-{id(server)}"
    statuses = Counter[int]()
    acked: list[str] = []
    lock = threading.Lock()
    try:
        with server.client() as c:
            assert c.post("/policies", json={"name": name, "type": "document", "spec": {}}).status_code == 201

        def writer(worker: int) -> None:
            with server.client() as c:
                for i in range(30):
                    key = f"w{worker}-{i}"
                    r = c.patch(
                        f"/policies/{name}",
                        json={"spec": {key: i}},
                        headers={"Content-Type": "application/merge-patch+json"},
                    )
                    with lock:
                        statuses[r.status_code] += 1
                        if r.status_code == 200:
                            acked.append(key)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        with server.client() as c:
            final = c.get(f"/policies/{name}").json()
    finally:
        server.stop()
    assert statuses == Counter({200: 16 * 30}), statuses
    assert set(final["spec"]) == set(acked)
    assert final["revision"] == 1 + len(acked)
