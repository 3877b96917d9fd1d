"""Per-request cost by layer, in one process and one request at a time: ``python -m bench.layers``.

The same requests are timed (wall and process CPU, microseconds per request) four ways:

* ``ASGI app``: the real FastAPI app called directly through ASGI on a uvloop loop (no sockets, no
  uvicorn): routing, middleware, dependency solving, threadpool hops, the endpoint;
* ``service only``: the endpoint's own work called directly (``db.read`` get, or JSON parse +
  ``db.transact(merge_patch)`` + render), no framework; the API-key lookup is left out, as the
  server caches the authenticated actor;
* ``cpu us`` splits into ``loop`` (the event-loop thread: uvicorn-free ASGI, middleware, routing,
  dependency solving, async dependencies) and ``threads`` (the worker threads: sync dependencies and
  the endpoint);
* ``threadpool hop``: one ``anyio.to_thread.run_sync`` of a no-op (a GET of a policy takes one, for its
  read; a PATCH none: the event loop awaits the SQLite group commit, or one hop on PostgreSQL).

ASGI app minus service only = what the framework layers cost per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.payloads import create_body, patch_body_parts
from bench.server import ORG, TOKEN


def _asgi_call(app: Any, method: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]],
               ) -> Callable[[], Awaitable[int]]:
    async def call() -> int:
        status = 0
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                 "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
                 "state": {}}
        await app(scope, receive, send)
        return status
    return call


async def _time(label: str, fn: Callable[[], Awaitable[Any]], count: int) -> str:
    for _ in range(min(100, count)):
        await fn()
    wall, cpu, loop_cpu = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(count):
        await fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    loop_cpu = time.thread_time() - loop_cpu
    return (f"  {label:<52} {wall / count * 1e6:8.0f} {cpu / count * 1e6:8.0f} {loop_cpu / count * 1e6:8.0f}"
            f" {(cpu - loop_cpu) / count * 1e6:8.0f}")


async def _measure(url: str, count: int) -> list[str]:
    import anyio.to_thread

    from policyhub.http.app import create_app
    from policyhub.http.v1.render import write_response
    from policyhub.services import keys
    from policyhub.services.policies import Preconditions
    from policyhub.settings import Settings

    app = create_app(Settings(database_url=url, access_log=False))
    c = app.state.container
    auth = [(b"authorization", f"Bearer {TOKEN}".encode())]
    base = f"/v1/orgs/{ORG}/policies"
    create = _asgi_call(app, "POST", base, create_body("p-000"), [*auth, (b"content-type", b"application/json")])
    assert await create() == 201
    prefix, suffix = patch_body_parts()
    n = 0

    def next_body() -> bytes:
        nonlocal n
        n += 1
        return prefix + str(n).encode() + suffix

    healthz = _asgi_call(app, "GET", "/healthz", b"", [])
    get = _asgi_call(app, "GET", f"{base}/p-000", b"", auth)
    patch_headers = [*auth, (b"content-type", b"application/merge-patch+json")]

    async def patch() -> int:
        status = await _asgi_call(app, "PATCH", f"{base}/p-000", next_body(), patch_headers)()
        assert status == 200, status
        return status

    with c.db.read() as uow:
        actor, org, _ = keys.authenticate(uow, TOKEN)

    def service_get() -> None:
        with c.db.read() as uow:
            c.policies.get(uow, actor, "p-000")

    def service_patch() -> None:
        from policyhub.http.json_body import parse_json

        body = parse_json(next_body(), max_depth=64)
        result = c.db.transact(lambda uow: c.policies.merge_patch(uow, actor, org, "p-000", body,
                                                                   Preconditions(), ""))
        write_response(result, dry_run=False)

    async def direct(fn: Callable[[], None]) -> None:
        fn()

    async def hop() -> None:
        await anyio.to_thread.run_sync(lambda: None)

    lines = [f"  {'(one request at a time, in-process)':<52} {'wall us':>8} {'cpu us':>8} {'loop':>8} "
             f"{'threads':>8}"]
    lines.append(await _time("ASGI app: GET /healthz", healthz, count))
    lines.append(await _time("ASGI app: GET policy", get, count))
    lines.append(await _time("service only: get", lambda: direct(service_get), count))
    lines.append(await _time("service only, in one threadpool hop: get",
                             lambda: anyio.to_thread.run_sync(service_get), count))
    lines.append(await _time("ASGI app: PATCH", patch, count))
    lines.append(await _time("service only: parse + transact + render", lambda: direct(service_patch),
                             count))
    lines.append(await _time("service only, in one threadpool hop: parse + ...",
                             lambda: anyio.to_thread.run_sync(service_patch), count))
    lines.append(await _time("threadpool hop (anyio.to_thread.run_sync no-op)", hop, count))
    c.db.dispose()
    return lines


def run(url: str, count: int) -> str:
    from bench.loadgen import new_loop
    from bench.writepath import _setup

    _setup(url)
    loop, kind = new_loop()
    try:
        lines = loop.run_until_complete(_measure(url, count))
    finally:
        loop.close()
    backend = "sqlite" if url.startswith("sqlite") else "postgres"
    return "\n".join([f"[{backend}] per-request cost by layer ({count} requests each, {kind})", *lines])


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.layers", description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--count", type=int, default=1000)
    args = p.parse_args()
    count = min(max(args.count, 10), 100_000)
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="policyhub-layers-") as tmp:
            print(run(f"sqlite:///{Path(tmp) / 'l.db'}", count))
        return
    from bench.server import ScratchPostgres

    pg = ScratchPostgres()
    pg.create()
    try:
        print(run(pg.url, count))
    finally:
        pg.drop()


_ = json
if __name__ == "__main__":
    main()
