"""``policyhub serve``: a taken port is refused before anything is done or printed; --host/--port/--workers
are settings, so the default public base URL follows them (issue 16, item 9)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

import policyhub.logging
from policyhub.cli.main import app as cli
from policyhub.http.urls import public_base_url
from policyhub.settings import get_settings


@pytest.fixture
def listener() -> Iterator[int]:
    """A port something already listens on (as a first `make run` would)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def serve(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POLICYHUB_")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "policyhub.cli.main", "serve", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("how", ["POLICYHUB_PORT", "--port"])
def test_a_taken_port_is_one_line_before_anything_else(tmp_path: Path, listener: int, how: str) -> None:
    args, env = (["--port", str(listener)], {}) if how == "--port" else ([], {"POLICYHUB_PORT": str(listener)})
    result = serve(tmp_path, *args, **env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""  # no "Created org", no admin key, no "listening"
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: port {listener} on 127.0.0.1 is already in use")
    assert "POLICYHUB_PORT=" in line and "--port" in line
    assert list(tmp_path.iterdir()) == []  # no database, no audit key: nothing was done


def test_flags_are_settings_so_the_public_url_follows_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    for name in ("POLICYHUB_HOST", "POLICYHUB_PORT", "POLICYHUB_WORKERS", "POLICYHUB_PUBLIC_BASE_URL"):
        monkeypatch.setenv(name, "")  # recorded, so the values serve sets are undone after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv("POLICYHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'policyhub.db'}")
    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(kw, settings=get_settings()))
    monkeypatch.setattr(policyhub.logging, "configure", lambda *a, **kw: None)  # global: not in a test process
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (ran["host"], ran["port"], ran["workers"]) == ("127.0.0.1", port, 2)
    settings = ran["settings"]
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", port, 2)
    assert public_base_url(settings) == f"http://127.0.0.1:{port}"
    assert os.environ["POLICYHUB_PORT"] == str(port)  # what the worker processes build their app from
    assert f"PolicyHub listening on http://127.0.0.1:{port}" in result.stdout
    assert f"Database {tmp_path / 'policyhub.db'}" in result.stdout


def test_migrate_names_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = int(s.getsockname()[1])
    url = f"postgresql+psycopg://ops:pw-secret@127.0.0.1:{closed}/policyhub"
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["migrate"], env={"POLICYHUB_DATABASE_URL": url})
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot migrate the database postgresql+psycopg://ops:***@127.0.0.1:{closed}/")
    assert "pw-secret" not in line
