"""kill -9 the server during a write load: every acknowledged write survives; the audit chain verifies."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.listing import all_versions
from tests.support.server import AUDIT_KEY, ORG, ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("servers")]

CYCLES = 3
WRITERS = 6


def _load(server: ServerProcess, name: str, acked: list[str], stop: threading.Event, worker: int) -> None:
    with server.client() as c:
        i = 0
        while not stop.is_set() and i < 10_000:
            key = f"w{worker}-{i}"
            i += 1
            try:
                r = c.patch(
                    f"/policies/{name}",
                    json={"spec": {key: True}},
                    headers={"Content-Type": "application/merge-patch+json"},
                )
            except httpx.HTTPError:
                return  # the server died mid-request: this write was never acknowledged
            if r.status_code == 200:
                acked.append(key)
            elif r.status_code >= 500:
                return


def test_acknowledged_writes_survive_kill_9(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(database_url, log_path=tmp_path / "server.log").start()
    name = f"crash-{os.getpid()}-{time.monotonic_ns()}"
    with server.client() as c:
        assert c.post("/policies", json={"name": name, "type": "document", "spec": {}}).status_code == 201
    acked: list[str] = []
    try:
        for cycle in range(CYCLES):
            stop = threading.Event()
            threads = [
                threading.Thread(target=_load, args=(server, name, acked, stop, cycle * 100 + w))
                for w in range(WRITERS)
            ]
            for t in threads:
                t.start()
            time.sleep(0.6 + 0.3 * cycle)
            server.kill9()
            stop.set()
            for t in threads:
                t.join(30)
            ready_s = server.start().wait_ready(10)
            assert ready_s < 10
            with server.client() as c:
                policy = c.get(f"/policies/{name}").json()
                versions = all_versions(c, name)
            missing = [k for k in acked if k not in policy["spec"]]
            assert not missing, f"cycle {cycle}: {len(missing)} acknowledged writes lost, e.g. {missing[:3]}"
            assert policy["version"] == len(versions) == policy["revision"], "policy/version rows disagree"
            assert versions[-1]["spec"] == policy["spec"], "the current spec is not the last version's"
        assert len(acked) > 20, "the load produced too few writes to mean anything"
    finally:
        server.stop()
    env = {**os.environ, "POLICYHUB_DATABASE_URL": database_url, "POLICYHUB_AUDIT_KEY": AUDIT_KEY}
    verify = subprocess.run(
        [sys.executable, "-m", "policyhub.cli.main", "audit", "verify", "--org", ORG],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
