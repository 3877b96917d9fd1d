"""Decisions per second and latency through the enforcement points' own protocols (issue 14), next to
the native decision endpoint, in one run against one ``policyhub serve`` (SQLite, one worker):

- ``native``: ``POST /v1/orgs/bench/decisions`` (the http_request point, JSON body);
- ``ext_authz http``: Envoy's HTTP ext_authz request shape (``GET /ext_authz/orgs/bench/-/api/items?...``);
- ``nginx e2e``: a real nginx (``examples/nginx/policyhub-auth.conf``: auth_basic + auth_request) in front
  of an nginx-served backend: what a client of the gateway sees;
- ``grpc Check``: ``envoy.service.auth.v3.Authorization/Check`` with Envoy's request shape, from grpc.aio
  clients (one channel per connection);
- further cases (e.g. AuthZEN's evaluation): append a :class:`Case` to :data:`CASES`.

Every case asks the same question (user ``alice``, client 10.1.2.3, GET /api/items) of the same
policies: a per-user rate limit far above the load and an IP deny list that does not match.

    .venv/bin/python -m bench.protocols                       # 1 and 64 connections, 1 s warm-up + 3 s each
    .venv/bin/python -m bench.protocols --seconds 5 --cases native,grpc_check
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import protocols_authzen, scenarios
from bench.loadgen import new_loop
from bench.payloads import RequestSpec
from bench.server import ORG, TOKEN, ServerProcess, free_port
from bench.stats import Result

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nginx" / "policyhub-auth.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MARK = "__COUNTER__"
POLICIES = [
    {"name": "per-user", "type": "syftspace.rate_limit", "spec": {"limit": "100000000/h"}},
    {"name": "blocked-ips", "type": "apinizer.policy-black-ip", "spec": {"ipList": ["192.0.2.0/24"]}},
]


@dataclass
class Context:
    """What the cases share: the server, its gRPC port, and what cases started (stopped at the end)."""

    server: ServerProcess
    grpc_port: int
    tmp: Path
    args: argparse.Namespace
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    """One protocol: ``run(ctx, connections)`` measures it (``setup`` once before, when given)."""

    name: str
    run: Callable[[Context, int], Result]
    setup: Callable[[Context], None] | None = None


def http_case(ctx: Context, title: str, spec: RequestSpec, connections: int, port: int | None = None) -> Result:
    scenario = scenarios.Scenario(title, title, spec)
    return scenarios.run(
        "python",
        scenario,
        port or ctx.server.port,
        connections=connections,
        warmup_s=ctx.args.warmup,
        seconds=ctx.args.seconds,
        server_cpu=ctx.server.cpu_s,
    )


# -- native ----------------------------------------------------------------------------------------------
def run_native(ctx: Context, connections: int) -> Result:
    body = {
        "point": "http_request",
        "input": {
            "method": "GET",
            "path": "/api/items",
            "query": {"n": "1"},
            "context": {"n": MARK},
            "client_ip": "10.1.2.3",
            "user": "alice",
            "headers": {"user-agent": "bench", "x-forwarded-for": "10.1.2.3"},
        },
    }
    prefix, suffix = json.dumps(body, separators=(",", ":")).split(json.dumps(MARK), 1)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    spec = RequestSpec("POST", (f"/v1/orgs/{ORG}/decisions",), headers, (prefix.encode(), suffix.encode()))
    return http_case(ctx, f"native POST decisions, {connections} conn", spec, connections)


# -- Envoy HTTP ext_authz ---------------------------------------------------------------------------------
def run_ext_authz(ctx: Context, connections: int) -> Result:
    headers = {
        "x-policyhub-key": TOKEN,
        "x-forwarded-user": "alice",
        "x-forwarded-for": "10.1.2.3",
        "user-agent": "bench",
        "x-request-id": "bench",
    }
    spec = RequestSpec("GET", (f"/ext_authz/orgs/{ORG}/-/api/items?n=1",), headers)
    return http_case(ctx, f"ext_authz http, {connections} conn", spec, connections)


# -- nginx end to end -------------------------------------------------------------------------------------
def setup_nginx(ctx: Context) -> None:
    if not os.access(NGINX, os.X_OK):
        raise RuntimeError(f"nginx not found at {NGINX} (apt-get install nginx-light)")
    tmp = ctx.tmp / "nginx"
    tmp.mkdir()
    listen, backend = free_port(), free_port()
    conf = (
        EXAMPLE.read_text()
        .replace("127.0.0.1:8181", f"127.0.0.1:{ctx.server.port}")
        .replace("127.0.0.1:8080", f"127.0.0.1:{backend}")
        .replace("listen 127.0.0.1:8000", f"listen 127.0.0.1:{listen}")
        .replace("phk_REPLACE_WITH_A_VIEWER_KEY", TOKEN)
        .replace("/etc/nginx/policyhub.htpasswd", str(tmp / "htpasswd"))
        .replace("/auth_request/orgs/acme/", f"/auth_request/orgs/{ORG}/")
    )
    (tmp / "policyhub-auth.conf").write_text(conf)
    (tmp / "htpasswd").write_text("alice:{PLAIN}alice-pw\n")
    user = "user root root;\n" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log error;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    server {{ listen 127.0.0.1:{backend}; location / {{ return 200 "backend\\n"; }} }}
    include {tmp}/policyhub-auth.conf;
}}
"""
    )
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    ctx.cleanup.append(lambda: (proc.terminate(), proc.wait(10)))
    ctx.state["nginx_port"] = listen
    time.sleep(0.5)


