"""A throwaway PostgreSQL 15 cluster the suite starts, stops (even ``-m immediate``) and deletes itself.

It never touches the machine's shared server. PostgreSQL refuses to run as root, so when the suite
runs as root the cluster's commands run as the ``postgres`` OS user (``runuser``), in a temporary
directory that user owns. :func:`unavailable_reason` says why a cluster cannot be had here, if so.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from reliability.servers import free_port

PG_BIN = Path(os.environ.get("POLICYHUB_RELIABILITY_PG_BIN", "/usr/lib/postgresql/15/bin"))


def unavailable_reason() -> str | None:
    """None when :class:`ThrowawayCluster` can run here, else the reason."""
    for tool in ("initdb", "pg_ctl"):
        if not (PG_BIN / tool).exists():
            return f"{PG_BIN / tool} not found (PostgreSQL 15 server binaries; set POLICYHUB_RELIABILITY_PG_BIN)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing (PostgreSQL refuses to run as root)"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' OS user to run the cluster as"
    return None


class ThrowawayCluster:
    """``initdb`` + ``pg_ctl`` on a free loopback port, trust auth, data under a temp dir."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="policyhub-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout_s: float = 60.0) -> None:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {(done.stderr or done.stdout)[-800:]}")

    def init(self) -> ThrowawayCluster:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        return self

    def start(self, timeout_s: float = 30.0) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(int(timeout_s)),
            "-o",
            options,
            "start",
            timeout_s=timeout_s + 10,
        )

    def stop(self, mode: str = "fast", timeout_s: float = 30.0) -> None:
        """``mode="immediate"`` is a crash: no checkpoint, recovery from the WAL at the next start."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-m",
            mode,
            "-w",
            "-t",
            str(int(timeout_s)),
            "stop",
            timeout_s=timeout_s + 10,
        )

    def create_database(self, name: str) -> str:
        import psycopg

        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user="postgres",
                    dbname="postgres",
                    autocommit=True,
                    connect_timeout=3,
                ) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
                return self.url(name)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop("immediate", timeout_s=10)
        shutil.rmtree(self.root, ignore_errors=True)
