"""The default load generator: keep-alive HTTP/1.1 connections driven by asyncio protocols (uvloop if
installed). Each connection sends one request, reads the whole response, then sends the next (a
closed loop, like wrk). Only requests that start and finish inside the measured window count.

Protocol callbacks rather than streams: no coroutine, future or buffer copy per response, which
roughly halves the client's CPU per request on a machine whose 2 cores the server also needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.cpu import CpuSnapshot, CpuUse
from bench.payloads import RequestSpec
from bench.stats import Result

MAX_REQUESTS = 20_000_000  # a hard bound on any one run, whatever the duration
MAX_RECONNECTS = 1_000


def new_loop() -> tuple[asyncio.AbstractEventLoop, str]:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop(), "asyncio"
    return uvloop.new_event_loop(), "uvloop"


class _Run:
    """State shared by every connection of one run."""

    def __init__(self, spec: RequestSpec, host: str, connections: int, counter_base: int) -> None:
        self.spec = spec
        self.heads = [spec.head(i, host) for i in range(connections)]
        self.counter = counter_base
        self.t0 = self.t1 = float("inf")
        self.stop_at = float("inf")
        self.sent = 0
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.errors = 0
        self.first_error = ""
        self.open = 0
        self.reconnects = 0
        self.done: asyncio.Future[None] | None = None

    def request(self, index: int) -> bytes:
        self.sent += 1
        head = self.heads[index]
        parts = self.spec.body_parts
        if parts is None:
            return head + b"\r\n"
        self.counter += 1
        body = parts[0] + str(self.counter).encode() + parts[1]
        return head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body

    def closed(self) -> None:
        self.open -= 1
        if self.open <= 0 and self.done is not None and not self.done.done():
            self.done.set_result(None)


class _Conn(asyncio.Protocol):
    def __init__(self, run: _Run, index: int, on_lost: Callable[[int], None]) -> None:
        self.run = run
        self.index = index
        self.on_lost = on_lost
        self.buf = bytearray()
        self.need = -1  # total bytes of the response being read; -1 while its head is incomplete
        self.status = 0
        self.started = 0.0
        self.transport: Any = None
        self.finished = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.send()

    def send(self) -> None:
        run = self.run
        if run.sent >= MAX_REQUESTS or time.perf_counter() >= run.stop_at:
            self.finish()
            return
        self.started = time.perf_counter()
        self.transport.write(run.request(self.index))

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.transport.close()
            self.run.closed()

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if self.need < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            self.status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            if at < 0:  # the server always sends Content-Length; anything else is an error here
                self.run.errors += 1
                self.run.first_error = self.run.first_error or "response without Content-Length"
                self.finish()
                return
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17: stop if stop >= 0 else len(head)])
            self.need = end + 4 + length
        if len(buf) < self.need:
            return
        now = time.perf_counter()
        run = self.run
        if self.started >= run.t0 and now <= run.t1:
            status = self.status
            if 200 <= status < 300:
                run.latencies.append(now - self.started)
            else:
                run.errors += 1
                run.statuses[str(status)] += 1
                if not run.first_error:
                    body = bytes(buf[: self.need]).split(b"\r\n\r\n", 1)[-1]
                    run.first_error = f"{status}: {body[:300]!r}"
        del buf[: self.need]
        self.need = -1
        self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.finished:
            return
        self.finished = True
        run = self.run
        if time.perf_counter() < run.stop_at:
            if run.t0 <= time.perf_counter() <= run.t1:
                run.errors += 1
                run.statuses["conn-lost"] += 1
            self.on_lost(self.index)
        run.closed()


async def _drive(
    host: str, port: int, spec: RequestSpec, connections: int, warmup_s: float, seconds: float,
    counter_base: int, snapshot: Callable[[], CpuSnapshot],
) -> tuple[_Run, float, CpuSnapshot, CpuSnapshot]:
    loop = asyncio.get_running_loop()
    run = _Run(spec, f"{host}:{port}", connections, counter_base)
    run.done = loop.create_future()

    def connect(index: int) -> None:
        task = loop.create_task(loop.create_connection(lambda: _Conn(run, index, reconnect), host, port))
        task.add_done_callback(lambda t: _connect_failed(t, run))

    def reconnect(index: int) -> None:
        if run.reconnects < MAX_RECONNECTS:
            run.reconnects += 1
            run.open += 1  # counted now, so the run does not look finished in between
            loop.call_later(0.01, connect, index)

    start = time.perf_counter()
    run.t0 = start + warmup_s
    run.t1 = run.t0 + seconds
    run.stop_at = run.t1
    run.open = connections
    for i in range(connections):
        connect(i)
    await asyncio.sleep(max(0.0, run.t0 - time.perf_counter()))
    before = snapshot()
    await asyncio.sleep(max(0.0, run.t1 - time.perf_counter()))
    after = snapshot()
    window = time.perf_counter() - run.t0
    # responses still in flight are not counted; give them a bounded time to drain
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run.done, timeout=30)
    return run, window, before, after


def _connect_failed(task: asyncio.Task[Any], run: _Run) -> None:
    if task.cancelled() or task.exception() is not None:
        run.errors += 1
        run.statuses["connect-failed"] += 1
        run.first_error = run.first_error or f"connect: {task.exception()!r}"
        run.closed()


def run_load(
    name: str, host: str, port: int, spec: RequestSpec, *, connections: int, warmup_s: float, seconds: float,
    counter_base: int, server_cpu: Callable[[], float],
) -> Result:
    """Drive ``spec`` at ``connections`` for ``warmup_s`` + ``seconds``; figures cover the latter only."""
    from bench.cpu import machine_busy_s

    def snapshot() -> CpuSnapshot:
        return CpuSnapshot(server_cpu(), time.process_time(), machine_busy_s())

    loop, _ = new_loop()
    try:
        run, window, before, after = loop.run_until_complete(
            _drive(host, port, spec, connections, warmup_s, seconds, counter_base, snapshot)
        )
    finally:
        loop.close()
    result = Result(name, window, ok=len(run.latencies), errors=run.errors, statuses=run.statuses,
                    first_error=run.first_error)
    result.set_latencies(run.latencies)
    result.cpu = CpuUse.between(before, after, window)
    return result
