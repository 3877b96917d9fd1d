"""The decision log spool: every logged decision is on disk before its answer is sent.

Decisions are appended to the active segment file (``spool/<n>.log``, one JSON object per line) with a
single ``write()`` on a descriptor opened ``O_APPEND``, before the decision's response is sent. Once
``write()`` returns the bytes are the kernel's: they survive the agent being killed (``kill -9``, an
OOM kill, a crash). They are not fsynced per decision (that would cost a disk flush per request), so a
power loss or a kernel crash can lose the last few seconds: the same durability as the hub's own
PostgreSQL with ``synchronous_commit=off``; ``fsync=True`` syncs every append when that matters more.

Shipping seals the active segment (the writer moves on to the next one) and sends the sealed segments'
lines to the hub in batches; a segment is deleted only once every one of its batches is acknowledged.
A crash between an acknowledgement and the deletion sends those decisions again: the hub
de-duplicates by decision id, so delivery is at least once and the log holds each decision once.

A line cut short (a crash in the middle of a very large write) is dropped at start-up: it was never
acknowledged to anyone, since its response is sent only after the write returned.

The spool is bounded (``max_bytes``, default 1 GiB): during a hub outage long enough to fill it, further
decisions are still answered but not logged, and counted (``dropped``, in the agent's status), rather
than filling the disk the enforcement point shares.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from policyhub.agent.state import fsync_dir

_SUFFIX = ".log"


class DecisionSpool:
    """Append-only segment files in ``directory``; thread-safe."""

    def __init__(self, directory: Path, *, fsync: bool = False, max_bytes: int = 1 << 30) -> None:
        self.directory = directory
        self.fsync = fsync
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        segments = self.segments()
        self._active = segments[-1] if segments else 0
        path = self._path(self._active)
        _drop_torn_tail(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._size = os.fstat(self._fd).st_size
        #: Decisions waiting for the hub's acknowledgement (counted from the files at start-up).
        self.pending = sum(_count_lines(self._path(n)) for n in segments)
        self.bytes = sum(self._path(n).stat().st_size for n in segments if self._path(n).exists())
        self.appended = 0
        self.dropped = 0

    def _path(self, number: int) -> Path:
        return self.directory / f"{number:012d}{_SUFFIX}"

    def segments(self) -> list[int]:
        found = []
        for entry in self.directory.iterdir():
            if entry.name.endswith(_SUFFIX) and entry.name[: -len(_SUFFIX)].isdigit():
                found.append(int(entry.name[: -len(_SUFFIX)]))
        return sorted(found)

    def append(self, record: dict[str, Any]) -> None:
        """Write one decision (one ``write()``; returns once the kernel has it); a full spool drops it."""
        line = orjson.dumps(record) + b"\n"
        with self._lock:
            if self.bytes + len(line) > self.max_bytes:
                self.dropped += 1
                return
            view = memoryview(line)
            while view:  # one call for a regular file in practice; a short write is finished, not lost
                view = view[os.write(self._fd, view) :]
            if self.fsync:
                os.fsync(self._fd)
            self._size += len(line)
            self.bytes += len(line)
            self.pending += 1
            self.appended += 1

    def seal(self) -> list[Path]:
        """Close the active segment if it holds anything (later appends go to a new one); return every
        sealed segment, oldest first."""
        with self._lock:
            if self._size > 0:
                os.close(self._fd)
                self._active += 1
                self._fd = os.open(self._path(self._active), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._size = 0
            return [self._path(n) for n in self.segments() if n != self._active]

    def remove(self, segment: Path, count: int) -> None:
        """Delete a segment whose ``count`` decisions the hub acknowledged."""
        try:
            size = segment.stat().st_size
        except FileNotFoundError:
            size = 0
        segment.unlink(missing_ok=True)
        fsync_dir(self.directory)
        with self._lock:
            self.pending = max(0, self.pending - count)
            self.bytes = max(0, self.bytes - size)

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            os.close(self._fd)


def read_segment(segment: Path) -> list[bytes]:
    """A sealed segment's complete lines (each one decision's JSON)."""
    try:
        data = segment.read_bytes()
    except FileNotFoundError:
        return []
    return [line for line in data.split(b"\n") if line]


def batches(lines: list[bytes], *, max_items: int, max_bytes: int) -> Iterator[list[bytes]]:
    """``lines`` in order, cut into batches of at most ``max_items`` lines and about ``max_bytes``."""
    batch: list[bytes] = []
    size = 0
    for line in lines:
        if batch and (len(batch) >= max_items or size + len(line) > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(line)
        size += len(line) + 1
    if batch:
        yield batch


def _count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line that has no newline (a write the process died in): it was never answered."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)
            f.flush()
            os.fsync(f.fileno())
