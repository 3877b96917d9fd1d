"""A gRPC listener for tests (the code path ``serve`` uses: :func:`grpc_listener.start`) and the request
shapes Envoy sends, built from Envoy's own protos (xds-protos)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from envoy.config.core.v3 import address_pb2
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc

from policyhub.http.deps import Container
from policyhub.http.extauthz import grpc_listener


@contextmanager
def listener(container: Container) -> Iterator[int]:
    """The listener on a free port, on an event loop of its own thread; yields the port."""
    started: dict[str, Any] = {}
    ready = threading.Event()

    async def main() -> None:
        server = await grpc_listener.start(container, "127.0.0.1", 0)
        stop = asyncio.Event()
        started.update(port=server.port, stop=stop, loop=asyncio.get_running_loop())
        ready.set()
        await stop.wait()
        await server.stop(grace=0)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the gRPC listener did not start"
    try:
        yield int(started["port"])
    finally:
        started["loop"].call_soon_threadsafe(started["stop"].set)
        thread.join(10)


def check_request(
    method: str = "GET",
    path: str = "/",
    headers: dict[str, str] | None = None,
    source_ip: str = "203.0.113.9",
    context_extensions: dict[str, str] | None = None,
) -> Any:
    """A CheckRequest as Envoy's ext_authz filter builds it (pseudo-headers included in ``headers``)."""
    all_headers = {":method": method, ":path": path, ":authority": "api.example.com", **(headers or {})}
    return external_auth_pb2.CheckRequest(
        attributes=attribute_context_pb2.AttributeContext(
            source=attribute_context_pb2.AttributeContext.Peer(
                address=address_pb2.Address(
                    socket_address=address_pb2.SocketAddress(address=source_ip, port_value=50123)
                )
            ),
            request=attribute_context_pb2.AttributeContext.Request(
                http=attribute_context_pb2.AttributeContext.HttpRequest(
                    id="1234",
                    method=method,
                    path=path,
                    host="api.example.com",
                    scheme="http",
                    protocol="HTTP/1.1",
                    headers=all_headers,
                )
            ),
            context_extensions=context_extensions or {},
        )
    )


def rate_limit_request(domain: str, *descriptors: list[tuple[str, str]]) -> Any:
    return rls_pb2.RateLimitRequest(
        domain=domain,
        descriptors=[
            ratelimit_pb2.RateLimitDescriptor(
                entries=[ratelimit_pb2.RateLimitDescriptor.Entry(key=k, value=v) for k, v in entries]
            )
            for entries in descriptors
        ],
    )


@contextmanager
def stubs(port: int) -> Iterator[tuple[Any, Any]]:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield external_auth_pb2_grpc.AuthorizationStub(channel), rls_pb2_grpc.RateLimitServiceStub(channel)


def header_map(options: Any) -> dict[str, str]:
    return {o.header.key.lower(): o.header.value for o in options}