def run_nginx(ctx: Context, connections: int) -> Result:
    basic = base64.b64encode(b"alice:alice-pw").decode()
    spec = RequestSpec("GET", ("/api/items?n=1",), {"Authorization": f"Basic {basic}", "user-agent": "bench"})
    return http_case(ctx, f"nginx e2e, {connections} conn", spec, connections, port=int(ctx.state["nginx_port"]))


# -- gRPC Check -------------------------------------------------------------------------------------------
def run_grpc_check(ctx: Context, connections: int) -> Result:
    import grpc
    from envoy.config.core.v3 import address_pb2
    from envoy.service.auth.v3 import attribute_context_pb2 as ac
    from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc

    headers = {":method": "GET", ":path": "/api/items?n=1", ":authority": "api", "x-forwarded-user": "alice"}
    request = external_auth_pb2.CheckRequest(
        attributes=ac.AttributeContext(
            source=ac.AttributeContext.Peer(
                address=address_pb2.Address(socket_address=address_pb2.SocketAddress(address="10.1.2.3"))
            ),
            request=ac.AttributeContext.Request(
                http=ac.AttributeContext.HttpRequest(method="GET", path="/api/items?n=1", headers=headers)
            ),
        )
    )
    metadata = (("x-policyhub-key", TOKEN),)
    latencies: list[float] = []
    errors: list[str] = []
    cpu_before = ctx.server.cpu_s()

    async def drive() -> float:
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{ctx.grpc_port}") for _ in range(connections)]
        stubs = [external_auth_pb2_grpc.AuthorizationStub(c) for c in channels]
        start = time.perf_counter()
        measure_from = start + ctx.args.warmup
        stop_at = measure_from + ctx.args.seconds

        async def caller(stub: Any) -> None:
            while (now := time.perf_counter()) < stop_at:
                try:
                    answer = await stub.Check(request, metadata=metadata, timeout=10)
                    if answer.status.code != 0:
                        errors.append(f"status {answer.status.code}")
                except grpc.RpcError as exc:
                    errors.append(str(exc.code()))
                done = time.perf_counter()
                if now >= measure_from and done <= stop_at:
                    latencies.append(done - now)

        await asyncio.gather(*(caller(s) for s in stubs))
        for c in channels:
            await c.close()
        return ctx.args.seconds

    loop, _ = new_loop()
    try:
        window = loop.run_until_complete(drive())
    finally:
        loop.close()
    result = Result(f"grpc Check, {connections} conn", window, ok=len(latencies), errors=len(errors))
    result.set_latencies(latencies)
    result.note = f"server cpu {ctx.server.cpu_s() - cpu_before:.1f}s (incl. warm-up)"
    if errors:
        result.first_error = errors[0]
    return result


CASES: list[Case] = [
    Case("native", run_native),
    Case("ext_authz_http", run_ext_authz),
    Case("nginx", run_nginx, setup_nginx),
    Case("grpc_check", run_grpc_check),
    Case("authzen", protocols_authzen.run_authzen, protocols_authzen.setup_authzen),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--connections", default="1,64")
    p.add_argument("--cases", default=",".join(c.name for c in CASES))
    args = p.parse_args(argv)
    args.connections = [int(n) for n in args.connections.split(",")]
    args.cases = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = set(args.cases) - {c.name for c in CASES}
    if unknown:
        p.error(f"unknown cases: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-protocols-") as name:
        tmp = Path(name)
        grpc_port = free_port()
        server = ServerProcess(
            f"sqlite:///{tmp / 'protocols.db'}", workdir=tmp, extra_env={"POLICYHUB_GRPC_PORT": str(grpc_port)}
        )
        ctx = Context(server, grpc_port, tmp, args)
        try:
            server.start()
            for policy in POLICIES:
                server.create_policy(json.dumps(policy).encode())
            rows: list[Result] = []
            for case in (c for c in CASES if c.name in args.cases):
                if case.setup is not None:
                    case.setup(ctx)
                for connections in args.connections:
                    result = case.run(ctx, connections)
                    rows.append(result)
                    print(
                        f"  {result.name:<34} {result.rate:9,.0f}/s  p50 {result.p50_ms:7.2f} ms  "
                        f"p99 {result.p99_ms:7.2f} ms  errors {result.errors} {dict(result.statuses) or ''}"
                        f"{' ' + result.first_error[:120] if result.first_error else ''}",
                        flush=True,
                    )
        finally:
            for stop in reversed(ctx.cleanup):
                stop()
            server.stop()
    print()
    print(f"{'case':<34} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in rows:
        print(f"{r.name:<34} {r.rate:12,.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.errors:7d}")


if __name__ == "__main__":
    main()
