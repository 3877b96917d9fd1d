"""A real PolicyHub server (uvicorn, in a thread, on SQLite) for the client commands to talk to."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from policyhub.cli.main import app as cli_app
from policyhub.http.app import create_app
from policyhub.services.orgs import create_org
from policyhub.settings import Settings
from policyhub.storage.migrate import upgrade


@dataclass
class Server:
    url: str
    app: FastAPI


@dataclass
class Cli:
    """Runs ``policyhub`` against the test server as one org's admin."""

    url: str
    org: str
    token: str | None

    def env(self, **overrides: str | None) -> dict[str, str | None]:
        env: dict[str, str | None] = {
            "POLICYHUB_URL": self.url,
            "POLICYHUB_ORG": self.org,
            "POLICYHUB_TOKEN": self.token,
        }
        env.update(overrides)
        return env

    def run(self, *args: str, input: str | None = None, **env: str | None) -> Result:
        return CliRunner().invoke(cli_app, list(args), input=input, env=self.env(**env))

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.output
        return result

    def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads(self.ok(*args, "-o", "json", input=input).stdout)


def _wait_until_up(url: str, thread: threading.Thread, deadline_s: float = 15.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end and thread.is_alive():
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the test server at {url} did not come up")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Migrate a fresh SQLite database and serve the app on a free port until the module is done."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'db.sqlite'}"
    upgrade(db_url)
    app = create_app(Settings(database_url=db_url, access_log=False))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, thread)
        yield Server(url, app)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


def new_org(server: Server) -> tuple[str, str]:
    """A fresh org and its admin token."""
    slug = f"cli-{uuid.uuid4().hex[:10]}"
    with server.app.state.container.db.write() as uow:
        created = create_org(uow, slug)
    assert created.admin_token
    return slug, created.admin_token


@pytest.fixture
def cli(server: Server) -> Cli:
    """The CLI bound to a fresh org (so listings see only this test's policies)."""
    slug, token = new_org(server)
    return Cli(server.url, slug, token)


@pytest.fixture
def policy_file(tmp_path: Path) -> Any:
    """Write a policy body to a YAML (or JSON) file and return its path."""

    def write(body: dict[str, Any] | str, name: str = "policy.yaml") -> str:
        path = tmp_path / name
        if isinstance(body, str):
            path.write_text(body)
        else:
            path.write_text(json.dumps(body) if name.endswith(".json") else _yaml(body))
        return str(path)

    return write


def _yaml(body: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(body, sort_keys=False)
