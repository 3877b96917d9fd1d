"""Real ``policyhub serve`` processes, bootstrapped with a known org and admin key.

Shared by the reliability suite and by the tests that need real servers (``tests/support/server.py``
re-exports it). Every wait is bounded; every process runs in its own session so that a crash
(``kill -9``) or a stop reaches uvicorn and all of its workers, and nothing else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TOKEN = "phk_test_bootstrap_token_0123456789abcdef"
ORG = "acme"
#: The audit chain's key (``policyhub serve`` on PostgreSQL refuses to start without one): the
#: environment's, so that servers and the processes that share their database use the same one.
AUDIT_KEY = os.environ.get("POLICYHUB_AUDIT_KEY") or "audit_key_reliability_0123456789abcdef0123456789abcdef"
#: The bundle-signing key (an Ed25519 seed; ``policyhub serve`` on PostgreSQL refuses to start without one).
BUNDLE_KEY = os.environ.get("POLICYHUB_BUNDLE_SIGNING_KEY") or "cmVsaWFiaWxpdHktYnVuZGxlLWtleS0wMTIzNDU2Nzg="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kill_group(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL a running child's whole process group (it was started in a session of its own)."""
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def stop_group(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM a running child's process group; SIGKILL it if it has not exited within 10 s."""
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            kill_group(proc)


@dataclass
class ServerProcess:
    """``policyhub serve`` in a subprocess, bootstrapped with org ``acme`` and a known admin token."""

    database_url: str
    port: int = field(default_factory=free_port)
    workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self, timeout_s: float = 20.0) -> ServerProcess:
        env = {
            **os.environ,
            "POLICYHUB_DATABASE_URL": self.database_url,
            "POLICYHUB_BOOTSTRAP_ORG": ORG,
            "POLICYHUB_BOOTSTRAP_TOKEN": TOKEN,
            "POLICYHUB_AUDIT_KEY": AUDIT_KEY,
            "POLICYHUB_BUNDLE_SIGNING_KEY": BUNDLE_KEY,
            "POLICYHUB_ACCESS_LOG": "false",
            "POLICYHUB_LOG_LEVEL": "WARNING",
            **self.extra_env,
        }
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "policyhub.cli.main",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        if not isinstance(log, int):
            log.close()  # the child holds its own descriptor
        self.wait_ready(timeout_s)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout_s: float) -> float:
        """Poll /readyz until 200; returns the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return time.monotonic() - start
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"server not ready within {timeout_s}s; log: {self.log_tail()}")

    def kill9(self) -> None:
        """SIGKILL the whole process group (uvicorn and its workers): a crash, not a shutdown."""
        kill_group(self.proc)

    def stop(self) -> None:
        stop_group(self.proc)

    def client(self, token: str = TOKEN, org: str = ORG, *, timeout: float = 30.0, **kw: Any) -> httpx.Client:
        """A client whose relative paths are under ``/v1/orgs/{org}``, authenticated with ``token``."""
        return httpx.Client(
            base_url=f"{self.url}/v1/orgs/{org}", headers={"Authorization": f"Bearer {token}"}, timeout=timeout, **kw
        )

    def rss_bytes(self) -> int:
        """Resident memory of the server's process tree (uvicorn and its workers), from /proc."""
        if self.proc is None or self.proc.poll() is not None:
            return 0
        total = 0
        for pid in _process_tree(self.proc.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total

    def log_text(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")
        return ""

    def log_tail(self) -> str:
        return self.log_text()[-2000:] or "(no log)"


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo and len(found) < 1000:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found
