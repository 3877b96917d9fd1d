"""Another process holds the SQLite write lock: writes are refused fast and honestly, reads go on."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("servers")]

MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(f"sqlite:///{tmp_path / 'down.db'}", log_path=tmp_path / "server.log").start()
    yield srv
    srv.stop()


def test_writes_queued_behind_a_locked_database_get_503_within_5_s_and_reads_go_on(
    server: ServerProcess, tmp_path: Path
) -> None:
    with server.client() as c:
        assert c.post("/policies", json={"name": "p", "type": "document", "spec": {}}).status_code == 201
        viewer = c.post("/principals", json={"kind": "user", "display_name": "v"}).json()
        token = c.post("/keys", json={"principal_id": viewer["id"], "role": "viewer"}).json()["token"]
    holder = sqlite3.connect(tmp_path / "down.db", isolation_level=None, timeout=5)
    holder.execute("BEGIN IMMEDIATE")  # a maintenance job's open write transaction
    answers: list[tuple[int, float, str | None]] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        with server.client() as c:
            t0 = time.monotonic()
            r = c.patch("/policies/p", json={"spec": {"i": i}}, headers=MERGE)
            with lock:
                answers.append((r.status_code, time.monotonic() - t0, r.headers.get("retry-after")))

    try:
        writers = []
        for i in range(8):  # staggered, so that most of them queue behind a write already waiting
            writers.append(threading.Thread(target=write, args=(i,)))
            writers[-1].start()
            time.sleep(0.3)
        # A key never used before (its last_used_at is due) still reads: that bookkeeping may not fail a read.
        t0 = time.monotonic()
        read = httpx.get(f"{server.url}/v1/orgs/acme/policies/p", headers={"Authorization": f"Bearer {token}"})
        read_s = time.monotonic() - t0
        for t in writers:
            t.join(30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [a[0] for a in answers] == [503] * 8, answers
    assert all(a[2] for a in answers), "503 without Retry-After"
    assert max(a[1] for a in answers) < 5.0, answers
    assert read.status_code == 200 and read_s < 5.0, (read.status_code, read_s)
    with server.client() as c:
        assert c.patch("/policies/p", json={"spec": {"i": "after"}}, headers=MERGE).status_code == 200
        assert c.get("/policies/p").json()["revision"] == 2
