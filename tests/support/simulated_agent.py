"""An agent simulated by a test thread: it follows the hub as ``policyhub agent`` does (the bundle's
``PolicyHub-Revision``) and reports the revision it "applied" (the real agent process has its own tests)."""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.conftest import OrgClient


class SimulatedAgent:
    """``start()`` reports once; while running, reports the hub's head every ``interval_s`` unless frozen
    (a frozen agent stays live: it reports its first revision again, as a stuck agent would)."""

    def __init__(
        self,
        org: OrgClient,
        environment: str,
        name: str,
        *,
        token: str,
        address: str | None = None,
        frozen: bool = False,
        interval_s: float = 0.02,
    ) -> None:
        self.org = org
        self.environment = environment
        self.name = name
        self.token = token
        self.address = address or f"10.0.0.{len(name)}:8181"
        self.frozen = frozen
        self.interval_s = interval_s
        self.revision = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def report(self, revision: int | None = None) -> None:
        if revision is not None:
            self.revision = revision
        elif not self.frozen or self.revision == 0:
            r = self.org.get(f"bundles/{self.environment}", token=self.token)
            if r.status_code not in (200, 304):
                self.errors.append(r.text)
                return
            self.revision = int(r.headers["PolicyHub-Revision"])
        body: dict[str, Any] = {"environment": self.environment, "revision": self.revision, "address": self.address}
        r = self.org.post(f"agents/{self.name}/status", json=body, token=self.token)
        if r.status_code != 204:
            self.errors.append(r.text)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.report()

    def start(self) -> SimulatedAgent:
        self.report()
        self._thread = threading.Thread(target=self._run, name=f"agent-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        assert not self.errors, self.errors

    def __enter__(self) -> SimulatedAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def follow(org: OrgClient, environment: str, *names: str, scopes: list[str] | None = None) -> list[SimulatedAgent]:
    """Create the rollout environment (if needed) and start one following agent per name."""
    r = org.put(f"environments/{environment}", json={"scopes": scopes or []})
    assert r.status_code in (200, 201), r.text
    token = org.key("agent")
    return [SimulatedAgent(org, environment, name, token=token).start() for name in names]


def time_it(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    return fn(), time.perf_counter() - started
