"""The server under test as a subprocess (``policyhub serve``), plus scratch databases for it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.cpu import tree_cpu_s

TOKEN = "phk_bench_" + "0123456789abcdef" * 3  # the bootstrap admin key (>= 24 chars)
ORG = "bench"
#: The audit chain's key (``policyhub serve`` on PostgreSQL refuses to start without one): the
#: environment's, so that servers and the processes that share their database use the same one.
AUDIT_KEY = os.environ.get("POLICYHUB_AUDIT_KEY") or "audit_key_bench_0123456789abcdef0123456789abcdef"
#: The bundle-signing key (an Ed25519 seed; ``policyhub serve`` on PostgreSQL refuses to start without one).
BUNDLE_KEY = os.environ.get("POLICYHUB_BUNDLE_SIGNING_KEY") or "cmVsaWFiaWxpdHktYnVuZGxlLWtleS0wMTIzNDU2Nzg="
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@dataclass
class ServerProcess:
    """``policyhub serve`` on a free loopback port with the bench org and key bootstrapped."""

    database_url: str
    workers: int = 1
    workdir: Path = field(default_factory=Path.cwd)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def start(self, timeout_s: float = 60.0) -> None:
        self.port = free_port()
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
        self.log_path = self.workdir / f"server-{self.port}.log"
        cmd = [venv_bin("policyhub"), "serve", "--port", str(self.port)]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                         start_new_session=True)
        self._wait_ready(timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for _ in range(int(timeout_s / 0.1) + 1):
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"server exited during start-up; log:\n{self.log_tail()}")
            try:
                status, _ = self.request("GET", "/readyz", auth=False)
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout_s}s; log:\n{self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:] if self.log_path else ""
        except OSError:
            return ""

    def request(self, method: str, path: str, body: bytes | None = None, *, auth: bool = True,
                content_type: str = "application/json") -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": content_type} if body is not None else {}
            if auth:
                headers["Authorization"] = f"Bearer {TOKEN}"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def create_policy(self, body: bytes) -> None:
        status, answer = self.request("POST", f"/v1/orgs/{ORG}/policies", body)
        if status != 201:
            raise RuntimeError(f"creating a policy failed: {status} {answer[:300]!r}")

    def cpu_s(self) -> float:
        return tree_cpu_s(self.proc.pid) if self.proc else 0.0

    def stop(self, timeout_s: float = 15.0) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)  # our own session: the server and its workers only
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout_s)


class ScratchPostgres:
    """A ``bench_...`` database created for one run and dropped at its end."""

    def __init__(self) -> None:
        self.name = f"bench_writes_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port=5432 user=postgres dbname={self.name}"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.name}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create(self) -> None:
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def settings(self) -> dict[str, str]:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
            names = ("fsync", "synchronous_commit", "wal_sync_method", "commit_delay", "max_connections")
            return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]


def dump_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
