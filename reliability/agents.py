"""Real ``policyhub agent`` processes (shared by the reliability suite, ``tests/agent`` and ``bench.agents``).

Each runs in its own session (a ``kill -9`` reaches it and nothing else), on a free loopback port, with
its own state directory; every wait is bounded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reliability.servers import free_port, kill_group, stop_group


@dataclass
class AgentProcess:
    """``policyhub agent`` following ``hub``'s ``org``/``environment`` with ``token`` (role agent)."""

    hub: str
    org: str
    environment: str
    token: str
    state_dir: Path
    name: str = ""
    port: int = field(default_factory=free_port)
    public_key: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    _http: httpx.Client | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or f"agent-{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: str | None = "listening", timeout_s: float = 20.0) -> AgentProcess:
        """``wait``: "listening" (``/healthz`` answers), "ready" (a bundle is applied) or None."""
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("POLICYHUB_")},
            "POLICYHUB_TOKEN": self.token,
            "POLICYHUB_LOG_LEVEL": "WARNING",
            "POLICYHUB_LOG_JSON": "false",
            "POLICYHUB_AGENT_STATUS_INTERVAL_S": "2",
            "POLICYHUB_AGENT_SHIP_INTERVAL_S": "0.2",
            "POLICYHUB_AGENT_MAX_BACKOFF_S": "1",
            **self.extra_env,
        }
        args = [sys.executable, "-m", "policyhub.cli.main", "agent", "--hub", self.hub, "--org", self.org]
        args += ["--environment", self.environment, "--port", str(self.port), "--state-dir", str(self.state_dir)]
        args += ["--name", self.name]
        if self.public_key:
            args += ["--public-key", self.public_key]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=log, start_new_session=True)
        if not isinstance(log, int):
            log.close()
        if wait == "listening":
            self.wait_for(lambda: self.get("/healthz").status_code == 200, timeout_s, "listening")
        elif wait == "ready":
            self.wait_ready(timeout_s)
        return self

    @property
    def http(self) -> httpx.Client:
        """A keep-alive client for this agent (a new client per request costs tens of ms: its TLS context)."""
        if self._http is None:
            self._http = httpx.Client(timeout=10.0)
        return self._http

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(f"{self.url}{path}", **kw)

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = self.get("/status").json()
        return body

    def decide(self, body: dict[str, Any], client: httpx.Client | None = None) -> httpx.Response:
        return (client or self.http).post(f"{self.url}/v1/orgs/{self.org}/decisions", json=body)

    def wait_ready(self, timeout_s: float = 20.0, revision: int | None = None) -> dict[str, Any]:
        """Wait until the agent serves a bundle (at ``revision`` or later when given); its status."""

        def ready() -> bool:
            status = self.status()
            return status["ready"] and (revision is None or (status["revision"] or 0) >= revision)

        self.wait_for(ready, timeout_s, f"ready at revision {revision}" if revision else "ready")
        return self.status()

    def wait_for(self, check: Any, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"agent exited with {self.proc.returncode}; log: {self.log_tail()}")
            try:
                if check():
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.02)
        raise TimeoutError(f"agent not {what} within {timeout_s}s; log: {self.log_tail()}")

    def kill9(self) -> None:
        self._close_http()
        kill_group(self.proc)

    def _close_http(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def stop(self) -> None:
        self._close_http()
        stop_group(self.proc)

    def log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-2000:] or "(no log)"
        return "(no log)"


def agent_key(client: httpx.Client, name: str = "agents") -> str:
    """A new key with role ``agent`` (``client``: an admin client of the org, as ``ServerProcess.client``)."""
    principal = client.post("/principals", json={"kind": "service_account", "display_name": name})
    assert principal.status_code == 201, principal.text
    key = client.post("/keys", json={"principal_id": principal.json()["id"], "role": "agent", "name": name})
    assert key.status_code == 201, key.text
    token: str = key.json()["token"]
    return token


def put_environment(client: httpx.Client, environment: str, scopes: list[str]) -> None:
    r = client.put(f"/environments/{environment}", json={"scopes": scopes})
    assert r.status_code in (200, 201), r.text


def desired_revision(client: httpx.Client, environment: str) -> int:
    """The revision every agent of ``environment`` should reach (the org's last decision-relevant change)."""
    r = client.get(f"/environments/{environment}/status")
    assert r.status_code == 200, r.text
    revision: int = r.json()["desired"]["revision"]
    return revision


def logged_ids(admin: httpx.Client, source: str) -> set[str]:
    """The ids of the decisions the hub logged from ``source`` (``agent:<name>``), every page (at most 1,000)."""
    found: set[str] = set()
    token: str | None = None
    for _ in range(1000):
        params: dict[str, Any] = {"source": source, "limit": 500}
        if token:
            params["page_token"] = token
        page = admin.get("/decisions", params=params).json()
        found.update(item["id"] for item in page["items"])
        token = page["next_page_token"]
        if not token:
            break
    return found
