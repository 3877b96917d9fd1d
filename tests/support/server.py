"""Real PolicyHub server processes for tests that need concurrency, crashes or several replicas."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TOKEN = "phk_test_bootstrap_token_0123456789abcdef"
ORG = "acme"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """``policyhub serve`` in a subprocess, bootstrapped with a known org and admin token."""

    database_url: str
    port: int = field(default_factory=free_port)
    workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> ServerProcess:
        env = {
            **os.environ,
            "POLICYHUB_DATABASE_URL": self.database_url,
            "POLICYHUB_BOOTSTRAP_ORG": ORG,
            "POLICYHUB_BOOTSTRAP_TOKEN": TOKEN,
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
        self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float) -> float:
        """Poll /readyz until 200; returns the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log: {self._log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return time.monotonic() - start
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"server not ready within {timeout_s}s; log: {self._log_tail()}")

    def kill9(self) -> None:
        """SIGKILL the whole process group (uvicorn and its workers): a crash, not a shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def client(self, **kw: object) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/v1/orgs/{ORG}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30.0, **kw
        )  # type: ignore[arg-type]

    def _log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-2000:]
        return "(no log)"
