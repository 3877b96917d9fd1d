"""A small pool of Rego worker processes (:mod:`.rego_worker`), each called with a deadline.

Why processes: regorus holds the GIL while it parses or evaluates and has no execution limit its
Python binding exposes, so a runaway module in a thread stalls the whole server. A worker is bounded by
the kernel (memory, CPU time; see the worker) and by its caller, who waits on the pipe with a deadline
and kills the worker (``SIGKILL``) when it passes. A worker that died or was killed is replaced by the
next call that needs one.

- Lazy: no process exists until the first call; at most ``size`` at once.
- Fair between tenants: one tenant holds at most ``size - 1`` workers at a time (all of them when the
  pool has one), so a tenant whose calls run out their budget never takes every worker; callers wait
  first come first served, and a freed worker is handed to the first one whose tenant is under that
  share. A tenant whose oldest call has run long (``slow_s``) may have only ``max_waiting`` callers
  waiting (each holds a thread of the server's pool while it waits); its others are refused at once.
- Fork-safe: a child process of the server (``serve --workers``, a test runner) forgets the parent's
  workers and starts its own; ``close`` (app shutdown, and ``atexit``) ends this process's workers. A
  worker also ends by itself when the server goes away (the end of its input).
- Blocking: call it off the event loop (the caller's thread waits on the pipe without the GIL).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

WORKER_SCRIPT = Path(__file__).with_name("rego_worker.py")
#: The longest answer read back from a worker (the worker caps results below this).
MAX_ANSWER_BYTES = 64 << 20


class WorkerTimeout(Exception):
    """The worker did not answer within the deadline (it has been killed)."""


class WorkerDied(Exception):
    """The worker exited before answering (``returncode`` < 0: killed by that signal)."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"the Rego worker exited ({returncode})")
        self.returncode = returncode


class PoolBusy(Exception):
    """No worker became free before the deadline."""


