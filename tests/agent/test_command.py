"""``policyhub agent``: what it refuses before starting anything (no processes)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

import policyhub.logging
from policyhub.cli.main import app as cli

BASE = ["agent", "--hub", "http://127.0.0.1:1", "--org", "acme", "--environment", "prod"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in [n for n in os.environ if n.startswith("POLICYHUB_")]:
        monkeypatch.delenv(name)
    for suffix in ("HUB", "ORG", "ENVIRONMENT", "HOST", "PORT", "STATE_DIR", "PUBLIC_KEY", "REDIS_URL", "NAME"):
        monkeypatch.setenv(f"POLICYHUB_AGENT_{suffix}", "")  # recorded, so what the command sets is undone
        monkeypatch.delenv(f"POLICYHUB_AGENT_{suffix}")
    monkeypatch.setattr(policyhub.logging, "configure", lambda *a, **kw: None)
    yield monkeypatch


def test_no_hub_token_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(cli, BASE)
    assert result.exit_code == 2 and "POLICYHUB_TOKEN" in result.output


def test_a_non_loopback_listener_needs_a_local_token(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("POLICYHUB_TOKEN", "phk_x")
    result = CliRunner().invoke(cli, [*BASE, "--host", "0.0.0.0", "--state-dir", str(tmp_path)])
    assert result.exit_code == 2 and "POLICYHUB_AGENT_LOCAL_TOKEN" in result.output
    assert not list(tmp_path.iterdir())  # nothing was created


def test_a_bad_hub_url_names_the_option(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("POLICYHUB_TOKEN", "phk_x")
    result = CliRunner().invoke(cli, ["agent", "--hub", "hub:8181", "--org", "acme", "--environment", "prod"])
    assert result.exit_code == 2 and "hub" in result.output


def test_a_taken_port_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("POLICYHUB_TOKEN", "phk_x")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        result = CliRunner().invoke(cli, [*BASE, "--port", str(s.getsockname()[1])])
    assert result.exit_code == 2 and "already in use" in result.output


def test_options_reach_the_listener_as_settings(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("POLICYHUB_TOKEN", "phk_x")
    ran: dict[str, Any] = {}
    clean_env.setattr(uvicorn, "run", lambda app, **kw: ran.update(kw, app=app))
    from policyhub.agent.config import AgentSettings

    redis = ["--redis-url", "redis://127.0.0.1:6379/3"]
    args = [*BASE, "--port", "18282", "--state-dir", str(tmp_path), "--name", "gw-1", *redis]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert ran["app"] == "policyhub.http.agent.asgi:create" and ran["port"] == 18282 and ran["workers"] == 1
    config = AgentSettings.from_environment()  # what the listener process builds its agent from
    assert (config.hub, config.org, config.environment, config.name) == ("http://127.0.0.1:1", "acme", "prod", "gw-1")
    assert config.state_dir == tmp_path and config.address == "127.0.0.1:18282"
    assert config.redis_url == "redis://127.0.0.1:6379/3"  # the agent's rate-limit counters are then shared


def test_the_agent_counts_in_memory_unless_given_a_redis(tmp_path: Path) -> None:
    from policyhub.agent.config import AgentSettings
    from policyhub.agent.runtime import Agent
    from policyhub.engine.ratelimit.memory import MemoryRateLimiter
    from policyhub.engine.ratelimit.redis import RedisRateLimiter

    for redis_url, kind in ((None, MemoryRateLimiter), ("redis://127.0.0.1:6379/3", RedisRateLimiter)):
        name = "shared" if redis_url else "local"
        config = AgentSettings(hub="http://127.0.0.1:1", org="acme", environment="prod", state_dir=tmp_path / name)
        config.redis_url = redis_url
        agent = Agent(config, "phk_x")
        try:
            assert isinstance(agent.engine.limiter, kind)  # no connection is made until a limit is counted
        finally:
            agent.spool.close()
            agent.client.close()
