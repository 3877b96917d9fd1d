"""A tiny hub for the agent's refusal tests: it serves bundles it signs (or tampers with after signing),
a change feed, and records what agents report. Real HTTP on a free loopback port (uvicorn in a thread)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import Any

import uvicorn
from reliability.servers import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from policyhub.domain.bundle_signing import SigningKey
from policyhub.domain.bundles import build_bundle, bundle_digest
from policyhub.domain.records import Enforcement, Policy

ORG_ID = "00000000-0000-4000-8000-0000000000aa"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def allow_list_policy(ips: list[str], revision: int = 1) -> Policy:
    """An org-level IP allow list (http_request point): a client outside ``ips`` is denied."""
    return Policy(
        id="00000000-0000-4000-8000-000000000001",
        org_id=ORG_ID,
        scope_id=None,
        scope_path=None,
        name="office",
        description="",
        type="apinizer.policy-white-ip",
        spec={"ipList": ips},
        source=None,
        enforcement=Enforcement.ENFORCE,
        enabled=True,
        labels={},
        attributes={},
        revision=revision,
        version=revision,
        created_at=T0,
        created_by="test",
        updated_at=T0,
        updated_by="test",
        archived=False,
    )


class FakeHub:
    def __init__(self, environment: str = "prod") -> None:
        self.key = SigningKey.generate()
        self.environment = environment
        self.revision = 0
        self.envelope: dict[str, Any] = {}
        self.statuses: list[dict[str, Any]] = []
        self.decision_ids: list[str] = []
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.publish(["10.0.0.0/8"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def publish(self, ips: list[str], *, tamper: bool = False, revision: int | None = None) -> int:
        """A new revision allowing ``ips``; ``tamper``: change the bundle after signing it; ``revision``: this
        one rather than the next (lower: a hub restored from a backup)."""
        self.revision = self.revision + 1 if revision is None else revision
        bundle = build_bundle(
            org=ORG_ID,
            environment=self.environment,
            revision=self.revision,
            scopes=[],
            policies=[allow_list_policy(ips, self.revision)],
            resources=[],
        )
        envelope = self.key.envelope(bundle)
        if tamper:
            envelope["bundle"]["policies"][0]["spec"]["ipList"] = ["0.0.0.0/0"]
        self.envelope = envelope
        return self.revision

    def app(self) -> Starlette:
        async def keys(request: Request) -> Response:
            return JSONResponse({"keys": [self.key.public.published()]})

        async def bundle(request: Request) -> Response:
            etag = f'"{bundle_digest(self.envelope["bundle"])}"'
            headers = {"ETag": etag, "PolicyHub-Revision": str(self.revision)}
            if request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers=headers)
            return JSONResponse(self.envelope, headers=headers)

        async def changes(request: Request) -> Response:
            after = int(request.query_params.get("after", "0"))
            if after > self.revision:  # ahead of the head: a restored hub
                return JSONResponse({"status": 410, "head": self.revision}, status_code=410)
            deadline = time.monotonic() + min(float(request.query_params.get("wait", "0")), 30)
            while self.revision <= after and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            found = [{"seq": self.revision, "kind": "policy", "action": "update", "subject": "office"}]
            found = found if self.revision > after else []
            body = {"changes": found, "next_after": max(after, self.revision), "head": self.revision, "more": False}
            return JSONResponse(body)

        async def status(request: Request) -> Response:
            self.statuses.append(await request.json())
            return Response(status_code=204)

        async def decisions(request: Request) -> Response:
            ids = [d["id"] for d in (await request.json())["decisions"]]
            fresh = [i for i in ids if i not in set(self.decision_ids)]
            self.decision_ids.extend(fresh)
            return JSONResponse({"accepted": len(fresh), "duplicates": len(ids) - len(fresh)})

        return Starlette(
            routes=[
                Route("/v1/bundle-keys", keys),
                Route("/v1/orgs/{org}/bundles/{env}", bundle),
                Route("/v1/orgs/{org}/changes", changes),
                Route("/v1/orgs/{org}/agents/{agent}/status", status, methods=["POST"]),
                Route("/v1/orgs/{org}/agents/{agent}/decisions", decisions, methods=["POST"]),
            ]
        )

    def start(self) -> FakeHub:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None