class Worker:
    """One worker process and its pipes; used by one caller at a time."""

    def __init__(self, memory_bytes: int, generation: int = 0) -> None:
        self.generation = generation
        env = {"PATH": os.defpath, "LC_ALL": "C.UTF-8"}  # nothing of the server's (no secrets, no URLs)
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER_SCRIPT), str(memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env=env,
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)
        self._writable = select.poll()
        self._writable.register(self._in, select.POLLOUT | select.POLLERR | select.POLLHUP)
        self._readable = select.poll()
        self._readable.register(self._out, select.POLLIN | select.POLLERR | select.POLLHUP)
        self._buffer = bytearray()
        self.dead = False
        #: Keys this worker has loaded, as far as the caller knows (the worker may have evicted some).
        self.loaded: set[str] = set()

    def call(self, lines: Sequence[bytes], deadline: float) -> dict[str, Any]:
        """Send ``lines`` (each ending in a newline) and read one answer; kills the worker on timeout."""
        try:
            self._write(b"".join(lines), deadline)
            answer: dict[str, Any] = orjson.loads(self._read_line(deadline))
            return answer
        except WorkerTimeout:
            self.kill()
            raise
        except (BrokenPipeError, ConnectionResetError, WorkerDied):
            self.kill()
            raise WorkerDied(self.process.returncode) from None
        except orjson.JSONDecodeError:
            self.kill()
            raise WorkerDied(self.process.returncode) from None

    def _write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            self._wait(self._writable, deadline)
            try:
                written = os.write(self._in, view)
            except BlockingIOError:
                continue
            view = view[written:]

    def _read_line(self, deadline: float) -> bytes:
        buffer = self._buffer
        searched = 0
        while True:
            end = buffer.find(b"\n", searched)
            if end >= 0:
                line = bytes(buffer[:end])
                del buffer[: end + 1]
                return line
            searched = len(buffer)
            if searched > MAX_ANSWER_BYTES:
                raise WorkerDied(None)
            self._wait(self._readable, deadline)
            try:
                chunk = os.read(self._out, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                self.process.wait(timeout=1)
                raise WorkerDied(self.process.returncode)
            buffer += chunk

    @staticmethod
    def _wait(poller: select.poll, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            raise WorkerTimeout

    def kill(self) -> None:
        self.dead = True
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=2)
        self._close_pipes()

    def close(self, timeout_s: float = 0.5) -> None:
        """Ask the worker to stop (end of its input), then kill it if it has not within ``timeout_s``."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=timeout_s)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def forget(self) -> None:
        """In a forked child: drop this inherited worker without touching the parent's process."""
        self.dead = True
        self._close_pipes()
        self.process.returncode = 0  # not our child: never wait for it

    def _close_pipes(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class _Waiter:
    """A caller waiting for a worker: granted one (or a slot to start one) by whoever frees it."""

    __slots__ = ("event", "granted", "tenant", "worker")

    def __init__(self, tenant: str | None) -> None:
        self.tenant = tenant
        self.event: threading.Event | None = None  # made only when the caller has to wait
        self.granted = False
        self.worker: Worker | None = None  # None when granted: start a new worker


class WorkerPool:
    """Up to ``size`` workers with ``memory_bytes`` each, lent to one caller at a time, first come first
    served among the callers whose tenant is under its share (a freed worker is handed to one waiter)."""

    def __init__(self, size: int, memory_bytes: int, max_waiting: int = 4, slow_s: float = 0.05) -> None:
        self.size = max(1, size)
        self.memory_bytes = memory_bytes
        self.per_tenant = self.size - 1 if self.size > 1 else 1
        #: A tenant whose oldest call has run ``slow_s`` (ten times a typical evaluation) may have at most
        #: ``max_waiting`` callers waiting; a tenant whose calls are quick queues freely.
        self.max_waiting = max_waiting
        self.slow_s = slow_s
        self._reset()
        _POOLS.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._count = 0  # workers alive or being started
        self._held: dict[str, int] = {}
        self._started: dict[str, list[float]] = {}  # tenant -> when each of its calls got its worker
        self._waiting: deque[_Waiter] = deque()
        self._generation = 0  # moved by close: workers of an earlier generation end when given back

    def acquire(self, tenant: str | None, deadline: float) -> Worker:
        """A worker for ``tenant`` (idle, or started now); raises PoolBusy at ``deadline``, or at once when
        ``tenant`` is slow and already has ``max_waiting`` callers waiting (each holds a server thread)."""
        waiter = _Waiter(tenant)
        with self._lock:
            self._waiting.append(waiter)
            self._dispatch()  # granted at once unless every worker is busy or the tenant has its share
            if not waiter.granted:
                if tenant is not None and self._slow(tenant):
                    waiting = sum(1 for w in self._waiting if w.tenant == tenant) - 1
                    if waiting >= self.max_waiting:
                        self._waiting.remove(waiter)
                        raise PoolBusy(f"{waiting} slow Rego calls of the same tenant are already waiting")
                waiter.event = threading.Event()
            generation = self._generation
        if waiter.event is not None:
            waiter.event.wait(max(0.0, deadline - time.monotonic()))
            with self._lock:
                if not waiter.granted:
                    self._waiting.remove(waiter)
                    raise PoolBusy("no Rego worker became free in time")
                generation = self._generation
        if waiter.worker is not None:
            return waiter.worker
        try:
            return Worker(self.memory_bytes, generation)
        except BaseException:
            self._give_back(None, tenant)
            raise

    def release(self, worker: Worker, tenant: str | None) -> None:
        """Return ``worker`` (a dead one is dropped: the next caller starts a new one)."""
        ended = self._give_back(worker, tenant)
        if ended is not None:
            ended.close()

    def _eligible(self, tenant: str | None) -> bool:
        return tenant is None or self._held.get(tenant, 0) < self.per_tenant

    def _slow(self, tenant: str) -> bool:
        started = self._started.get(tenant)
        return started is not None and time.monotonic() - min(started) > self.slow_s

    def _grant(self, tenant: str | None) -> Worker | None:
        """Lend an idle worker to ``tenant`` (None: it may start one). Under the lock."""
        if tenant is not None:
            self._held[tenant] = self._held.get(tenant, 0) + 1
            self._started.setdefault(tenant, []).append(time.monotonic())
        if self._idle:
            return self._idle.pop()
        self._count += 1
        return None

    def _dispatch(self) -> None:
        """Hand free workers (or slots) to the first waiters whose tenant is under its share. Under the lock."""
        for waiter in list(self._waiting):
            if not (self._idle or self._count < self.size):
                return
            if self._eligible(waiter.tenant):
                self._waiting.remove(waiter)
                waiter.worker = self._grant(waiter.tenant)
                waiter.granted = True
                if waiter.event is not None:
                    waiter.event.set()

    def _give_back(self, worker: Worker | None, tenant: str | None) -> Worker | None:
        """Put ``worker`` back (None: a start that failed); returns it when it must be ended instead."""
        ended = worker
        with self._lock:
            if tenant is not None:
                left = self._held.get(tenant, 0) - 1
                if left > 0:
                    self._held[tenant] = left
                else:
                    self._held.pop(tenant, None)
                started = self._started.get(tenant)
                if started:
                    started.pop(0)  # the oldest: calls of a tenant end in about the order they started
                    if not started:
                        del self._started[tenant]
            if worker is not None and not worker.dead and worker.generation == self._generation:
                self._idle.append(worker)
                ended = None
            else:
                self._count -= 1
            self._dispatch()
        return ended

    def close(self) -> None:
        """End every idle worker; workers in use end when their callers give them back. The pool stays
        usable: a later call starts new workers."""
        with self._lock:
            self._generation += 1
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._dispatch()
        for worker in idle:
            worker.close()

    def _after_fork(self) -> None:
        for worker in self._idle:
            worker.forget()
        self._reset()


_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
